import CDeflate
import CLZ4
import CLZMA
import CSnappy
import CZlib
import CZstd

/// A codec failure; callers that know the file and object wrap it into a `FileFormatError`.
public struct CompressionError: Error, CustomStringConvertible, Sendable {
    public var codec: String
    public var reason: String
    public var description: String { "\(codec): \(reason)" }
}

/// Thin, bounds-checked wrappers over the Debian compression libraries.
///
/// Every decompressor is told the exact decompressed size that the container format recorded
/// and fails unless the stream produces exactly that many bytes, so a corrupted size field can
/// neither overflow a buffer nor make the caller allocate unbounded memory.
public enum Codec {
    // MARK: zlib / deflate

    /// Inflates a zlib stream (`raw: false`) or a raw deflate stream (`raw: true`, as in ZIP).
    /// Sizes above `growthChunkBytes` are inflated a chunk at a time (`inflate(_:atMost:raw:)`), so a
    /// recorded size that overstates the stream allocates about what the stream really holds.
    public static func inflate(_ input: UnsafeRawBufferPointer, decompressedSize: Int, raw: Bool = false) throws -> [UInt8] {
        guard decompressedSize >= 0 else { throw CompressionError(codec: "zlib", reason: "negative size") }
        guard decompressedSize <= growthChunkBytes else {
            let (bytes, ended) = try inflate(input, atMost: decompressedSize, raw: raw)
            guard ended, bytes.count == decompressedSize else {
                throw CompressionError(codec: "zlib", reason: ended ? "inflated \(bytes.count) bytes, expected \(decompressedSize)" : "stream holds more than the expected \(decompressedSize) bytes")
            }
            return bytes
        }
        var output = [UInt8](repeating: 0, count: decompressedSize)
        try output.withUnsafeMutableBytes { try inflate(input, into: $0, raw: raw) }
        return output
    }

    /// The most output one step of a chunked inflation allocates ahead of the data.
    public static let growthChunkBytes = 64 << 20

    /// Inflates at most `limit` bytes: the first bytes of a stream (a header to check before the
    /// rest is inflated), or a whole stream whose recorded size is not trusted. The output grows
    /// by at most `growthChunkBytes` at a time as the stream produces bytes. `ended` is false when
    /// the stream holds more than `limit` bytes.
    public static func inflate(_ input: UnsafeRawBufferPointer, atMost limit: Int, raw: Bool = false) throws -> (bytes: [UInt8], ended: Bool) {
        try ZlibInflaterPool.inflate(input, atMost: max(0, limit), chunkBytes: growthChunkBytes, raw: raw)
    }

