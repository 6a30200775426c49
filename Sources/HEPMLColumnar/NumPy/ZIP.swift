import Foundation
import HEPMLCompression
import HEPMLCore

/// The subset of ZIP that .npz files use: stored or deflated members, optional ZIP64 size fields
/// (NumPy always writes them), no encryption, no multi-disk archives.
enum ZIP {
    struct Member {
        var name: String
        var data: [UInt8]
    }

    /// A member as the central directory describes it, not yet inflated: readers check the
    /// declared size (and the start of the data) before paying for the whole member.
    struct Entry {
        var name: String
        var method: UInt16
        var declaredSize: Int
        var crc: UInt32
        var compressed: ArraySlice<UInt8>
        var reader: ByteReader
        var dataStart: Int

        /// The first `count` bytes of the member (all of them when it is shorter).
        func prefix(_ count: Int) throws -> [UInt8] {
            switch method {
            case 0: return Array(compressed.prefix(count))
            default:
                do {
                    return try compressed.withUnsafeBytes { try Codec.inflate($0, atMost: min(count, declaredSize), raw: true).bytes }
                } catch let error as CompressionError {
                    throw reader.error("cannot inflate: \(error)", at: dataStart)
                }
            }
        }

        /// The whole member, its size and CRC-32 checked.
        func data() throws -> [UInt8] {
            let data: [UInt8]
            do {
                switch method {
                case 0:
                    guard compressed.count == declaredSize else { throw reader.error("stored member sizes differ", at: dataStart) }
                    data = Array(compressed)
                case 8:
                    data = try compressed.withUnsafeBytes { try Codec.inflate($0, decompressedSize: declaredSize, raw: true) }
                default:
                    throw reader.error("compression method \(method) is not supported (stored and deflate only)", at: dataStart)
                }
            } catch let error as CompressionError {
                throw reader.error("cannot inflate: \(error)", at: dataStart)
            }
            guard data.withUnsafeBytes({ Codec.crc32($0) }) == crc else { throw reader.error("CRC-32 mismatch", at: dataStart) }
            return data
        }
    }

    static func read(_ bytes: [UInt8], file: String) throws -> [Member] {
        try entries(bytes, file: file).map { Member(name: $0.name, data: try $0.data()) }
    }

