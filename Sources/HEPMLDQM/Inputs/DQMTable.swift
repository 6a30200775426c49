import HEPMLColumnar
import HEPMLExperiment
import HEPMLTensor

/// The fetched (and trained) Parquet table in AutoDQM_ML's layout: one list column per
/// histogram (`list<float>` for 1D, `list<list<float>>` indexed `[x][y]` for 2D), then
/// `run_number` int64, `year` string and `label` int64; training adds `train_label` int64 and
/// `<hist>_score_<tag>` / `<hist>_reco_<tag>` columns.
public enum DQMTable {
    public static let runColumn = "run_number"
    public static let yearColumn = "year"
    public static let labelColumn = "label"
    public static let splitColumn = "train_label"

    public static func scoreColumn(_ histogram: String, tag: String) -> String { "\(histogram)_score_\(tag)" }
    public static func recoColumn(_ histogram: String, tag: String) -> String { "\(histogram)_reco_\(tag)" }

    /// One histogram column read back: the contents of every run in one contiguous buffer
    /// (row-major for 2D), as training takes them, and the common shape.
    public struct HistogramColumn: Sendable {
        public var name: String
        public var contents: ColumnBlock<Double>
        public var shape: [Int] { contents.rowShape }

        /// Per run the contents, nil where the run lacks the histogram (for the per-run algorithms).
        public var runs: [[Double]?] { (0..<contents.rowCount).map { contents.row($0).map(Array.init) } }

        /// The runs at `rows`, in that order.
        public func selecting(rows: [Int]) -> HistogramColumn {
            let width = contents.rowWidth
            var selected = contents
            selected.values = rows.flatMap { contents.values[($0 * width)..<(($0 + 1) * width)] }
            selected.present = rows.map { contents.present[$0] }
            return HistogramColumn(name: name, contents: selected)
        }
    }

    /// A list column from per-run contents of one `shape` (`[n]` or `[nx, ny]`); nil rows are nulls.
    /// `float64` picks the leaf type (AutoDQM_ML keeps TH*D as float64, everything else float32).
    public static func listColumn(name: String, shape: [Int], runs: [[Double]?], float64: Bool) throws -> Column {
        let binCount = shape.reduce(1, *)
        var leaves: [Double] = []
        leaves.reserveCapacity(runs.count * binCount)
        var outer = [0]
        var inner = [0]
        var validity: [Bool] = []
        for contents in runs {
            if let contents, contents.count == binCount {
                leaves.append(contentsOf: contents)
                if shape.count == 2 {
                    for _ in 0..<shape[0] { inner.append((inner.last ?? 0) + shape[1]) }
                    outer.append(inner.count - 1)
                } else {
                    outer.append(leaves.count)
                }
                validity.append(true)
            } else {
                outer.append(outer.last ?? 0)
                validity.append(false)
            }
        }
        let values: ColumnValues = float64 ? .float64(leaves) : .float32(leaves.map { Float($0) })
        let offsets = shape.count == 2 ? [outer, inner] : [outer]
        return try Column(name: name, values: values, listOffsets: offsets, validity: validity)
    }

    /// Reads a 1- or 2-level numeric list column; rows whose size differs from the first
    /// present row's are treated as missing (they cannot be compared bin by bin).
    public static func histogramColumn(_ column: Column) throws -> HistogramColumn {
        guard column.type.element.isNumeric, (1...2).contains(column.type.listDepth) else {
            throw DQMError.invalidHistogram("column '\(column.name)' is \(column.type), not a list of numbers")
        }
        do {
            return HistogramColumn(name: column.name, contents: try TableDataset.block(column, as: Double.self))
        } catch let error as TableDatasetError {
            throw DQMError.insufficientData("\(error)")
        }
    }

    public static func histogramColumnNames(_ table: Table) -> [String] {
        table.columns.filter { $0.type.listDepth >= 1 && !$0.name.contains("_reco_") && !$0.name.contains("_score_") }.map(\.name)
    }

    public static func runNumbers(_ table: Table) throws -> [Int] {
        try integers(table, runColumn)
    }

    /// Labels; a value other than 1, 0, -1 is an error naming the row.
    public static func labels(_ table: Table) throws -> [RunLabel] {
        try integers(table, labelColumn).enumerated().map { row, value in
            guard let label = RunLabel(rawValue: value) else {
                throw DQMError.invalidConfiguration("label \(value) in row \(row) is not 1, 0 or -1")
            }
            return label
        }
    }

    static func integers(_ table: Table, _ name: String) throws -> [Int] {
        let column = try table.column(name)
        switch column.values {
        case .int64(let v) where column.type.listDepth == 0: return v.map { Int($0) }
        case .int32(let v) where column.type.listDepth == 0: return v.map { Int($0) }
        default: throw DQMError.invalidConfiguration("column '\(name)' is \(column.type), expected int64")
        }
    }

    /// Float64 scores of a `_score_` column (nulls become NaN).
    public static func scores(_ table: Table, _ name: String) throws -> [Double] {
        let column = try table.column(name)
        let values: [Double]
        switch column.values {
        case .float64(let v) where column.type.listDepth == 0: values = v
        case .float32(let v) where column.type.listDepth == 0: values = v.map(Double.init)
        default: throw DQMError.invalidConfiguration("column '\(name)' is \(column.type), expected float64")
        }
        return values.indices.map { column.isNull($0) ? .nan : values[$0] }
    }
}
