import Foundation
import NIOCore
import NIOPosix

/// An entry of a remote directory.
public struct RemoteDirectoryEntry: Sendable, Equatable {
    public var name: String
    public var isDirectory: Bool
    public var size: Int
}

/// The XRootD client: one logged-in connection per server, reused by every file and listing on
/// that server; at most `requestsPerHost` requests in flight per server; redirects and kXR_wait
/// followed; a request whose connection dropped is tried again on a fresh one, at most
/// `retries` times. Its calls block the calling thread (the readers above are synchronous and run
/// on worker threads); the network work runs on SwiftNIO's event loops.
public final class XRootDClient: @unchecked Sendable {
    public static let shared = XRootDClient(settings: .fromEnvironment())

    public let settings: RemoteSettings
    private let group: EventLoopGroup
    private let lock = NSLock()
    private var connections: [XRootDServer: XRootDConnection] = [:]
    /// One lock per server so that threads opening files at once share one new connection.
    private var connectLocks: [XRootDServer: NSLock] = [:]
    private var requestSlots: [XRootDServer: DispatchSemaphore] = [:]

    public init(settings: RemoteSettings, group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.settings = settings
        self.group = group
    }

    // MARK: Connections and limits

    func connection(to server: XRootDServer, user: String?) throws -> XRootDConnection {
        lock.lock()
        if let existing = connections[server], existing.isActive { lock.unlock(); return existing }
        let connectLock = connectLocks[server] ?? NSLock()
        connectLocks[server] = connectLock
        lock.unlock()

        connectLock.lock()
        defer { connectLock.unlock() }
        lock.lock()
        if let existing = connections[server], existing.isActive { lock.unlock(); return existing }
        lock.unlock()
        let fresh = try XRootDConnection.open(server: server, user: user, settings: settings, group: group)
        lock.lock()
        connections[server] = fresh
        lock.unlock()
        return fresh
    }

    private func slots(for server: XRootDServer) -> DispatchSemaphore {
        lock.lock()
        defer { lock.unlock() }
        if let existing = requestSlots[server] { return existing }
        let created = DispatchSemaphore(value: settings.requestsPerHost)
        requestSlots[server] = created
        return created
    }

    /// Sends without waiting, once a request slot of the server is free; the slot is handed back
    /// when the answer (or the failure) arrives, so a thread sending many requests never holds
    /// slots it is not using.
    func start(_ request: XRootDRequest, on connection: XRootDConnection) -> EventLoopFuture<XRootDResponse> {
        let slots = slots(for: connection.server)
        slots.wait()
        let answer = connection.send(request)
        answer.whenComplete { _ in slots.signal() }
        return answer
    }

    /// Waits for the answer to a started request, sending it again after each kXR_wait.
    func finish(_ answer: EventLoopFuture<XRootDResponse>, request: XRootDRequest, on connection: XRootDConnection) throws -> XRootDResponse {
        var response = try answer.wait()
        var waits = 0
        while response.status == .wait, waits < 20 {
            waits += 1
            Thread.sleep(forTimeInterval: min(Double(response.waitSeconds), settings.timeoutSeconds))
            response = try start(request, on: connection).wait()
        }
        return response
    }

    func exchange(_ request: XRootDRequest, on connection: XRootDConnection) throws -> XRootDResponse {
        try finish(start(request, on: connection), request: request, on: connection)
    }

    // MARK: Errors and retries

