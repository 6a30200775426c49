import HEPMLColumnar
import HEPMLCore
import HEPMLNN
import HEPMLTensor

/// A table column as training data: one contiguous buffer of `rows × rowShape` values, converted
/// from the column's own leaf buffer in a single pass (no per-row arrays), with the rows that are
/// null or of another shape marked absent and zero-filled.
public struct ColumnBlock<T: TensorScalar>: Sendable {
    public var name: String
    /// Per-row shape: [] for a scalar column, [n] for a list, [n, m] for a rectangular list of lists.
    public var rowShape: [Int]
    public var values: [T]
    public var present: [Bool]

    public var rowCount: Int { present.count }
    public var rowWidth: Int { rowShape.reduce(1, *) }

    /// Row `row`'s values; nil when the row is absent.
    public func row(_ row: Int) -> ArraySlice<T>? {
        present[row] ? values[(row * rowWidth)..<((row + 1) * rowWidth)] : nil
    }

    /// The rows at `rows` as a tensor [rows.count] + rowShape.
    public func tensor(rows: [Int]) throws -> Tensor<T> {
        let all = try Tensor(shape: [rowCount] + rowShape, scalars: values)
        return rows.count == rowCount && rows.elementsEqual(0..<rowCount) ? all : try all.gatheringRows(ArraySlice(rows))
    }
}

/// Hands `Table` columns to training: numeric scalar columns and fixed-size list columns (one or
/// two list levels, e.g. 1-D and 2-D histograms) become `ColumnBlock`s and `Dataset`s.
public enum TableDataset {
    /// The column `name` of `table` as one contiguous block. The row shape is the first non-empty
    /// row's; rows that differ from it (or are null) are absent.
    public static func block<T: TensorScalar>(_ table: Table, column name: String, as _: T.Type = T.self) throws -> ColumnBlock<T> {
        guard let column = table[name] else { throw TableDatasetError(column: name, reason: "no such column") }
        return try block(column)
    }

    public static func block<T: TensorScalar>(_ column: Column, as _: T.Type = T.self) throws -> ColumnBlock<T> {
        let leaves: [T]
        switch column.values {
        case .float32(let v): leaves = v.map { T($0) }
        case .float64(let v): leaves = v.map { T($0) }
        case .int32(let v): leaves = v.map { T($0) }
        case .int64(let v): leaves = v.map { T($0) }
        case .bool(let v): leaves = v.map { $0 ? 1 : 0 }
        case .string: throw TableDatasetError(column: column.name, reason: "holds strings, not numbers")
        }
        let rows = column.rowCount
        switch column.listOffsets.count {
        case 0:
            return ColumnBlock(name: column.name, rowShape: [], values: leaves, present: (0..<rows).map { !column.isNull($0) })
        case 1, 2:
            // Each row's leaf range and shape; a 2-D row must be rectangular.
            let outer = column.listOffsets[0]
            var ranges: [Range<Int>?] = []
            var shapes: [[Int]] = []
            ranges.reserveCapacity(rows)
            for row in 0..<rows {
                guard !column.isNull(row) else { ranges.append(nil); shapes.append([]); continue }
                if column.listOffsets.count == 1 {
                    ranges.append(outer[row]..<outer[row + 1])
                    shapes.append([outer[row + 1] - outer[row]])
                } else {
                    let inner = column.listOffsets[1], lists = outer[row]..<outer[row + 1]
                    let width = lists.isEmpty ? 0 : inner[lists.lowerBound + 1] - inner[lists.lowerBound]
                    let rectangular = lists.allSatisfy { inner[$0 + 1] - inner[$0] == width }
                    ranges.append(rectangular && !lists.isEmpty ? inner[lists.lowerBound]..<inner[lists.upperBound] : nil)
                    shapes.append([lists.count, width])
                }
            }
            guard let first = zip(ranges, shapes).first(where: { $0.0.map { !$0.isEmpty } ?? false }) else {
                throw TableDatasetError(column: column.name, reason: "has no non-empty row")
            }
            let rowShape = first.1, width = rowShape.reduce(1, *)
            var values = [T](repeating: 0, count: rows * width)
            var present = [Bool](repeating: false, count: rows)
            values.withUnsafeMutableBufferPointer { out in
                leaves.withUnsafeBufferPointer { source in
                    for row in 0..<rows {
                        guard let range = ranges[row], shapes[row] == rowShape, range.count == width else { continue }
                        present[row] = true
                        guard width > 0, let from = source.baseAddress, let to = out.baseAddress else { continue }
                        (to + row * width).update(from: from + range.lowerBound, count: width)
                    }
                }
            }
            return ColumnBlock(name: column.name, rowShape: rowShape, values: values, present: present)
        default:
            throw TableDatasetError(column: column.name, reason: "is \(column.type); only scalars and lists of up to two levels are training data")
        }
    }

    /// A data set of the `rows` of `table`: `inputs` (the first is the model's first input, the
    /// others its side inputs, in order) and `targets` (the inputs themselves when nil, for an
    /// autoencoder). Every selected row must be present in every column.
    public static func dataset(_ table: Table, inputs: [String], targets: String?, rows: [Int]) throws -> Dataset<Float> {
        guard !inputs.isEmpty else { throw TableDatasetError(column: "", reason: "a data set needs at least one input column") }
        let blocks = try inputs.map { try block(table, column: $0, as: Float.self) }
        for block in blocks {
            if let missing = rows.first(where: { $0 < 0 || $0 >= block.rowCount || !block.present[$0] }) {
                throw TableDatasetError(column: block.name, reason: "row \(missing) is missing or not of shape \(block.rowShape)")
            }
        }
        let tensors = try blocks.map { try $0.tensor(rows: rows) }
        let target = try targets.map { try block(table, column: $0, as: Float.self).tensor(rows: rows) } ?? tensors[0]
        return try Dataset(inputs: tensors[0], sideInputs: Array(tensors.dropFirst()), targets: target)
    }
}

public struct TableDatasetError: Error, CustomStringConvertible {
    public var column: String
    public var reason: String
    public var description: String { "column '\(column)' \(reason)" }
}
