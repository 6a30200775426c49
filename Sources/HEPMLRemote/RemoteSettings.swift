import Foundation

/// Limits of remote reading, from the environment so that every command obeys them without an
/// option of its own (docs/remote.md lists them).
public struct RemoteSettings: Sendable, Equatable {
    /// Seconds without an answer before a request (or a connection attempt) fails.
    public var timeoutSeconds: Double
    /// How often a request is tried again on a fresh connection after its connection dropped.
    public var retries: Int
    /// Requests in flight at once per server (XRootD) or per host (HTTP).
    public var requestsPerHost: Int
    /// Files read at once per host by `dqm fetch`.
    public var filesPerHost: Int
    /// Redirects followed before giving up (EOS redirects each open once, to a storage node).
    public var maxRedirects: Int

    public init(timeoutSeconds: Double = 60, retries: Int = 2, requestsPerHost: Int = 16, filesPerHost: Int = 8, maxRedirects: Int = 8) {
        self.timeoutSeconds = timeoutSeconds
        self.retries = retries
        self.requestsPerHost = requestsPerHost
        self.filesPerHost = filesPerHost
        self.maxRedirects = maxRedirects
    }

    /// `HEPML_REMOTE_TIMEOUT` (seconds), `HEPML_REMOTE_RETRIES`, `HEPML_REMOTE_REQUESTS_PER_HOST`,
    /// `HEPML_REMOTE_FILES_PER_HOST`; unset or unparsable values keep the defaults.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> RemoteSettings {
        var settings = RemoteSettings()
        if let value = environment["HEPML_REMOTE_TIMEOUT"].flatMap(Double.init), value > 0 { settings.timeoutSeconds = value }
        if let value = environment["HEPML_REMOTE_RETRIES"].flatMap(Int.init), value >= 0 { settings.retries = min(value, 10) }
        if let value = environment["HEPML_REMOTE_REQUESTS_PER_HOST"].flatMap(Int.init), value > 0 { settings.requestsPerHost = value }
        if let value = environment["HEPML_REMOTE_FILES_PER_HOST"].flatMap(Int.init), value > 0 { settings.filesPerHost = value }
        return settings
    }
}
