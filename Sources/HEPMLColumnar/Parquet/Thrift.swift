import HEPMLCore

/// Thrift compact protocol type codes (field headers and list element types).
enum ThriftType: UInt8 {
    case stop = 0, boolTrue = 1, boolFalse = 2, byte = 3, i16 = 4, i32 = 5, i64 = 6, double = 7
    case binary = 8, list = 9, set = 10, map = 11, structure = 12
}

/// Writes Thrift compact protocol: zigzag varints, field-id deltas, short list headers.
struct ThriftWriter {
    var bytes: [UInt8] = []
    private var lastFieldIDs: [Int16] = [0]

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func zigzag(_ value: Int64) { varint(UInt64(bitPattern: (value << 1) ^ (value >> 63))) }

    private mutating func fieldHeader(_ id: Int16, _ type: ThriftType) {
        let last = lastFieldIDs[lastFieldIDs.count - 1]
        let delta = Int(id) - Int(last)
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            zigzag(Int64(id))
        }
        lastFieldIDs[lastFieldIDs.count - 1] = id
    }

    mutating func field(_ id: Int16, i32 value: Int32) { fieldHeader(id, .i32); zigzag(Int64(value)) }
    mutating func field(_ id: Int16, i64 value: Int64) { fieldHeader(id, .i64); zigzag(value) }
    mutating func field(_ id: Int16, bool value: Bool) { fieldHeader(id, value ? .boolTrue : .boolFalse) }
    mutating func field(_ id: Int16, binary value: [UInt8]) { fieldHeader(id, .binary); varint(UInt64(value.count)); bytes += value }
    mutating func field(_ id: Int16, string value: String) { field(id, binary: Array(value.utf8)) }

    mutating func field(_ id: Int16, structure body: (inout ThriftWriter) -> Void) {
        fieldHeader(id, .structure)
        beginStruct()
        body(&self)
        endStruct()
    }

    mutating func field(_ id: Int16, i32List values: [Int32]) {
        fieldHeader(id, .list)
        listHeader(values.count, .i32)
        for value in values { zigzag(Int64(value)) }
    }

    mutating func field(_ id: Int16, stringList values: [String]) {
        fieldHeader(id, .list)
        listHeader(values.count, .binary)
        for value in values { varint(UInt64(value.utf8.count)); bytes += Array(value.utf8) }
    }

    mutating func field<T>(_ id: Int16, structList items: [T], _ body: (inout ThriftWriter, T) -> Void) {
        fieldHeader(id, .list)
        listHeader(items.count, .structure)
        for item in items {
            beginStruct()
            body(&self, item)
            endStruct()
        }
    }

    private mutating func listHeader(_ count: Int, _ type: ThriftType) {
        if count < 15 {
            bytes.append(UInt8(count) << 4 | type.rawValue)
        } else {
            bytes.append(0xF0 | type.rawValue)
            varint(UInt64(count))
        }
    }

    mutating func beginStruct() { lastFieldIDs.append(0) }
    mutating func endStruct() {
        bytes.append(ThriftType.stop.rawValue)
        lastFieldIDs.removeLast()
    }
}

/// Reads Thrift compact protocol from untrusted bytes: every length is checked against the
/// remaining input and nesting is bounded, so a corrupt footer or page header throws.
struct ThriftReader {
    var reader: ByteReader
    private var depth = 0

    init(_ reader: ByteReader) { self.reader = reader }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let start = reader.position
            let byte = try reader.readUInt8()
            guard shift < 64 else { throw reader.error("varint longer than 10 bytes", at: start) }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func zigzag() throws -> Int64 {
        let raw = try varint()
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }

    mutating func i32() throws -> Int32 {
        let start = reader.position
        let value = try zigzag()
        guard let narrow = Int32(exactly: value) else { throw reader.error("i32 value \(value) out of range", at: start) }
        return narrow
    }

    mutating func binary() throws -> [UInt8] {
        let start = reader.position
        let length = try varint()
        guard length <= UInt64(reader.remaining) else { throw reader.error("binary length \(length) exceeds the \(reader.remaining) remaining bytes", at: start) }
        return Array(try reader.readBytes(Int(length)))
    }

    mutating func string() throws -> String { String(decoding: try binary(), as: UTF8.self) }

    /// Reads a list header; element count is checked against the remaining bytes (each element
    /// takes at least one byte, except bools in some writers, which we never read as lists).
    mutating func listHeader() throws -> (count: Int, type: UInt8) {
        let start = reader.position
        let header = try reader.readUInt8()
        var count = UInt64(header >> 4)
        if count == 15 { count = try varint() }
        guard count <= UInt64(reader.remaining) else { throw reader.error("list of \(count) elements exceeds the remaining bytes", at: start) }
        return (Int(count), header & 0x0F)
    }

    /// Calls `body(fieldID, type)` for each field of a struct; `body` must consume the value
    /// (or call `skip`). Unknown fields are skipped by the callers' default branch.
    mutating func readStruct(_ body: (inout ThriftReader, Int16, UInt8) throws -> Void) throws {
        depth += 1
        defer { depth -= 1 }
        guard depth < 64 else { throw reader.error("Thrift structures nested too deeply") }
        var lastID: Int16 = 0
        while true {
            let start = reader.position
            let header = try reader.readUInt8()
            let type = header & 0x0F
            if type == ThriftType.stop.rawValue { return }
            let delta = header >> 4
            let id: Int16
            if delta == 0 {
                let raw = try zigzag()
                guard let narrow = Int16(exactly: raw) else { throw reader.error("field id \(raw) out of range", at: start) }
                id = narrow
            } else {
                id = lastID &+ Int16(delta)
            }
            lastID = id
            try body(&self, id, type)
        }
    }

    /// The value of a bool field is in its type code.
    func bool(_ type: UInt8) -> Bool { type == ThriftType.boolTrue.rawValue }

    mutating func skip(_ type: UInt8) throws {
        let start = reader.position
        switch ThriftType(rawValue: type) {
        case .boolTrue, .boolFalse: return
        case .byte: try reader.skip(1)
        case .i16, .i32, .i64: _ = try varint()
        case .double: try reader.skip(8)
        case .binary: _ = try binary()
        case .list, .set:
            let (count, elementType) = try listHeader()
            for _ in 0..<count {
                if elementType == ThriftType.boolTrue.rawValue || elementType == ThriftType.boolFalse.rawValue { try reader.skip(1) } else { try skip(elementType) }
            }
        case .map:
            let count = try varint()
            guard count <= UInt64(reader.remaining) else { throw reader.error("map of \(count) entries exceeds the remaining bytes", at: start) }
            if count > 0 {
                let types = try reader.readUInt8()
                for _ in 0..<count {
                    try skip(types >> 4)
                    try skip(types & 0x0F)
                }
            }
        case .structure: try readStruct { thrift, _, fieldType in try thrift.skip(fieldType) }
        case .stop, .none: throw reader.error("unknown Thrift type \(type)", at: start)
        }
    }
}
