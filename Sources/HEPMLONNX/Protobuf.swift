import HEPMLCore

/// Protocol-buffers wire format, only as much as ONNX files need.
public enum WireType: UInt8, Sendable {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case fixed32 = 5
}

/// Appends protobuf fields to a byte buffer. Fields are written in the order called; nested
/// messages are encoded first and embedded as length-delimited bytes.
public struct ProtobufWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    mutating func varint(_ value: UInt64) {
        var remaining = value
        while remaining >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        bytes.append(UInt8(remaining))
    }

    mutating func key(_ field: Int, _ wireType: WireType) {
        varint(UInt64(field) << 3 | UInt64(wireType.rawValue))
    }

    /// int32/int64/enum fields: negative values take ten bytes (two's complement), per the spec.
    public mutating func int(_ field: Int, _ value: Int64) {
        key(field, .varint)
        varint(UInt64(bitPattern: value))
    }

    public mutating func float(_ field: Int, _ value: Float) {
        key(field, .fixed32)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func bytes(_ field: Int, _ value: [UInt8]) {
        key(field, .lengthDelimited)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    public mutating func string(_ field: Int, _ value: String) {
        bytes(field, Array(value.utf8))
    }

    public mutating func message(_ field: Int, _ value: ProtobufWriter) {
        bytes(field, value.bytes)
    }

    public mutating func packedInts(_ field: Int, _ values: [Int64]) {
        var packed = ProtobufWriter()
        for value in values { packed.varint(UInt64(bitPattern: value)) }
        bytes(field, packed.bytes)
    }

    public mutating func packedFloats(_ field: Int, _ values: [Float]) {
        var packed = [UInt8]()
        packed.reserveCapacity(values.count * 4)
        for value in values {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { packed.append(contentsOf: $0) }
        }
        bytes(field, packed)
    }
}

/// One field read from a protobuf message.
public struct ProtobufField: Sendable {
    public enum Value: Sendable {
        case varint(UInt64)
        case fixed64(UInt64)
        case fixed32(UInt32)
        case bytes([UInt8])
    }

    public var number: Int
    public var value: Value
    /// Absolute byte offset of the field's key, for error messages.
    public var offset: Int
    /// Absolute byte offset of a length-delimited field's payload.
    public var payloadOffset: Int
}

/// Splits a protobuf message into its fields, with every length and offset bounds-checked.
public struct ProtobufReader {
    private var reader: ByteReader
    private let file: String
    private let object: String

    /// `baseOffset` is the absolute offset of `bytes` in the file, so errors point into the file.
    public init(_ bytes: [UInt8], file: String, object: String, baseOffset: Int = 0) {
        reader = ByteReader(bytes, file: file, object: object, baseOffset: baseOffset)
        self.file = file
        self.object = object
    }

    public var isAtEnd: Bool { reader.remaining == 0 }

    mutating func readVarint() throws -> UInt64 {
        var result: UInt64 = 0
        for shift in stride(from: 0, to: 70, by: 7) {
            let byte = try reader.readUInt8()
            if shift == 63, byte > 1 { throw reader.error("varint overflows 64 bits") }
            result |= UInt64(byte & 0x7f) << UInt64(shift)
            if byte & 0x80 == 0 { return result }
        }
        throw reader.error("varint longer than 10 bytes")
    }

    /// The next field, or nil at the end of the message.
    public mutating func nextField() throws -> ProtobufField? {
        guard !isAtEnd else { return nil }
        let offset = reader.fileOffset
        let key = try readVarint()
        let number = Int(truncatingIfNeeded: key >> 3)
        guard number > 0, number < (1 << 29) else { throw reader.error("invalid field number \(key >> 3)") }
        switch key & 7 {
        case 0:
            return ProtobufField(number: number, value: .varint(try readVarint()), offset: offset, payloadOffset: reader.fileOffset)
        case 1:
            return ProtobufField(number: number, value: .fixed64(try reader.readUInt64(bigEndian: false)), offset: offset, payloadOffset: reader.fileOffset)
        case 2:
            let length = try readVarint()
            guard length <= UInt64(reader.remaining) else {
                throw reader.error("field \(number) length \(length) exceeds the \(reader.remaining) bytes left")
            }
            let payloadOffset = reader.fileOffset
            return ProtobufField(number: number, value: .bytes(Array(try reader.readBytes(Int(length)))), offset: offset, payloadOffset: payloadOffset)
        case 5:
            return ProtobufField(number: number, value: .fixed32(try reader.readUInt32(bigEndian: false)), offset: offset, payloadOffset: reader.fileOffset)
        default:
            throw reader.error("unsupported wire type \(key & 7) for field \(number)")
        }
    }

    /// A reader over a nested message (a length-delimited field), keeping absolute offsets.
    public func nested(_ bytes: [UInt8], of field: ProtobufField, object: String) -> ProtobufReader {
        ProtobufReader(bytes, file: file, object: object, baseOffset: field.payloadOffset)
    }

    public func error(_ reason: String, at offset: Int) -> FileFormatError {
        FileFormatError(file: file, object: object, offset: offset, reason: reason)
    }
}
