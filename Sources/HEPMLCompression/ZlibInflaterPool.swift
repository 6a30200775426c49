import CZlib
import Foundation

/// zlib inflation for many small payloads (ROOT keys of a few hundred bytes): inflater states are
/// kept in a pool and reset between payloads instead of being allocated, initialised and freed for
/// each one. `Codec.inflate` is the public entry point.
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

    /// Inflates a complete zlib stream (Adler-32 checked) or raw deflate stream into exactly
    /// `output.count` bytes.
    static func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, raw: Bool) throws {
        lock.lock()
        let pooled = raw ? idleRaw.popLast() : idleWrapped.popLast()
        lock.unlock()
        let inflater = pooled ?? Inflater(raw: raw)
        guard inflater.ready else { throw CompressionError(codec: "zlib", reason: "inflateInit failed") }
        let stream = inflater.stream
        defer {
            if inflateReset(stream) == Z_OK {
                lock.lock()
                if inflater.raw { idleRaw.append(inflater) } else { idleWrapped.append(inflater) }
                lock.unlock()
            }
        }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(output.count)
        let status = CZlib.inflate(stream, Z_FINISH)
        guard status == Z_STREAM_END else {
            let detail = stream.pointee.msg.map { String(cString: $0) } ?? "status \(status)"
            throw CompressionError(codec: "zlib", reason: "stream did not inflate to \(output.count) bytes (\(detail))")
        }
        guard Int(stream.pointee.total_out) == output.count else {
            throw CompressionError(codec: "zlib", reason: "inflated \(stream.pointee.total_out) bytes, expected \(output.count)")
        }
    }
}
