import Foundation
import HEPMLMetrics

/// Ready-made figures for what every workflow draws; `hepml plot` and the workflow reports call
/// these rather than assembling axes by hand.
extension Figure {
    /// One stored 1D histogram. `errors` (one per bin) draws error bars.
    public static func histogram(edges: [Double], contents: [Double], errors: [Double]? = nil, title: String? = nil,
                                 xLabel: String? = nil, yLabel: String? = "Entries", label: String? = nil,
                                 logY: Bool = false) -> Figure {
        let series = Series.histogram(edges: edges, contents: contents, errors: errors, style: .filled, label: label)
        return Figure(Axes(title: title, xLabel: xLabel, yLabel: yLabel, yScale: logY ? .log : .linear, series: [series]))
    }

    /// One stored 2D histogram or map. `values` is row-major: `values[row * columns + column]`,
    /// rows along y (see `Heatmap`); `mask` marks inactive cells.
    public static func heatmap(xEdges: [Double], yEdges: [Double], values: [Double], mask: [Bool]? = nil,
                               colorScale: ColorScale = ColorScale(), title: String? = nil, xLabel: String? = nil,
                               yLabel: String? = nil, colorbarLabel: String? = nil, showsCellGrid: Bool = false) -> Figure {
        let map = Heatmap(xEdges: xEdges, yEdges: yEdges, values: values, mask: mask, colorScale: colorScale,
                          showsCellGrid: showsCellGrid, colorbarLabel: colorbarLabel)
        return Figure(Axes(title: title, xLabel: xLabel, yLabel: yLabel, series: [.heatmap(map)], legend: .hidden), width: 480)
    }

    /// ROC curves with their uncertainty bands, FPR on x and TPR on y; `logX` shows small
    /// false-positive rates (from 0.005, as AutoDQM's log ROC).
    public static func roc(_ curves: [ROCSeries], title: String? = nil, logX: Bool = false,
                           xLabel: String = "False Anomaly Rate (FPR)", yLabel: String = "Anomaly Detection Efficiency (TPR)") -> Figure {
        var series: [Series] = []
        for (index, curve) in curves.enumerated() {
            let color = Palette.cycleColor(index, of: curves.count)
            if let band = curve.tprUncertainty, band.count == curve.tpr.count {
                series.append(.band(x: curve.fpr, lower: zip(curve.tpr, band).map { $0 - $1 }, upper: zip(curve.tpr, band).map { $0 + $1 },
                                    color: color, fillOpacity: 0.25))
            }
            series.append(.line(x: curve.fpr, y: curve.tpr, label: curve.label, color: color, lineWidth: 2))
        }
        // The random classifier, TPR = FPR; sampled densely because it is curved on a log axis.
        let diagonal = logX ? (0...100).map { pow(10, -3 + 3 * Double($0) / 100) } : [0, 1]
        series.append(.line(x: diagonal, y: diagonal, color: .gray, lineWidth: 1, dash: [4, 3]))
        let axes = Axes(title: title, xLabel: xLabel, yLabel: yLabel, xScale: logX ? .log : .linear,
                        xLimits: logX ? 0.005...1 : 0...1, yLimits: 0...1.05, series: series, legend: .lowerRight)
        return Figure(axes, width: 420, height: 400)
    }

