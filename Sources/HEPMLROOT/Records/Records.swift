import Foundation
import HEPMLCore

/// The fixed header at offset 0 (spec §1).
public struct FileHeader: Sendable {
    public var version: Int
    public var isLarge: Bool
    public var begin: Int
    public var end: Int
    public var nbytesName: Int
    public var compression: Int
    public var seekInfo: Int
    public var nbytesInfo: Int

    static func parse(_ bytes: [UInt8], file: String) throws -> FileHeader {
        var reader = ByteReader(bytes, file: file, object: "file header")
        guard bytes.count >= 4, bytes[0..<4].elementsEqual("root".utf8) else {
            throw FileFormatError(file: file, offset: 0, reason: "not a ROOT file (missing \"root\" magic)")
        }
        try reader.skip(4)
        var version = Int(try reader.readInt32())
        let isLarge = version >= 1_000_000
        if isLarge { version -= 1_000_000 }
        let begin = Int(try reader.readInt32())
        let end = isLarge ? Int(try reader.readInt64()) : Int(try reader.readInt32())
        _ = isLarge ? Int(try reader.readInt64()) : Int(try reader.readInt32())  // fSeekFree
        _ = try reader.readInt32()  // fNbytesFree
        _ = try reader.readInt32()  // nfree
        let nbytesName = Int(try reader.readInt32())
        _ = try reader.readUInt8()  // fUnits
        let compression = Int(try reader.readInt32())
        let seekInfo = isLarge ? Int(try reader.readInt64()) : Int(try reader.readInt32())
        let nbytesInfo = Int(try reader.readInt32())
        guard begin >= 0, nbytesName >= 0, seekInfo >= 0, nbytesInfo >= 0 else {
            throw FileFormatError(file: file, offset: 8, reason: "negative pointer in the file header")
        }
        return FileHeader(version: version, isLarge: isLarge, begin: begin, end: end, nbytesName: nbytesName,
                          compression: compression, seekInfo: seekInfo, nbytesInfo: nbytesInfo)
    }
}

/// A TKey: the header in front of every record (spec §2).
public struct Key: Sendable {
    public var nbytes: Int
    public var version: Int
    public var objectLength: Int
    public var keyLength: Int
    public var cycle: Int
    public var seekKey: Int
    public var className: String
    public var name: String
    public var title: String

    /// The payload is compressed exactly when its stored size differs from the uncompressed size.
    var isCompressed: Bool { nbytes - keyLength != objectLength }

    static func read(_ reader: inout ByteReader) throws -> Key {
        let start = reader.position
        let nbytes = Int(try reader.readInt32())
        let version = Int(try reader.readInt16())
        let objectLength = Int(try reader.readInt32())
        _ = try reader.readUInt32()  // fDatime
        let keyLength = Int(try reader.readInt16())
        let cycle = Int(try reader.readInt16())
        let isBig = version > 1000
        let seekKey = isBig ? Int(try reader.readInt64()) : Int(try reader.readInt32())
        _ = isBig ? try reader.readInt64() : Int64(try reader.readInt32())  // fSeekPdir
        let className = try reader.readTString()
        let name = try reader.readTString()
        let title = try reader.readTString()
        guard objectLength >= 0, keyLength >= 0, seekKey >= 0 else {
            throw reader.error("key '\(name)' has a negative length or offset", at: start)
        }
        return Key(nbytes: nbytes, version: version, objectLength: objectLength, keyLength: keyLength,
                   cycle: cycle, seekKey: seekKey, className: className, name: name, title: title)
    }

    var isDirectory: Bool { className == "TDirectory" || className == "TDirectoryFile" }
}

/// One entry of `ROOTFile.keys()`: a key with its full path inside the file.
public struct KeyInfo: Sendable, Equatable {
    /// Slash-separated path from the root directory, without the cycle.
    public var path: String
    public var className: String
    public var cycle: Int
    public var title: String
}

/// A directory's parsed key list (spec §3).
struct DirectoryIndex: Sendable {
    var keys: [Key]
    /// Highest cycle per name, so path lookups are one dictionary probe per level.
    var latest: [String: Int]

    init(keys: [Key]) {
        self.keys = keys
        var latest: [String: Int] = [:]
        for (index, key) in keys.enumerated() {
            if let existing = latest[key.name], abs(keys[existing].cycle) >= abs(key.cycle) { continue }
            latest[key.name] = index
        }
        self.latest = latest
    }

    func find(name: String, cycle: Int?) -> Key? {
        if let cycle { return keys.first { $0.name == name && $0.cycle == cycle } }
        return latest[name].map { keys[$0] }
    }
}
