import HEPMLCore

/// The RLE / bit-packing hybrid that Parquet uses for repetition and definition levels, for
/// dictionary indices and for RLE booleans: runs of one repeated value, or groups of eight values
/// packed LSB-first at a fixed bit width.
enum RLEHybrid {
    static func bitWidth(_ maxValue: Int) -> Int {
        maxValue <= 0 ? 0 : (Int.bitWidth - maxValue.leadingZeroBitCount)
    }

    /// Encodes `values` (each < 2^bitWidth). Runs of eight or more equal values become RLE runs;
    /// everything else is bit-packed, as parquet-cpp does. Output goes through a raw pointer into
    /// a buffer sized for the worst case (every run header at most 10 + 4 bytes, at most one run
    /// per eight values plus the tail), because this loop dominates writing dictionary pages.
    static func encode<T: FixedWidthInteger>(_ values: UnsafeBufferPointer<T>, bitWidth: Int, into output: inout [UInt8]) {
        let byteWidth = (bitWidth + 7) / 8
        let count = values.count
        let bound = (count + 8) * bitWidth / 8 + 1 + (count / 8 + 2) * (10 + byteWidth)
        var encoded = [UInt8](repeating: 0, count: bound)
        let written = encoded.withUnsafeMutableBufferPointer { buffer -> Int in
            guard let out = buffer.baseAddress else { return 0 }
            var position = 0
            func varint(_ value: Int) {
                var v = UInt64(value)
                while v >= 0x80 { out[position] = UInt8(v & 0x7F) | 0x80; position += 1; v >>= 7 }
                out[position] = UInt8(v)
                position += 1
            }
            /// Bit-packs `values[range]`, padded with zeros to a multiple of eight.
            func packed(_ range: Range<Int>) {
                guard !range.isEmpty else { return }
                let groups = (range.count + 7) / 8
                varint(groups << 1 | 1)
                var bits: UInt64 = 0
                var filled = 0
                for index in range.lowerBound..<(range.lowerBound + groups * 8) {
                    let value = index < range.upperBound ? UInt64(truncatingIfNeeded: values[index]) : 0
                    bits |= value << UInt64(filled)
                    filled += bitWidth
                    while filled >= 8 {
                        out[position] = UInt8(truncatingIfNeeded: bits)
                        position += 1
                        bits >>= 8
                        filled -= 8
                    }
                }
                if filled > 0 { out[position] = UInt8(truncatingIfNeeded: bits); position += 1 }
            }
            var packedStart = 0
            var index = 0
            while index < count {
                let value = values[index]
                var end = index + 1
                while end < count && values[end] == value { end += 1 }
                let run = end - index
                if run >= 8 {
                    // Worth an RLE run if eight remain after topping the pending values up to a group.
                    let fill = (8 - (index - packedStart) % 8) % 8
                    if run - fill >= 8 {
                        packed(packedStart..<(index + fill))
                        varint((run - fill) << 1)
                        var v = UInt64(truncatingIfNeeded: value)
                        for _ in 0..<byteWidth { out[position] = UInt8(v & 0xFF); position += 1; v >>= 8 }
                        packedStart = end
                    }
                }
                index = end
            }
            packed(packedStart..<count)
            return position
        }
        output.append(contentsOf: encoded[0..<written])
    }

    /// Decodes exactly `count` values from `reader` (which ends where the encoded data ends),
    /// checking that every value is at most `maxValue`.
    static func decode<T: FixedWidthInteger>(_ reader: inout ByteReader, bitWidth: Int, count: Int, maxValue: Int, as _: T.Type) throws -> [T] {
        guard bitWidth <= 32 else { throw reader.error("bit width \(bitWidth) exceeds 32") }
        var output = [T](repeating: 0, count: count)
        let byteWidth = (bitWidth + 7) / 8
        let mask: UInt64 = bitWidth == 0 ? 0 : (UInt64(1) << UInt64(bitWidth)) - 1
        var filled = 0
        try output.withUnsafeMutableBufferPointer { out in
            while filled < count {
                let headerStart = reader.position
                var header: UInt64 = 0
                var shift: UInt64 = 0
                while true {
                    let byte = try reader.readUInt8()
                    guard shift < 63 else { throw reader.error("run header varint too long", at: headerStart) }
                    header |= UInt64(byte & 0x7F) << shift
                    if byte & 0x80 == 0 { break }
                    shift += 7
                }
                if header & 1 == 0 {
                    let length = Int(clamping: header >> 1)
                    var value: UInt64 = 0
                    for i in 0..<byteWidth { value |= UInt64(try reader.readUInt8()) << UInt64(8 * i) }
                    guard value <= UInt64(maxValue) else { throw reader.error("run value \(value) exceeds the maximum \(maxValue)", at: headerStart) }
                    let take = min(length, count - filled)
                    let typed = T(truncatingIfNeeded: value)
                    for i in filled..<(filled + take) { out[i] = typed }
                    filled += take
                } else {
                    let groups = Int(clamping: header >> 1)
                    let (byteCount, overflow) = groups.multipliedReportingOverflow(by: bitWidth)
                    guard !overflow else { throw reader.error("bit-packed run too long", at: headerStart) }
                    try reader.require(byteCount, for: "bit-packed run")
                    let valueCount = groups * 8
                    let take = min(valueCount, count - filled)
                    let start = reader.position
                    try reader.skip(byteCount)
                    try reader.bytes.withUnsafeBufferPointer { source in
                        var buffer: UInt64 = 0
                        var bits = 0
                        var byteIndex = start
                        for i in 0..<take {
                            while bits < bitWidth {
                                buffer |= UInt64(source[byteIndex]) << UInt64(bits)
                                byteIndex += 1
                                bits += 8
                            }
                            let value = buffer & mask
                            buffer >>= UInt64(bitWidth)
                            bits -= bitWidth
                            guard value <= UInt64(maxValue) else { throw reader.error("packed value \(value) exceeds the maximum \(maxValue)", at: headerStart) }
                            out[filled + i] = T(truncatingIfNeeded: value)
                        }
                    }
                    filled += take
                }
            }
        }
        return output
    }
}