    static func entries(_ bytes: [UInt8], file: String) throws -> [Entry] {
        var reader = ByteReader(bytes, file: file, object: "zip end of central directory")
        // The end record sits in the last 22 bytes plus a comment of at most 65535 bytes.
        let lowest = max(0, bytes.count - 22 - 65535)
        var endRecord: Int?
        var position = bytes.count - 22
        while position >= lowest {
            if bytes[position] == 0x50, bytes[position + 1] == 0x4B, bytes[position + 2] == 0x05, bytes[position + 3] == 0x06 {
                endRecord = position
                break
            }
            position -= 1
        }
        guard let endRecord else { throw reader.error("no ZIP end of central directory record (truncated or not a .npz file)", at: bytes.count) }
        try reader.seek(to: endRecord + 10)
        var entryCount = Int(try reader.readUInt16(bigEndian: false))
        _ = try reader.readUInt32(bigEndian: false)
        var directoryOffset = Int(try reader.readUInt32(bigEndian: false))
        if (entryCount == 0xFFFF || directoryOffset == 0xFFFF_FFFF), endRecord >= 20 {
            // ZIP64: the locator just before the end record points to the ZIP64 end record.
            try reader.seek(to: endRecord - 20)
            if try reader.readUInt32(bigEndian: false) == 0x0706_4B50 {
                _ = try reader.readUInt32(bigEndian: false)
                let zip64End = try reader.readUInt64(bigEndian: false)
                guard zip64End < UInt64(bytes.count) else { throw reader.error("ZIP64 end record offset \(zip64End) is outside the file") }
                reader.object = "zip64 end of central directory"
                try reader.seek(to: Int(zip64End))
                guard try reader.readUInt32(bigEndian: false) == 0x0606_4B50 else { throw reader.error("bad ZIP64 end record signature") }
                try reader.skip(28)
                entryCount = try checkedInt(reader.readUInt64(bigEndian: false), limit: bytes.count, what: "entry count", reader)
                try reader.skip(8)
                directoryOffset = try checkedInt(reader.readUInt64(bigEndian: false), limit: bytes.count, what: "directory offset", reader)
            }
        }
        reader.object = "zip central directory"
        try reader.seek(to: directoryOffset)
        var entries: [Entry] = []
        for _ in 0..<entryCount {
            let entryStart = reader.position
            guard try reader.readUInt32(bigEndian: false) == 0x0201_4B50 else { throw reader.error("bad central directory signature", at: entryStart) }
            try reader.skip(4)
            let flags = try reader.readUInt16(bigEndian: false)
            let method = try reader.readUInt16(bigEndian: false)
            try reader.skip(4)
            let crc = try reader.readUInt32(bigEndian: false)
            var compressedSize = UInt64(try reader.readUInt32(bigEndian: false))
            var size = UInt64(try reader.readUInt32(bigEndian: false))
            let nameLength = Int(try reader.readUInt16(bigEndian: false))
            let extraLength = Int(try reader.readUInt16(bigEndian: false))
            let commentLength = Int(try reader.readUInt16(bigEndian: false))
            try reader.skip(8)
            var localOffset = UInt64(try reader.readUInt32(bigEndian: false))
            let name = try reader.readString(count: nameLength)
            var extra = ByteReader(Array(try reader.readBytes(extraLength)), file: file, object: "zip extra field of \(name)", baseOffset: reader.fileOffset - extraLength)
            try reader.skip(commentLength)
            while extra.remaining >= 4 {
                let id = try extra.readUInt16(bigEndian: false)
                let length = Int(try extra.readUInt16(bigEndian: false))
                var field = ByteReader(Array(try extra.readBytes(length)), file: file, object: extra.object, baseOffset: extra.fileOffset - length)
                guard id == 0x0001 else { continue }
                if size == 0xFFFF_FFFF { size = try field.readUInt64(bigEndian: false) }
                if compressedSize == 0xFFFF_FFFF { compressedSize = try field.readUInt64(bigEndian: false) }
                if localOffset == 0xFFFF_FFFF { localOffset = try field.readUInt64(bigEndian: false) }
            }
            guard flags & 1 == 0 else { throw reader.error("member \(name) is encrypted", at: entryStart) }
            // Deflate expands at most about 1032:1, which bounds the allocation a corrupt size can ask for.
            guard size <= compressedSize * 1032 + 64, compressedSize <= UInt64(bytes.count), localOffset < UInt64(bytes.count) else {
                throw reader.error("member \(name) has sizes or offset outside the file", at: entryStart)
            }
            var local = ByteReader(bytes, file: file, object: "zip member \(name)")
            try local.seek(to: Int(localOffset))
            guard try local.readUInt32(bigEndian: false) == 0x0403_4B50 else { throw local.error("bad local header signature") }
            try local.skip(22)
            let localNameLength = Int(try local.readUInt16(bigEndian: false))
            let localExtraLength = Int(try local.readUInt16(bigEndian: false))
            try local.skip(localNameLength + localExtraLength)
            let dataStart = local.position
            let compressed = try local.readBytes(Int(compressedSize))
            guard size <= UInt64(Int.max) else { throw local.error("member size \(size) is too large", at: dataStart) }
            entries.append(Entry(name: name, method: method, declaredSize: Int(size), crc: crc, compressed: compressed, reader: local, dataStart: dataStart))
        }
        return entries
    }

    private static func checkedInt(_ value: UInt64, limit: Int, what: String, _ reader: ByteReader) throws -> Int {
        guard value <= UInt64(limit) else { throw reader.error("\(what) \(value) is outside the file") }
        return Int(value)
    }

