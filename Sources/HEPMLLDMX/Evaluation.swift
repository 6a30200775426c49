import Foundation
import HEPMLCore
import HEPMLExperiment
import HEPMLMetrics
import HEPMLNN
import HEPMLPlot

/// Figures of merit of a trained classifier on the test events (spec B.7, computed on the
/// scores rather than on upstream's 500-point threshold grid): ROC and AUC, the threshold with
/// the fewest misclassified events and its accuracy, signal acceptance, purity and background
/// pass rate (with the rejection factor, its inverse), and the signal efficiency at background
/// pass rates of 10⁻², 10⁻³, 10⁻⁴ with Clopper–Pearson intervals, for all masses together and
/// per A′ mass. An event is called signal when its score is at or above the threshold.
public struct LDMXEvaluation: Codable, Sendable {
    public struct EfficiencyAtPassRate: Codable, Sendable {
        public var targetPassRate: Double
        /// nil when the test background is too small to reach the target (fewer than 1/target events).
        public var signalEfficiency: Double?
        public var efficiencyLower: Double?
        public var efficiencyUpper: Double?
        public var achievedPassRate: Double?
        public var threshold: Double?
    }

    public struct Result: Codable, Sendable {
        /// nil: all masses together.
        public var massMeV: Int?
        public var signalEvents: Int
        public var backgroundEvents: Int
        public var auc: Double
        public var threshold: Double
        public var accuracy: Double
        public var signalAcceptance: Double
        public var purity: Double
        public var backgroundPassRate: Double
        public var rejection: Double
        public var efficiencies: [EfficiencyAtPassRate]

        public var label: String { massMeV.map { "\($0) MeV" } ?? "all masses" }
    }

    public var model: LDMXModelKind
    public var binning: ImageBinning
    public var results: [Result]
    /// Clopper–Pearson coverage of the efficiency intervals (±1σ).
    public var coverage: Double

    public static let targetPassRates = [1e-2, 1e-3, 1e-4]

    static func result(scores: [Double], isSignal: [Bool], mass: Int?) throws -> (Result, ROCCurve) {
        let curve = try ROCCurve(scores: scores, isPositive: isSignal)
        let point = curve.minimumErrorWorkingPoint
        let confusion = point.confusion
        var efficiencies: [EfficiencyAtPassRate] = []
        for target in targetPassRates {
            guard Double(curve.negativeCount) * target >= 1 else {
                efficiencies.append(EfficiencyAtPassRate(targetPassRate: target))
                continue
            }
            let working = curve.workingPoint(atFalsePositiveRate: target)
            let interval = try working.confusion.truePositiveRateInterval()
            efficiencies.append(EfficiencyAtPassRate(targetPassRate: target, signalEfficiency: working.confusion.truePositiveRate,
                                                     efficiencyLower: interval.lower, efficiencyUpper: interval.upper,
                                                     achievedPassRate: working.confusion.falsePositiveRate, threshold: working.threshold))
        }
        return (Result(massMeV: mass, signalEvents: curve.positiveCount, backgroundEvents: curve.negativeCount, auc: curve.auc,
                       threshold: point.threshold, accuracy: confusion.accuracy, signalAcceptance: confusion.truePositiveRate,
                       purity: confusion.precision, backgroundPassRate: confusion.falsePositiveRate, rejection: confusion.rejection,
                       efficiencies: efficiencies), curve)
    }
}

/// Scores, metrics, figures and the HTML report of `hepml ldmx evaluate`.
public enum LDMXEvaluator {
    public struct Outcome {
        public var evaluation: LDMXEvaluation
        public var reportPath: String
        public var onnxPath: String
    }

