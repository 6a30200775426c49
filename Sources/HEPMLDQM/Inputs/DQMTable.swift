import HEPMLColumnar

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

    /// One histogram column read back: per run the flattened contents (row-major for 2D), nil
    /// where the run lacks the histogram, and the common shape.
    public struct HistogramColumn: Sendable {
        public var name: String
        public var shape: [Int]
        public var runs: [[Double]?]
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
        let leaves: [Double]
        switch column.values {
        case .float32(let v): leaves = v.map(Double.init)
        case .float64(let v): leaves = v
        case .int32(let v): leaves = v.map(Double.init)
        case .int64(let v): leaves = v.map(Double.init)
        default: throw DQMError.invalidHistogram("column '\(column.name)' does not hold numbers")
        }
        let outer = column.listOffsets[0]
        var runs: [[Double]?] = []
        runs.reserveCapacity(column.rowCount)
        var shape: [Int]?
        for row in 0..<column.rowCount {
            if column.isNull(row) { runs.append(nil); continue }
            var contents: [Double] = []
            var rowShape: [Int]
            if column.listOffsets.count == 2 {
                let inner = column.listOffsets[1]
                let lists = outer[row]..<outer[row + 1]
                let width = lists.isEmpty ? 0 : inner[lists.lowerBound + 1] - inner[lists.lowerBound]
                var rectangular = true
                for list in lists {
                    let range = inner[list]..<inner[list + 1]
                    if range.count != width { rectangular = false; break }
                    contents.append(contentsOf: leaves[range])
                }
                guard rectangular else { runs.append(nil); continue }
                rowShape = [lists.count, width]
            } else {
                contents = Array(leaves[outer[row]..<outer[row + 1]])
                rowShape = [contents.count]
            }
            if shape == nil, !contents.isEmpty { shape = rowShape }
            runs.append(rowShape == shape ? contents : nil)
        }
        guard let shape else { throw DQMError.insufficientData("column '\(column.name)' has no non-empty histogram") }
        return HistogramColumn(name: column.name, shape: shape, runs: runs)
    }

    /// The histogram columns of a fetched or trained table: list columns that are neither
    /// scores nor reconstructions.
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
