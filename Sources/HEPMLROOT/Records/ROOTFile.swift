import Foundation
import HEPMLCore
import HEPMLRemote

/// A ROOT file opened for reading.
///
/// Opening reads only the header and the root directory's key list; subdirectory key lists are
/// parsed on first use and cached, so fetching many objects by path from one file parses each
/// directory once and then reads just the needed records. Safe to share between threads.
public final class ROOTFile: @unchecked Sendable {
    public let path: String
    public let header: FileHeader
    let source: any ByteSource
    private var directories: [Int: DirectoryIndex] = [:]
    /// Subdirectory indexes by the offset of their key, so path walks skip the directory records.
    private var subdirectories: [Int: DirectoryIndex] = [:]
    private var streamerInfoCache: [StreamerInfo]?
    private var directoriesByPath: [String: DirectoryIndex] = [:]
    private let lock = NSLock()
    private let rootSeekKeys: Int
    private let rootNbytesKeys: Int

    /// Opens a local path or a URL (`root://`, `https://`, `http://`, `davs://`; see docs/remote.md).
    public init(path: String) throws {
        self.path = path
        source = try RemoteFiles.open(path)
        let headerBytes = try source.read(at: 0, count: min(source.size, 128), object: "file header")
        header = try FileHeader.parse(headerBytes, file: path)
        // The TFile key at fBEGIN is followed by the TNamed strings and then the root directory record.
        let directoryOffset = header.begin + header.nbytesName
        let record = try source.read(at: directoryOffset, count: min(60, source.size - min(source.size, directoryOffset)), object: "root directory")
        var reader = ByteReader(record, file: path, object: "root directory", baseOffset: directoryOffset)
        (rootSeekKeys, rootNbytesKeys) = try ROOTFile.parseDirectoryRecord(&reader)
    }

    /// Parses the StreamerInfo list once; later calls return the cached records.
    func cachedStreamerInfos(_ parse: () throws -> [StreamerInfo]) throws -> [StreamerInfo] {
        lock.lock()
        let cached = streamerInfoCache
        lock.unlock()
        if let cached { return cached }
        let infos = try parse()
        lock.lock()
        streamerInfoCache = infos
        lock.unlock()
        return infos
    }

    /// Returns (fSeekKeys, fNbytesKeys) from a TDirectory record (spec §3.2).
    static func parseDirectoryRecord(_ reader: inout ByteReader) throws -> (Int, Int) {
        let version = Int(try reader.readInt16())
        let isBig = version > 1000
        try reader.skip(8)  // fDatimeC, fDatimeM
        let nbytesKeys = Int(try reader.readInt32())
        _ = try reader.readInt32()  // fNbytesName
        if isBig {
            try reader.skip(16)  // fSeekDir, fSeekParent
            return (Int(try reader.readInt64()), nbytesKeys)
        }
        try reader.skip(8)
        return (Int(try reader.readInt32()), nbytesKeys)
    }

    /// Parses (once) the key list stored at `seekKeys`.
    private func directory(seekKeys: Int, nbytesKeys: Int, name: String) throws -> DirectoryIndex {
        lock.lock()
        if let cached = directories[seekKeys] { lock.unlock(); return cached }
        lock.unlock()
        var keys: [Key] = []
        if seekKeys != 0 {
            let bytes = try source.read(at: seekKeys, count: nbytesKeys, object: name)
            var reader = ByteReader(bytes, file: path, object: name, baseOffset: seekKeys)
            let own = try Key.read(&reader)
            try reader.seek(to: own.keyLength)
            let count = try reader.readCount32(limit: reader.remaining / 26, what: "number of keys")
            keys.reserveCapacity(count)
            for _ in 0..<count { keys.append(try Key.read(&reader)) }
        }
        let index = DirectoryIndex(keys: keys)
        lock.lock()
        directories[seekKeys] = index
        lock.unlock()
        return index
    }

    private var rootDirectory: DirectoryIndex {
        get throws { try directory(seekKeys: rootSeekKeys, nbytesKeys: rootNbytesKeys, name: "root directory") }
    }

    /// The directory record of a subdirectory key lies right after its key header.
    private func subdirectory(_ key: Key, path: String) throws -> DirectoryIndex {
        lock.lock()
        let cached = subdirectories[key.seekKey]
        lock.unlock()
        if let cached { return cached }
        let index = try readSubdirectory(key, path: path)
        lock.lock()
        subdirectories[key.seekKey] = index
        lock.unlock()
        return index
    }

    private func readSubdirectory(_ key: Key, path: String) throws -> DirectoryIndex {
        let offset = key.seekKey + key.keyLength
        let record = try source.read(at: offset, count: min(60, max(0, source.size - offset)), object: path)
        var reader = ByteReader(record, file: self.path, object: path, baseOffset: offset)
        let (seekKeys, nbytesKeys) = try ROOTFile.parseDirectoryRecord(&reader)
        return try directory(seekKeys: seekKeys, nbytesKeys: nbytesKeys, name: path)
    }

