import Foundation
import HEPMLColumnar
import HEPMLCore
import HEPMLMetrics
import HEPMLPlot

/// `hepml dqm assess`: per-histogram ROCs, score distributions, reconstructions and the
/// run-level HF/RF-ROC evaluation of every algorithm tag in a trained table, as one HTML report.
public struct DQMAssessmentConfiguration: Sendable {
    /// Histogram columns; empty means all that have scores.
    public var histograms: [String] = []
    /// Algorithm tags; empty means all found.
    public var algorithms: [String] = []
    /// Runs to draw original-vs-reconstruction plots for; empty means the worst-scored ones.
    public var runs: [Int] = []
    /// How many worst-scored evaluated runs per histogram and ML algorithm get such a plot.
    public var worstRunCount = 1
    public var seed: UInt64 = 0
    public var resamples = ROCBootstrap.defaultResamples

    public init() {}
}

/// The headline numbers of one algorithm.
public struct DQMAlgorithmSummary: Sendable {
    public var tag: String
    /// Area under RF-ROC(N) for N = 1, 3, 5.
    public var runLevelAUC: [Int: Double]
    /// Mean over histograms of the per-histogram ROC AUC.
    public var meanHistogramAUC: Double
    public var goodRuns: Int
    public var badRuns: Int
    /// Per histogram with a score, in histogram order.
    public var histograms: [DQMHistogramAssessment]
}

public enum DQMAssessment {
    /// AutoDQM_ML's efficiency table columns: the false-positive rate at TPR = 50 %, 90 %, 99 %,
    /// read off the nominal curve.
    public static let efficiencyTargets = [0.5, 0.9, 0.99]

    /// Tags `t` for which `<histogram>_score_<t>` exists, in column order.
    public static func algorithmTags(_ table: Table, histograms: [String]) -> [String] {
        var tags: [String] = []
        for name in table.columnNames {
            for histogram in histograms where name.hasPrefix(histogram + "_score_") {
                let tag = String(name.dropFirst(histogram.count + "_score_".count))
                if !tags.contains(tag) { tags.append(tag) }
            }
        }
        return tags
    }

