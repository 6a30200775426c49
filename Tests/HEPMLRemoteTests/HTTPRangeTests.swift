import Foundation
import HEPMLCore
@testable import HEPMLRemote
import HEPMLROOT
import HEPMLTestSupport
import Testing

/// HTTP range reads against Debian's nginx on loopback.
@Suite(.serialized) struct HTTPRangeTests {
    @Test(.requiresNginx, .requiresShared) func rootFilesReadOverHTTPAsLocally() throws {
        let directory = try TestEnvironment.temporaryDirectory("nginx-root")
        defer { try? FileManager.default.removeItem(at: directory) }
        let name = "uproot-HZZ-zlib.root"
        try FileManager.default.copyItem(at: try TestEnvironment.rootTestFile(name), to: directory.appendingPathComponent(name))
        let server = try NginxProcess(serving: directory)
        defer { server.stop() }

        let local = try ROOTFile(path: directory.appendingPathComponent(name).path)
        let remote = try ROOTFile(path: server.url("ranges", name))
        #expect(try remote.keys() == local.keys())
        #expect(try remote.tree("events").table().table == local.tree("events").table().table)
    }

    @Test(.requiresNginx) func rangesMatchTheLocalBytes() throws {
        let directory = try TestEnvironment.temporaryDirectory("nginx-bytes")
        defer { try? FileManager.default.removeItem(at: directory) }
        var generator = SeededGenerator(seed: 7)
        // Larger than the 512 KiB fetched with the open, so that some ranges go to the server.
        let bytes = (0..<3_000_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try Data(bytes).write(to: directory.appendingPathComponent("blob.bin"))
        let server = try NginxProcess(serving: directory)
        defer { server.stop() }

        let source = try HTTPRangeSource(url: server.url("ranges", "blob.bin"))
        #expect(source.size == bytes.count)
        let ranges = [ByteRange(offset: 0, count: 10), ByteRange(offset: 123_456, count: 100_000), ByteRange(offset: bytes.count - 1, count: 1),
                      ByteRange(offset: 1_500_000, count: 200_000), ByteRange(offset: 500_000, count: 100_000), ByteRange(offset: 2_000_000, count: 0)]
        for (range, piece) in zip(ranges, try source.read(ranges: ranges, object: "ranges")) {
            #expect(piece == Array(bytes[range.offset..<(range.offset + range.count)]))
        }
        #expect(throws: FileFormatError.self) { try source.read(at: bytes.count, count: 1, object: "past the end") }
        do {
            _ = try HTTPRangeSource(url: server.url("ranges", "missing.bin"))
            Issue.record("a missing file opened")
        } catch let RemoteError.server(_, _, code, _, _) {
            #expect(code == 404)
        }
    }

    /// A 1 GiB (sparse) file behind `max_ranges 0`: refused after the response head, quickly, with
    /// the reason, instead of being downloaded.
    @Test(.requiresNginx) func aServerIgnoringRangeIsRefusedWithoutDownloadingTheFile() throws {
        let directory = try TestEnvironment.temporaryDirectory("nginx-norange")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("huge.root").path
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        #expect(truncate(path, 1 << 30) == 0)
        let server = try NginxProcess(serving: directory)
        defer { server.stop() }

        let start = Date()
        do {
            _ = try ROOTFile(path: server.url("noranges", "huge.root"))
            Issue.record("a server ignoring Range was accepted")
        } catch let error as RemoteError {
            guard case .rangeNotSupported(_, _, let status) = error else { Issue.record("\(error)"); return }
            #expect(status == 200)
            #expect(error.description.contains("ignores HTTP Range requests"))
        }
        #expect(Date().timeIntervalSince(start) < 5)
    }

    @Test func httpDirectoriesCannotBeListed() {
        #expect(throws: RemoteError.listingNotSupported(url: "https://host/dir/")) { try RemoteFiles.listFiles(in: "https://host/dir/") }
    }
}
