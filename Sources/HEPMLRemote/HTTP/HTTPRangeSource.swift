import AsyncHTTPClient
import Foundation
import HEPMLCore
import NIOCore
import NIOHTTP1

/// A file on a web server (XrdHttp, WebDAV, any server that honours `Range`) read by byte
/// ranges. Opening asks for the file's first 512 KiB: a `206` with `Content-Range: bytes
/// 0-N/SIZE` gives the size, proves the server serves ranges and holds the file's head (all of a
/// small file; a larger file's last 256 KiB follow in a second request: `PrefetchedBytes`);
/// a `200` means it would send the whole file on every read, and the file is refused rather
/// than downloaded into memory.
public final class HTTPRangeSource: ByteSource, @unchecked Sendable {
    public let path: String
    public let size: Int
    private let url: String
    private let host: String
    private let settings: RemoteSettings
    /// Set once in `init`, read-only afterwards.
    private var prefetched = PrefetchedBytes.none

    /// One client for the process, never shut down (it lives as long as the program).
    static let client: HTTPClient = {
        let settings = RemoteSettings.fromEnvironment()
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .follow(max: settings.maxRedirects, allowCycles: false)
        let timeout = TimeAmount.nanoseconds(Int64(settings.timeoutSeconds * 1e9))
        configuration.timeout = .init(connect: timeout, read: timeout)
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: settings.requestsPerHost)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    public init(url: String, path: String? = nil, settings: RemoteSettings = .fromEnvironment()) throws {
        self.url = url
        self.path = path ?? url
        self.settings = settings
        let host = URL(string: url)?.host ?? url
        self.host = host
        let opening = ByteRange(offset: 0, count: 2 * PrefetchedBytes.bytesPerEnd)
        let (status, contentRange, head) = try Self.get(url, host: host, range: opening, settings: settings, operation: "open")
        switch status {
        case 206:
            guard let total = contentRange.flatMap(Self.totalSize), contentRange?.hasPrefix("bytes 0-") == true else {
                throw RemoteError.protocolViolation(url: url, host: host, reason: "206 answer without 'Content-Range: bytes 0-N/SIZE'")
            }
            size = total
            guard head.count == min(total, opening.count) else {
                throw FileFormatError(file: self.path, object: "file start", offset: 0,
                                      reason: "server answered \(head.count) bytes (\(contentRange ?? "")) for \(min(total, opening.count)) bytes")
            }
            let ends = PrefetchedBytes.ranges(size: total)
            let tail = ends.count > 1 ? try read(ranges: [ends[1]], object: "file end")[0] : []
            prefetched = PrefetchedBytes(fetched: [head, tail], size: total)
        case 416:
            // Range not satisfiable: an empty file ("Content-Range: bytes */0").
            size = contentRange.flatMap(Self.totalSize) ?? 0
        case 200:
            throw RemoteError.rangeNotSupported(url: url, host: host, status: status)
        default:
            throw Self.statusError(status, url: url, host: host)
        }
    }

    public func read(at offset: Int, count: Int, object: String) throws -> [UInt8] {
        try read(ranges: [ByteRange(offset: offset, count: count)], object: object)[0]
    }

    /// Ranges within the prefetched ends are copied from them; every other range is its own
    /// request, all in flight at once (the client's per-host limit queues the rest).
    public func read(ranges: [ByteRange], object: String) throws -> [[UInt8]] {
        for range in ranges { try checkRange(at: range.offset, count: range.count, object: object) }
        return try prefetched.read(ranges) { try fetch($0, object: object) }
    }

    private func fetch(_ ranges: [ByteRange], object: String) throws -> [[UInt8]] {
        let url = self.url, host = self.host, settings = self.settings, path = self.path
        return try AsyncBridge.blocking {
            try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
                for (index, range) in ranges.enumerated() {
                    group.addTask {
                        guard range.count > 0 else { return (index, []) }
                        let (status, contentRange, body) = try await Self.getWithRetries(url, host: host, range: range, settings: settings,
                                                                                   operation: "read of \(object)")
                        guard status == 206 else {
                            throw status == 200 ? RemoteError.rangeNotSupported(url: url, host: host, status: status)
                                                : Self.statusError(status, url: url, host: host)
                        }
                        guard contentRange.map({ $0.hasPrefix("bytes \(range.offset)-") }) == true, body.count == range.count else {
                            throw FileFormatError(file: path, object: object, offset: range.offset,
                                                  reason: "server answered \(body.count) bytes (\(contentRange ?? "no Content-Range")) for \(range.count) bytes")
                        }
                        return (index, body)
                    }
                }
                var results = [[UInt8]](repeating: [], count: ranges.count)
                for try await (index, bytes) in group { results[index] = bytes }
                return results
            }
        }
    }

    // MARK: Requests

    private static func get(_ url: String, host: String, range: ByteRange, settings: RemoteSettings, operation: String) throws -> (Int, String?, [UInt8]) {
        try AsyncBridge.blocking { try await getWithRetries(url, host: host, range: range, settings: settings, operation: operation) }
    }

    /// One ranged GET; the body is collected only for a 206 and never beyond the range's length,
    /// so a server that ignores `Range` costs one response head, not the file.
    private static func getWithRetries(_ url: String, host: String, range: ByteRange, settings: RemoteSettings, operation: String) async throws -> (Int, String?, [UInt8]) {
        var attempt = 0
        while true {
            attempt += 1
            do {
                var request = HTTPClientRequest(url: url)
                request.method = .GET
                request.headers.add(name: "Range", value: "bytes=\(range.offset)-\(range.offset + range.count - 1)")
                request.headers.add(name: "User-Agent", value: "hepml")
                let response = try await client.execute(request, timeout: .nanoseconds(Int64(settings.timeoutSeconds * 1e9)))
                let status = Int(response.status.code)
                let contentRange = response.headers.first(name: "Content-Range")
                guard status == 206 else { return (status, contentRange, []) }
                let body = try await response.body.collect(upTo: range.count + 1)
                return (status, contentRange, Array(body.readableBytesView))
            } catch let error as HTTPClientError {
                let text = String(describing: error)
                if text.lowercased().contains("timeout") || text.contains("deadlineExceeded") {
                    throw RemoteError.timeout(url: url, host: host, seconds: settings.timeoutSeconds, operation: operation)
                }
                guard attempt <= settings.retries else { throw RemoteError.connection(url: url, host: host, reason: text, attempts: attempt) }
            } catch {
                guard attempt <= settings.retries else {
                    throw RemoteError.connection(url: url, host: host, reason: String(describing: error), attempts: attempt)
                }
            }
            try await Task.sleep(nanoseconds: UInt64(200_000_000 * attempt))
        }
    }

    /// "bytes 0-0/12345" → 12345; "bytes */0" → 0.
    static func totalSize(_ contentRange: String) -> Int? {
        guard let slash = contentRange.lastIndex(of: "/") else { return nil }
        return Int(contentRange[contentRange.index(after: slash)...].trimmingCharacters(in: .whitespaces))
    }

    private static func statusError(_ status: Int, url: String, host: String) -> RemoteError {
        .server(url: url, host: host, code: status, codeName: "HTTP \(status) \(HTTPResponseStatus(statusCode: status).reasonPhrase)",
                message: status == 401 || status == 403 ? "access denied (HEPML sends no credentials over HTTP)" : "request failed")
    }
}
