import CZlib
import Foundation

/// zlib inflation of streams whose length is not known or not trusted, or of only their first bytes
/// (`Codec.inflate(_:atMost:raw:)`): inflater states are kept in a pool and reset between streams
/// instead of being allocated, initialised and freed for each one. Whole streams of known size go
/// to libdeflate (`Codec.inflate(_:into:raw:)`).
enum ZlibInflaterPool {
    /// A z_stream at a fixed address: zlib's state points back at its stream, so it never moves.
    private final class Inflater {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        let ready: Bool
        let raw: Bool

        init(raw: Bool) {
            self.raw = raw
            stream.initialize(to: z_stream())
            let windowBits: Int32 = raw ? -MAX_WBITS : MAX_WBITS
            ready = inflateInit2_(stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK
        }

        deinit {
            if ready { inflateEnd(stream) }
            stream.deallocate()
        }
    }

    private static let lock = NSLock()
    /// Idle inflaters for zlib streams and for raw deflate streams (ZIP members).
    nonisolated(unsafe) private static var idleWrapped: [Inflater] = []
    nonisolated(unsafe) private static var idleRaw: [Inflater] = []

    /// Runs `body` with an idle inflater of the kind, returned to the pool afterwards.
    private static func withInflater<Result>(raw: Bool, _ body: (UnsafeMutablePointer<z_stream>) throws -> Result) throws -> Result {
        lock.lock()
        let pooled = raw ? idleRaw.popLast() : idleWrapped.popLast()
        lock.unlock()
        let inflater = pooled ?? Inflater(raw: raw)
        guard inflater.ready else { throw CompressionError(codec: "zlib", reason: "inflateInit failed") }
        defer {
            if inflateReset(inflater.stream) == Z_OK {
                lock.lock()
                if inflater.raw { idleRaw.append(inflater) } else { idleWrapped.append(inflater) }
                lock.unlock()
            }
        }
        return try body(inflater.stream)
    }

    /// Inflates at most `limit` bytes, growing the output `chunkBytes` at a time; `ended` says
    /// whether the stream ended (checksum included) within the limit.
    static func inflate(_ input: UnsafeRawBufferPointer, atMost limit: Int, chunkBytes: Int, raw: Bool) throws -> (bytes: [UInt8], ended: Bool) {
        try withInflater(raw: raw) { stream in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(input.count)
            var output: [UInt8] = []
            while true {
                // A one-byte probe past the limit tells a stream that ends there from a longer one.
                let step = output.count < limit ? min(chunkBytes, limit - output.count) : 1
                let start = output.count
                output.append(contentsOf: repeatElement(0, count: step))
                let status: Int32 = output.withUnsafeMutableBytes { buffer in
                    guard let base = buffer.baseAddress else { return Z_BUF_ERROR }
                    stream.pointee.next_out = (base + start).assumingMemoryBound(to: Bytef.self)
                    stream.pointee.avail_out = uInt(step)
                    return CZlib.inflate(stream, Z_NO_FLUSH)
                }
                let produced = step - Int(stream.pointee.avail_out)
                output.removeLast(step - produced)
                if status == Z_STREAM_END { return (output, true) }
                if output.count > limit { return (Array(output.prefix(limit)), false) }
                guard status == Z_OK else {
                    let detail = stream.pointee.msg.map { String(cString: $0) } ?? "status \(status)"
                    throw CompressionError(codec: "zlib", reason: "stream ends early after \(output.count) bytes (\(detail))")
                }
                if produced == 0, stream.pointee.avail_in == 0 {
                    throw CompressionError(codec: "zlib", reason: "stream ends early after \(output.count) bytes")
                }
            }
        }
    }
}
