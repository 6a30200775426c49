import Foundation
import HEPMLCompression
import HEPMLCore

/// The subset of ZIP that .npz files use: stored or deflated members, optional ZIP64 size fields
/// (NumPy always writes them), no encryption, no multi-disk archives.
///
/// Members are read from a `ByteSource` and written to a file handle piece by piece, so that a
/// stored member of gigabytes goes between the file and the caller's own buffer without a copy
/// of the member or of the archive in memory.
enum ZIP {
    /// A member to write: `prefix` (small, such as a .npy header) followed by the bytes `body`
    /// lends for the duration of the write.
    struct OutgoingMember {
        var name: String
        var prefix: [UInt8]
        var body: (_ use: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    }

    /// A member as the central directory describes it, not yet read: readers check the declared
    /// size (and the start of the data) before paying for the whole member.
    struct Entry {
        var name: String
        var method: UInt16
        var declaredSize: Int
        var compressedSize: Int
        var crc: UInt32
        var dataStart: Int
        var file: String

        var object: String { "zip member \(name)" }

        func error(_ reason: String) -> FileFormatError {
            FileFormatError(file: file, object: object, offset: dataStart, reason: reason)
        }

        /// The member's bytes as stored (deflated or not).
        func storedBytes(in source: any ByteSource) throws -> [UInt8] {
            try source.read(at: dataStart, count: compressedSize, object: object)
        }

        /// Inflates the first `count` bytes (all when the member is shorter) of deflated `stored` bytes.
        func inflatedPrefix(_ stored: [UInt8], _ count: Int) throws -> [UInt8] {
            do {
                return try stored.withUnsafeBytes { try Codec.inflate($0, atMost: min(count, declaredSize), raw: true).bytes }
            } catch let error as CompressionError {
                throw self.error("cannot inflate: \(error)")
            }
        }

        /// Inflates the whole member from deflated `stored` bytes, size and CRC-32 checked.
        func inflated(_ stored: [UInt8]) throws -> [UInt8] {
            let data: [UInt8]
            do {
                data = try stored.withUnsafeBytes { try Codec.inflate($0, decompressedSize: declaredSize, raw: true) }
            } catch let error as CompressionError {
                throw self.error("cannot inflate: \(error)")
            }
            guard data.withUnsafeBytes({ ZIP.crc32($0) }) == crc else { throw error("CRC-32 mismatch") }
            return data
        }
    }