    /// Evaluates the model of `run` (trained by `LDMXTraining.train` on `images`) on its test
    /// events. Background is scored at each signal mass for the mass model, so every mass is
    /// compared with the whole test background. `hits` (the table the images came from, in the
    /// same event order) adds hit displays to the most signal-like background events.
    public static func evaluate(run: RunDirectory, images: LDMXImageSet, hits: ECalHitTable? = nil, displays: Int = 4,
                                log: (String) -> Void = { print($0) }) throws -> Outcome {
        let settings: LDMXTraining.Settings
        do { settings = try JSONDecoder().decode(LDMXTraining.Settings.self, from: Data(contentsOf: URL(fileURLWithPath: run.settingsFile))) } catch {
            throw FileFormatError(file: run.settingsFile, object: "LDMX run settings", reason: "\(error)")
        }
        guard settings.binning == images.binning, settings.events == images.count else {
            throw LDMXError("\(run.path) was trained on \(settings.events) events of \(settings.binning.description); the images given have \(images.count) of \(images.binning.description)")
        }
        let options = settings.options
        let model = try run.loadModel()
        let split = try LDMXSplit(count: images.count, trainFraction: options.trainFraction, seed: options.seed)
        let test = split.test
        let data = try LDMXTraining.dataset(images, rows: test, normalization: options.normalization, withMass: options.model.usesMass)
        let scores = try LDMXTraining.scores(model, on: data)
        guard scores.contains(where: \.isFinite) else {
            throw FileFormatError(file: run.weightsFile, object: "LDMX network",
                                  reason: "no finite score on the test images: the weights are damaged or the training diverged")
        }
        let isSignal = test.map { images.labels[$0] == 1 }
        var results: [LDMXEvaluation.Result] = []
        var curves: [(String, ROCCurve)] = []
        let (overall, overallCurve) = try LDMXEvaluation.result(scores: scores, isSignal: isSignal, mass: nil)
        results.append(overall)
        curves.append((overall.label, overallCurve))
        let backgroundRows = test.indices.filter { !isSignal[$0] }
        var signalScoresByMass: [(Int, [Double])] = []
        for mass in Set(test.filter { images.labels[$0] == 1 }.map { Int(images.massesMeV[$0]) }).sorted() {
            let signalRows = test.indices.filter { isSignal[$0] && Int(images.massesMeV[test[$0]]) == mass }
            var backgroundScores = backgroundRows.map { scores[$0] }
            if options.model.usesMass {
                let background = try LDMXTraining.dataset(images, rows: backgroundRows.map { test[$0] }, normalization: options.normalization,
                                                          withMass: true, massOverride: Float(mass))
                backgroundScores = try LDMXTraining.scores(model, on: background)
            }
            let signalScores = signalRows.map { scores[$0] }
            signalScoresByMass.append((mass, signalScores))
            guard !backgroundScores.isEmpty else { continue }
            let (result, curve) = try LDMXEvaluation.result(scores: signalScores + backgroundScores,
                                                            isSignal: signalScores.map { _ in true } + backgroundScores.map { _ in false }, mass: mass)
            results.append(result)
            curves.append((result.label, curve))
        }
        let evaluation = LDMXEvaluation(model: options.model, binning: images.binning, results: results, coverage: BinomialInterval.oneSigmaCoverage)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try AtomicFile.write(try encoder.encode(evaluation), to: run.file("evaluation.json"))

        let onnxPath = run.file("ldmx.onnx")
        try run.exportONNX(to: onnxPath, documentation: "LDMX ECal \(options.model.rawValue): \(images.binning.description); output: 2 logits (background, signal)")

        // The most signal-like background events.
        let worst = backgroundRows.sorted { scores[$0] > scores[$1] }.prefix(displays).map { (event: test[$0], score: scores[$0]) }
        var report = Report(title: "LDMX ECal signal/background classification", subtitle: "\(options.model.rawValue) on \(images.binning.description)")
        report.add(Report.Metric("AUC (all masses)", overall.auc, digits: 4))
        report.add(Report.Metric("Threshold (fewest errors)", overall.threshold, digits: 4))
        report.add(Report.Metric("Accuracy", overall.accuracy, digits: 4))
        report.add(Report.Metric("Test events", text: "\(overall.signalEvents) signal, \(overall.backgroundEvents) background"))
        report.add(Report.Section("Per A′ mass", [
            .paragraph("Threshold: the score with the fewest misclassified test events (signal when score ≥ threshold). Pass rate: the fraction of background passing it; rejection: its inverse. Efficiencies at fixed background pass rates with Clopper–Pearson ±1σ intervals; n/a where the test background has fewer than 1/rate events."),
            .table(metricsTable(results)),
        ]))
        report.add(Report.Section("Scores and ROC", [
            .figure(scoreFigure(background: backgroundRows.map { scores[$0] }, signal: signalScoresByMass), name: "scores",
                    caption: "P(signal) of the test events, 50 log bins over [10⁻⁵, 1] (scores below 10⁻⁵ in the first bin)."),
            .figure(rocFigure(curves), name: "roc", caption: "ROC on log–log axes: background pass rate against signal efficiency."),
        ]))
        if let history = try? JSONDecoder().decode(TrainingHistory.self, from: Data(contentsOf: URL(fileURLWithPath: run.historyJSON))) {
            report.add(Report.Section("Training", [.figure(.lossCurves([("train", history.epochs.map(\.trainLoss)),
                                                                         ("test", history.epochs.compactMap(\.validationLoss))]),
                                                           name: "loss", caption: "Cross-entropy per epoch on the training and test events.")]))
        }
        report.add(Report.Section("Most signal-like background events", worst.map { entry in
            Report.Block.figure(eventDisplay(images: images, event: entry.event, hits: hits, score: entry.score), name: "background-\(entry.event)",
                    caption: "Source \(images.sources[entry.event]), event \(images.eventNumbers[entry.event]), score \(String(format: "%.4g", entry.score)).")
        }))
        let reportPath = try report.write(to: run.reportDirectory)
        return Outcome(evaluation: evaluation, reportPath: reportPath, onnxPath: onnxPath)
    }

