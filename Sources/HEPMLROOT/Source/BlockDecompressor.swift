import Foundation
import HEPMLCompression
import HEPMLCore

/// ROOT's compression framing: a payload is a sequence of blocks, each with a 9-byte header
/// (2-byte algorithm magic, method byte, little-endian 24-bit compressed and uncompressed sizes).
enum BlockDecompressor {
    /// The largest block ROOT writes; bigger payloads are split into several blocks.
    static let maximumBlockSize = 0xFF_FFFF

    /// Decompresses `input` (a key's payload) into exactly `uncompressedSize` bytes, block by block
    /// into one preallocated buffer (zlib blocks inflate in place with pooled inflaters).
    /// `fileOffset` is the absolute offset of `input[0]`, for error messages.
    static func decompress(_ input: ArraySlice<UInt8>, uncompressedSize: Int, file: String, object: String, fileOffset: Int) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: uncompressedSize) { output, initialized in
            try decompress(input, into: UnsafeMutableRawBufferPointer(output), file: file, object: object, fileOffset: fileOffset)
            initialized = uncompressedSize
        }
    }

    /// The first `count` bytes of the payload `input` decompresses to (`uncompressedSize` bytes in
    /// all): when they lie in a first zlib block, only they are inflated (no checksum is checked,
    /// since the stream is not read to its end); otherwise the whole payload is decompressed.
    static func decompressPrefix(_ input: ArraySlice<UInt8>, count: Int, uncompressedSize: Int, file: String, object: String,
                                 fileOffset: Int) throws -> [UInt8] {
        if count < uncompressedSize, input.count >= 9, input[input.startIndex] == 0x5A, input[input.startIndex + 1] == 0x4C {  // "ZL"
            let start = input.startIndex
            let compressed = Int(input[start + 3]) | Int(input[start + 4]) << 8 | Int(input[start + 5]) << 16
            let uncompressed = Int(input[start + 6]) | Int(input[start + 7]) << 8 | Int(input[start + 8]) << 16
            if count <= uncompressed, compressed <= input.count - 9 {
                let block = input[(start + 9)..<(start + 9 + compressed)]
                let (bytes, _) = try block.withUnsafeBytes { raw in
                    do {
                        return try Codec.inflate(raw, atMost: count)
                    } catch let error as CompressionError {
                        throw FileFormatError(file: file, object: object, offset: fileOffset, reason: "\(error)")
                    }
                }
                guard bytes.count == count else {
                    throw FileFormatError(file: file, object: object, offset: fileOffset,
                                          reason: "block decoded to \(bytes.count) bytes, \(uncompressed) expected")
                }
                return bytes
            }
        }
        let whole = try decompress(input, uncompressedSize: uncompressedSize, file: file, object: object, fileOffset: fileOffset)
        return Array(whole.prefix(count))
    }

    /// Decompresses `input` into exactly `output.count` bytes of memory the caller owns.
    static func decompress(_ input: ArraySlice<UInt8>, into output: UnsafeMutableRawBufferPointer, file: String, object: String,
                           fileOffset: Int) throws {
        let uncompressedSize = output.count
        var position = input.startIndex
        var written = 0
        while written < uncompressedSize {
            let blockOffset = fileOffset + (position - input.startIndex)
            func fail(_ reason: String) -> FileFormatError {
                FileFormatError(file: file, object: object, offset: blockOffset, reason: reason)
            }
            guard input.endIndex - position >= 9 else { throw fail("truncated compression block header") }
            let magic0 = input[position], magic1 = input[position + 1]
            let compressed = Int(input[position + 3]) | Int(input[position + 4]) << 8 | Int(input[position + 5]) << 16
            let uncompressed = Int(input[position + 6]) | Int(input[position + 7]) << 8 | Int(input[position + 8]) << 16
            position += 9
            guard compressed <= input.endIndex - position else {
                throw fail("compressed block of \(compressed) bytes extends past the payload")
            }
            guard uncompressed <= uncompressedSize - written else {
                throw fail("block decompresses to \(uncompressed) bytes, more than the \(uncompressedSize - written) left")
            }
            if uncompressed == 0 { throw fail("empty compression block") }
            let target = UnsafeMutableRawBufferPointer(rebasing: output[written..<(written + uncompressed)])
            do {
                try input[position..<(position + compressed)].withUnsafeBytes { raw in
                    func copy(_ decoded: [UInt8]) throws {
                        guard decoded.count == target.count else { throw fail("block decoded to \(decoded.count) bytes, \(target.count) expected") }
                        decoded.withUnsafeBytes { target.copyMemory(from: $0) }
                    }
                    switch (magic0, magic1) {
                    case (0x5A, 0x4C): // "ZL"
                        try Codec.inflate(raw, into: target)
                    case (0x58, 0x5A): // "XZ"
                        try copy(try Codec.xzDecompress(raw, decompressedSize: uncompressed))
                    case (0x5A, 0x53): // "ZS"
                        try copy(try Codec.zstdDecompress(raw, decompressedSize: uncompressed))
                    case (0x4C, 0x34): // "L4": big-endian XXH64 of the LZ4 block, then the block
                        guard raw.count >= 8 else { throw fail("LZ4 block shorter than its checksum") }
                        var stored: UInt64 = 0
                        for i in 0..<8 { stored = stored << 8 | UInt64(raw[i]) }
                        let body = UnsafeRawBufferPointer(rebasing: raw[8...])
                        guard Codec.xxh64(body) == stored else { throw fail("LZ4 block checksum mismatch") }
                        try copy(try Codec.lz4Decompress(body, decompressedSize: uncompressed))
                    case (0x43, 0x53): // "CS"
                        throw fail("the pre-zlib ROOT compression algorithm (CS) is not supported")
                    default:
                        throw fail(String(format: "unknown compression algorithm magic %02x %02x", magic0, magic1))
                    }
                }
            } catch let error as CompressionError {
                throw fail("\(error)")
            }
            position += compressed
            written += uncompressed
        }
    }
}
