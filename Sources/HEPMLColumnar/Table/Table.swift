/// An in-memory table: named columns of equal row count, in order, plus free-form key/value
/// metadata that Parquet files carry along.
public struct Table: Sendable, Equatable {
    public private(set) var columns: [Column]
    public var metadata: [String: String]

    public init(columns: [Column] = [], metadata: [String: String] = [:]) throws {
        self.columns = []
        self.metadata = metadata
        for column in columns { try append(column) }
    }

    public var rowCount: Int { columns.first?.rowCount ?? 0 }
    public var columnNames: [String] { columns.map(\.name) }
    public var schema: [(name: String, type: ColumnType)] { columns.map { ($0.name, $0.type) } }

    public subscript(name: String) -> Column? { columns.first { $0.name == name } }

    public func column(_ name: String) throws -> Column {
        guard let column = self[name] else { throw TableError("no column named \(name)") }
        return column
    }

    public mutating func append(_ column: Column) throws {
        guard !columns.contains(where: { $0.name == column.name }) else { throw TableError("duplicate column name \(column.name)") }
        if let first = columns.first, first.rowCount != column.rowCount {
            throw TableError("column \(column.name) has \(column.rowCount) rows, the table has \(first.rowCount)")
        }
        columns.append(column)
    }

    /// Replaces the column of the same name, or appends it.
    public mutating func set(_ column: Column) throws {
        if let index = columns.firstIndex(where: { $0.name == column.name }) {
            guard column.rowCount == rowCount else { throw TableError("column \(column.name) has \(column.rowCount) rows, the table has \(rowCount)") }
            columns[index] = column
        } else {
            try append(column)
        }
    }

    public mutating func removeColumn(_ name: String) { columns.removeAll { $0.name == name } }

    /// The named columns in the given order.
    public func selecting(_ names: [String]) throws -> Table {
        try Table(columns: names.map { try column($0) }, metadata: metadata)
    }

    /// Rows `range` of every column.
    public func slice(_ range: Range<Int>) throws -> Table {
        guard range.lowerBound >= 0, range.upperBound <= rowCount else { throw TableError("rows \(range) outside 0..<\(rowCount)") }
        return try Table(columns: columns.map { $0.slice(range) }, metadata: metadata)
    }

    /// One row per list element, the long format of uproot 4's pandas output and of pandas'
    /// `explode`: list columns (one level, equal lengths row by row, as branches sharing a ROOT
    /// counter have) give their elements, scalar columns repeat, and `entry`/`subentry` columns
    /// number the rows. Rows whose lists are empty vanish, as in uproot. A table without list
    /// columns comes back unchanged.
    public func explodingLists(entry: String = "entry", subentry: String = "subentry") throws -> Table {
        let lists = columns.filter { !$0.listOffsets.isEmpty }
        guard let first = lists.first else { return self }
        for column in lists {
            guard column.listOffsets.count == 1 else { throw TableError("column \(column.name): lists of lists have no one-row-per-element form") }
            guard column.listOffsets[0] == first.listOffsets[0] else {
                throw TableError("columns \(first.name) and \(column.name) have lists of different lengths; select branches that share a counter")
            }
        }
        for name in [entry, subentry] where self[name] != nil { throw TableError("the table already has a column named \(name)") }
        let offsets = first.listOffsets[0]
        var entries: [Int] = [], subentries: [Int64] = []
        entries.reserveCapacity(offsets.last ?? 0)
        for row in 0..<rowCount {
            for element in 0..<(offsets[row + 1] - offsets[row]) {
                entries.append(row)
                subentries.append(Int64(element))
            }
        }
        var exploded = try Table(columns: [Column(name: entry, int64: entries.map(Int64.init)), Column(name: subentry, int64: subentries)],
                                 metadata: metadata)
        for column in columns {
            if column.listOffsets.isEmpty {
                try exploded.append(Column(name: column.name, values: column.values.gathering(entries),
                                           validity: column.validity.map { mask in entries.map { mask[$0] } }))
            } else {
                try exploded.append(Column(name: column.name, values: column.values))
            }
        }
        return exploded
    }

