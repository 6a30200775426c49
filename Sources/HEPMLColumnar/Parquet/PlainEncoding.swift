import Foundation
import HEPMLCore

/// PLAIN encoding: little-endian fixed-width values, LSB-first packed booleans, and
/// length-prefixed byte arrays.
enum PlainEncoder {
    static func encode(_ values: ColumnValues, range: Range<Int>) -> [UInt8] {
        func raw<T>(_ v: [T]) -> [UInt8] { v.withUnsafeBytes { Array($0[(range.lowerBound * MemoryLayout<T>.stride)..<(range.upperBound * MemoryLayout<T>.stride)]) } }
        switch values {
        case .int32(let v): return raw(v)
        case .int64(let v): return raw(v)
        case .float32(let v): return raw(v)
        case .float64(let v): return raw(v)
        case .bool(let v):
            var output = [UInt8](repeating: 0, count: (range.count + 7) / 8)
            for (i, index) in range.enumerated() where v[index] { output[i >> 3] |= 1 << UInt8(i & 7) }
            return output
        case .string(let bytes, let offsets):
            var output: [UInt8] = []
            output.reserveCapacity(offsets[range.upperBound] - offsets[range.lowerBound] + 4 * range.count)
            for index in range {
                let length = UInt32(offsets[index + 1] - offsets[index])
                output += [UInt8(length & 0xFF), UInt8((length >> 8) & 0xFF), UInt8((length >> 16) & 0xFF), UInt8(length >> 24)]
                output += bytes[offsets[index]..<offsets[index + 1]]
            }
            return output
        }
    }

    /// Decodes `count` values of `type` from `reader`.
    static func decode(_ reader: inout ByteReader, type: PhysicalType, count: Int) throws -> ColumnValues {
        func fixed<T>(_: T.Type) throws -> [T] {
            let (size, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<T>.size)
            guard !overflow else { throw reader.error("\(count) values overflow") }
            try reader.require(size, for: "\(count) PLAIN values")
            let start = reader.position
            try reader.skip(size)
            return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                reader.bytes.withUnsafeBytes { source in
                    if let destination = buffer.baseAddress, let base = source.baseAddress { memcpy(destination, base + start, size) }
                }
                initialized = count
            }
        }
        switch type {
        case .int32: return .int32(try fixed(Int32.self))
        case .int64: return .int64(try fixed(Int64.self))
        case .float: return .float32(try fixed(Float.self))
        case .double: return .float64(try fixed(Double.self))
        case .boolean:
            try reader.require((count + 7) / 8, for: "\(count) PLAIN booleans")
            let packed = try reader.readBytes((count + 7) / 8)
            let base = packed.startIndex
            return .bool((0..<count).map { packed[base + ($0 >> 3)] & (1 << UInt8($0 & 7)) != 0 })
        case .byteArray:
            try reader.require(count.multipliedReportingOverflow(by: 4).overflow ? Int.max : count * 4, for: "\(count) byte arrays")
            var bytes: [UInt8] = []
            var offsets = [0]
            offsets.reserveCapacity(count + 1)
            for _ in 0..<count {
                let length = try reader.readCount32(bigEndian: false, limit: reader.remaining, what: "byte array length")
                bytes += try reader.readBytes(length)
                offsets.append(bytes.count)
            }
            return .string(bytes: bytes, offsets: offsets)
        case .int96, .fixedLenByteArray:
            throw reader.error("physical type \(type) is not supported")
        }
    }
}

/// Builds a dictionary of a chunk's distinct values with an open-addressing hash table over the
/// values' bit patterns (no per-value allocation), giving up as soon as it stops paying.
enum DictionaryEncoder {
    struct Result {
        var values: ColumnValues
        var indices: [UInt32]
    }

    static func build(_ values: ColumnValues, byteLimit: Int) -> Result? {
        switch values {
        case .int32(let v): return fixed(v, byteLimit: byteLimit).map { Result(values: .int32($0.0), indices: $0.1) }
        case .int64(let v): return fixed(v, byteLimit: byteLimit).map { Result(values: .int64($0.0), indices: $0.1) }
        case .float32(let v): return fixed(v, byteLimit: byteLimit).map { Result(values: .float32($0.0), indices: $0.1) }
        case .float64(let v): return fixed(v, byteLimit: byteLimit).map { Result(values: .float64($0.0), indices: $0.1) }
        case .bool: return nil
        case .string(let bytes, let offsets): return strings(bytes: bytes, offsets: offsets, byteLimit: byteLimit)
        }
    }

