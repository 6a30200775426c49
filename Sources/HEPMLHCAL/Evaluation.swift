import Foundation
import HEPMLColumnar
import HEPMLCore
import HEPMLExperiment
import HEPMLMetrics
import HEPMLNN
import HEPMLPlot

/// Synthetic channel anomalies (upstream `SyntheticDQMChannelAnomalyGenerator`, docs/hcal.md):
/// a box in (ieta, iphi, depth) on one detector side whose occupancy is multiplied by Rd.
public struct HCALAnomalyBox: Codable, Equatable, Sendable {
    public var ieta: ClosedRange<Int>
    public var iphi: ClosedRange<Int>
    public var depth: ClosedRange<Int>

    /// Draws a box: per axis two integers in the subdetector's range until their distance is
    /// within the extent limits (ieta ≤ N_ieta + 1, iphi ≤ 5, depth ≤ N_depth + 1; ≥ 1 so every
    /// box spans at least two cells per axis), one random side for ieta, redrawn until it holds an
    /// active channel.
    public static func draw(_ subdetector: HCALSubdetector, mask: HCALMask, generator: inout SeededGenerator) -> HCALAnomalyBox {
        let eta = subdetector.absoluteEtaRange, depths = 1...subdetector.depthCount
        func edges(_ range: ClosedRange<Int>, maximumExtent: Int) -> ClosedRange<Int> {
            while true {
                let a = range.lowerBound + Int(generator.next() % UInt64(range.count))
                let b = range.lowerBound + Int(generator.next() % UInt64(range.count))
                if (1...maximumExtent).contains(abs(a - b)) { return min(a, b)...max(a, b) }
            }
        }
        while true {
            let absoluteEta = edges(eta, maximumExtent: eta.count + 1), sign = generator.next() % 2 == 0 ? 1 : -1
            let box = HCALAnomalyBox(ieta: sign > 0 ? absoluteEta : (-absoluteEta.upperBound)...(-absoluteEta.lowerBound),
                                     iphi: edges(1...72, maximumExtent: 5), depth: edges(depths, maximumExtent: depths.count + 1))
            if !box.channels(mask: mask).isEmpty { return box }
        }
    }

    /// Active channel indices (`[64, 72, depths]` layout) inside the box.
    public func channels(mask: HCALMask) -> [Int] {
        var result: [Int] = []
        for value in ieta {
            guard let eta = HCALIndex.etaIndex(value) else { continue }
            for phi in iphi where phi <= 72 {
                for d in depth where d <= mask.depthCount {
                    let channel = HCALIndex.flat(eta: eta, phi: phi - 1, depth: d - 1, depths: mask.depthCount)
                    if mask.active[channel] { result.append(channel) }
                }
            }
        }
        return result
    }
}

/// `hepml hcal evaluate`: anomalies of each strength injected into held-out LS, scored by the
/// trained model (with its scorer's `ScoreKind`); channel-level ROC on scores, TPR at fixed FPR, precision/recall/F1 at the
/// threshold, LS detection rate and latency, plus the HTML report.
public enum HCALEvaluation {
    public struct Options: Codable, Equatable, Sendable {
        public var strengths: [Double] = [2.0, 0.8, 0.6, 0.4, 0.2, 0.0]
        /// Anomalous LS drawn (with replacement) per strength; upstream draws 1000.
        public var samples = 200
        public var seed: UInt64 = 101
        /// The anomaly is on the window's last K = `anomalousLumisections` LS (`nil`: all T): 1 is
        /// upstream's variant (b), the last LS only; T its variant (c), every LS; in between a
        /// fault scored in its K-th LS.
        public var anomalousLumisections: Int? = 1
        public var latencyWindows = 50
        public init() {}
    }

    public struct StrengthResult: Codable, Equatable, Sendable {
        public var strength: Double
        public var positives: Int
        public var negatives: Int
        public var auc: Double
        public var truePositiveRateAtFPR1e3: Double
        public var truePositiveRateAtFPR1e4: Double
        public var precision: Double
        public var recall: Double
        public var f1: Double
        public var falsePositiveRate: Double
        /// Anomalous LS with at least one flagged channel.
        public var lumisectionDetectionRate: Double
    }

    public struct Latency: Codable, Equatable, Sendable {
        public var windows: Int
        public var meanMilliseconds: Double
        public var medianMilliseconds: Double
        public var p95Milliseconds: Double
        public var maximumMilliseconds: Double
    }