    /// Writes members (deflated when `compress`) with a fixed 1980-01-01 timestamp so that the same
    /// arrays give the same bytes.
    static func encode(_ members: [Member], compress: Bool) throws -> [UInt8] {
        var output: [UInt8] = []
        var directory: [UInt8] = []
        func u16(_ v: Int, into a: inout [UInt8]) { a += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
        func u32(_ v: UInt32, into a: inout [UInt8]) { a += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)] }
        for member in members {
            let crc = member.data.withUnsafeBytes { Codec.crc32($0) }
            let payload = compress ? try member.data.withUnsafeBytes { try Codec.deflate($0, raw: true) } : member.data
            guard payload.count < 0xFFFF_FFFF, member.data.count < 0xFFFF_FFFF, output.count < 0xFFFF_FFFF else {
                throw TableError("member \(member.name) is too large for a ZIP without ZIP64")
            }
            let name = Array(member.name.utf8)
            let offset = UInt32(output.count)
            func common(into a: inout [UInt8]) {
                u16(20, into: &a); u16(0, into: &a); u16(compress ? 8 : 0, into: &a)
                u16(0, into: &a); u16(0x21, into: &a)  // 00:00, 1980-01-01
                u32(crc, into: &a); u32(UInt32(payload.count), into: &a); u32(UInt32(member.data.count), into: &a)
                u16(name.count, into: &a); u16(0, into: &a)
            }
            u32(0x0403_4B50, into: &output)
            common(into: &output)
            output += name
            output += payload
            u32(0x0201_4B50, into: &directory)
            u16(20, into: &directory)
            common(into: &directory)
            u16(0, into: &directory); u16(0, into: &directory); u16(0, into: &directory)
            u32(0, into: &directory); u32(offset, into: &directory)
            directory += name
        }
        let directoryOffset = UInt32(output.count)
        output += directory
        u32(0x0605_4B50, into: &output)
        u16(0, into: &output); u16(0, into: &output)
        u16(members.count, into: &output); u16(members.count, into: &output)
        u32(UInt32(directory.count), into: &output); u32(directoryOffset, into: &output)
        u16(0, into: &output)
        return output
    }
}

/// .npz archives (`np.savez`, `np.savez_compressed`): a ZIP of `<name>.npy` members.
public enum NPZ {
    /// Arrays in archive order, named without the `.npy` suffix.
    public static func read(path: String) throws -> [(name: String, array: NDArray)] {
        let bytes = try readFileBytes(path)
        return try ZIP.entries(bytes, file: path).map { entry in
            let file = "\(path)[\(entry.name)]"
            // Both checks come before inflating: a member that declares gigabytes its array header
            // does not describe, or more than this machine holds, is refused at no cost.
            guard UInt64(entry.declaredSize) <= ProcessInfo.processInfo.physicalMemory else {
                throw entry.reader.error("member declares \(entry.declaredSize) bytes, more than this machine's memory", at: entry.dataStart)
            }
            let described = try NPY.encodedSize(fromPrefix: entry.prefix(headerPrefixBytes), file: file)
            guard described == entry.declaredSize else {
                throw entry.reader.error("member declares \(entry.declaredSize) bytes but its .npy header describes \(described)", at: entry.dataStart)
            }
            let name = entry.name.hasSuffix(".npy") ? String(entry.name.dropLast(4)) : entry.name
            return (name, try NPY.decode(entry.data(), file: file))
        }
    }

    /// Enough of a member for any .npy header NumPy writes (it refuses headers over 10000 bytes).
    static let headerPrefixBytes = 65536

    public static func write(_ arrays: [(name: String, array: NDArray)], to path: String, compressed: Bool = false) throws {
        let members = arrays.map { ZIP.Member(name: $0.name + ".npy", data: NPY.encode($0.array)) }
        try AtomicFile.write(ZIP.encode(members, compress: compressed), to: path)
    }
}
