import HEPMLColumnar
import HEPMLCore

/// Tree columns as a `HEPMLColumnar.Table`, the shared in-memory columnar model, as uproot's
/// interpretation layer hands arrays on to awkward/pandas: `hepml root dump` writes the table to
/// Parquet, .npz or CSV, and a workflow can take it straight into its own table-based steps.
extension Tree {
    /// The branches that `names` select (`branches(matching:)`) over an entry range (all entries
    /// when nil), one table column per tree column in tree order; a selected branch that cannot be
    /// read or cannot become a table column is an error naming the file and the branch. Without a
    /// branch list every data branch that can be converted is, and the others are listed in
    /// `leftOut` with the reason.
    public func table(branches names: [String]? = nil, entries range: Range<Int>? = nil) throws -> TreeTable {
        if let names {
            let columns = try arrays(branches: names, entries: range).map { array in
                do { return try Column(rootColumn: array, file: file.path) } catch {
                    throw FileFormatError(file: file.path, object: "\(path)/\(array.name)", reason: Self.reason(error))
                }
            }
            return TreeTable(table: try Table(columns: columns), leftOut: [])
        }
        var leftOut = unsupportedBranches
        var columns: [Column] = []
        for array in try arrays(entries: range) {
            do { columns.append(try Column(rootColumn: array, file: file.path)) } catch {
                leftOut.append(LeftOutBranch(branch: array.name, reason: Self.reason(error)))
            }
        }
        return TreeTable(table: try Table(columns: columns), leftOut: leftOut)
    }
}

/// A tree read as a table, with the data branches a read of all branches could not convert.
public struct TreeTable: Sendable {
    public var table: Table
    public var leftOut: [LeftOutBranch]
}

extension Column {
    /// A tree column as a table column. The table's element types are bool, int32, int64, float32,
    /// float64 and string, so narrower integers widen (uint32 to int64), uint64 must fit in int64,
    /// and bool lists become int32 0/1 lists (table lists hold numbers). Fixed arrays and jagged
    /// branches become list columns; `x[n][k]` and `vector<vector<T>>` lists of lists.
    init(rootColumn column: ColumnArray, file: String) throws {
        let isList = column.offsets != nil || !column.itemShape.isEmpty
        let values: HEPMLColumnar.ColumnValues
        switch column.values {
        case .bool(let v): values = isList ? .int32(v.map { $0 ? 1 : 0 }) : .bool(v)
        case .int8(let v): values = .int32(v.map(Int32.init))
        case .uint8(let v): values = .int32(v.map(Int32.init))
        case .int16(let v): values = .int32(v.map(Int32.init))
        case .uint16(let v): values = .int32(v.map(Int32.init))
        case .int32(let v): values = .int32(v)
        case .uint32(let v): values = .int64(v.map(Int64.init))
        case .int64(let v): values = .int64(v)
        case .uint64(let v):
            if let large = v.first(where: { $0 > UInt64(Int64.max) }) {
                throw FileFormatError(file: file, object: column.name, reason: "uint64 value \(large) does not fit the int64 table column")
            }
            values = .int64(v.map { Int64($0) })
        case .float32(let v): values = .float32(v)
        case .float64(let v): values = .float64(v)
        case .string(let strings):
            var bytes: [UInt8] = [], offsets = [0]
            for text in strings {
                bytes += text.utf8
                offsets.append(bytes.count)
            }
            values = .string(bytes: bytes, offsets: offsets)
        }
        // List levels, outermost first: entry offsets (jagged) or regular rows (fixed arrays),
        // then vector<vector<T>> inner offsets or the regular rows of `x[n][k]`.
        let width = column.itemShape.reduce(1, *)
        var levels: [[Int]] = []
        if let offsets = column.offsets {
            levels.append(offsets)
            if let inner = column.innerOffsets {
                levels.append(inner)
            } else if width > 1 {
                levels.append((0...(offsets.last ?? 0)).map { $0 * width })
            }
        } else if width > 1 || !column.itemShape.isEmpty {
            levels.append((0...column.entryCount).map { $0 * width })
        }
        try self.init(name: column.name, values: values, listOffsets: levels)
    }
}

extension ROOTWriter {
    /// Writes a table as a TTree: scalar columns (bool, int32, int64, float32, float64, string)
    /// become one-leaf branches, numeric list columns counter-jagged branches with an int32
    /// counter `n<name>` (uproot's convention), or all the one `sharedCounter` (NanoAOD's `nJet` for
    /// every `Jet_*`; their lists must then have the same lengths). Nulls, lists of strings and
    /// lists of lists have no such branch and are refused by column name.
    public func writeTree(table: Table, to objectPath: String, title: String = "", entriesPerBasket: Int? = nil,
                          sharedCounter: String? = nil) throws {
        func fail(_ column: Column, _ reason: String) -> FileFormatError {
            FileFormatError(file: path, object: "\(objectPath)/\(column.name)", reason: reason)
        }
        let names = Set(table.columns.map(\.name))
        var branches: [TreeBranchData] = []
        for column in table.columns {
            guard column.nullCount == 0 else { throw fail(column, "a TTree branch cannot hold nulls (\(column.nullCount) in this column)") }
            guard column.listOffsets.count <= 1 else { throw fail(column, "lists of lists are not written to TTrees") }
            let values: ColumnValues
            switch column.values {
            case .bool(let v): values = .bool(v)
            case .int32(let v): values = .int32(v)
            case .int64(let v): values = .int64(v)
            case .float32(let v): values = .float32(v)
            case .float64(let v): values = .float64(v)
            case .string:
                guard column.listOffsets.isEmpty else { throw fail(column, "lists of strings are not written to TTrees") }
                values = .string((0..<column.values.count).map { column.values.string(at: $0) ?? "" })
            }
            guard let offsets = column.listOffsets.first else {
                branches.append(TreeBranchData(ColumnArray(name: column.name, values: values)))
                continue
            }
            let counter = sharedCounter ?? "n\(column.name)"
            guard sharedCounter != nil || !names.contains(counter) else { throw fail(column, "its counter branch \(counter) would clash with a column of that name") }
            branches.append(TreeBranchData(ColumnArray(name: column.name, values: values, offsets: offsets), counter: counter))
        }
        try writeTree(branches, to: objectPath, title: title, entriesPerBasket: entriesPerBasket)
    }
}
