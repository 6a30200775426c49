import Foundation

/// What went wrong reading a remote file, with what a user needs to act on it: the file (URL), the
/// host that answered, and for XRootD the server's error code and text.
public enum RemoteError: Error, CustomStringConvertible, Equatable, Sendable {
    case badURL(url: String, reason: String)
    case unsupportedScheme(url: String, scheme: String)
    /// The server answered kXR_error (or an HTTP error status).
    case server(url: String, host: String, code: Int, codeName: String, message: String)
    /// No answer within the timeout.
    case timeout(url: String, host: String, seconds: Double, operation: String)
    /// The connection could not be made or broke, after the bounded retries.
    case connection(url: String, host: String, reason: String, attempts: Int)
    /// The server wants an authentication protocol HEPML does not speak.
    case unsupportedAuthentication(url: String, host: String, offered: [String])
    /// The server broke the protocol (a malformed or unexpected response).
    case protocolViolation(url: String, host: String, reason: String)
    /// An HTTP server answered a Range request with the whole file (200 instead of 206).
    case rangeNotSupported(url: String, host: String, status: Int)
    case tooManyRedirects(url: String, hops: [String])
    /// Directory listing was asked of a URL scheme that has none in HEPML (plain web servers).
    case listingNotSupported(url: String)

    public var description: String {
        switch self {
        case let .badURL(url, reason): return "\(url): not a valid URL: \(reason)"
        case let .unsupportedScheme(url, scheme):
            return "\(url): scheme '\(scheme)://' is not supported (use root://, xroot://, https://, http://, davs:// or a local path)"
        case let .server(url, host, code, codeName, message):
            return "\(url): server \(host) answered error \(code) (\(codeName)): \(message)"
        case let .timeout(url, host, seconds, operation):
            return "\(url): no answer from \(host) to \(operation) within \(Self.format(seconds)) s (HEPML_REMOTE_TIMEOUT sets the limit)"
        case let .connection(url, host, reason, attempts):
            return "\(url): connection to \(host) failed after \(attempts) attempt\(attempts == 1 ? "" : "s"): \(reason)"
        case let .unsupportedAuthentication(url, host, offered):
            return "\(url): server \(host) requires authentication by \(offered.joined(separator: ", ")); "
                + "HEPML supports only anonymous access and 'unix' (krb5, gsi/x509, sss and token (ztn) are not yet supported)"
        case let .protocolViolation(url, host, reason):
            return "\(url): unexpected answer from \(host): \(reason)"
        case let .rangeNotSupported(url, host, status):
            return "\(url): server \(host) ignores HTTP Range requests (answered \(status) with the whole file); "
                + "HEPML refuses to download whole files into memory"
        case let .tooManyRedirects(url, hops):
            return "\(url): too many redirects (\(hops.joined(separator: " → ")))"
        case let .listingNotSupported(url):
            return "\(url): HEPML lists directories only over root:// (XRootD); pass the files' URLs or a file list instead"
        }
    }

    /// Errors worth trying again on a fresh connection: the network, not the server's answer.
    var isRetryable: Bool {
        switch self {
        case .connection, .timeout: return true
        default: return false
        }
    }

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