    /// Builds the report from a trained table; returns it with the per-algorithm summaries.
    /// Evaluated runs are the held-out good runs, the bad runs and the unlabelled runs (the last
    /// only in flag tables): runs a model was fitted on never count.
    public static func assess(table: Table, configuration: DQMAssessmentConfiguration, source: String) throws -> (report: Report, summaries: [DQMAlgorithmSummary]) {
        let histogramNames = configuration.histograms.isEmpty ? DQMTable.histogramColumnNames(table) : configuration.histograms
        let foundTags = algorithmTags(table, histograms: histogramNames)
        let tags = configuration.algorithms.isEmpty ? foundTags : configuration.algorithms.filter { foundTags.contains($0) }
        guard !tags.isEmpty else { throw DQMError.invalidConfiguration("\(source) has no <histogram>_score_<tag> column for the selected histograms/algorithms") }
        let runs = try DQMTable.runNumbers(table)
        let labels = try DQMTable.labels(table)
        let roles: [SplitRole]? = table[DQMTable.splitColumn] != nil
            ? try DQMTable.integers(table, DQMTable.splitColumn).map { SplitRole(rawValue: $0) ?? .excluded } : nil
        let evaluated = runs.indices.filter { roles?[$0].isEvaluated ?? true }
        let evaluatedRuns = evaluated.map { runs[$0] }
        let evaluatedLabels = evaluated.map { labels[$0] }
        let goodCount = evaluatedLabels.filter { $0 == .good }.count
        let badCount = evaluatedLabels.filter { $0 == .bad }.count

        var report = Report(title: "HEPML offline DQM assessment",
                            subtitle: "\(source): \(evaluated.count) evaluated runs (\(goodCount) held-out good, \(badCount) bad, \(evaluated.count - goodCount - badCount) unlabelled), \(histogramNames.count) histograms, algorithms \(tags.joined(separator: ", "))")
        var summaries: [DQMAlgorithmSummary] = []
        var runLevel: [(tag: String, assessment: RunLevelAssessment)] = []
        var perHistogram: [String: [String: ROCBootstrap]] = [:]
        var scoreTable: [String: [String: [Double]]] = [:]

        for tag in tags {
            let names = histogramNames.filter { table[DQMTable.scoreColumn($0, tag: tag)] != nil }
            var scores: [[Double]] = []
            var aucs: [Double] = []
            var histogramAssessments: [DQMHistogramAssessment] = []
            for (index, name) in names.enumerated() {
                let all = try DQMTable.scores(table, DQMTable.scoreColumn(name, tag: tag))
                let subset = evaluated.map { all[$0] }
                scores.append(subset)
                scoreTable[tag, default: [:]][name] = subset
                // Bad runs are the positives; unlabelled runs are in neither class. A histogram whose
                // evaluated runs lack good or bad ones with a score has no ROC.
                let labelled = subset.indices.filter { evaluatedLabels[$0] != .unknown }
                let roc = try? ROCBootstrap(scores: labelled.map { subset[$0] }, isPositive: labelled.map { evaluatedLabels[$0] == .bad },
                                            seed: configuration.seed &+ UInt64(index), resamples: configuration.resamples)
                if let roc {
                    perHistogram[name, default: [:]][tag] = roc
                    aucs.append(roc.nominal.auc)
                }
                histogramAssessments.append(DQMHistogramAssessment(histogram: name, tag: tag, shape: try table[name].map { try DQMTable.histogramColumn($0).shape } ?? [],
                                                                   scores: subset, roc: roc))
            }
            let assessment = try RunLevelAssessment(runs: evaluatedRuns, labels: evaluatedLabels, histogramNames: names, scores: scores)
            runLevel.append((tag, assessment))
            var auc: [Int: Double] = [:]
            for n in RunLevelAssessment.runFlagMinimums { auc[n] = assessment.runLevelAUC(minimumFlags: n) }
            let summary = DQMAlgorithmSummary(tag: tag, runLevelAUC: auc, meanHistogramAUC: aucs.isEmpty ? .nan : aucs.reduce(0, +) / Double(aucs.count),
                                              goodRuns: goodCount, badRuns: badCount, histograms: histogramAssessments)
            summaries.append(summary)
            report.add(Report.Metric("run-level AUC \(tag) (RF-ROC N=1)", auc[1] ?? .nan))
        }

        if let warnings = invertedScoreSection(summaries) { report.add(warnings) }
        report.add(runLevelSection(runLevel, summaries))
        for (tag, assessment) in runLevel { report.add(flagSection(tag: tag, assessment)) }
        for name in histogramNames where perHistogram[name] != nil || tags.contains(where: { scoreTable[$0]?[name] != nil }) {
            report.add(try histogramSection(name: name, table: table, tags: tags, rocs: perHistogram[name] ?? [:], scores: scoreTable,
                                            evaluated: evaluated, runs: runs, labels: evaluatedLabels, configuration: configuration))
        }
        return (report, summaries)
    }