    /// Row-major Float matrix of the named numeric scalar columns (e.g. ECON-T's CALQ_0..47),
    /// filled column by column so each source buffer is read sequentially.
    public func floatMatrix(columns names: [String]) throws -> [Float] {
        let width = names.count
        var matrix = [Float](repeating: 0, count: rowCount * width)
        for (j, name) in names.enumerated() {
            let column = try column(name)
            guard column.type.listDepth == 0, column.validity == nil, let values = column.leafValuesAsFloat() else {
                throw TableError("column \(name) (\(column.type)\(column.validity == nil ? "" : " with nulls")) is not a numeric column without nulls")
            }
            matrix.withUnsafeMutableBufferPointer { out in
                for i in 0..<values.count { out[i * width + j] = values[i] }
            }
        }
        return matrix
    }
}

/// Appends rows to one column of a fixed type; cheap typed appends for bulk code and a generic
/// `append(_ value:)` for row-wise sources.
public struct ColumnBuilder: Sendable {
    public let name: String
    public let type: ColumnType
    private var values: ColumnValues
    private var offsets: [[Int]]
    private var validity: [Bool] = []
    private var hasNull = false

    public init(name: String, type: ColumnType) throws {
        guard type.isSupported else { throw TableError("column \(name): type \(type) is not supported") }
        self.name = name
        self.type = type
        self.values = .empty(type.element)
        self.offsets = [[Int]](repeating: [0], count: type.listDepth)
    }

    public var rowCount: Int { validity.count }

    public mutating func appendNull() {
        validity.append(false)
        hasNull = true
        if type.listDepth > 0 {
            offsets[0].append(offsets[0].last ?? 0)
        } else {
            appendZero()
        }
    }

    private mutating func appendZero() {
        switch values {
        case .bool(var v): values = .bool([]); v.append(false); values = .bool(v)
        case .int32(var v): values = .int32([]); v.append(0); values = .int32(v)
        case .int64(var v): values = .int64([]); v.append(0); values = .int64(v)
        case .float32(var v): values = .float32([]); v.append(0); values = .float32(v)
        case .float64(var v): values = .float64([]); v.append(0); values = .float64(v)
        case .string(let b, var o): values = .string(bytes: [], offsets: []); o.append(b.count); values = .string(bytes: b, offsets: o)
        }
    }

    /// Appends one row; `.null` gives a null row, lists must match the column's depth and every
    /// leaf must be of the column's element type (no silent conversion).
    public mutating func append(_ value: Value) throws {
        if value == .null { appendNull(); return }
        try appendCell(value, level: 0)
        validity.append(true)
    }

    private mutating func appendCell(_ value: Value, level: Int) throws {
        if level < type.listDepth {
            guard case .list(let items) = value else { throw TableError("column \(name): expected a list at depth \(level), got \(value)") }
            for item in items { try appendCell(item, level: level + 1) }
            let childCount = level + 1 < type.listDepth ? (offsets[level + 1].count - 1) : values.count
            offsets[level].append(childCount)
            return
        }
        switch (values, value) {
        case (.bool(var v), .bool(let x)): values = .bool([]); v.append(x); values = .bool(v)
        case (.int32(var v), .int32(let x)): values = .int32([]); v.append(x); values = .int32(v)
        case (.int64(var v), .int64(let x)): values = .int64([]); v.append(x); values = .int64(v)
        case (.float32(var v), .float32(let x)): values = .float32([]); v.append(x); values = .float32(v)
        case (.float64(var v), .float64(let x)): values = .float64([]); v.append(x); values = .float64(v)
        case (.string(var b, var o), .string(let x)):
            values = .string(bytes: [], offsets: [])
            b.append(contentsOf: x.utf8)
            o.append(b.count)
            values = .string(bytes: b, offsets: o)
        default:
            throw TableError("column \(name) of type \(type): cannot append \(value)")
        }
    }

    /// Appends one `list<float32>` row (a 1D histogram) straight from a buffer.
    public mutating func appendList(_ items: some Collection<Float>) throws {
        guard type == .list(.float32), case .float32(var v) = values else { throw TableError("column \(name) of type \(type): appendList(Float) needs list<float32>") }
        values = .float32([])
        v.append(contentsOf: items)
        values = .float32(v)
        offsets[0].append(v.count)
        validity.append(true)
    }

    public func build() throws -> Column {
        try Column(name: name, values: values, listOffsets: offsets, validity: hasNull ? validity : nil)
    }
}