    /// Finds the key at a slash-separated path (a final `;cycle` picks a cycle; default is the highest).
    public func key(at path: String) throws -> Key {
        let (directoryPath, name, cycle) = ROOTFile.splitLast(path)
        guard !name.isEmpty else {
            throw FileFormatError(file: self.path, object: path, reason: "empty object path")
        }
        guard let key = try directory(at: directoryPath).find(name: name, cycle: cycle) else {
            throw FileFormatError(file: self.path, object: path, reason: "no such key")
        }
        return key
    }

    /// Splits "a/b/name;2" at the last slash into the directory part, the name and the cycle,
    /// scanning UTF-8 bytes only (this runs once per fetched object).
    static func splitLast(_ path: String) -> (directory: Substring, name: String, cycle: Int?) {
        var text = Substring(path)
        while text.utf8.last == UInt8(ascii: "/") { text = text.dropLast() }
        var cycle: Int?
        if let semicolon = text.utf8.lastIndex(of: UInt8(ascii: ";")) {
            let digits = text.utf8[text.utf8.index(after: semicolon)...]
            if !digits.isEmpty, digits.count < 10, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
                cycle = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
                text = text[..<semicolon]
            }
        }
        guard let slash = text.utf8.lastIndex(of: UInt8(ascii: "/")) else { return ("", String(text), cycle) }
        return (text[..<slash], String(text[text.utf8.index(after: slash)...]), cycle)
    }

    /// The key list of the directory at a slash path ("" is the root directory), cached by the
    /// path as given so that repeated fetches from one directory cost one dictionary probe.
    private func directory(at directoryPath: Substring) throws -> DirectoryIndex {
        if directoryPath.isEmpty { return try rootDirectory }
        let cacheKey = String(directoryPath)
        lock.lock()
        let cached = directoriesByPath[cacheKey]
        lock.unlock()
        if let cached { return cached }
        var directory = try rootDirectory
        var walked = ""
        for component in directoryPath.split(separator: "/", omittingEmptySubsequences: true) {
            walked += walked.isEmpty ? component : "/" + component
            guard let key = directory.find(name: String(component), cycle: nil), key.isDirectory else {
                throw FileFormatError(file: self.path, object: walked, reason: "no such directory")
            }
            directory = try subdirectory(key, path: walked)
        }
        lock.lock()
        directoriesByPath[cacheKey] = directory
        lock.unlock()
        return directory
    }

    /// Every key, depth first, with full paths (directories included). `recursive: false` lists the top level only.
    public func keys(under directoryPath: String = "", recursive: Bool = true) throws -> [KeyInfo] {
        var start = try rootDirectory
        var prefix = ""
        if !directoryPath.isEmpty {
            let key = try self.key(at: directoryPath)
            guard key.isDirectory else {
                throw FileFormatError(file: path, object: directoryPath, reason: "\(key.className) is not a directory")
            }
            start = try subdirectory(key, path: directoryPath)
            prefix = directoryPath.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/") + "/"
        }
        var result: [KeyInfo] = []
        func walk(_ directory: DirectoryIndex, _ prefix: String, depth: Int) throws {
            guard depth < 64 else { throw FileFormatError(file: path, object: prefix, reason: "directories nested too deeply") }
            for key in directory.keys {
                let fullPath = prefix + key.name
                result.append(KeyInfo(path: fullPath, className: key.className, cycle: key.cycle, title: key.title))
                if recursive, key.isDirectory {
                    try walk(try subdirectory(key, path: fullPath), fullPath + "/", depth: depth + 1)
                }
            }
        }
        try walk(start, prefix, depth: 0)
        return result
    }

    /// Reads and decompresses a key's payload.
    func payload(of key: Key, path objectPath: String) throws -> [UInt8] {
        let range = try payloadRange(of: key, path: objectPath)
        return try payload(of: key, record: try source.read(at: range.offset, count: range.count, object: objectPath), path: objectPath)
    }

    /// Where a key's stored (possibly compressed) payload lies in the file.
    private func payloadRange(of key: Key, path objectPath: String) throws -> ByteRange {
        let storedLength = key.nbytes - key.keyLength
        guard storedLength >= 0, key.objectLength <= 1 << 31 else {
            throw FileFormatError(file: path, object: objectPath, offset: key.seekKey, reason: "key has inconsistent sizes")
        }
        return ByteRange(offset: key.seekKey + key.keyLength, count: storedLength)
    }

    /// The payload from its stored record.
    private func payload(of key: Key, record: [UInt8], path objectPath: String) throws -> [UInt8] {
        if !key.isCompressed { return record }
        return try BlockDecompressor.decompress(record[...], uncompressedSize: key.objectLength, file: path,
                                                object: objectPath, fileOffset: key.seekKey + key.keyLength)
    }

    /// A reader over a key's decompressed payload, for the class models.
    func objectReader(for key: Key, path objectPath: String) throws -> ByteReader {
        ByteReader(try payload(of: key, path: objectPath), file: path, object: objectPath)
    }

    /// Reads the histogram at `path` (any TH1/TH2/TH3 flavour or profile).
    public func histogram(_ objectPath: String) throws -> Histogram {
        let key = try self.key(at: objectPath)
        var reader = try objectReader(for: key, path: objectPath)
        return try Histogram.read(className: key.className, &reader, references: ReferenceMap(keyLength: key.keyLength))
    }

    /// Reads many histograms, in the order given.
    public func histograms(_ paths: [String]) throws -> [Histogram] {
        try histogramResults(paths).map { try $0.get() }
    }

    /// Each histogram of `paths`, or why it could not be read.
    public func histogramResults(_ paths: [String]) -> [Result<Histogram, Error>] {
        decodeRecords(paths) { key, record, objectPath in
            var reader = ByteReader(try self.payload(of: key, record: record, path: objectPath), file: self.path, object: objectPath)
            return try Histogram.read(className: key.className, &reader, references: ReferenceMap(keyLength: key.keyLength))
        }
    }

    /// The axes of each histogram of `paths` (as many as its dimension), or why they could not be
    /// read. TH1 stores its axes before the cells, so only the first `axesPrefixBytes` of each
    /// object are inflated (the whole object when the axes reach further, e.g. with many bin
    /// labels or variable edges): listing the binning of 2D histograms costs a fraction of
    /// reading them.
    public func histogramAxes(_ paths: [String]) -> [Result<[Axis], Error>] {
        decodeRecords(paths) { key, record, objectPath in
            let prefixBytes = ROOTFile.axesPrefixBytes(key)
            if key.objectLength > prefixBytes, let start = try? self.payloadPrefix(of: key, record: record, count: prefixBytes, path: objectPath) {
                var reader = ByteReader(start, file: self.path, object: objectPath)
                if let axes = try? Histogram.readAxes(className: key.className, &reader, references: ReferenceMap(keyLength: key.keyLength),
                                                      payloadLength: key.objectLength) {
                    return axes
                }
            }
            var reader = ByteReader(try self.payload(of: key, record: record, path: objectPath), file: self.path, object: objectPath)
            return try Histogram.readAxes(className: key.className, &reader, references: ReferenceMap(keyLength: key.keyLength),
                                          payloadLength: reader.bytes.count)
        }
    }

    /// Enough of a histogram object for its axes without labels or variable edges: the class
    /// headers, attributes and three untitled axes take about 400 bytes, the object's name and
    /// title (which its key repeats) come on top, and the rest leaves room for axis titles.
    /// Inflating a zlib stream has a fixed cost per stream, so a tighter guess gains little.
    static func axesPrefixBytes(_ key: Key) -> Int { 512 + key.name.utf8.count + key.title.utf8.count }

    /// The first `count` bytes of a key's payload.
    private func payloadPrefix(of key: Key, record: [UInt8], count: Int, path objectPath: String) throws -> [UInt8] {
        if !key.isCompressed { return Array(record.prefix(count)) }
        return try BlockDecompressor.decompressPrefix(record[...], count: count, uncompressedSize: key.objectLength, file: path,
                                                      object: objectPath, fileOffset: key.seekKey + key.keyLength)
    }

    /// `decode` applied to the key and stored record of each object of `paths`, or why that
    /// failed. The records are fetched in one vector read (one round trip for a remote file) and
    /// decoded in parallel over worker threads; if the vector read fails, each record is read on
    /// its own so that every error names its object.
    private func decodeRecords<Decoded: Sendable>(_ paths: [String], _ decode: @Sendable (Key, [UInt8], String) throws -> Decoded) -> [Result<Decoded, Error>] {
        let keys = paths.map { objectPath in Result { try self.key(at: objectPath) } }
        let ranges = zip(keys, paths).map { key, objectPath in Result { try self.payloadRange(of: try key.get(), path: objectPath) } }
        let wanted = ranges.compactMap { try? $0.get() }
        let fetched = try? source.read(ranges: wanted, object: "\(wanted.count) histogram records")
        var records: [[UInt8]?] = Array(repeating: nil, count: paths.count)
        if let fetched {
            var next = 0
            for index in paths.indices where (try? ranges[index].get()) != nil {
                records[index] = fetched[next]
                next += 1
            }
        }
        let prefetched = records
        return (try? Parallel.map(paths.count) { index -> Result<Decoded, Error> in
            Result {
                let key = try keys[index].get()
                let range = try ranges[index].get()
                let record = try prefetched[index] ?? self.source.read(at: range.offset, count: range.count, object: paths[index])
                return try decode(key, record, paths[index])
            }
        }) ?? []
    }

    /// Reads the TTree (or TNtuple) at `path`.
    public func tree(_ objectPath: String) throws -> Tree {
        let key = try self.key(at: objectPath)
        guard key.className == "TTree" || key.className == "TNtuple" || key.className == "TNtupleD" else {
            throw FileFormatError(file: path, object: objectPath, reason: "\(key.className) is not a TTree")
        }
        var reader = try objectReader(for: key, path: objectPath)
        return try Tree.read(className: key.className, &reader, references: ReferenceMap(keyLength: key.keyLength), file: self, path: objectPath)
    }
}
