import Foundation
import HEPMLCore
import HEPMLMetrics
import HEPMLPlot

/// Example figures of every kind the workflows draw, built from seeded toy data. The gallery
/// test renders them all; set HEPML_GALLERY_DIR to keep the files and look at them.
enum Gallery {
    static func figures() -> [(name: String, figure: Figure)] {
        [("roc_band", roc(logX: false)), ("roc_log", roc(logX: true)), ("comparison_residual", comparison()),
         ("hcal_depth_masked", hcalDepth()), ("hcal_depths_grid", hcalDepthGrid()),
         ("scores_log", scoreDistributions()), ("loss", loss()), ("econt_images", econtImages()),
         ("profile_band", profile()), ("wafer", wafer())]
    }

    static func roc(logX: Bool) -> Figure {
        var curves: [ROCSeries] = []
        var generator = SeededGenerator(seed: 5)
        for (name, separation) in [("AE", 1.6), ("PCA", 0.9)] {
            let isPositive = (0..<400).map { $0 % 4 == 0 }
            let scores = isPositive.map { ($0 ? separation : 0) + generator.nextNormal() }
            guard let bootstrap = try? ROCBootstrap(scores: scores, isPositive: isPositive, seed: 6) else { continue }
            curves.append(ROCSeries(bootstrap, label: String(format: "%@ [AUC = %.3f ± %.3f]", name, bootstrap.nominal.auc, bootstrap.aucUncertainty)))
        }
        return .roc(curves, title: logX ? "ROC (log FPR)" : "ROC", logX: logX)
    }

    static func gaussianHistogram(mean: Double, sigma: Double, count: Int, bins: Int, seed: UInt64) -> (edges: [Double], contents: [Double]) {
        var rng = SeededGenerator(seed: seed)
        var contents = [Double](repeating: 0, count: bins)
        for _ in 0..<count {
            let x = mean + sigma * rng.nextNormal()
            let bin = Int(floor(x * Double(bins)))
            if bin >= 0 && bin < bins { contents[bin] += 1 }
        }
        return ((0...bins).map { Double($0) / Double(bins) }, contents)
    }

    static func comparison() -> Figure {
        let data = gaussianHistogram(mean: 0.45, sigma: 0.15, count: 5000, bins: 40, seed: 1)
        let total = data.contents.reduce(0, +)
        let normalized = data.contents.map { $0 / total }
        let errors = data.contents.map { sqrt($0) / total }
        let reco = (0..<40).map { bin -> Double in
            let x = (Double(bin) + 0.5) / 40
            return exp(-pow(x - 0.45, 2) / (2 * 0.15 * 0.15)) / (0.15 * sqrt(2 * .pi)) / 40
        }
        let sse = zip(normalized, reco).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
        return .comparison(edges: data.edges, reference: normalized, referenceErrors: errors, referenceLabel: "Run 355872",
                            candidates: [(label: "AE (SSE = \(String(format: "%.2e", sse)))", contents: reco)],
                            lowerLimits: -0.02...0.02, title: "L1TStage2CaloLayer1/ecalOccupancy",
                            xLabel: "Normalized bin", yLabel: "Fraction of entries")
    }

    /// A 64 × 72 occupancy map with the HCAL-like inactive region masked.
    static func hcalMap(depth: Int) -> Heatmap {
        var rng = SeededGenerator(seed: UInt64(depth + 10))
        var values = [Double](repeating: 0, count: 64 * 72)
        var mask = [Bool](repeating: false, count: 64 * 72)
        for ieta in 0..<64 {
            for iphi in 0..<72 {
                let index = iphi * 64 + ieta
                let distance = abs(Double(ieta) - 31.5)
                mask[index] = iphi == 71 || distance < Double(depth * 3) || distance > 30 - Double(depth)
                values[index] = 200 * exp(-distance / 15) * (1 + 0.1 * rng.nextNormal()) / Double(depth)
            }
        }
        values[20 * 64 + 12] = 1200  // a hot channel
        return Heatmap(xEdges: (0...64).map { Double($0) - 32 }, yEdges: (0...72).map { Double($0) + 0.5 },
                       values: values, mask: mask, colorbarLabel: "Digi occupancy")
    }

    static func hcalDepth() -> Figure {
        Figure(Axes(title: "HE depth 2", xLabel: "i\u{03B7}", yLabel: "i\u{03C6}", series: [.heatmap(hcalMap(depth: 2))], legend: .hidden), width: 460, height: 380)
    }

    static func hcalDepthGrid() -> Figure {
        .imageGrid((1...7).map { hcalMap(depth: $0) }, titles: (1...7).map { "Depth \($0)" }, columns: 4,
                   colorScale: ColorScale(scale: .log), colorbarLabel: "Digi occupancy", xLabel: "i\u{03B7}", yLabel: "i\u{03C6}",
                   title: "HE occupancy, LS 42")
    }

