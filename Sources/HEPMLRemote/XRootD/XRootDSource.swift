import Foundation
import HEPMLCore
import NIOCore

/// A file on an XRootD server read by byte ranges, as `FileSource` reads a local one: opening
/// costs one kXR_open (which also returns the size) and one read of the file's two ends
/// (`PrefetchedBytes`), and each later read outside them fetches only its range — large ranges
/// as concurrent kXR_read pieces, several ranges at once as kXR_readv.
public final class XRootDSource: ByteSource, @unchecked Sendable {
    /// The URL as given, for messages and for file-name parsing.
    public let path: String
    public let size: Int
    private let url: XRootDURL
    private let client: XRootDClient
    private let lock = NSLock()
    private var opened: OpenFile
    /// Set once in `init`, read-only afterwards.
    private var prefetched = PrefetchedBytes.none

    /// An open handle lives on one connection; after that connection drops the file is opened
    /// again (on the data server it was redirected to, or from the start if that fails).
    private struct OpenFile {
        var connection: XRootDConnection
        var handle: [UInt8]
        var location: XRootDURL
    }

    public init(url: XRootDURL, path: String? = nil, client: XRootDClient = .shared) throws {
        self.url = url
        self.path = path ?? url.description
        self.client = client
        let (file, size) = try client.withRetries(url, operation: "open") { try Self.open(url, client: client) }
        self.opened = file
        self.size = size
        prefetched = PrefetchedBytes(fetched: try fetch(PrefetchedBytes.ranges(size: size), object: "file start and end"), size: size)
    }

    private static func open(_ url: XRootDURL, client: XRootDClient) throws -> (OpenFile, Int) {
        let (response, connection, location) = try client.follow(url) { .open(path: $0) }
        guard response.body.count >= 4 else {
            throw RemoteError.protocolViolation(url: url.description, host: connection.server.description, reason: "open answer without a file handle")
        }
        let handle = Array(response.body[0..<4])
        // With kXR_retstat the handle is followed by cpsize, cptype and the stat line.
        var size: Int?
        if response.body.count > 12 { size = XRootDStat(response.body[12...].nulTerminatedString)?.size }
        if size == nil {
            let statAnswer = try client.exchange(.stat(path: location.path), on: connection)
            guard statAnswer.status == .ok else { throw client.serverError(statAnswer, url: url, host: connection.server) }
            size = XRootDStat(statAnswer.body[...].nulTerminatedString)?.size
        }
        guard let size else {
            throw RemoteError.protocolViolation(url: url.description, host: connection.server.description, reason: "no file size in the open answer")
        }
        return (OpenFile(connection: connection, handle: handle, location: location), size)
    }

    deinit {
        if opened.connection.isActive { _ = opened.connection.send(.close(handle: opened.handle)) }
    }

    /// The open handle, reopened if its connection has dropped since.
    private func currentFile() throws -> OpenFile {
        lock.lock()
        let file = opened
        lock.unlock()
        if file.connection.isActive { return file }
        let reopened = try Self.open(file.location, client: client).0
        lock.lock()
        opened = reopened
        lock.unlock()
        return reopened
    }

    public func read(at offset: Int, count: Int, object: String) throws -> [UInt8] {
        try read(ranges: [ByteRange(offset: offset, count: count)], object: object)[0]
    }

    /// Ranges within the prefetched ends are copied from them; the others go to the server in
    /// one round trip.
    public func read(ranges: [ByteRange], object: String) throws -> [[UInt8]] {
        for range in ranges { try checkRange(at: range.offset, count: range.count, object: object) }
        return try prefetched.read(ranges) { try fetch($0, object: object) }
    }

    /// Reads checked ranges from the server, again on a fresh connection after a drop.
    private func fetch(_ ranges: [ByteRange], object: String) throws -> [[UInt8]] {
        guard ranges.contains(where: { $0.count > 0 }) else { return ranges.map { _ in [] } }
        return try client.withRetries(url, operation: "read of \(object)") {
            let file = try currentFile()
            if ranges.count == 1 { return [try readSingle(ranges[0], file: file, object: object)] }
            return try readVector(ranges, file: file, object: object)
        }
    }