    /// CRC-32 of any size (zlib takes at most 4 GiB a call).
    static func crc32(_ bytes: UnsafeRawBufferPointer, initial: UInt32 = 0) -> UInt32 {
        var crc = initial
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + (1 << 30))
            crc = Codec.crc32(UnsafeRawBufferPointer(rebasing: bytes[start..<end]), initial: crc)
            start = end
        }
        return crc
    }

    static func entries(in source: any ByteSource) throws -> [Entry] {
        let file = source.path
        // The end record sits in the last 22 bytes plus a comment of at most 65535 bytes.
        let tailStart = max(0, source.size - 22 - 65535)
        let tail = try source.read(at: tailStart, count: source.size - tailStart, object: "zip end of central directory")
        var reader = ByteReader(tail, file: file, object: "zip end of central directory", baseOffset: tailStart)
        var endRecord: Int?
        var position = tail.count - 22
        while position >= 0 {
            if tail[position] == 0x50, tail[position + 1] == 0x4B, tail[position + 2] == 0x05, tail[position + 3] == 0x06 {
                endRecord = position
                break
            }
            position -= 1
        }
        guard let endRecord else { throw reader.error("no ZIP end of central directory record (truncated or not a .npz file)", at: tail.count) }
        try reader.seek(to: endRecord + 10)
        var entryCount = Int(try reader.readUInt16(bigEndian: false))
        _ = try reader.readUInt32(bigEndian: false)
        var directoryOffset = Int(try reader.readUInt32(bigEndian: false))
        // The central directory ends where the (ZIP64) end records begin.
        var directoryEnd = tailStart + endRecord
        if (entryCount == 0xFFFF || directoryOffset == 0xFFFF_FFFF), directoryEnd >= 20 {
            // ZIP64: the locator just before the end record points to the ZIP64 end record.
            var locator = ByteReader(try source.read(at: directoryEnd - 20, count: 20, object: "zip64 end of central directory locator"),
                                     file: file, object: "zip64 end of central directory locator", baseOffset: directoryEnd - 20)
            if try locator.readUInt32(bigEndian: false) == 0x0706_4B50 {
                _ = try locator.readUInt32(bigEndian: false)
                let zip64End = try checkedInt(locator.readUInt64(bigEndian: false), limit: source.size, what: "ZIP64 end record offset", locator)
                let object = "zip64 end of central directory"
                var record = ByteReader(try source.read(at: zip64End, count: 56, object: object), file: file, object: object, baseOffset: zip64End)
                guard try record.readUInt32(bigEndian: false) == 0x0606_4B50 else { throw record.error("bad ZIP64 end record signature") }
                try record.skip(28)
                entryCount = try checkedInt(record.readUInt64(bigEndian: false), limit: source.size, what: "entry count", record)
                try record.skip(8)
                directoryOffset = try checkedInt(record.readUInt64(bigEndian: false), limit: source.size, what: "directory offset", record)
                directoryEnd = zip64End
            }
        }
        guard directoryOffset <= directoryEnd else { throw reader.error("central directory offset \(directoryOffset) is past its end record") }
        reader = ByteReader(try source.read(at: directoryOffset, count: directoryEnd - directoryOffset, object: "zip central directory"),
                            file: file, object: "zip central directory", baseOffset: directoryOffset)
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
            guard size <= compressedSize * 1032 + 64, compressedSize <= UInt64(source.size), localOffset < UInt64(source.size) else {
                throw reader.error("member \(name) has sizes or offset outside the file", at: entryStart)
            }
            let object = "zip member \(name)"
            var local = ByteReader(try source.read(at: Int(localOffset), count: min(30, source.size - Int(localOffset)), object: object),
                                   file: file, object: object, baseOffset: Int(localOffset))
            guard try local.readUInt32(bigEndian: false) == 0x0403_4B50 else { throw local.error("bad local header signature") }
            try local.skip(22)
            let localNameLength = Int(try local.readUInt16(bigEndian: false))
            let localExtraLength = Int(try local.readUInt16(bigEndian: false))
            let dataStart = Int(localOffset) + 30 + localNameLength + localExtraLength
            try source.checkRange(at: dataStart, count: Int(compressedSize), object: object)
            guard size <= UInt64(Int.max) else { throw local.error("member size \(size) is too large", at: 0) }
            guard method == 0 || method == 8 else {
                throw local.error("compression method \(method) is not supported (stored and deflate only)", at: 0)
            }
            guard method != 0 || compressedSize == size else { throw local.error("stored member sizes differ", at: 0) }
            entries.append(Entry(name: name, method: method, declaredSize: Int(size), compressedSize: Int(compressedSize), crc: crc,
                                 dataStart: dataStart, file: file))
        }
        return entries
    }

    private static func checkedInt(_ value: UInt64, limit: Int, what: String, _ reader: ByteReader) throws -> Int {
        guard value <= UInt64(limit) else { throw reader.error("\(what) \(value) is outside the file") }
        return Int(value)
    }

    /// Writes members (deflated when `compress`) with a fixed 1980-01-01 timestamp so that the same
    /// arrays give the same bytes. A stored member's body goes to the file as it lies in memory,
    /// in pieces of at most `pieceBytes`; a deflated one is deflated from one joined copy.
    static func write(_ members: [OutgoingMember], compress: Bool, to handle: FileHandle) throws {
        var written = 0
        var directory: [UInt8] = []
        func u16(_ v: Int, into a: inout [UInt8]) { a += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
        func u32(_ v: UInt32, into a: inout [UInt8]) { a += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)] }
        func emit(_ bytes: UnsafeRawBufferPointer) throws {
            var start = 0
            while start < bytes.count, let base = bytes.baseAddress {
                let count = min(pieceBytes, bytes.count - start)
                try handle.write(contentsOf: Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base + start), count: count, deallocator: .none))
                start += count
            }
            written += bytes.count
        }
        for member in members {
            var crc: UInt32 = 0
            var size = 0
            var deflated: [UInt8]?
            if compress {
                var joined = member.prefix
                try member.body { joined.append(contentsOf: $0) }
                crc = joined.withUnsafeBytes { ZIP.crc32($0) }
                size = joined.count
                deflated = try joined.withUnsafeBytes { try Codec.deflate($0, raw: true) }
            } else {
                try member.body { body in
                    crc = ZIP.crc32(body, initial: member.prefix.withUnsafeBytes { ZIP.crc32($0) })
                    size = member.prefix.count + body.count
                }
            }
            let payloadSize = deflated?.count ?? size
            guard payloadSize < 0xFFFF_FFFF, size < 0xFFFF_FFFF, written < 0xFFFF_FFFF else {
                throw TableError("member \(member.name) is too large for a ZIP without ZIP64")
            }
            let name = Array(member.name.utf8)
            let offset = UInt32(written)
            func common(into a: inout [UInt8]) {
                u16(20, into: &a); u16(0, into: &a); u16(compress ? 8 : 0, into: &a)
                u16(0, into: &a); u16(0x21, into: &a)  // 00:00, 1980-01-01
                u32(crc, into: &a); u32(UInt32(payloadSize), into: &a); u32(UInt32(size), into: &a)
                u16(name.count, into: &a); u16(0, into: &a)
            }
            var local: [UInt8] = []
            u32(0x0403_4B50, into: &local)
            common(into: &local)
            local += name
            if let deflated {
                local += deflated
                try local.withUnsafeBytes(emit)
            } else {
                local += member.prefix
                try local.withUnsafeBytes(emit)
                try member.body(emit)
            }
            u32(0x0201_4B50, into: &directory)
            u16(20, into: &directory)
            common(into: &directory)
            u16(0, into: &directory); u16(0, into: &directory); u16(0, into: &directory)
            u32(0, into: &directory); u32(offset, into: &directory)
            directory += name
        }
        guard written < 0xFFFF_FFFF, members.count < 0xFFFF else { throw TableError("archive is too large for a ZIP without ZIP64") }
        let directoryOffset = UInt32(written)
        var end = directory
        u32(0x0605_4B50, into: &end)
        u16(0, into: &end); u16(0, into: &end)
        u16(members.count, into: &end); u16(members.count, into: &end)
        u32(UInt32(directory.count), into: &end); u32(directoryOffset, into: &end)
        u16(0, into: &end)
        try end.withUnsafeBytes(emit)
    }

    /// The most one `write` call passes to the kernel.
    static let pieceBytes = 16 << 20
}
