/// A bounds-checked cursor over bytes read from an untrusted file.
///
/// Every read checks the remaining length and throws a `FileFormatError` that names the file,
/// the object being decoded and the absolute byte offset, so a truncated or corrupted file can
/// never trap or read out of bounds. Integers are read big-endian (ROOT) or little-endian
/// (Parquet, NumPy, ZIP) as the caller asks.
public struct ByteReader: Sendable {
    public let bytes: [UInt8]
    /// Index of the next unread byte in `bytes`.
    public private(set) var position: Int
    /// Absolute file offset of `bytes[0]`, so errors report positions in the file.
    public let baseOffset: Int
    public let file: String
    public var object: String

    public init(_ bytes: [UInt8], file: String, object: String = "", baseOffset: Int = 0, position: Int = 0) {
        self.bytes = bytes
        self.file = file
        self.object = object
        self.baseOffset = baseOffset
        self.position = position
    }

    public var remaining: Int { bytes.count - position }
    public var isAtEnd: Bool { position >= bytes.count }
    /// Absolute file offset of the cursor.
    public var fileOffset: Int { baseOffset + position }

    public func error(_ reason: String, at position: Int? = nil) -> FileFormatError {
        FileFormatError(file: file, object: object, offset: baseOffset + (position ?? self.position), reason: reason)
    }

    /// Moves the cursor to `newPosition` (relative to `bytes`), which may equal `bytes.count`.
    public mutating func seek(to newPosition: Int) throws {
        guard newPosition >= 0, newPosition <= bytes.count else {
            throw error("seek to \(newPosition) outside \(bytes.count) bytes")
        }
        position = newPosition
    }

    public mutating func skip(_ count: Int) throws {
        guard count >= 0, count <= remaining else {
            throw error("cannot skip \(count) bytes, only \(remaining) remain")
        }
        position += count
    }

    /// Throws unless `count` more bytes are available; call before sizing an allocation by a file value.
    public func require(_ count: Int, for what: String = "data") throws {
        guard count >= 0, count <= remaining else {
            throw error("\(what) needs \(count) bytes, only \(remaining) remain")
        }
    }

    public mutating func readBytes(_ count: Int) throws -> ArraySlice<UInt8> {
        try require(count)
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    public mutating func readUInt8() throws -> UInt8 {
        try require(1)
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func readInt8() throws -> Int8 { Int8(bitPattern: try readUInt8()) }

    /// Reads an unsigned integer of `width` bytes in the given byte order.
    @inline(__always)
    private mutating func readUnsigned<T: FixedWidthInteger & UnsignedInteger>(_: T.Type, bigEndian: Bool) throws -> T {
        let width = MemoryLayout<T>.size
        try require(width)
        var value: T = 0
        if bigEndian {
            for i in 0..<width { value = (value << 8) | T(bytes[position + i]) }
        } else {
            for i in (0..<width).reversed() { value = (value << 8) | T(bytes[position + i]) }
        }
        position += width
        return value
    }

    public mutating func readUInt16(bigEndian: Bool = true) throws -> UInt16 { try readUnsigned(UInt16.self, bigEndian: bigEndian) }
    public mutating func readUInt32(bigEndian: Bool = true) throws -> UInt32 { try readUnsigned(UInt32.self, bigEndian: bigEndian) }
    public mutating func readUInt64(bigEndian: Bool = true) throws -> UInt64 { try readUnsigned(UInt64.self, bigEndian: bigEndian) }
    public mutating func readInt16(bigEndian: Bool = true) throws -> Int16 { Int16(bitPattern: try readUInt16(bigEndian: bigEndian)) }
    public mutating func readInt32(bigEndian: Bool = true) throws -> Int32 { Int32(bitPattern: try readUInt32(bigEndian: bigEndian)) }
    public mutating func readInt64(bigEndian: Bool = true) throws -> Int64 { Int64(bitPattern: try readUInt64(bigEndian: bigEndian)) }
    public mutating func readFloat32(bigEndian: Bool = true) throws -> Float { Float(bitPattern: try readUInt32(bigEndian: bigEndian)) }
    public mutating func readFloat64(bigEndian: Bool = true) throws -> Double { Double(bitPattern: try readUInt64(bigEndian: bigEndian)) }

    /// Reads a length-checked count: a signed value that must be in `0...limit`.
    public mutating func readCount32(bigEndian: Bool = true, limit: Int, what: String) throws -> Int {
        let start = position
        let value = try readInt32(bigEndian: bigEndian)
        guard value >= 0, Int(value) <= limit else {
            throw error("\(what) \(value) is outside 0...\(limit)", at: start)
        }
        return Int(value)
    }

    /// Reads `count` bytes as UTF-8 (invalid sequences are repaired, never trusted).
    public mutating func readString(count: Int) throws -> String {
        let slice = try readBytes(count)
        return String(decoding: slice, as: UTF8.self)
    }
}