    static func format(_ value: Double?, _ digits: Int = 4) -> String {
        guard let value else { return "n/a" }
        if value == .infinity { return "∞" }
        guard value.isFinite else { return "n/a" }
        return String(format: "%.\(digits)g", value)
    }

    public static func metricsTable(_ results: [LDMXEvaluation.Result]) -> Report.Table {
        let headers = ["sample", "signal", "background", "AUC", "threshold", "accuracy", "acceptance", "purity", "pass rate", "rejection"]
            + LDMXEvaluation.targetPassRates.map { "ε_sig @ \(format($0, 1))" }
        let rows: [[Report.Cell]] = results.map { r in
            [.text(r.label), .integer(r.signalEvents), .integer(r.backgroundEvents), .number(r.auc, digits: 4), .number(r.threshold, digits: 4),
             .number(r.accuracy, digits: 4), .number(r.signalAcceptance, digits: 4), .number(r.purity, digits: 4),
             .number(r.backgroundPassRate, digits: 3), .text(format(r.rejection))]
                + r.efficiencies.map { e -> Report.Cell in
                    guard let value = e.signalEfficiency else { return .text("n/a") }
                    return .text("\(format(value, 3)) [\(format(e.efficiencyLower, 3)), \(format(e.efficiencyUpper, 3))]")
                }
        }
        return Report.Table(headers: headers, rows: rows)
    }

    /// Terminal lines of `metricsTable`.
    public static func summaryLines(_ evaluation: LDMXEvaluation) -> [String] {
        let table = metricsTable(evaluation.results)
        func text(_ cell: Report.Cell) -> String {
            switch cell {
            case .text(let value): return value
            case .integer(let value): return String(value)
            case .number(let value, let digits): return format(value, digits)
            }
        }
        let rows = [table.headers] + table.rows.map { $0.map(text) }
        let widths = table.headers.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ") }
    }

    static func scoreFigure(background: [Double], signal: [(Int, [Double])]) -> Figure {
        let edges = Binning.uniformEdges(count: 50, lower: -5, upper: 0).map { pow(10, $0) }
        let binning = Binning(edges: edges) ?? Binning(count: 50, lower: 1e-5, upper: 1)
        func counts(_ values: [Double]) -> [Double] { binning.clampedCounts(values.map { max($0, 1e-5) }) }
        var series: [Series] = [.histogram(edges: edges, contents: counts(background), style: .filled, label: "PN background", color: .gray)]
        for (index, entry) in signal.enumerated() {
            series.append(.histogram(edges: edges, contents: counts(entry.1), label: "A′ \(entry.0) MeV", color: Palette.cycleColor(index, of: signal.count)))
        }
        return Figure(Axes(xLabel: "P(signal)", yLabel: "Events", xScale: .log, yScale: .log, series: series, legend: .upperLeft), width: 520, height: 400)
    }