    /// HF-ROC and RF-ROC(1, 3, 5) of every algorithm, plus the AUC table.
    static func runLevelSection(_ runLevel: [(tag: String, assessment: RunLevelAssessment)], _ summaries: [DQMAlgorithmSummary]) -> Report.Section {
        var blocks: [Report.Block] = [.paragraph("Thresholds per histogram from the held-out good runs' scores (upstream ladder: T0 = s1 + (s1 − s2)/2, Tk = (sk + sk+1)/2); a histogram is flagged when its score ≥ threshold. HF-ROC: mean flagged histograms per good vs bad run. RF-ROC(N): fraction of good vs bad runs with at least N flags. Run-level AUC = area under RF-ROC(N).")]
        let rows: [[Report.Cell]] = summaries.map { summary in
            [.text(summary.tag)] + RunLevelAssessment.runFlagMinimums.map { .number(summary.runLevelAUC[$0] ?? .nan, digits: 3) }
                + [.number(summary.meanHistogramAUC, digits: 3), .integer(summary.goodRuns), .integer(summary.badRuns)]
        }
        blocks.append(.table(Report.Table(caption: "Run-level AUCs", headers: ["algorithm", "AUC RF N=1", "AUC RF N=3", "AUC RF N=5", "mean histogram AUC", "good runs", "bad runs"], rows: rows)))
        // Cross-algorithm comparison: HF-ROC and RF-ROC N=1/3/5 panels, one curve per algorithm.
        var hfSeries: [Series] = []
        for (index, entry) in runLevel.enumerated() {
            let points = entry.assessment.histogramFlagROC()
            hfSeries.append(.line(x: [0] + points.map(\.good), y: [0] + points.map(\.bad), label: entry.tag, color: Palette.cycleColor(index, of: runLevel.count)))
        }
        let maxGoodFlags = runLevel.flatMap { $0.assessment.histogramFlagROC().map(\.good) }.max() ?? 1
        hfSeries.append(.line(x: [0, maxGoodFlags], y: [0, maxGoodFlags], color: .gray, lineWidth: 1, dash: [4, 3]))
        var panels = [Panel(Axes(title: "HF-ROC", xLabel: "mean flagged histograms per good run", yLabel: "per bad run",
                                 xLimits: 0...min(5, max(maxGoodFlags, 0.1)), series: hfSeries, legend: .lowerRight))]
        for n in RunLevelAssessment.runFlagMinimums {
            var series: [Series] = []
            for (index, entry) in runLevel.enumerated() {
                let points = entry.assessment.runFlagROC(minimumFlags: n)
                series.append(.line(x: [0] + points.map(\.good) + [1], y: [0] + points.map(\.bad) + [1],
                                    label: String(format: "%@ (AUC %.3f)", entry.tag, entry.assessment.runLevelAUC(minimumFlags: n)),
                                    color: Palette.cycleColor(index, of: runLevel.count)))
            }
            series.append(.line(x: [0, 1], y: [0, 1], color: .gray, lineWidth: 1, dash: [4, 3]))
            panels.append(Panel(Axes(title: "RF-ROC N=\(n)", xLabel: "good runs with ≥\(n) flags", yLabel: "bad runs with ≥\(n) flags",
                                     xLimits: 0...1, yLimits: 0...1.05, series: series, legend: .lowerRight)))
        }
        let figure = Figure(width: 900, height: 760, rows: 2, columns: 2, panels: panels, title: "Run-level comparison of algorithms")
        blocks.append(.figure(figure, name: "run_level_comparison", caption: "HF-ROC and RF-ROC (N = 1, 3, 5) of every algorithm"))
        return Report.Section("Run level", blocks)
    }

    /// Most-flagged runs and per-histogram flag frequency at upstream's working point (first
    /// point where more than 10 % of good runs carry ≥ 3 flags; else where good runs average
    /// more than 1.5 flags; else the loosest).
    static func flagSection(tag: String, _ assessment: RunLevelAssessment) -> Report.Section {
        let point = assessment.workingPoint(goodRunFractionWith: 3, exceeding: 0.1)
            ?? assessment.workingPoint(meanGoodFlagsExceeding: 1.5) ?? (assessment.workingPointCount - 1)
        let flagged = assessment.mostFlaggedRuns(atWorkingPoint: point, limit: 15)
        let runRows: [[Report.Cell]] = flagged.map { run in
            [.integer(run.run), .text(labelName(run.label)), .integer(run.flags),
             .text(run.flaggedHistograms.prefix(4).map { shortName(assessment.histogramNames[$0]) }.joined(separator: ", ") + (run.flaggedHistograms.count > 4 ? ", …" : ""))]
        }
        let frequencies = assessment.flagFrequency(atWorkingPoint: point).sorted { ($0.allRuns, $0.badRuns) > ($1.allRuns, $1.badRuns) }
        let frequencyRows: [[Report.Cell]] = frequencies.prefix(15).map { [.text($0.histogram), .integer($0.allRuns), .integer($0.badRuns)] }
        return Report.Section("Flags: \(tag)", [
            .paragraph("Working point \(point + 1) of \(assessment.workingPointCount)."),
            .table(Report.Table(caption: "Most-flagged runs", headers: ["run", "label", "flags", "flagged histograms"], rows: runRows)),
            .table(Report.Table(caption: "Flag frequency per histogram (top 15)", headers: ["histogram", "all runs", "bad runs"], rows: frequencyRows)),
        ])
    }