    /// One range as kXR_read pieces of at most `maxRequestBytes`, all in flight at once.
    private func readSingle(_ range: ByteRange, file: OpenFile, object: String) throws -> [UInt8] {
        let step = XRootDProtocol.maxRequestBytes
        var requests: [(XRootDRequest, EventLoopFuture<XRootDResponse>)] = []
        var start = range.offset
        while start < range.offset + range.count {
            let length = min(step, range.offset + range.count - start)
            let request = XRootDRequest.read(handle: file.handle, offset: start, count: length)
            requests.append((request, client.start(request, on: file.connection)))
            start += length
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(range.count)
        for (request, answer) in requests {
            let response = try client.finish(answer, request: request, on: file.connection)
            guard response.status == .ok else { throw client.serverError(response, url: url, host: file.connection.server, context: "read of \(object)") }
            bytes += response.body
        }
        guard bytes.count == range.count else {
            throw FileFormatError(file: path, object: object, offset: range.offset + bytes.count,
                                  reason: "server returned \(bytes.count) of \(range.count) bytes (file shorter than its stat size)")
        }
        return bytes
    }

    /// Several ranges as kXR_readv requests (at most 1024 elements of at most ~2 MiB each, about
    /// `maxRequestBytes` per request), all in flight at once; large ranges are split into
    /// elements and joined again.
    private func readVector(_ ranges: [ByteRange], file: OpenFile, object: String) throws -> [[UInt8]] {
        struct Element { var range: Int; var offset: Int; var count: Int }
        var batches: [[Element]] = [[]]
        var batchBytes = 0
        for (index, range) in ranges.enumerated() {
            var start = range.offset
            while start < range.offset + range.count {
                let length = min(XRootDProtocol.maxReadvElementLength, range.offset + range.count - start)
                if let last = batches.last, !last.isEmpty,
                   last.count == XRootDProtocol.maxReadvElements || batchBytes + length > XRootDProtocol.maxRequestBytes {
                    batches.append([])
                    batchBytes = 0
                }
                batches[batches.count - 1].append(Element(range: index, offset: start, count: length))
                batchBytes += length
                start += length
            }
        }
        let sent = batches.filter { !$0.isEmpty }.map { batch -> ([Element], XRootDRequest, EventLoopFuture<XRootDResponse>) in
            let request = XRootDRequest.readv(handle: file.handle, ranges: batch.map { ($0.offset, $0.count) })
            return (batch, request, client.start(request, on: file.connection))
        }
        var results = ranges.map { range -> [UInt8] in
            var bytes: [UInt8] = []
            bytes.reserveCapacity(range.count)
            return bytes
        }
        for (batch, request, answer) in sent {
            let response = try client.finish(answer, request: request, on: file.connection)
            guard response.status == .ok else { throw client.serverError(response, url: url, host: file.connection.server, context: "vector read of \(object)") }
            // The answer: per element its 16-byte header (handle, length, offset) and its bytes, in request order.
            var position = 0
            for element in batch {
                let body = response.body
                guard position + 16 <= body.count else { throw truncatedVector(element.offset, object: object) }
                let length = Int(body.readBigEndianInt32(at: position + 4))
                let offset = Int(body.readBigEndianInt64(at: position + 8))
                guard length == element.count, offset == element.offset, position + 16 + length <= body.count else {
                    throw truncatedVector(element.offset, object: object)
                }
                results[element.range] += body[(position + 16)..<(position + 16 + length)]
                position += 16 + length
            }
        }
        return results
    }

    private func truncatedVector(_ offset: Int, object: String) -> FileFormatError {
        FileFormatError(file: path, object: object, offset: offset, reason: "vector read answer does not match the requested ranges")
    }
}
