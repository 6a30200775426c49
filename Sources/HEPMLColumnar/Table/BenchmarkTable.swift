import Foundation
import HEPMLCore

extension Table {
    /// The table of `hepml bench columnar` in the AutoDQM_ML shape: one row per run with
    /// `run_number`, `year` and `label`, then `histograms` list<float32> columns of `bins` Poisson
    /// bin counts around a per-histogram peak, scaled per run like DQM occupancies.
    /// bench/pyarrow_reference.py times pyarrow on the file written from it.
    public static func benchmarkHistogramRuns(runs: Int, histograms: Int, bins: Int, seed: UInt64) throws -> Table {
        let histogramColumns = try Parallel.map(histograms) { h -> Column in
            var random = SeededGenerator(seed: seed, stream: UInt64(h))
            let center = Double(random.nextUniform()) * Double(bins)
            let width = 5 + random.nextUniform() * Double(bins) / 4
            var values = [Float](repeating: 0, count: runs * bins)
            for run in 0..<runs {
                let scale = 20 + 200 * random.nextUniform()
                for bin in 0..<bins {
                    let x = (Double(bin) - center) / width
                    values[run * bins + bin] = Float(random.nextPoisson(mean: scale * exp(-0.5 * x * x) + 0.5))
                }
            }
            return try Column(name: "L1T/hist_\(h)", values: .float32(values), listOffsets: [(0...runs).map { $0 * bins }])
        }
        var columns = [
            try Column(name: "run_number", int64: (0..<runs).map { 315_000 + Int64($0) }),
            try Column(name: "year", strings: (0..<runs).map { ["2017", "2018", "2022"][$0 % 3] }),
            try Column(name: "label", int64: (0..<runs).map { $0 % 10 == 0 ? 1 : 0 }),
        ]
        columns += histogramColumns
        return try Table(columns: columns)
    }
}
