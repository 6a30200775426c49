import Foundation
import HEPMLCore

/// Reads and writes tables by file extension (.parquet, .npz, .npy, .csv), for the CLI and for
/// workflows that accept any of the three formats.
public enum TableFile {
    public enum Format: String, Sendable { case parquet, npz, npy, csv }

    public static func format(of path: String) throws -> Format {
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "parquet", "pq": return .parquet
        case "npz": return .npz
        case "npy": return .npy
        case "csv": return .csv
        default: throw TableError("\(path): unknown table format (use .parquet, .npz, .npy or .csv)")
        }
    }

    /// Errors from building the table (duplicate names, an unsupported type) name the file.
    public static func read(path: String, columns: [String]? = nil) throws -> Table {
        do {
            return try readFormat(path: path, columns: columns)
        } catch let error as TableError {
            throw FileFormatError(file: path, reason: error.description)
        }
    }

    private static func readFormat(path: String, columns: [String]?) throws -> Table {
        switch try format(of: path) {
        case .parquet: return try Parquet.read(path: path, columns: columns)
        case .csv:
            let table = try CSV.read(path: path)
            return try columns.map { try table.selecting($0) } ?? table
        case .npz:
            let table = try NumPyTable.table(from: NPZ.read(path: path), file: path)
            return try columns.map { try table.selecting($0) } ?? table
        case .npy:
            let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            let table = try NumPyTable.table(from: [(name, NPY.read(path: path))], file: path)
            return try columns.map { try table.selecting($0) } ?? table
        }
    }

    public static func write(_ table: Table, to path: String, compression: ParquetCompression = .zstd) throws {
        switch try format(of: path) {
        case .parquet: try Parquet.write(table, to: path, options: ParquetWriteOptions(compression: compression))
        case .csv: try CSV.write(table, to: path)
        case .npz: try NPZ.write(NumPyTable.arrays(from: table), to: path, compressed: compression != .none)
        case .npy: throw TableError("\(path): a table has several columns; write .npz instead of .npy")
        }
    }
}

/// The mapping between tables and named NumPy arrays. Scalar columns are 1-D arrays; a list column
/// `h` is stored as `h.values` plus `h.offsets` (and `h.inner_offsets` for list<list>), int64
/// offsets as Arrow uses them; nulls go in a bool `h.validity` array. Reading also accepts plain
/// 2-D and 3-D arrays as fixed-length list and list<list> columns.
public enum NumPyTable {
    public static func arrays(from table: Table) throws -> [(name: String, array: NDArray)] {
        var arrays: [(name: String, array: NDArray)] = []
        for column in table.columns {
            let values: NDArray
            switch column.values {
            case .bool(let v): values = try NDArray(v)
            case .int32(let v): values = try NDArray(v)
            case .int64(let v): values = try NDArray(v)
            case .float32(let v): values = try NDArray(v)
            case .float64(let v): values = try NDArray(v)
            case .string: throw TableError("column \(column.name) holds strings, which .npz files here cannot store")
            }
            if column.listOffsets.isEmpty {
                arrays.append((column.name, values))
            } else {
                arrays.append((column.name + ".values", values))
                arrays.append((column.name + ".offsets", try NDArray(column.listOffsets[0].map { Int64($0) })))
                if column.listOffsets.count > 1 {
                    arrays.append((column.name + ".inner_offsets", try NDArray(column.listOffsets[1].map { Int64($0) })))
                }
            }
            if let validity = column.validity { arrays.append((column.name + ".validity", try NDArray(validity))) }
        }
        return arrays
    }

    public static func table(from arrays: [(name: String, array: NDArray)], file: String) throws -> Table {
        let byName = Dictionary(arrays.map { ($0.name, $0.array) }, uniquingKeysWith: { first, _ in first })
        func fail(_ name: String, _ reason: String) -> FileFormatError { FileFormatError(file: file, object: name, reason: reason) }
        func offsets(_ name: String) throws -> [Int]? {
            guard let array = byName[name] else { return nil }
            guard array.dtype == .int64 || array.dtype == .int32, array.shape.count == 1 else { throw fail(name, "offsets must be a 1-D int64 array") }
            return array.dtype == .int64 ? try array.values(as: Int64.self).map { Int($0) } : try array.values(as: Int32.self).map { Int($0) }
        }
        var columns: [Column] = []
        for (name, array) in arrays {
            if name.hasSuffix(".offsets") || name.hasSuffix(".inner_offsets") || name.hasSuffix(".validity") { continue }
            var columnName = name
            var listOffsets: [[Int]] = []
            if name.hasSuffix(".values") {
                columnName = String(name.dropLast(7))
                guard let outer = try offsets(columnName + ".offsets") else { throw fail(name, "has no \(columnName).offsets array") }
                listOffsets = [outer]
                if let inner = try offsets(columnName + ".inner_offsets") { listOffsets.append(inner) }
            } else if array.shape.count == 2 || array.shape.count == 3 {
                var count = array.count
                for dimension in array.shape.dropFirst().reversed() {
                    let rows = dimension == 0 ? 0 : count / dimension
                    listOffsets.insert((0...rows).map { $0 * dimension }, at: 0)
                    count = rows
                }
            } else if array.shape.count > 3 {
                throw fail(name, "arrays of rank \(array.shape.count) have no table form (rank 1 to 3 only)")
            }
            let validity = try byName[columnName + ".validity"].map { try $0.values(as: Bool.self) }
            let values: ColumnValues
            switch array.dtype {
            case .bool: values = .bool(try array.values(as: Bool.self))
            case .int8: values = .int32(try array.values(as: Int8.self).map { Int32($0) })
            case .int16: values = .int32(try array.values(as: Int16.self).map { Int32($0) })
            case .uint8: values = .int32(try array.values(as: UInt8.self).map { Int32($0) })
            case .uint16: values = .int32(try array.values(as: UInt16.self).map { Int32($0) })
            case .int32: values = .int32(try array.values(as: Int32.self))
            case .uint32: values = .int64(try array.values(as: UInt32.self).map { Int64($0) })
            case .int64: values = .int64(try array.values(as: Int64.self))
            case .uint64: throw fail(name, "uint64 arrays have no table column type")
            case .float32: values = .float32(try array.values(as: Float.self))
            case .float64: values = .float64(try array.values(as: Double.self))
            }
            do {
                columns.append(try Column(name: columnName, values: values, listOffsets: listOffsets, validity: validity))
            } catch let error as TableError {
                throw fail(name, error.description)
            }
        }
        do {
            return try Table(columns: columns)
        } catch let error as TableError {
            throw FileFormatError(file: file, reason: error.description)
        }
    }
}
