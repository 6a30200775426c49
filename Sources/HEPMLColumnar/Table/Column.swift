/// Leaf values of a column, flattened across rows and list levels into one contiguous buffer.
public enum ColumnValues: Sendable, Equatable {
    case bool([Bool])
    case int32([Int32])
    case int64([Int64])
    case float32([Float])
    case float64([Double])
    /// UTF-8 bytes of all strings back to back; string `i` is `bytes[offsets[i]..<offsets[i+1]]`.
    case string(bytes: [UInt8], offsets: [Int])

    public var scalarType: ScalarType {
        switch self {
        case .bool: return .bool
        case .int32: return .int32
        case .int64: return .int64
        case .float32: return .float32
        case .float64: return .float64
        case .string: return .string
        }
    }

    public var count: Int {
        switch self {
        case .bool(let v): return v.count
        case .int32(let v): return v.count
        case .int64(let v): return v.count
        case .float32(let v): return v.count
        case .float64(let v): return v.count
        case .string(_, let offsets): return max(0, offsets.count - 1)
        }
    }

    public static func empty(_ type: ScalarType) -> ColumnValues {
        switch type {
        case .bool: return .bool([])
        case .int32: return .int32([])
        case .int64: return .int64([])
        case .float32: return .float32([])
        case .float64: return .float64([])
        case .string: return .string(bytes: [], offsets: [0])
        }
    }

    public func string(at index: Int) -> String? {
        guard case .string(let bytes, let offsets) = self else { return nil }
        return String(decoding: bytes[offsets[index]..<offsets[index + 1]], as: UTF8.self)
    }

    /// The values at `indices`, in that order (indices may repeat): dictionary decoding, and the
    /// scalar columns of an exploded table. Every index must be below `count`.
    public func gathering<Index: BinaryInteger>(_ indices: [Index]) -> ColumnValues {
        func pick<T>(_ v: [T]) -> [T] { v.withUnsafeBufferPointer { d in indices.map { d[Int($0)] } } }
        switch self {
        case .bool(let v): return .bool(pick(v))
        case .int32(let v): return .int32(pick(v))
        case .int64(let v): return .int64(pick(v))
        case .float32(let v): return .float32(pick(v))
        case .float64(let v): return .float64(pick(v))
        case .string(let bytes, let offsets):
            var gathered: [UInt8] = [], newOffsets = [0]
            newOffsets.reserveCapacity(indices.count + 1)
            for index in indices {
                gathered += bytes[offsets[Int(index)]..<offsets[Int(index) + 1]]
                newOffsets.append(gathered.count)
            }
            return .string(bytes: gathered, offsets: newOffsets)
        }
    }

    /// The value at `index` as a `Value`.
    public subscript(index: Int) -> Value {
        switch self {
        case .bool(let v): return .bool(v[index])
        case .int32(let v): return .int32(v[index])
        case .int64(let v): return .int64(v[index])
        case .float32(let v): return .float32(v[index])
        case .float64(let v): return .float64(v[index])
        case .string: return .string(string(at: index) ?? "")
        }
    }
}

/// One value of a table cell, for row-wise access (display, tests, row builders). Bulk code reads
/// the column buffers instead.
public enum Value: Sendable, Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int32(Int32)
    case int64(Int64)
    case float32(Float)
    case float64(Double)
    case string(String)
    case list([Value])

    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let v): return String(v)
        case .int32(let v): return String(v)
        case .int64(let v): return String(v)
        case .float32(let v): return String(v)
        case .float64(let v): return String(v)
        case .string(let v): return v
        case .list(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        }
    }
}

/// A named, typed column stored as contiguous buffers in the Arrow layout: flattened leaf values,
/// one offsets array per list level and an optional per-row validity mask. Null rows hold a zero
/// (or an empty list / empty string) so that `values` stays aligned with the offsets.
public struct Column: Sendable, Equatable {
    public var name: String
    public private(set) var values: ColumnValues
    /// Outermost level first. `listOffsets[0]` has `rowCount + 1` entries and indexes into the next
    /// level (or into `values` for a 1-level list); each array starts at 0 and never decreases.
    public private(set) var listOffsets: [[Int]]
    /// `nil` when no row is null; otherwise `validity[row]` is false for null rows.
    public private(set) var validity: [Bool]?

    public var type: ColumnType { ColumnType(values.scalarType, listDepth: listOffsets.count) }

    public var rowCount: Int {
        if let first = listOffsets.first { return first.count - 1 }
        return values.count
    }