    /// Inflates a complete zlib stream (Adler-32 checked) or raw deflate stream into a buffer the
    /// caller owns, which the stream must fill exactly. libdeflate decodes whole buffers about
    /// twice as fast as zlib, which matters for the thousands of small histogram payloads of a
    /// DQM fetch and for tree baskets.
    public static func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, raw: Bool = false) throws {
        guard let decompressor = libdeflate_alloc_decompressor() else {
            throw CompressionError(codec: "zlib", reason: "libdeflate_alloc_decompressor failed")
        }
        defer { libdeflate_free_decompressor(decompressor) }
        let result = raw
            ? libdeflate_deflate_decompress(decompressor, input.baseAddress, input.count, output.baseAddress, output.count, nil)
            : libdeflate_zlib_decompress(decompressor, input.baseAddress, input.count, output.baseAddress, output.count, nil)
        switch result {
        case LIBDEFLATE_SUCCESS: return
        case LIBDEFLATE_SHORT_OUTPUT: throw CompressionError(codec: "zlib", reason: "stream inflates to fewer than the expected \(output.count) bytes")
        case LIBDEFLATE_INSUFFICIENT_SPACE: throw CompressionError(codec: "zlib", reason: "stream holds more than the expected \(output.count) bytes")
        default: throw CompressionError(codec: "zlib", reason: "invalid \(raw ? "deflate" : "zlib") data (checksum or structure)")
        }
    }

    /// Deflates into a zlib stream (`raw: false`) or raw deflate (`raw: true`) with libdeflate,
    /// which compresses a whole buffer at once 2–3× faster than zlib at the same level and ratio
    /// (writing ROOT baskets spent most of `compress decompress` in zlib). Levels 0–9 mean what
    /// zlib's do; libdeflate also takes 10–12.
    public static func deflate(_ input: UnsafeRawBufferPointer, level: Int32 = 6, raw: Bool = false) throws -> [UInt8] {
        guard let compressor = libdeflate_alloc_compressor(level) else {
            throw CompressionError(codec: "zlib", reason: "libdeflate_alloc_compressor(\(level)) failed (levels 0–12)")
        }
        defer { libdeflate_free_compressor(compressor) }
        let bound = raw ? libdeflate_deflate_compress_bound(compressor, input.count) : libdeflate_zlib_compress_bound(compressor, input.count)
        var output = [UInt8](repeating: 0, count: bound)
        let written = output.withUnsafeMutableBytes { out in
            raw ? libdeflate_deflate_compress(compressor, input.baseAddress, input.count, out.baseAddress, out.count)
                : libdeflate_zlib_compress(compressor, input.baseAddress, input.count, out.baseAddress, out.count)
        }
        // The bound always suffices; zero means libdeflate refused the buffer.
        guard written > 0 else { throw CompressionError(codec: "zlib", reason: "libdeflate could not deflate \(input.count) bytes") }
        output.removeSubrange(written...)
        return output
    }

    public static func crc32(_ input: UnsafeRawBufferPointer, initial: UInt32 = 0) -> UInt32 {
        UInt32(CZlib.crc32(uLong(initial), input.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(input.count)))
    }

    // MARK: zstd

    public static func zstdDecompress(_ input: UnsafeRawBufferPointer, decompressedSize: Int) throws -> [UInt8] {
        guard decompressedSize >= 0 else { throw CompressionError(codec: "zstd", reason: "negative size") }
        // The size comes from the file: refuse what the frames cannot hold before allocating it.
        let bound = ZSTD_decompressBound(input.baseAddress, input.count)
        guard bound != UInt64.max - 1 /* ZSTD_CONTENTSIZE_ERROR */, UInt64(decompressedSize) <= bound else {
            throw CompressionError(codec: "zstd", reason: bound == UInt64.max - 1 ? "not a zstd frame" : "frames hold at most \(bound) bytes, expected \(decompressedSize)")
        }
        var output = [UInt8](repeating: 0, count: decompressedSize)
        let written = output.withUnsafeMutableBytes { out in
            ZSTD_decompress(out.baseAddress, out.count, input.baseAddress, input.count)
        }
        if ZSTD_isError(written) != 0 {
            throw CompressionError(codec: "zstd", reason: String(cString: ZSTD_getErrorName(written)))
        }
        guard written == decompressedSize else {
            throw CompressionError(codec: "zstd", reason: "decompressed \(written) bytes, expected \(decompressedSize)")
        }
        return output
    }

    public static func zstdCompress(_ input: UnsafeRawBufferPointer, level: Int32 = 3) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
        let written = output.withUnsafeMutableBytes { out in
            ZSTD_compress(out.baseAddress, out.count, input.baseAddress, input.count, level)
        }
        if ZSTD_isError(written) != 0 {
            throw CompressionError(codec: "zstd", reason: String(cString: ZSTD_getErrorName(written)))
        }
        output.removeSubrange(written...)
        return output
    }

    // MARK: LZ4 (raw blocks, as ROOT stores them) and XXH64

    public static func lz4Decompress(_ input: UnsafeRawBufferPointer, decompressedSize: Int) throws -> [UInt8] {
        guard decompressedSize >= 0, decompressedSize <= Int(Int32.max), input.count <= Int(Int32.max) else {
            throw CompressionError(codec: "lz4", reason: "size out of range")
        }
        // The size comes from the file: an LZ4 block expands at most 255-fold (a match length
        // grows by 255 per byte), so refuse larger claims before allocating them.
        guard decompressedSize <= input.count * 255 + 255 else {
            throw CompressionError(codec: "lz4", reason: "a block of \(input.count) bytes cannot hold \(decompressedSize) bytes")
        }
        var output = [UInt8](repeating: 0, count: decompressedSize)
        let written = output.withUnsafeMutableBytes { out in
            LZ4_decompress_safe(input.baseAddress?.assumingMemoryBound(to: CChar.self), out.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(input.count), Int32(out.count))
        }
        guard written == decompressedSize else {
            throw CompressionError(codec: "lz4", reason: written < 0 ? "corrupt block" : "decompressed \(written) bytes, expected \(decompressedSize)")
        }
        return output
    }

    public static func lz4Compress(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        guard input.count <= Int(LZ4_MAX_INPUT_SIZE) else { throw CompressionError(codec: "lz4", reason: "input too large") }
        var output = [UInt8](repeating: 0, count: Int(LZ4_compressBound(Int32(input.count))))
        let written = output.withUnsafeMutableBytes { out in
            LZ4_compress_default(input.baseAddress?.assumingMemoryBound(to: CChar.self), out.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(input.count), Int32(out.count))
        }
        guard written > 0 else { throw CompressionError(codec: "lz4", reason: "compression failed") }
        output.removeSubrange(Int(written)...)
        return output
    }

    public static func xxh64(_ input: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        XXH64(input.baseAddress, input.count, seed)
    }

    // MARK: LZMA (xz container)

    public static func xzDecompress(_ input: UnsafeRawBufferPointer, decompressedSize: Int) throws -> [UInt8] {
        guard decompressedSize >= 0 else { throw CompressionError(codec: "lzma", reason: "negative size") }
        var output = [UInt8](repeating: 0, count: decompressedSize)
        var memoryLimit: UInt64 = 1 << 30
        var inPosition = 0
        var outPosition = 0
        let status = output.withUnsafeMutableBytes { out in
            lzma_stream_buffer_decode(&memoryLimit, 0, nil,
                                      input.baseAddress?.assumingMemoryBound(to: UInt8.self), &inPosition, input.count,
                                      out.baseAddress?.assumingMemoryBound(to: UInt8.self), &outPosition, out.count)
        }
        guard status == LZMA_OK else { throw CompressionError(codec: "lzma", reason: "decode failed with status \(status.rawValue)") }
        guard outPosition == decompressedSize else {
            throw CompressionError(codec: "lzma", reason: "decompressed \(outPosition) bytes, expected \(decompressedSize)")
        }
        return output
    }

    public static func xzCompress(_ input: UnsafeRawBufferPointer, preset: UInt32 = 6) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: lzma_stream_buffer_bound(input.count))
        var outPosition = 0
        let status = output.withUnsafeMutableBytes { out in
            lzma_easy_buffer_encode(preset, LZMA_CHECK_CRC64, nil, input.baseAddress?.assumingMemoryBound(to: UInt8.self), input.count,
                                    out.baseAddress?.assumingMemoryBound(to: UInt8.self), &outPosition, out.count)
        }
        guard status == LZMA_OK else { throw CompressionError(codec: "lzma", reason: "encode failed with status \(status.rawValue)") }
        output.removeSubrange(outPosition...)
        return output
    }

    // MARK: Snappy

    public static func snappyDecompress(_ input: UnsafeRawBufferPointer, decompressedSize: Int) throws -> [UInt8] {
        var length = 0
        guard snappy_uncompressed_length(input.baseAddress?.assumingMemoryBound(to: CChar.self), input.count, &length) == SNAPPY_OK,
              length == decompressedSize else {
            throw CompressionError(codec: "snappy", reason: "stream length does not match \(decompressedSize) bytes")
        }
        var output = [UInt8](repeating: 0, count: decompressedSize)
        var outLength = decompressedSize
        let status = output.withUnsafeMutableBytes { out in
            snappy_uncompress(input.baseAddress?.assumingMemoryBound(to: CChar.self), input.count, out.baseAddress?.assumingMemoryBound(to: CChar.self), &outLength)
        }
        guard status == SNAPPY_OK, outLength == decompressedSize else { throw CompressionError(codec: "snappy", reason: "corrupt stream") }
        return output
    }

    public static func snappyCompress(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        var length = snappy_max_compressed_length(input.count)
        var output = [UInt8](repeating: 0, count: length)
        let status = output.withUnsafeMutableBytes { out in
            snappy_compress(input.baseAddress?.assumingMemoryBound(to: CChar.self), input.count, out.baseAddress?.assumingMemoryBound(to: CChar.self), &length)
        }
        guard status == SNAPPY_OK else { throw CompressionError(codec: "snappy", reason: "compression failed") }
        output.removeSubrange(length...)
        return output
    }
}
