import Foundation
import HEPMLCompression
import HEPMLCore

/// Writes a new ROOT file: nested directories, histograms and TTrees.
///
/// The file is assembled in memory and written atomically by `close()`, which keeps the writer
/// simple (every back-patched pointer is a plain array store) and fast for the many-small-objects
/// DQM case; files are expected to fit in memory (< 2 GB, small 32-bit keys).
public final class ROOTWriter {
    /// ROOT's compression algorithms with their levels (1–9; 0 stores raw), as `fCompress =
    /// algorithm × 100 + level` names them: 1 zlib, 2 LZMA, 4 LZ4, 5 ZSTD.
    public enum Compression: Sendable, Equatable {
        case none
        case zlib(level: Int)
        case lzma(level: Int)
        case lz4(level: Int)
        case zstd(level: Int)

        var code: Int {
            switch self {
            case .none: return 0
            case .zlib(let level): return 100 + level
            case .lzma(let level): return 200 + level
            case .lz4(let level): return 400 + level
            case .zstd(let level): return 500 + level
            }
        }

        var level: Int {
            switch self {
            case .none: return 0
            case .zlib(let level), .lzma(let level), .lz4(let level), .zstd(let level): return level
            }
        }

        /// `zlib`, `lzma`, `lz4`, `zstd` or `none`, optionally `:level`; without a level the one ROOT
        /// recommends for the algorithm (101, 207, 404, 505).
        public init(parsing text: String) throws {
            let parts = text.lowercased().split(separator: ":", maxSplits: 1).map(String.init)
            let level: Int?
            if parts.count == 2 {
                guard let value = Int(parts[1]), (0...9).contains(value) else { throw InvalidName(name: text, reason: "the level must be 0 to 9") }
                level = value
            } else {
                level = nil
            }
            switch parts.first ?? "" {
            case "none": self = .none
            case "zlib": self = .zlib(level: level ?? 1)
            case "lzma": self = .lzma(level: level ?? 7)
            case "lz4": self = .lz4(level: level ?? 4)
            case "zstd": self = .zstd(level: level ?? 5)
            default: throw InvalidName(name: text, reason: "the algorithm must be zlib, lzma, lz4, zstd or none, with an optional :level")
            }
        }

        /// A compression name that `init(parsing:)` does not know.
        public struct InvalidName: Error, CustomStringConvertible {
            public var name: String
            public var reason: String
            public var description: String { "compression \"\(name)\": \(reason)" }
        }
    }

    final class Directory {
        let name: String
        let title: String
        /// Offset of this directory's TKey (fSeekDir); for the root directory, fBEGIN.
        let seekKey: Int
        /// Offset of the 60-byte TDirectory record, back-patched on close.
        let recordOffset: Int
        let parentSeek: Int
        var keyHeaders: [[UInt8]] = []
        var subdirectories: [String: Directory] = [:]
        var order: [Directory] = []
        var cycles: [String: Int] = [:]

        init(name: String, title: String, seekKey: Int, recordOffset: Int, parentSeek: Int) {
            self.name = name
            self.title = title
            self.seekKey = seekKey
            self.recordOffset = recordOffset
            self.parentSeek = parentSeek
        }
    }

    public let path: String
    public let compression: Compression
    /// The fDatime of every key and directory: the time of writing, or `SOURCE_DATE_EPOCH` when set
    /// (reproducible builds' convention), so identical inputs can give identical files.
    let datime: UInt32
    static let version: Int32 = 62806
    static let begin = 100
    var output = ByteWriter()
    var root: Directory
    /// Classes whose objects were written; close() describes them (and what they use) in StreamerInfo.
    var streamedClasses: Set<String> = []
    private let fileName: String
    private var closed = false

