import Foundation
import HEPMLCore
import HEPMLMetrics
import HEPMLPlot

/// The corner-style pair plots of the residuals (spec A.8, upstream `corner` over the residual
/// columns): per group of variables a lower triangle of 2-D residual densities (50 bins over the
/// 0.25–99.75 % quantile range), the 1-D residual histograms with their 16/84 % quantiles on the
/// diagonal, and in the upper triangle each pair's Pearson correlation as the panel colour on a
/// [−1, 1] diverging scale (upstream paints the off-diagonal facecolour with it).
enum ResidualCorner {
    static let bins = 50
    static let quantileRange = (0.0025, 0.9975)
    /// Groups with more variables than this are split (a 27 × 27 grid is unreadable).
    static let largestGroup = 7

    /// Upstream's 27D groups (`27D_analysis_corner.py`) when the variables are the ATLAS ones:
    /// each starts with pT and η and adds one family; otherwise one group of every variable, or,
    /// beyond `largestGroup`, the first two variables with each following block of five.
    static func groups(_ names: [String]) -> [[Int]] {
        let kinds = names.map { VariableKind($0).name }
        let atlas: [[String]] = [
            ["pt", "eta", "phi", "m"],
            ["pt", "eta", "ActiveArea", "ActiveArea4vec_eta", "ActiveArea4vec_phi", "ActiveArea4vec_pt", "ActiveArea4vec_m"],
            ["pt", "eta", "AverageLArQF", "NegativeE"], ["pt", "eta", "HECQuality", "LArQuality"],
            ["pt", "eta", "Width", "WidthPhi", "N90Constituents"], ["pt", "eta", "CentroidR", "DetectorEta"],
            ["pt", "eta", "LeadingClusterPt", "LeadingClusterCenterLambda", "LeadingClusterSecondLambda", "LeadingClusterSecondR"],
            ["pt", "eta", "EMFrac", "HECFrac"], ["pt", "eta", "Timing", "OotFracClusters5", "OotFracClusters10"],
        ]
        if names.count > largestGroup, Set(kinds).isSuperset(of: ["pt", "eta", "ActiveArea", "EMFrac"]) {
            return atlas.map { group in group.compactMap { kinds.firstIndex(of: $0) } }.filter { $0.count > 2 }
        }
        guard names.count > largestGroup else { return [Array(names.indices)] }
        let lead = largestGroup - 5
        return stride(from: lead, to: names.count, by: 5).map { Array(0..<lead) + Array($0..<min($0 + 5, names.count)) }
    }

    /// The corner figure of `columns` (residuals, NaN where undefined), labelled with `names`.
    static func figure(columns: [[Double]], names: [String], correlations: (Int, Int) -> Double, title: String) -> Figure {
        let n = columns.count
        let ranges = columns.map { column -> (low: Double, high: Double, q16: Double, q84: Double) in
            let sorted = column.filter { !$0.isNaN }.sorted()
            guard !sorted.isEmpty else { return (-1, 1, 0, 0) }
            var low = Quantile.ofSorted(sorted, quantileRange.0), high = Quantile.ofSorted(sorted, quantileRange.1)
            if !(high > low) { low -= 1e-12 + abs(low) * 1e-6; high += 1e-12 + abs(high) * 1e-6 }
            return (low, high, Quantile.ofSorted(sorted, 0.16), Quantile.ofSorted(sorted, 0.84))
        }
        let edges = ranges.map { Binning.uniformEdges(count: bins, lower: $0.low, upper: $0.high) }
        func bin(_ value: Double, _ variable: Int) -> Int? {
            let range = ranges[variable]
            guard value >= range.low, value < range.high else { return nil }
            return min(Int((value - range.low) / (range.high - range.low) * Double(bins)), bins - 1)
        }
        var panels: [Panel] = []
        for row in 0..<n {
            for column in 0..<n {
                let xLabel = row == n - 1 ? names[column] : nil, yLabel = column == 0 && row > 0 ? names[row] : nil
                if row == column {
                    var counts = [Double](repeating: 0, count: bins)
                    for value in columns[row] { if let k = bin(value, row) { counts[k] += 1 } }
                    panels.append(Panel(Axes(xLabel: xLabel, yLabel: nil, series: [
                        .histogram(edges: edges[row], contents: counts, style: .filled, color: Color(hex: 0x3F90DA)),
                        .verticalLine(at: ranges[row].q16, color: .black), .verticalLine(at: ranges[row].q84, color: .black),
                        .text(String(format: "σ68 %.1e", (ranges[row].q84 - ranges[row].q16) / 2), x: 0.03, y: 0.92),
                    ], legend: .hidden)))
                } else if row > column {
                    var density = [Double](repeating: 0, count: bins * bins)
                    for (x, y) in zip(columns[column], columns[row]) {
                        if let i = bin(x, column), let j = bin(y, row) { density[j * bins + i] += 1 }
                    }
                    let map = Heatmap(xEdges: edges[column], yEdges: edges[row], values: density.map { $0 > 0 ? $0 : .nan },
                                      colorScale: ColorScale(map: .viridis, scale: .log), showsColorbar: false)
                    panels.append(Panel(Axes(xLabel: xLabel, yLabel: yLabel, series: [.heatmap(map)], legend: .hidden)))
                } else {
                    let rho = correlations(row, column)
                    let cell = Heatmap(xEdges: [0, 1], yEdges: [0, 1], values: [rho], colorScale: ColorScale(map: .diverging, range: -1...1),
                                       showsColorbar: false)
                    panels.append(Panel(Axes(series: [.heatmap(cell), .text(String(format: "ρ = %.2f", rho), x: 0.5, y: 0.5, alignment: .center)],
                                             legend: .hidden)))
                }
            }
        }
        let side = 150.0 * Double(n) + 40
        return Figure(width: side, height: side, rows: n, columns: n, panels: panels, title: title)
    }
}