    static func rocFigure(_ curves: [(String, ROCCurve)]) -> Figure {
        var series: [Series] = []
        var smallest = 1.0, lowest = 1.0
        for (index, entry) in curves.enumerated() {
            let curve = entry.1
            let points = curve.falsePositiveRates.indices.filter { curve.falsePositiveRates[$0] > 0 && curve.truePositiveRates[$0] > 0 }
            smallest = min(smallest, 1 / Double(max(curve.negativeCount, 1)))
            lowest = min(lowest, points.map { curve.truePositiveRates[$0] }.min() ?? 1)
            series.append(.line(x: points.map { curve.falsePositiveRates[$0] }, y: points.map { curve.truePositiveRates[$0] },
                                label: "\(entry.0) (AUC \(String(format: "%.4f", curve.auc)))", color: index == 0 ? .black : Palette.cycleColor(index - 1, of: curves.count - 1),
                                lineWidth: index == 0 ? 2.5 : 1.5))
        }
        let axes = Axes(xLabel: "Background pass rate (FPR)", yLabel: "Signal efficiency (TPR)", xScale: .log, yScale: .log,
                        xLimits: max(smallest / 2, 1e-6)...1, yLimits: max(lowest / 2, 1e-4)...1.1, series: series, legend: .lowerRight)
        return Figure(axes, width: 520, height: 440)
    }

    /// The event's image channels, and with `hits` its hits in the three projections (marker
    /// area ∝ energy is not available, so hits above the event's median energy are drawn red).
    static func eventDisplay(images: LDMXImageSet, event: Int, hits: ECalHitTable?, score: Double) -> Figure {
        let binning = images.binning, dim = binning.dim, pixels = binning.pixelsPerEvent
        var panels: [Panel] = []
        if let hits, event < hits.eventCount {
            let range = hits.hits(of: event)
            let energies = range.map { Double(hits.energy[$0]) }.sorted()
            let median = energies.isEmpty ? 0 : energies[energies.count / 2]
            let hot = range.filter { Double(hits.energy[$0]) > median }, cold = range.filter { Double(hits.energy[$0]) <= median }
            func projection(_ a: [Float], _ b: [Float], _ xLabel: String, _ yLabel: String) -> Panel {
                Panel(Axes(xLabel: xLabel, yLabel: yLabel, series: [
                    .scatter(x: cold.map { Double(a[$0]) }, y: cold.map { Double(b[$0]) }, color: .gray, markerSize: 3),
                    .scatter(x: hot.map { Double(a[$0]) }, y: hot.map { Double(b[$0]) }, label: "E > median", color: Palette.petroff6[2], markerSize: 4),
                ], legend: .hidden))
            }
            panels += [projection(hits.z, hits.x, "z (mm)", "x (mm)"), projection(hits.z, hits.y, "z (mm)", "y (mm)"),
                       projection(hits.x, hits.y, "x (mm)", "y (mm)")]
        }
        let names = binning.format == .xyz ? ["x–y", "y–z", "z–x"] : (0..<binning.channels).map { "z slice \($0)" }
        for channel in 0..<min(binning.channels, 6) {
            let start = event * pixels + channel * dim * dim
            let values = images.images[start..<(start + dim * dim)].map(Double.init)
            // Image rows are the first index; heatmaps take rows along y.
            let map = Heatmap(columns: dim, rows: dim, values: Heatmap.rowsAlongY(xMajor: values, columns: dim, rows: dim),
                              colorScale: ColorScale(), colorbarLabel: "E (MeV)")
            panels.append(Panel(Axes(title: names[channel], series: [.heatmap(map)], legend: .hidden)))
        }
        let columns = 3
        let rows = (panels.count + columns - 1) / columns
        return Figure(width: 3 * 230, height: Double(rows) * 210 + 30, rows: rows, columns: columns, panels: panels,
                      title: String(format: "background event, score %.4g", score))
    }
}