    public var nullCount: Int { validity.map { $0.reduce(0) { $0 + ($1 ? 0 : 1) } } ?? 0 }

    /// Builds a column from buffers, checking that offsets and validity are consistent so that
    /// every later access is in bounds.
    public init(name: String, values: ColumnValues, listOffsets: [[Int]] = [], validity: [Bool]? = nil) throws {
        let type = ColumnType(values.scalarType, listDepth: listOffsets.count)
        guard type.isSupported else { throw TableError("column \(name): type \(type) is not supported (lists hold numbers only, at most two levels)") }
        var childCount = values.count
        for (level, offsets) in listOffsets.enumerated().reversed() {
            guard let first = offsets.first, first == 0, offsets.last == childCount else {
                throw TableError("column \(name): list offsets at level \(level) must start at 0 and end at \(childCount)")
            }
            for i in 1..<offsets.count where offsets[i] < offsets[i - 1] {
                throw TableError("column \(name): list offsets at level \(level) decrease at index \(i)")
            }
            childCount = offsets.count - 1
        }
        if case .string(let bytes, let offsets) = values {
            guard offsets.first == 0, offsets.last == bytes.count, zip(offsets, offsets.dropFirst()).allSatisfy({ $0 <= $1 }) else {
                throw TableError("column \(name): string offsets are inconsistent")
            }
        }
        if let validity, validity.count != childCount {
            throw TableError("column \(name): validity has \(validity.count) entries for \(childCount) rows")
        }
        if let validity, let outer = listOffsets.first {
            for row in 0..<validity.count where !validity[row] && outer[row] != outer[row + 1] {
                throw TableError("column \(name): null row \(row) must be an empty list")
            }
        }
        self.name = name
        self.values = values
        self.listOffsets = listOffsets
        self.validity = validity.flatMap { $0.contains(false) ? $0 : nil }
        if listOffsets.isEmpty, let mask = self.validity { zeroNullSlots(mask) }
    }

    /// Null scalar slots hold zero whatever the source put there, so equal tables compare equal.
    private mutating func zeroNullSlots(_ mask: [Bool]) {
        func zeroed<T>(_ v: [T], _ zero: T) -> [T] {
            var v = v
            for (i, valid) in mask.enumerated() where !valid { v[i] = zero }
            return v
        }
        switch values {
        case .bool(let v): values = .bool(zeroed(v, false))
        case .int32(let v): values = .int32(zeroed(v, 0))
        case .int64(let v): values = .int64(zeroed(v, 0))
        case .float32(let v): values = .float32(zeroed(v, 0))
        case .float64(let v): values = .float64(zeroed(v, 0))
        case .string: break
        }
    }

    public init(name: String, bool values: [Bool], validity: [Bool]? = nil) throws { try self.init(name: name, values: .bool(values), validity: validity) }
    public init(name: String, int32 values: [Int32], validity: [Bool]? = nil) throws { try self.init(name: name, values: .int32(values), validity: validity) }
    public init(name: String, int64 values: [Int64], validity: [Bool]? = nil) throws { try self.init(name: name, values: .int64(values), validity: validity) }
    public init(name: String, float32 values: [Float], validity: [Bool]? = nil) throws { try self.init(name: name, values: .float32(values), validity: validity) }
    public init(name: String, float64 values: [Double], validity: [Bool]? = nil) throws { try self.init(name: name, values: .float64(values), validity: validity) }

    public init(name: String, strings: [String?]) throws {
        var bytes: [UInt8] = []
        var offsets = [0]
        offsets.reserveCapacity(strings.count + 1)
        for string in strings {
            if let string { bytes.append(contentsOf: string.utf8) }
            offsets.append(bytes.count)
        }
        let validity = strings.map { $0 != nil }
        try self.init(name: name, values: .string(bytes: bytes, offsets: offsets), validity: validity)
    }

    public func isNull(_ row: Int) -> Bool { validity.map { !$0[row] } ?? false }

    /// The cell at `row` as a `Value` (allocates; for display and tests).
    public subscript(row: Int) -> Value {
        if isNull(row) { return .null }
        return cell(level: 0, index: row)
    }

    private func cell(level: Int, index: Int) -> Value {
        if level == listOffsets.count { return values[index] }
        let offsets = listOffsets[level]
        return .list((offsets[index]..<offsets[index + 1]).map { cell(level: level + 1, index: $0) })
    }