    /// Runs `body`, again on a fresh connection when the connection dropped (at most `retries`
    /// more times, with a short pause), and turns transport failures into `RemoteError`s naming
    /// the file and the server.
    func withRetries<T>(_ url: XRootDURL, operation: String, _ body: () throws -> T) throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try body()
            } catch let error as XRootDTransportError {
                switch error {
                case .connectionLost(let reason):
                    guard attempt <= settings.retries else {
                        throw RemoteError.connection(url: url.description, host: url.server.description, reason: reason, attempts: attempt)
                    }
                    Thread.sleep(forTimeInterval: 0.2 * Double(attempt))
                case .timeout(let seconds):
                    throw RemoteError.timeout(url: url.description, host: url.server.description, seconds: seconds, operation: operation)
                case .malformed(let reason):
                    throw RemoteError.protocolViolation(url: url.description, host: url.server.description, reason: reason)
                }
            } catch let error as XRootDSessionError {
                switch error {
                case .rejected(let step, let response):
                    throw serverError(response, url: url, host: url.server, context: step)
                case .unsupportedAuthentication(let offered):
                    throw RemoteError.unsupportedAuthentication(url: url.description, host: url.server.description, offered: offered)
                }
            }
        }
    }

    func serverError(_ response: XRootDResponse, url: XRootDURL, host: XRootDServer, context: String? = nil) -> RemoteError {
        guard response.status == .error else {
            return .protocolViolation(url: url.description, host: host.description,
                                      reason: "\(context ?? "request") answered with status \(response.status.rawValue)")
        }
        let (code, message) = response.error
        return .server(url: url.description, host: host.description, code: code, codeName: XRootDProtocol.errorName(code),
                       message: context.map { "\($0): \(message)" } ?? message)
    }

    // MARK: Redirects

    /// Sends the request built by `make` for the URL's path, following kXR_redirect to other
    /// servers; returns the final ok answer, the connection that gave it and where it is.
    func follow(_ url: XRootDURL, _ make: (String) -> XRootDRequest) throws -> (XRootDResponse, XRootDConnection, XRootDURL) {
        var target = url
        var hops: [String] = [url.server.description]
        while true {
            let connection = try connection(to: target.server, user: url.user)
            let pathAndQuery = target.opaque.map { "\(target.path)?\($0)" } ?? target.path
            let response = try exchange(make(pathAndQuery), on: connection)
            switch response.status {
            case .ok:
                return (response, connection, target)
            case .redirect:
                target = try redirectTarget(response, from: target, original: url)
                hops.append(target.server.description)
                guard hops.count <= settings.maxRedirects + 1 else { throw RemoteError.tooManyRedirects(url: url.description, hops: hops) }
            default:
                throw serverError(response, url: url, host: target.server)
            }
        }
    }

    /// A kXR_redirect body: port (32 bits), then "host[?cgi]" or a whole "root://host:port/path?cgi".
    private func redirectTarget(_ response: XRootDResponse, from current: XRootDURL, original: XRootDURL) throws -> XRootDURL {
        guard response.body.count > 4 else {
            throw RemoteError.protocolViolation(url: original.description, host: current.server.description, reason: "redirect without a host")
        }
        let port = Int(response.body.readBigEndianInt32(at: 0))
        let text = response.body[4...].nulTerminatedString
        if text.contains("://") {
            var target = try XRootDURL(text)
            if target.path == "/" { target.path = current.path }
            return target
        }
        let parts = text.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let host = String(parts.first ?? "")
        guard !host.isEmpty, (1...65535).contains(port) else {
            throw RemoteError.protocolViolation(url: original.description, host: current.server.description, reason: "redirect to '\(text)' port \(port)")
        }
        let cgi = parts.count > 1 ? String(parts[1]) : ""
        let opaque = [original.opaque, cgi.isEmpty ? nil : cgi].compactMap { $0 }.joined(separator: "&")
        return XRootDURL(user: original.user, host: host, port: port, path: current.path, opaque: opaque.isEmpty ? nil : opaque)
    }

    // MARK: Metadata

    /// kXR_stat of a path: its size and whether it is a directory.
    public func stat(_ url: XRootDURL) throws -> (size: Int, isDirectory: Bool) {
        try withRetries(url, operation: "stat") {
            let (response, connection, _) = try follow(url) { .stat(path: $0) }
            guard let stat = XRootDStat(response.body[...].nulTerminatedString) else {
                throw RemoteError.protocolViolation(url: url.description, host: connection.server.description, reason: "unreadable stat answer")
            }
            return (stat.size, stat.isDirectory)
        }
    }

    /// kXR_dirlist with per-entry stat information.
    public func list(_ url: XRootDURL) throws -> [RemoteDirectoryEntry] {
        try withRetries(url, operation: "dirlist") {
            let (response, connection, _) = try follow(url) { .dirlist(path: $0) }
            let lines = response.body[...].nulTerminatedString.split(separator: "\n", omittingEmptySubsequences: true)
            // With kXR_dstat the answer starts with ".\n0 0 0 0" and then alternates name and stat
            // lines; a server without it sends only names, and each entry is then stat'ed.
            if lines.first == "." {
                var entries: [RemoteDirectoryEntry] = []
                var index = 2
                while index + 1 < lines.count {
                    guard let stat = XRootDStat(lines[index + 1]) else {
                        throw RemoteError.protocolViolation(url: url.description, host: connection.server.description,
                                                            reason: "unreadable stat line '\(lines[index + 1])' in directory listing")
                    }
                    entries.append(RemoteDirectoryEntry(name: String(lines[index]), isDirectory: stat.isDirectory, size: stat.size))
                    index += 2
                }
                return entries
            }
            return try lines.map { name in
                let child = url.with(path: url.path.hasSuffix("/") ? url.path + name : url.path + "/" + name)
                let stat = try self.stat(child)
                return RemoteDirectoryEntry(name: String(name), isDirectory: stat.isDirectory, size: stat.size)
            }
        }
    }

    /// Every file below `url`, depth first, sorted; directories are listed recursively.
    public func listFilesRecursively(_ url: XRootDURL) throws -> [XRootDURL] {
        var files: [XRootDURL] = []
        var pending = [url]
        var visited = Set<String>()
        while let directory = pending.popLast() {
            guard visited.insert(directory.path).inserted else { continue }
            for entry in try list(directory) {
                let base = directory.path.hasSuffix("/") ? directory.path : directory.path + "/"
                let child = directory.with(path: base + entry.name)
                if entry.isDirectory { pending.append(child) } else { files.append(child) }
            }
        }
        return files.sorted { $0.path < $1.path }
    }
}