    private static func bits<T>(_ value: T) -> UInt64 {
        withUnsafeBytes(of: value) { raw in
            raw.count == 8 ? raw.loadUnaligned(as: UInt64.self) : UInt64(raw.loadUnaligned(as: UInt32.self))
        }
    }

    private static func fixed<T>(_ values: [T], byteLimit: Int) -> ([T], [UInt32])? {
        let count = values.count
        guard count > 0 else { return nil }
        let maxEntries = min(count / 2, byteLimit / MemoryLayout<T>.size)
        guard maxEntries > 0 else { return nil }
        var capacity = 16
        while capacity < 2 * maxEntries { capacity <<= 1 }
        capacity = min(capacity, 1 << 22)
        let mask = capacity - 1
        var slots = [Int32](repeating: -1, count: capacity)
        var keys = [UInt64](repeating: 0, count: capacity)
        var dictionary: [T] = []
        var indices = [UInt32](repeating: 0, count: count)
        let ok: Bool = values.withUnsafeBufferPointer { input in
            slots.withUnsafeMutableBufferPointer { slots in
                keys.withUnsafeMutableBufferPointer { keys in
                    indices.withUnsafeMutableBufferPointer { out in
                        for i in 0..<count {
                            let key = bits(input[i])
                            var h = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
                            while true {
                                let slot = slots[h]
                                if slot < 0 {
                                    guard dictionary.count < maxEntries else { return false }
                                    slots[h] = Int32(dictionary.count)
                                    keys[h] = key
                                    out[i] = UInt32(dictionary.count)
                                    dictionary.append(input[i])
                                    break
                                }
                                if keys[h] == key { out[i] = UInt32(slot); break }
                                h = (h + 1) & mask
                            }
                        }
                        return true
                    }
                }
            }
        }
        return ok ? (dictionary, indices) : nil
    }

    private static func strings(bytes: [UInt8], offsets: [Int], byteLimit: Int) -> Result? {
        let count = offsets.count - 1
        guard count > 0 else { return nil }
        var lookup: [ArraySlice<UInt8>: UInt32] = [:]
        var dictionaryBytes: [UInt8] = []
        var dictionaryOffsets = [0]
        var indices = [UInt32](repeating: 0, count: count)
        for i in 0..<count {
            let value = bytes[offsets[i]..<offsets[i + 1]]
            if let index = lookup[value] {
                indices[i] = index
                continue
            }
            let index = UInt32(dictionaryOffsets.count - 1)
            guard Int(index) < max(1, count / 2), dictionaryBytes.count + value.count + 4 * dictionaryOffsets.count <= byteLimit else { return nil }
            lookup[value] = index
            dictionaryBytes += value
            dictionaryOffsets.append(dictionaryBytes.count)
            indices[i] = index
        }
        return Result(values: .string(bytes: dictionaryBytes, offsets: dictionaryOffsets), indices: indices)
    }
}

/// Column chunk min/max in PLAIN form (NaN ignored, strings compared as unsigned bytes).
enum StatisticsBuilder {
    static func minMax(_ values: ColumnValues) -> ([UInt8], [UInt8])? {
        func raw<T>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }
        func ordered<T: Comparable>(_ v: [T], skip: (T) -> Bool = { _ in false }) -> ([UInt8], [UInt8])? {
            v.withUnsafeBufferPointer { buffer in
                guard let firstIndex = buffer.firstIndex(where: { !skip($0) }) else { return nil }
                var minimum = buffer[firstIndex]
                var maximum = minimum
                for value in buffer[firstIndex...] where !skip(value) {
                    minimum = min(minimum, value)
                    maximum = max(maximum, value)
                }
                return (raw(minimum), raw(maximum))
            }
        }
        switch values {
        case .int32(let v): return ordered(v)
        case .int64(let v): return ordered(v)
        case .float32(let v): return ordered(v, skip: { $0.isNaN })
        case .float64(let v): return ordered(v, skip: { $0.isNaN })
        case .bool(let v):
            guard !v.isEmpty else { return nil }
            return ([v.allSatisfy { $0 } ? 1 : 0], [v.contains(true) ? 1 : 0])
        case .string(let bytes, let offsets):
            guard offsets.count > 1 else { return nil }
            var minimum = bytes[offsets[0]..<offsets[1]]
            var maximum = minimum
            for i in 1..<(offsets.count - 1) {
                let value = bytes[offsets[i]..<offsets[i + 1]]
                if value.lexicographicallyPrecedes(minimum) { minimum = value }
                if maximum.lexicographicallyPrecedes(value) { maximum = value }
            }
            return (Array(minimum), Array(maximum))
        }
    }
}