    static func labelName(_ label: RunLabel) -> String {
        switch label {
        case .good: return "good"
        case .bad: return "bad"
        case .unknown: return "unknown"
        }
    }

    /// The last two path components, enough to tell histograms apart in tables and titles.
    static func shortName(_ column: String) -> String {
        column.split(separator: "/").suffix(2).joined(separator: "/")
    }

    static func histogramSection(name: String, table: Table, tags: [String], rocs: [String: ROCBootstrap], scores: [String: [String: [Double]]],
                                 evaluated: [Int], runs: [Int], labels: [RunLabel], configuration: DQMAssessmentConfiguration) throws -> Report.Section {
        var blocks: [Report.Block] = []
        let orderedTags = tags.filter { rocs[$0] != nil }
        let rows: [[Report.Cell]] = orderedTags.compactMap { tag in
            guard let roc = rocs[tag] else { return nil }
            return [.text(tag), .number(roc.nominal.auc, digits: 3), .number(roc.aucUncertainty, digits: 3)]
                + efficiencyTargets.map { .number(100 * roc.nominal.falsePositiveRate(atTruePositiveRate: $0), digits: 1) }
                + [.text(roc.nominal.auc < 0.5 ? "⚠ bad runs score lower than good runs" : "")]
        }
        if !rows.isEmpty {
            blocks.append(.table(Report.Table(headers: ["algorithm", "AUC", "± (bootstrap)", "FPR % @ TPR 50%", "FPR % @ TPR 90%", "FPR % @ TPR 99%", "warning"], rows: rows)))
            let curves = orderedTags.compactMap { tag -> ROCSeries? in
                guard let roc = rocs[tag] else { return nil }
                return ROCSeries(roc, bandStandardDeviations: 0.5, label: String(format: "%@ [AUC = %.3f ± %.3f]", tag, roc.nominal.auc, roc.aucUncertainty))
            }
            blocks.append(.figure(.roc(curves, title: shortName(name)), name: "roc_" + DQMTraining.sanitizedName(name), caption: "ROC per algorithm, band: bootstrap TPR ± σ/2"))
        }
        // Score distributions by label, one panel per algorithm (log x: scores span decades).
        var panels: [Panel] = []
        for tag in tags {
            guard let values = scores[tag]?[name] else { continue }
            var series: [Series] = []
            let positive = values.filter { $0.isFinite && $0 > 0 }
            guard let low = positive.min(), let high = positive.max(), high > low,
                  let binning = Binning(edges: (0...30).map { low * pow(high / low, Double($0) / 30) }) else { continue }
            for (index, label) in [RunLabel.good, .bad, .unknown].enumerated() {
                let subset = zip(values, labels).filter { $0.1 == label && $0.0.isFinite && $0.0 > 0 }.map(\.0)
                guard !subset.isEmpty else { continue }
                // Clamped: the top score can sit an ulp above the last edge, low · (high / low).
                let fractions = binning.clampedCounts(subset, weight: 1 / Double(subset.count))
                series.append(.histogram(edges: binning.edges, contents: fractions, style: .step, label: "\(labelName(label)) [N = \(subset.count)]",
                                         color: Palette.cycleColor(index, of: 3)))
            }
            panels.append(Panel(Axes(title: tag, xLabel: "Anomaly Score", yLabel: "Fraction of runs", xScale: .log, series: series, legend: .upperRight)))
        }
        if !panels.isEmpty {
            blocks.append(.figure(Figure(width: 330 * Double(panels.count), height: 300, columns: panels.count, panels: panels),
                                  name: "scores_" + DQMTraining.sanitizedName(name), caption: "Score distributions by label (evaluated runs)"))
        }
        blocks += try reconstructionFigures(name: name, table: table, tags: tags, scores: scores, evaluated: evaluated, runs: runs, configuration: configuration)
        return Report.Section(name, blocks)
    }

