import Foundation

/// Where a file lives: a local path, an XRootD URL (`root://host[:port]//path`, also `xroot://`), or
/// an HTTP(S) URL (`http://`, `https://`, `davs://` for XrdHttp/WebDAV endpoints).
public enum RemoteLocation: Equatable, Sendable {
    case local(path: String)
    case xrootd(XRootDURL)
    case http(url: String)

    /// Parses what a user typed; a string without a recognised scheme is a local path.
    public init(_ text: String) throws {
        let lowered = text.lowercased()
        if lowered.hasPrefix("root://") || lowered.hasPrefix("xroot://") {
            self = .xrootd(try XRootDURL(text))
        } else if lowered.hasPrefix("https://") || lowered.hasPrefix("http://") {
            self = .http(url: text)
        } else if lowered.hasPrefix("davs://") {
            // davs is WebDAV over TLS: the same GET with Range as https.
            self = .http(url: "https://" + text.dropFirst("davs://".count))
        } else if lowered.hasPrefix("dav://") {
            self = .http(url: "http://" + text.dropFirst("dav://".count))
        } else if let colon = text.range(of: "://") {
            throw RemoteError.unsupportedScheme(url: text, scheme: String(text[..<colon.lowerBound]))
        } else {
            self = .local(path: text)
        }
    }

    /// True for strings that name a remote file, so callers can decide on listing strategies.
    public static func isRemote(_ text: String) -> Bool {
        text.range(of: "://") != nil
    }
}

/// `root://[user@]host[:port]//absolute/path[?opaque]`: the path after the host starts with `/`, and
/// the double slash of the usual spelling is the separator plus the absolute path.
public struct XRootDURL: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var user: String?
    public var host: String
    public var port: Int
    /// Absolute path on the server (always starts with `/`).
    public var path: String
    /// CGI after `?`, passed on to the server with the open (tokens, EOS application tags).
    public var opaque: String?

    public static let defaultPort = 1094

    public init(user: String? = nil, host: String, port: Int = XRootDURL.defaultPort, path: String, opaque: String? = nil) {
        self.user = user
        self.host = host
        self.port = port
        self.path = path.hasPrefix("/") ? path : "/" + path
        self.opaque = opaque
    }

    public init(_ text: String) throws {
        guard let schemeEnd = text.range(of: "://") else { throw RemoteError.badURL(url: text, reason: "no scheme") }
        var rest = Substring(text[schemeEnd.upperBound...])
        var opaque: String?
        if let question = rest.firstIndex(of: "?") {
            opaque = String(rest[rest.index(after: question)...])
            rest = rest[..<question]
        }
        guard let slash = rest.firstIndex(of: "/") else {
            throw RemoteError.badURL(url: text, reason: "no path after the host (expected root://host[:port]//path)")
        }
        var authority = rest[..<slash]
        var path = String(rest[rest.index(after: slash)...])
        if path.isEmpty { path = "/" }
        var user: String?
        if let at = authority.lastIndex(of: "@") {
            user = String(authority[..<at])
            authority = authority[authority.index(after: at)...]
        }
        var host = String(authority)
        var port = XRootDURL.defaultPort
        if authority.hasPrefix("[") {
            // IPv6 literal: [::1]:1094
            guard let close = authority.firstIndex(of: "]") else { throw RemoteError.badURL(url: text, reason: "unclosed [ in host") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                guard let parsed = Int(after.dropFirst()), (1...65535).contains(parsed) else {
                    throw RemoteError.badURL(url: text, reason: "bad port")
                }
                port = parsed
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let parsed = Int(authority[authority.index(after: colon)...]), (1...65535).contains(parsed) else {
                throw RemoteError.badURL(url: text, reason: "bad port")
            }
            port = parsed
        }
        guard !host.isEmpty else { throw RemoteError.badURL(url: text, reason: "empty host") }
        self.init(user: user, host: host, port: port, path: path, opaque: opaque)
    }

    /// The server this URL points at (connections are pooled per server).
    public var server: XRootDServer { XRootDServer(host: host, port: port) }

    /// The same server with another path (directory entries, redirect targets).
    public func with(path: String) -> XRootDURL {
        XRootDURL(user: user, host: host, port: port, path: path, opaque: nil)
    }

    public var description: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let userPart = user.map { "\($0)@" } ?? ""
        let portPart = port == XRootDURL.defaultPort ? "" : ":\(port)"
        let query = opaque.map { "?\($0)" } ?? ""
        return "root://\(userPart)\(hostPart)\(portPart)/\(path)\(query)"
    }
}

/// One XRootD endpoint (host and port): the unit of connection reuse and of the per-host limits.
public struct XRootDServer: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
