/// A big-endian output buffer with ROOT's object framing (byte counts, TStrings, TObject headers).
struct ByteWriter {
    var bytes: [UInt8] = []

    var count: Int { bytes.count }

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func i16(_ value: Int16) { u16(UInt16(bitPattern: value)) }
    mutating func u16(_ value: UInt16) { bytes.append(UInt8(value >> 8)); bytes.append(UInt8(value & 0xFF)) }
    mutating func i32(_ value: Int32) { u32(UInt32(bitPattern: value)) }
    mutating func i32(_ value: Int) { i32(Int32(truncatingIfNeeded: value)) }
    mutating func u32(_ value: UInt32) {
        bytes.append(UInt8(value >> 24)); bytes.append(UInt8((value >> 16) & 0xFF))
        bytes.append(UInt8((value >> 8) & 0xFF)); bytes.append(UInt8(value & 0xFF))
    }
    mutating func i64(_ value: Int) { u64(UInt64(bitPattern: Int64(value))) }
    mutating func u64(_ value: UInt64) { u32(UInt32(value >> 32)); u32(UInt32(value & 0xFFFF_FFFF)) }
    mutating func f32(_ value: Float) { u32(value.bitPattern) }
    mutating func f64(_ value: Double) { u64(value.bitPattern) }
    mutating func append(_ other: [UInt8]) { bytes.append(contentsOf: other) }

    mutating func tstring(_ text: String) {
        let utf8 = Array(text.utf8)
        if utf8.count < 255 {
            u8(UInt8(utf8.count))
        } else {
            u8(255)
            i32(utf8.count)
        }
        bytes.append(contentsOf: utf8)
    }

    /// Starts an object with a byte count and version; returns the position to pass to `endObject`.
    mutating func beginObject(version: Int16) -> Int {
        let start = bytes.count
        u32(0)
        i16(version)
        return start
    }

    /// Fills in the byte count written by `beginObject`.
    mutating func endObject(_ start: Int) {
        let count = UInt32(bytes.count - start - 4) | 0x4000_0000
        bytes[start] = UInt8(count >> 24)
        bytes[start + 1] = UInt8((count >> 16) & 0xFF)
        bytes[start + 2] = UInt8((count >> 8) & 0xFF)
        bytes[start + 3] = UInt8(count & 0xFF)
    }

    /// A TObject header as ROOT writes it for objects on the heap.
    mutating func tobject(uniqueID: UInt32 = 0) {
        i16(1)
        u32(uniqueID)
        u32(0x0300_0000)
    }

    mutating func tnamed(_ name: String, _ title: String) {
        let start = beginObject(version: 1)
        tobject()
        tstring(name)
        tstring(title)
        endObject(start)
    }

    mutating func tarrayD(_ values: [Double]) {
        i32(values.count)
        bytes.reserveCapacity(bytes.count + values.count * 8)
        for value in values { f64(value) }
    }

    /// Writes into a fixed position (for back-patching pointers).
    mutating func patch32(at position: Int, _ value: Int) {
        let word = UInt32(bitPattern: Int32(truncatingIfNeeded: value))
        bytes[position] = UInt8(word >> 24)
        bytes[position + 1] = UInt8((word >> 16) & 0xFF)
        bytes[position + 2] = UInt8((word >> 8) & 0xFF)
        bytes[position + 3] = UInt8(word & 0xFF)
    }
}

/// Class tags for object pointers while serializing one key payload: the first object of a class
/// writes the class name; later ones refer back to where it was written (spec §4.7).
struct ClassTags {
    let keyLength: Int
    var positions: [String: Int] = [:]

    /// Writes an object pointer header (byte count + class tag) and returns the byte-count position.
    mutating func beginPointer(_ className: String, _ writer: inout ByteWriter) -> Int {
        let start = writer.count
        writer.u32(0)
        if let tag = positions[className] {
            writer.u32(UInt32(tag) | 0x8000_0000)
        } else {
            positions[className] = start + 4 + keyLength + 2
            writer.u32(0xFFFF_FFFF)
            writer.append(Array(className.utf8) + [0])
        }
        return start
    }

    /// Position that later references to this object use (start + fKeylen + 2).
    func referenceTag(of start: Int) -> UInt32 { UInt32(start + keyLength + 2) }
}