    /// Original (normalized) vs reconstructed histogram for chosen or worst-scored runs of each
    /// ML algorithm, with a residual panel; 2D histograms as original / reconstruction / |difference| maps.
    static func reconstructionFigures(name: String, table: Table, tags: [String], scores: [String: [String: [Double]]],
                                      evaluated: [Int], runs: [Int], configuration: DQMAssessmentConfiguration) throws -> [Report.Block] {
        guard let originalColumn = table[name] else { return [] }
        let original = try DQMTable.histogramColumn(originalColumn)
        var blocks: [Report.Block] = []
        for tag in tags {
            guard let recoColumn = table[DQMTable.recoColumn(name, tag: tag)], let tagScores = scores[tag]?[name] else { continue }
            let reco = try DQMTable.histogramColumn(recoColumn)
            var rows: [Int]
            if configuration.runs.isEmpty {
                let order = tagScores.indices.filter { tagScores[$0].isFinite }.sorted { tagScores[$0] > tagScores[$1] }
                rows = order.prefix(configuration.worstRunCount).map { evaluated[$0] }
            } else {
                rows = configuration.runs.compactMap { runs.firstIndex(of: $0) }
            }
            rows = rows.filter { original.runs[$0] != nil && reco.runs[$0] != nil }
            for row in rows {
                guard let contents = original.runs[row], let reconstruction = reco.runs[row] else { continue }
                let data = DQMPreprocessing.normalized(contents)
                let score = tagScores.indices.first { evaluated[$0] == row }.map { tagScores[$0] }
                let caption = "Run \(runs[row]), \(tag)" + (score.map { String(format: ", SSE = %.3g", $0) } ?? "")
                let figureName = "reco_\(tag)_\(runs[row])_" + DQMTraining.sanitizedName(name)
                if reconstruction.count != data.count {
                    blocks.append(.paragraph("\(caption): the reconstruction is in rebinned coordinates (\(reconstruction.count) bins vs \(data.count)); not drawn."))
                } else if original.shape.count == 2 {
                    let nx = original.shape[0], ny = original.shape[1]
                    func map(_ flat: [Double]) -> Heatmap {
                        Heatmap(columns: nx, rows: ny, values: Heatmap.rowsAlongY(xMajor: flat, columns: nx, rows: ny))
                    }
                    let difference = zip(data, reconstruction).map { abs($0 - $1) }
                    let grid = Figure.imageGrid([map(data), map(reconstruction), map(difference)], titles: ["original", "reconstruction", "|difference|"],
                                                columns: 3, xLabel: "x bin", yLabel: "y bin", title: caption)
                    blocks.append(.figure(grid, name: figureName, caption: caption))
                } else {
                    let edges = (0...data.count).map(Double.init)
                    let figure = Figure.comparison(edges: edges, reference: data, candidates: [(label: "\(tag) reconstruction", contents: reconstruction)],
                                                   title: "\(shortName(name)) run \(runs[row])", xLabel: "bin", yLabel: "fraction of entries")
                    blocks.append(.figure(figure, name: figureName, caption: caption))
                }
            }
        }
        return blocks
    }

    /// The terminal AUC table.
    public static func summaryTable(_ summaries: [DQMAlgorithmSummary]) -> String {
        var lines = ["algorithm            AUC(RF N=1)  AUC(RF N=3)  AUC(RF N=5)  mean hist AUC"]
        for summary in summaries {
            let name = summary.tag.padding(toLength: 20, withPad: " ", startingAt: 0)
            lines.append(String(format: "%@ %11.3f  %11.3f  %11.3f  %13.3f", name, summary.runLevelAUC[1] ?? .nan, summary.runLevelAUC[3] ?? .nan,
                                summary.runLevelAUC[5] ?? .nan, summary.meanHistogramAUC))
        }
        for summary in summaries {
            for histogram in summary.histograms where histogram.badRunsScoreLower {
                lines.append("warning: \(summary.tag): " + invertedScoreText(histogram))
            }
        }
        return lines.joined(separator: "\n")
    }
}