    /// A reference histogram (drawn as data points) against one or more candidates (e.g. the
    /// autoencoder reconstruction), with a lower panel of reference − candidate or reference / candidate.
    public static func comparison(edges: [Double], reference: [Double], referenceErrors: [Double]? = nil,
                                  referenceLabel: String = "Data", candidates: [(label: String, contents: [Double])],
                                  lowerPanel: LowerPanel = .difference, lowerLimits: ClosedRange<Double>? = nil,
                                  title: String? = nil, xLabel: String? = nil, yLabel: String? = nil, logY: Bool = false) -> Figure {
        var main: [Series] = [.histogram(edges: edges, contents: reference, errors: referenceErrors, style: .points, label: referenceLabel)]
        var lower: [Series] = [.horizontalLine(at: lowerPanel == .ratio ? 1 : 0, color: .gray)]
        let centres = zip(edges, edges.dropFirst()).map { ($0 + $1) / 2 }
        for (index, candidate) in candidates.enumerated() {
            let color = Palette.cycleColor(index, of: candidates.count)
            main.append(.histogram(edges: edges, contents: candidate.contents, style: .step, label: candidate.label, color: color))
            let values: [Double] = zip(reference, candidate.contents).map { ref, cand in
                lowerPanel == .ratio ? (cand != 0 ? ref / cand : .nan) : ref - cand
            }
            lower.append(.scatter(x: Array(centres.prefix(values.count)), y: values, color: color, markerSize: 4))
        }
        let mainAxes = Axes(title: title, yLabel: yLabel, yScale: logY ? .log : .linear, series: main)
        let lowerAxes = Axes(xLabel: xLabel, yLabel: lowerPanel == .ratio ? "Ratio" : "Difference", yLimits: lowerLimits,
                             series: lower, legend: .hidden)
        return Figure(width: 460, height: 400, panels: [Panel(mainAxes, subpanel: lowerAxes)])
    }

    public enum LowerPanel: Sendable {
        case difference
        case ratio
    }

    /// Several maps side by side on one shared colour scale (e.g. the 7 HCAL depths, or ECON-T
    /// input/output 8×8 images), `columns` per row.
    public static func imageGrid(_ maps: [Heatmap], titles: [String] = [], columns: Int, colorScale: ColorScale = ColorScale(),
                                 colorbarLabel: String? = nil, xLabel: String? = nil, yLabel: String? = nil,
                                 equalAspect: Bool = false, panelWidth: Double = 180, panelHeight: Double = 160,
                                 title: String? = nil) -> Figure {
        let columns = max(1, min(columns, max(maps.count, 1)))
        let rows = max(1, (maps.count + columns - 1) / columns)
        let panels = maps.enumerated().map { index, map -> Panel in
            var map = map
            map.showsColorbar = false
            return Panel(Axes(title: index < titles.count ? titles[index] : nil, xLabel: xLabel, yLabel: yLabel,
                              series: [.heatmap(map)], legend: .hidden, equalAspect: equalAspect))
        }
        return Figure(width: panelWidth * Double(columns) + 70, height: panelHeight * Double(rows) + (title != nil ? 24 : 0),
                      rows: rows, columns: columns, panels: panels, title: title,
                      sharedColorbar: Colorbar(colorScale, label: colorbarLabel))
    }

    /// Training and validation loss per epoch, log y by default because losses fall by decades.
    public static func lossCurves(_ curves: [(label: String, values: [Double])], logY: Bool = true,
                                  yLabel: String = "Loss", title: String? = nil) -> Figure {
        let series = curves.map { curve in
            Series.line(x: (0..<curve.values.count).map { Double($0 + 1) }, y: curve.values, label: curve.label)
        }
        return Figure(Axes(title: title, xLabel: "Epoch", yLabel: yLabel, yScale: logY ? .log : .linear, series: series))
    }
}

/// One curve of `Figure.roc`, taken from what HEPMLMetrics computed (Plot computes no ROC).
public struct ROCSeries: Sendable {
    public let fpr: [Double]
    public let tpr: [Double]
    /// Half-width of the band around `tpr`, nil for no band.
    public let tprUncertainty: [Double]?
    public let label: String?

    /// The curve's own points, without a band.
    public init(_ curve: ROCCurve, label: String? = nil) {
        fpr = curve.falsePositiveRates
        tpr = curve.truePositiveRates
        tprUncertainty = nil
        self.label = label
    }

    /// The bootstrap-mean true-positive rate on its false-positive-rate grid, with a band of
    /// ± `bandStandardDeviations` standard deviations of the resamples (AutoDQM_ML draws ±σ/2).
    public init(_ bootstrap: ROCBootstrap, bandStandardDeviations: Double = 1, label: String? = nil) {
        fpr = bootstrap.grid
        tpr = bootstrap.meanTruePositiveRates
        tprUncertainty = bootstrap.truePositiveRateUncertainties.map { $0 * bandStandardDeviations }
        self.label = label
    }
}