    public init(path: String, compression: Compression = .zlib(level: 1)) {
        self.path = path
        self.compression = compression
        let datime = ROOTWriter.datime(for: ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"].flatMap(TimeInterval.init).map(Date.init(timeIntervalSince1970:)) ?? Date())
        self.datime = datime
        fileName = URL(fileURLWithPath: path).lastPathComponent
        output.bytes = [UInt8](repeating: 0, count: ROOTWriter.begin)
        // The TFile record: key, the TNamed strings, then the root TDirectory record.
        var strings = ByteWriter()
        strings.tstring(fileName)
        strings.tstring("")
        let keyLength = ROOTWriter.keyHeaderLength(className: "TFile", name: fileName, title: "")
        let objectLength = strings.count + 60
        let header = ROOTWriter.keyHeader(datime: datime, nbytes: keyLength + objectLength, objectLength: objectLength, keyLength: keyLength, cycle: 1,
                                          seekKey: ROOTWriter.begin, seekParent: 0, className: "TFile", name: fileName, title: "")
        output.append(header)
        output.append(strings.bytes)
        root = Directory(name: fileName, title: "", seekKey: ROOTWriter.begin, recordOffset: output.count, parentSeek: 0)
        output.append([UInt8](repeating: 0, count: 60))
    }

    // MARK: keys

    static func keyHeaderLength(className: String, name: String, title: String, big: Bool = false) -> Int {
        func size(_ text: String) -> Int { let n = text.utf8.count; return n < 255 ? 1 + n : 5 + n }
        return (big ? 34 : 26) + size(className) + size(name) + size(title)
    }

    static func keyHeader(datime: UInt32, nbytes: Int, objectLength: Int, keyLength: Int, cycle: Int, seekKey: Int, seekParent: Int,
                          className: String, name: String, title: String, big: Bool = false) -> [UInt8] {
        var writer = ByteWriter()
        writer.i32(nbytes)
        writer.i16(big ? 1004 : 4)
        writer.i32(objectLength)
        writer.u32(datime)
        writer.i16(Int16(truncatingIfNeeded: keyLength))
        writer.i16(Int16(truncatingIfNeeded: cycle))
        if big {
            writer.i64(seekKey)
            writer.i64(seekParent)
        } else {
            writer.i32(seekKey)
            writer.i32(seekParent)
        }
        writer.tstring(className)
        writer.tstring(name)
        writer.tstring(title)
        return writer.bytes
    }

    /// ROOT's packed date (TDatime, UTC): `(year-1995)<<26 | month<<22 | day<<17 | hour<<12 | minute<<6 | second`.
    static func datime(for date: Date) -> UInt32 {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let year = UInt32(clamping: max(0, (c.year ?? 1995) - 1995))
        let fields = [c.month, c.day, c.hour, c.minute, c.second].map { UInt32(clamping: $0 ?? 0) }
        return year << 26 | fields[0] << 22 | fields[1] << 17 | fields[2] << 12 | fields[3] << 6 | fields[4]
    }

    /// Compresses a payload into ROOT blocks of at most 16 MiB each (header: 2-byte algorithm,
    /// method byte, little-endian 24-bit compressed and uncompressed sizes), or returns nil when it
    /// should be stored raw (no compression, or no gain, as ROOT decides).
    func compress(_ payload: [UInt8]) throws -> [UInt8]? {
        try Self.compress(payload, with: compression)
    }

    /// `compress(_:)` with a given compression, for baskets compressed on worker threads.
    static func compress(_ payload: [UInt8], with compression: Compression) throws -> [UInt8]? {
        guard compression.level > 0, !payload.isEmpty else { return nil }
        var out: [UInt8] = []
        var start = 0
        while start < payload.count {
            let end = min(payload.count, start + BlockDecompressor.maximumBlockSize)
            let (magic, block) = try payload[start..<end].withUnsafeBytes { input -> ([UInt8], [UInt8]) in
                switch compression {
                case .none, .zlib: return ([0x5A, 0x4C, 8], try Codec.deflate(input, level: Int32(compression.level)))
                case .lzma: return ([0x58, 0x5A, 0], try Codec.xzCompress(input, preset: UInt32(compression.level)))
                case .zstd: return ([0x5A, 0x53, 1], try Codec.zstdCompress(input, level: Int32(compression.level)))
                case .lz4:
                    // The block follows the big-endian XXH64 of the LZ4 block, counted in the compressed size.
                    let lz4 = try Codec.lz4Compress(input)
                    let checksum = lz4.withUnsafeBytes { Codec.xxh64($0) }
                    return ([0x4C, 0x34, 1], (0..<8).map { UInt8(truncatingIfNeeded: checksum >> (56 - 8 * $0)) } + lz4)
                }
            }
            let c = block.count, u = end - start
            guard c <= BlockDecompressor.maximumBlockSize else { return nil }
            out += magic + [UInt8(c & 0xFF), UInt8((c >> 8) & 0xFF), UInt8(c >> 16), UInt8(u & 0xFF), UInt8((u >> 8) & 0xFF), UInt8(u >> 16)]
            out += block
            start = end
        }
        return out.count < payload.count ? out : nil
    }

    /// Finds or creates the directory chain for "a/b/c" and returns (directory, final name).
    func directory(for objectPath: String) throws -> (Directory, String) {
        let components = objectPath.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let name = components.last else {
            throw FileFormatError(file: path, object: objectPath, reason: "empty object path")
        }
        var current = root
        for component in components.dropLast() {
            if let existing = current.subdirectories[component] {
                current = existing
                continue
            }
            current = makeDirectory(component, in: current)
        }
        return (current, name)
    }

    /// Creates an (initially empty) subdirectory; `mkdir` for callers that want empty directories.
    public func makeDirectory(_ path: String) throws {
        _ = try directory(for: path + "/_")
    }

    private func makeDirectory(_ name: String, in parent: Directory) -> Directory {
        let keyLength = ROOTWriter.keyHeaderLength(className: "TDirectory", name: name, title: name)
        let seekKey = output.count
        let header = ROOTWriter.keyHeader(datime: datime, nbytes: keyLength + 60, objectLength: 60, keyLength: keyLength, cycle: 1,
                                          seekKey: seekKey, seekParent: parent.seekKey, className: "TDirectory", name: name, title: name)
        output.append(header)
        let directory = Directory(name: name, title: name, seekKey: seekKey, recordOffset: output.count, parentSeek: parent.seekKey)
        output.append([UInt8](repeating: 0, count: 60))
        parent.keyHeaders.append(header)
        parent.subdirectories[name] = directory
        parent.order.append(directory)
        return directory
    }

    /// Appends one object record; `serialize` receives the key length (needed for class tags).
    func writeObject(className: String, path objectPath: String, title: String,
                     serialize: (_ keyLength: Int) throws -> [UInt8]) throws {
        guard !closed else { throw FileFormatError(file: path, object: objectPath, reason: "writer is closed") }
        let (directory, name) = try self.directory(for: objectPath)
        let keyLength = ROOTWriter.keyHeaderLength(className: className, name: name, title: title)
        let payload = try serialize(keyLength)
        let stored = payload.count > 256 ? (try compress(payload) ?? payload) : payload
        let cycle = (directory.cycles[name] ?? 0) + 1
        directory.cycles[name] = cycle
        let header = ROOTWriter.keyHeader(datime: datime, nbytes: keyLength + stored.count, objectLength: payload.count, keyLength: keyLength,
                                          cycle: cycle, seekKey: output.count, seekParent: directory.seekKey,
                                          className: className, name: name, title: title)
        guard output.count + header.count + stored.count < Int(Int32.max) else {
            throw FileFormatError(file: path, object: objectPath, reason: "files over 2 GB are not supported by the writer")
        }
        output.append(header)
        output.append(stored)
        directory.keyHeaders.append(header)
    }

    // MARK: closing

    /// Writes key lists, the StreamerInfo list, the free-segment list and the header, then the file.
    public func close() throws {
        guard !closed else { return }
        closed = true
        func finish(_ directory: Directory, isRoot: Bool) {
            for child in directory.order { finish(child, isRoot: false) }
            let className = isRoot ? "TFile" : "TDirectory"
            let keyLength = ROOTWriter.keyHeaderLength(className: className, name: directory.name, title: directory.title)
            var body = ByteWriter()
            body.i32(directory.keyHeaders.count)
            for header in directory.keyHeaders { body.append(header) }
            let seekKeys = output.count
            output.append(ROOTWriter.keyHeader(datime: datime, nbytes: keyLength + body.count, objectLength: body.count, keyLength: keyLength, cycle: 1,
                                               seekKey: seekKeys, seekParent: directory.seekKey, className: className,
                                               name: directory.name, title: directory.title))
            output.append(body.bytes)
            var record = ByteWriter()
            record.i16(5)
            record.u32(datime)
            record.u32(datime)
            record.i32(keyLength + body.count)
            let nameLength = isRoot ? directory.recordOffset - directory.seekKey
                                    : ROOTWriter.keyHeaderLength(className: "TDirectory", name: directory.name, title: directory.title)
            record.i32(nameLength)
            record.i32(directory.seekKey)
            record.i32(directory.parentSeek)
            record.i32(seekKeys)
            record.u16(1)
            record.append([UInt8](repeating: 0, count: 16 + 12))
            output.bytes.replaceSubrange(directory.recordOffset..<(directory.recordOffset + 60), with: record.bytes)
        }
        finish(root, isRoot: true)

        // StreamerInfo: a TList of TStreamerInfo for every class written and the classes they use.
        let infoKeyLength = ROOTWriter.keyHeaderLength(className: "TList", name: "StreamerInfo", title: "Doubly linked list")
        var info = ByteWriter()
        var tags = ClassTags(keyLength: infoKeyLength)
        let infos = BuiltinStreamers.closure(of: streamedClasses)
        let listStart = info.beginObject(version: 5)
        info.tobject()
        info.tstring("")
        info.i32(infos.count)
        for streamer in infos {
            info.streamerInfo(streamer, tags: &tags)
            info.tstring("")  // the TList option string
        }
        info.endObject(listStart)
        let storedInfo = try compress(info.bytes) ?? info.bytes
        let seekInfo = output.count
        output.append(ROOTWriter.keyHeader(datime: datime, nbytes: infoKeyLength + storedInfo.count, objectLength: info.count, keyLength: infoKeyLength,
                                           cycle: 1, seekKey: seekInfo, seekParent: ROOTWriter.begin, className: "TList",
                                           name: "StreamerInfo", title: "Doubly linked list"))
        output.append(storedInfo)
        let nbytesInfo = output.count - seekInfo

        // Free segments: one TFree covering everything after the end of the file.
        let freeKeyLength = ROOTWriter.keyHeaderLength(className: "TFile", name: fileName, title: "")
        let seekFree = output.count
        let nbytesFree = freeKeyLength + 10
        let end = seekFree + nbytesFree
        var free = ByteWriter()
        free.i16(1)
        free.i32(end)
        free.i32(2_000_000_000)
        output.append(ROOTWriter.keyHeader(datime: datime, nbytes: nbytesFree, objectLength: 10, keyLength: freeKeyLength, cycle: 1, seekKey: seekFree,
                                           seekParent: ROOTWriter.begin, className: "TFile", name: fileName, title: ""))
        output.append(free.bytes)

        var header = ByteWriter()
        header.append(Array("root".utf8))
        header.i32(ROOTWriter.version)
        header.i32(ROOTWriter.begin)
        header.i32(end)
        header.i32(seekFree)
        header.i32(nbytesFree)
        header.i32(1)
        header.i32(root.recordOffset - ROOTWriter.begin)
        header.u8(4)
        header.i32(compression.code)
        header.i32(seekInfo)
        header.i32(nbytesInfo)
        header.u16(1)
        output.bytes.replaceSubrange(0..<header.count, with: header.bytes)
        try AtomicFile.write(output.bytes, to: path)
        output = ByteWriter()
    }
}