    public struct Summary: Codable, Equatable, Sendable {
        public var model: String
        public var subdetector: String
        public var threshold: Double
        /// The scorer's `ScoreKind` (`last-ls` or `window`).
        public var score: String
        public var variant: String
        public var healthyLumisections: Int
        /// Healthy LS with at least one flagged channel.
        public var healthyLumisectionFalseAlarmRate: Double
        public var healthyChannelFalsePositiveRate: Double
        public var strengths: [StrengthResult]
        public var latency: Latency
    }

    /// Example maps of one anomalous LS for the report.
    struct Example {
        var strength: Double
        var box: HCALAnomalyBox
        var result: HCALScorer.Result
    }

    public static func run(scorer: HCALScorer, dataset: HCALDataset, options: Options, runDirectory: RunDirectory? = nil,
                           reportDirectory: String?, log: (String) -> Void = { _ in }) throws -> Summary {
        let input = scorer.input, steps = input.options.steps, channels = input.channels
        try scorer.requireTrainingScaling(of: dataset)
        let anomalous = options.anomalousLumisections ?? steps
        guard (1...steps).contains(anomalous) else {
            throw HCALError("the anomaly on the last \(anomalous) LS of a window of \(steps): choose 1 to \(steps)")
        }
        var generator = SeededGenerator(seed: options.seed)
        // Candidate windows: test LS with T − 1 preceding LS in the same run.
        var candidates: [(run: Int, row: Int)] = []
        var runData: [Int: HCALDataset.RunData] = [:]
        for run in dataset.description.runs {
            let data = try dataset.runData(run.run)
            let rows = dataset.rows(of: data, in: dataset.description.testRange).filter { $0 >= steps - 1 }
            if !rows.isEmpty { runData[run.run] = data }
            candidates += rows.map { (run.run, $0) }
        }
        guard !candidates.isEmpty, options.samples > 0 else { throw HCALError("no test LS with \(steps - 1) preceding LS in \(dataset.directory)") }
        let picks = (0..<options.samples).map { _ in candidates[Int(generator.next() % UInt64(candidates.count))] }
        let boxes = picks.map { _ in HCALAnomalyBox.draw(input.options.subdetector, mask: input.mask, generator: &generator) }

        func renormalizedWindow(_ pick: (run: Int, row: Int)) -> [Float] {
            guard let data = runData[pick.run] else { return [] }
            return Array(data.maps[((pick.row - steps + 1) * channels)..<((pick.row + 1) * channels)])
        }
        func scaled(_ window: [Float]) -> [Float] {
            var result = window
            result.withUnsafeMutableBufferPointer { buffer in
                for step in 0..<steps { input.scale(UnsafeMutableBufferPointer(rebasing: buffer[(step * channels)..<((step + 1) * channels)])) }
            }
            return result
        }
        func scoreAll(_ windows: [[Float]]) throws -> [HCALScorer.Result] {
            try scorer.scoreWindows(windows, run: 0, lumisections: windows.indices.map { $0 })
        }
        let healthy = try scoreAll(picks.map { scaled(renormalizedWindow($0)) })
        var healthyScores: [Double] = []
        for result in healthy { for channel in 0..<channels where input.mask.active[channel] { healthyScores.append(Double(result.scores[channel])) } }
        let healthyFlaggedLS = healthy.filter { $0.flaggedCount > 0 }.count
        let healthyFlaggedChannels = healthyScores.filter { $0 > Double(scorer.threshold) }.count
        log("healthy: \(healthy.count) LS, \(healthyFlaggedLS) with a flagged channel")

        var results: [StrengthResult] = [], examples: [Example] = []
        var curves: [ROCSeries] = []
        for strength in options.strengths {
            var windows: [[Float]] = [], labels: [[Bool]] = []
            for (pick, box) in zip(picks, boxes) {
                var window = renormalizedWindow(pick)
                var label = [Bool](repeating: false, count: channels)
                for step in (steps - anomalous)..<steps {
                    for channel in box.channels(mask: input.mask) {
                        let value = window[step * channels + channel]
                        guard value != 0, value.isFinite else { continue }
                        window[step * channels + channel] = value * Float(strength)
                        if step == steps - 1 && strength != 1 { label[channel] = true }
                    }
                }
                windows.append(scaled(window))
                labels.append(label)
            }
            let scored = try scoreAll(windows)
            var scores = healthyScores, truth = [Bool](repeating: false, count: healthyScores.count)
            var detected = 0, anomalous = 0
            for (result, label) in zip(scored, labels) {
                for channel in 0..<channels where input.mask.active[channel] {
                    scores.append(Double(result.scores[channel]))
                    truth.append(label[channel])
                }
                if label.contains(true) {
                    anomalous += 1
                    if result.flaggedCount > 0 { detected += 1 }
                }
            }
            if let first = scored.indices.first(where: { labels[$0].contains(true) }) {
                examples.append(Example(strength: strength, box: boxes[first], result: scored[first]))
            }
            let curve = try ROCCurve(scores: scores, isPositive: truth)
            let confusion = try ConfusionMatrix(scores: scores, isPositive: truth, threshold: Double(scorer.threshold))
            results.append(StrengthResult(strength: strength, positives: curve.positiveCount, negatives: curve.negativeCount, auc: curve.auc,
                                          truePositiveRateAtFPR1e3: curve.truePositiveRate(atFalsePositiveRate: 1e-3),
                                          truePositiveRateAtFPR1e4: curve.truePositiveRate(atFalsePositiveRate: 1e-4),
                                          precision: confusion.precision, recall: confusion.truePositiveRate, f1: confusion.f1Score,
                                          falsePositiveRate: confusion.falsePositiveRate,
                                          lumisectionDetectionRate: anomalous > 0 ? Double(detected) / Double(anomalous) : 0))
            curves.append(ROCSeries(curve, label: "Rd \(strength)"))
            log(String(format: "Rd %.1f: AUC %.4f, TPR %.3f at FPR 1e-3, %.3f at 1e-4", strength, curve.auc,
                       results[results.count - 1].truePositiveRateAtFPR1e3, results[results.count - 1].truePositiveRateAtFPR1e4))
        }

        // Batch-1 latency of one window (scaling, RIN, split, network, merge, scores).
        var latencies: [Double] = []
        for pick in picks.prefix(max(options.latencyWindows, 1)) {
            let window = scaled(renormalizedWindow(pick))
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try scorer.scoreWindows([window], run: pick.run, lumisections: [pick.row])
            latencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        let sorted = latencies.sorted()
        let latency = Latency(windows: sorted.count, meanMilliseconds: sorted.reduce(0, +) / Double(max(sorted.count, 1)),
                              medianMilliseconds: sorted[sorted.count / 2], p95Milliseconds: sorted[min(sorted.count - 1, sorted.count * 95 / 100)],
                              maximumMilliseconds: sorted.last ?? 0)
        let summary = Summary(model: scorer.settings.model, subdetector: input.options.subdetector.rawValue, threshold: Double(scorer.threshold),
                              score: scorer.scoreKind.rawValue, variant: anomalous == steps ? "whole window" : (anomalous == 1 ? "last LS" : "last \(anomalous) LS"), healthyLumisections: healthy.count,
                              healthyLumisectionFalseAlarmRate: Double(healthyFlaggedLS) / Double(max(healthy.count, 1)),
                              healthyChannelFalsePositiveRate: Double(healthyFlaggedChannels) / Double(max(healthyScores.count, 1)),
                              strengths: results, latency: latency)
        if let reportDirectory {
            try writeReport(summary, curves: curves, examples: examples, dataset: dataset, input: input, runDirectory: runDirectory, to: reportDirectory)
        }
        return summary
    }

    static func writeReport(_ summary: Summary, curves: [ROCSeries], examples: [Example], dataset: HCALDataset, input: HCALModelInput,
                            runDirectory: RunDirectory?, to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try AtomicFile.write(try encoder.encode(summary), to: (directory as NSString).appendingPathComponent("summary.json"))
        var report = Report(title: "HCAL online DQM: \(summary.model) (\(summary.subdetector.uppercased()))",
                            subtitle: "anomaly on the \(summary.variant), \(summary.score) score, threshold \(summary.threshold) on |e|/σ")
        report.add(Report.Metric("healthy LS with a flag", summary.healthyLumisectionFalseAlarmRate))
        report.add(Report.Metric("latency (batch 1, median)", summary.latency.medianMilliseconds, unit: "ms", digits: 2))
        let headers = ["Rd", "AUC", "TPR @ FPR 1e-3", "TPR @ FPR 1e-4", "precision", "recall", "F1", "FPR", "LS detected", "positives"]
        let rows: [[Report.Cell]] = summary.strengths.map {
            [.number($0.strength, digits: 1), .number($0.auc, digits: 4), .number($0.truePositiveRateAtFPR1e3, digits: 3),
             .number($0.truePositiveRateAtFPR1e4, digits: 3), .number($0.precision, digits: 3), .number($0.recall, digits: 3),
             .number($0.f1, digits: 3), .number($0.falsePositiveRate, digits: 5), .number($0.lumisectionDetectionRate, digits: 3), .integer($0.positives)]
        }
        var sections = [Report.Section("Per strength", [.table(Report.Table(caption: "channel level, last LS of each window, active channels", headers: headers, rows: rows)),
                                                         .figure(Figure.roc(curves, title: "channel-level ROC", logX: true), name: "roc", caption: nil)])]
        // Upstream README figures: input with the anomaly, reconstruction, score and flags, at the depth the box covers most.
        for example in examples where [0.0, 2.0].contains(example.strength) || example.strength == examples.first?.strength {
            let depth = example.box.depth.lowerBound - 1
            func map(_ values: [Float]) -> Heatmap {
                var slice = [Double](repeating: 0, count: HCALIndex.slice), mask = [Bool](repeating: true, count: HCALIndex.slice)
                for eta in 0..<HCALIndex.etaCount {
                    for phi in 0..<HCALIndex.phiCount {
                        let channel = HCALIndex.flat(eta: eta, phi: phi, depth: depth, depths: input.depths)
                        slice[eta * HCALIndex.phiCount + phi] = Double(values[channel])
                        mask[eta * HCALIndex.phiCount + phi] = !input.mask.active[channel]
                    }
                }
                return Heatmap(xEdges: (0...72).map { Double($0) + 0.5 }, yEdges: (0...64).map { Double($0) }, values: slice, mask: mask)
            }
            let figure = Figure.imageGrid([map(example.result.target), map(example.result.reconstruction), map(example.result.scores),
                                          map(example.result.flags.map { $0 ? 1 : 0 })],
                                         titles: ["input (scaled)", "reconstruction", "score |e|/σ", "flags"], columns: 4,
                                         xLabel: "iphi", yLabel: "ieta slot", panelWidth: 220, panelHeight: 200,
                                         title: "Rd \(example.strength): box ieta \(example.box.ieta), iphi \(example.box.iphi), depth \(example.box.depth); depth \(depth + 1) shown")
            sections.append(Report.Section("Example, Rd \(example.strength)", [.figure(figure, name: "example-rd-\(example.strength)", caption: nil)]))
        }
        // Per-LS NumEvents and total occupancy of the first run.
        let table = try TableFile.read(path: HCALDataset.file("lumisections.parquet", in: dataset.directory))
        if case .int64(let runs)? = table["run"]?.values, case .int64(let sections_)? = table["ls"]?.values,
           case .int64(let events)? = table["num_events"]?.values, case .float64(let totals)? = table["total_occupancy"]?.values, let first = runs.first {
            let rows = runs.indices.filter { runs[$0] == first }
            let x = rows.map { Double(sections_[$0]) }
            sections.append(Report.Section("Run \(first) per LS", [
                .figure(Figure(Axes(xLabel: "LS", yLabel: "NumEvents", series: [.line(x: x, y: rows.map { Double(events[$0]) }, label: "NumEvents")])), name: "numevents", caption: nil),
                .figure(Figure(Axes(xLabel: "LS", yLabel: "total digi occupancy", series: [.line(x: x, y: rows.map { totals[$0] }, label: "total occupancy")])), name: "occupancy", caption: nil),
            ]))
        }
        if let runDirectory, let data = FileManager.default.contents(atPath: runDirectory.historyJSON),
           let history = try? JSONDecoder().decode(TrainingHistory.self, from: data), !history.epochs.isEmpty {
            var curvesOfLoss = [(label: "training", values: history.epochs.map(\.trainLoss))]
            let validation = history.epochs.compactMap(\.validationLoss)
            if validation.count == history.epochs.count { curvesOfLoss.append((label: "validation", values: validation)) }
            sections.append(Report.Section("Training history", [.figure(Figure.lossCurves(curvesOfLoss), name: "history", caption: nil)]))
        }
        for section in sections { report.add(section) }
        _ = try report.write(to: directory)
    }
}