    static func econtImages() -> Figure {
        var rng = SeededGenerator(seed: 7)
        var maps: [Heatmap] = []
        for _ in 0..<3 {
            var values = (0..<64).map { _ in max(0, rng.nextNormal() * 2 + 1) }
            var mask = [Bool](repeating: false, count: 64)
            for p in 0..<64 where (p / 8) >= 4 && (p % 8) >= 4 { mask[p] = true; values[p] = 0 }
            maps.append(Heatmap(columns: 8, rows: 8, values: values, mask: mask, showsCellGrid: true))
        }
        return .imageGrid(maps, titles: ["Input", "Output", "Input − output"], columns: 3, colorbarLabel: "Charge [MIP_{T}]",
                          equalAspect: true, panelWidth: 150, panelHeight: 150)
    }

    static func scoreDistributions() -> Figure {
        var rng = SeededGenerator(seed: 3)
        let edges = (0...40).map { pow(10, -6 + Double($0) * 0.125) }
        func histogram(_ mean: Double, _ count: Int) -> [Double] {
            var contents = [Double](repeating: 0, count: 40)
            for _ in 0..<count {
                let logScore = mean + 0.6 * rng.nextNormal()
                let bin = Int(floor((logScore + 6) / 0.125))
                if bin >= 0 && bin < 40 { contents[bin] += 1 }
            }
            let total = contents.reduce(0, +)
            return contents.map { $0 / max(total, 1) }
        }
        let axes = Axes(xLabel: "Anomaly Score", yLabel: "Fraction of runs", xScale: .log, yScale: .log,
                        series: [.histogram(edges: edges, contents: histogram(-4, 2000), style: .filled, label: "good runs [N = 2000]"),
                                 .histogram(edges: edges, contents: histogram(-2.5, 300), label: "anomalous runs [N = 300]"),
                                 .verticalLine(at: 1e-3, label: "threshold")])
        return Figure(axes)
    }

    static func loss() -> Figure {
        let train = (0..<60).map { 0.5 * exp(-Double($0) / 12) + 0.01 }
        let validation = (0..<60).map { 0.55 * exp(-Double($0) / 12) + 0.014 + 0.002 * sin(Double($0)) }
        return .lossCurves([("training", train), ("validation", validation)], title: "Autoencoder training")
    }

    static func profile() -> Figure {
        let x = (0..<48).map { Double($0) + 0.5 }
        let median = x.map { 2.0 / sqrt($0 + 1) + 0.1 }
        let axes = Axes(xLabel: "Occupancy [TC > 1 MIP_{T}]", yLabel: "EMD",
                        series: [.band(x: x, lower: median.map { $0 * 0.7 }, upper: median.map { $0 * 1.4 }, label: "68 % band", color: Palette.petroff6[0]),
                                 .line(x: x, y: median, label: "median", color: Palette.petroff6[0]),
                                 .text("ECON-T AE, 16-bit latent", x: 0.5, y: 0.92, alignment: .center)])
        return Figure(axes)
    }

    /// A hexagonal wafer cut into 3 rhombus sectors of 4 × 4 rhombus cells: 48 trigger cells.
    static func waferCells() -> [[Point]] {
        var cells: [[Point]] = []
        for sector in 0..<3 {
            let angle = Double.pi / 2 + Double(sector) * 2 * .pi / 3
            let a = Point(x: cos(angle), y: sin(angle))
            let b = Point(x: cos(angle + 2 * .pi / 3), y: sin(angle + 2 * .pi / 3))
            func corner(_ i: Int, _ j: Int) -> Point {
                Point(x: (Double(i) * a.x + Double(j) * b.x) / 4, y: (Double(i) * a.y + Double(j) * b.y) / 4)
            }
            for i in 0..<4 {
                for j in 0..<4 {
                    cells.append([corner(i, j), corner(i + 1, j), corner(i + 1, j + 1), corner(i, j + 1)])
                }
            }
        }
        return cells
    }

    static func wafer() -> Figure {
        var rng = SeededGenerator(seed: 11)
        let values = (0..<48).map { _ in max(0, 3 + 2 * rng.nextNormal()) }
        var mask = [Bool](repeating: false, count: 48)
        mask[47] = true
        let map = PolygonMap(polygons: waferCells(), values: values, mask: mask, colorbarLabel: "Charge [MIP_{T}]")
        return Figure(Axes(title: "ECON-T input, wafer (u, v) = (3, 5)", xLabel: "x", yLabel: "y",
                           series: [.polygons(map)], legend: .hidden, equalAspect: true), width: 400, height: 340)
    }
}