    /// The contiguous float32 leaf buffer and offsets of a `list<float32>` (or any-depth) column,
    /// so training code reads histograms without per-row copies.
    public var float32Values: [Float]? { if case .float32(let v) = values { return v } else { return nil } }
    public var float64Values: [Double]? { if case .float64(let v) = values { return v } else { return nil } }
    public var int32Values: [Int32]? { if case .int32(let v) = values { return v } else { return nil } }
    public var int64Values: [Int64]? { if case .int64(let v) = values { return v } else { return nil } }
    public var boolValues: [Bool]? { if case .bool(let v) = values { return v } else { return nil } }

    /// Leaf values converted to Float (one pass, no per-row work), for numeric columns of any type.
    public func leafValuesAsFloat() -> [Float]? {
        switch values {
        case .float32(let v): return v
        case .float64(let v): return v.map { Float($0) }
        case .int32(let v): return v.map { Float($0) }
        case .int64(let v): return v.map { Float($0) }
        case .bool(let v): return v.map { $0 ? 1 : 0 }
        case .string: return nil
        }
    }

    /// The rows `range` as a new column (offsets rebased to 0).
    public func slice(_ range: Range<Int>) -> Column {
        var leafRange = range
        var newOffsets: [[Int]] = []
        for offsets in listOffsets {
            let start = offsets[leafRange.lowerBound]
            let end = offsets[leafRange.upperBound]
            newOffsets.append(offsets[leafRange.lowerBound...leafRange.upperBound].map { $0 - start })
            leafRange = start..<end
        }
        let newValues: ColumnValues
        switch values {
        case .bool(let v): newValues = .bool(Array(v[leafRange]))
        case .int32(let v): newValues = .int32(Array(v[leafRange]))
        case .int64(let v): newValues = .int64(Array(v[leafRange]))
        case .float32(let v): newValues = .float32(Array(v[leafRange]))
        case .float64(let v): newValues = .float64(Array(v[leafRange]))
        case .string(let bytes, let offsets):
            let start = offsets[leafRange.lowerBound]
            let end = offsets[leafRange.upperBound]
            newValues = .string(bytes: Array(bytes[start..<end]), offsets: offsets[leafRange.lowerBound...leafRange.upperBound].map { $0 - start })
        }
        var column = self
        column.values = newValues
        column.listOffsets = newOffsets
        column.validity = validity.map { Array($0[range]) }.flatMap { $0.contains(false) ? $0 : nil }
        return column
    }

    /// Concatenates columns of the same name and type (e.g. one per Parquet row group).
    public static func concatenate(_ parts: [Column]) throws -> Column {
        guard let first = parts.first else { throw TableError("cannot concatenate zero columns") }
        if parts.count == 1 { return first }
        for part in parts where part.type != first.type {
            throw TableError("column \(first.name): cannot concatenate \(part.type) onto \(first.type)")
        }
        var offsets = [[Int]](repeating: [0], count: first.listOffsets.count)
        for part in parts {
            for level in 0..<part.listOffsets.count {
                let base = offsets[level].last ?? 0
                offsets[level].append(contentsOf: part.listOffsets[level].dropFirst().map { $0 + base })
            }
        }
        let values: ColumnValues
        switch first.values {
        case .bool: values = .bool(parts.flatMap { $0.boolValues ?? [] })
        case .int32: values = .int32(parts.flatMap { $0.int32Values ?? [] })
        case .int64: values = .int64(parts.flatMap { $0.int64Values ?? [] })
        case .float32: values = .float32(parts.flatMap { $0.float32Values ?? [] })
        case .float64: values = .float64(parts.flatMap { $0.float64Values ?? [] })
        case .string:
            var bytes: [UInt8] = []
            var stringOffsets = [0]
            for part in parts {
                guard case .string(let b, let o) = part.values else { continue }
                let base = bytes.count
                bytes.append(contentsOf: b)
                stringOffsets.append(contentsOf: o.dropFirst().map { $0 + base })
            }
            values = .string(bytes: bytes, offsets: stringOffsets)
        }
        let hasNulls = parts.contains { $0.validity != nil }
        let validity: [Bool]? = hasNulls ? parts.flatMap { $0.validity ?? [Bool](repeating: true, count: $0.rowCount) } : nil
        return try Column(name: first.name, values: values, listOffsets: offsets, validity: validity)
    }
}

/// A misuse of the table API (mismatched lengths, wrong types); file problems are `FileFormatError`.
public struct TableError: Error, CustomStringConvertible, Sendable, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
