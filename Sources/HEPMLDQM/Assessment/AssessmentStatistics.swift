import Foundation
import HEPMLColumnar
import HEPMLCore
import HEPMLMetrics
import HEPMLPlot

/// One histogram under one algorithm: a row of `assessment_stats` (upstream HEAD's columns
/// `hist, dim_0, dim_1, algo, avg_an_score, std_an_score`, plus the ROC AUC and the inversion flag).
public struct DQMHistogramAssessment: Sendable, Equatable {
    public var histogram: String
    public var tag: String
    /// The histogram's shape as stored (`[bins]` or `[nx, ny]`); empty when the table lacks the column.
    public var shape: [Int]
    /// Mean and standard deviation of the finite scores of the evaluated runs.
    public var meanScore: Double
    public var scoreStandardDeviation: Double
    /// ROC AUC of bad against held-out good runs and its bootstrap σ; NaN without both classes.
    public var auc: Double
    public var aucUncertainty: Double

    init(histogram: String, tag: String, shape: [Int], scores: [Double], roc: ROCBootstrap?) {
        self.histogram = histogram
        self.tag = tag
        self.shape = shape
        let finite = scores.filter(\.isFinite)
        let mean = finite.isEmpty ? .nan : finite.reduce(0, +) / Double(finite.count)
        meanScore = mean
        scoreStandardDeviation = finite.isEmpty ? .nan : (finite.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(finite.count)).squareRoot()
        auc = roc?.nominal.auc ?? .nan
        aucUncertainty = roc?.aucUncertainty ?? .nan
    }

    /// Bad runs score lower than good runs (AUC < 0.5): the algorithm calls the bad runs'
    /// histograms healthier than good ones, which a shifter must never be told.
    public var badRunsScoreLower: Bool { auc < 0.5 }

    /// The AUC is more than two bootstrap σ below 0.5, so the inversion is not a fluctuation of
    /// a histogram the bad runs do not touch.
    public var inversionIsSignificant: Bool { auc + 2 * aucUncertainty < 0.5 }
}

extension DQMAssessment {
    static func invertedScoreText(_ histogram: DQMHistogramAssessment) -> String {
        String(format: "bad runs score LOWER than good runs in %@ (AUC %.3f ± %.3f%@)", histogram.histogram, histogram.auc, histogram.aucUncertainty,
               histogram.inversionIsSignificant ? ", more than 2σ below 0.5" : "")
    }

    /// The histograms in which an algorithm scores bad runs below good ones, first in the report.
    static func invertedScoreSection(_ summaries: [DQMAlgorithmSummary]) -> Report.Section? {
        let inverted = summaries.flatMap { $0.histograms.filter(\.badRunsScoreLower) }.sorted { $0.auc < $1.auc }
        guard !inverted.isEmpty else { return nil }
        let rows: [[Report.Cell]] = inverted.map {
            [.text($0.tag), .text($0.histogram), .number($0.auc, digits: 3), .number($0.aucUncertainty, digits: 3), .text($0.inversionIsSignificant ? "yes" : "no")]
        }
        return Report.Section("⚠ Bad runs scored lower than good runs", [
            .paragraph("For these histograms and algorithms the bad runs' scores are lower than the held-out good runs' (ROC AUC < 0.5): the algorithm judges the bad runs' histograms healthier than normal ones. Where the bad runs do not touch a histogram its AUC fluctuates around 0.5; an AUC more than 2σ (bootstrap) below 0.5 is not such a fluctuation."),
            .table(Report.Table(headers: ["algorithm", "histogram", "AUC", "± (bootstrap)", "> 2σ below 0.5"], rows: rows)),
        ])
    }

    /// Writes `assessment_stats.parquet` (upstream HEAD's file, with the extra columns `auc`,
    /// `auc_uncertainty` and `bad_runs_score_lower`) and `assessment.json` (the run-level
    /// summaries and the same rows) into `directory`; returns both paths.
    @discardableResult
    public static func writeStatistics(_ summaries: [DQMAlgorithmSummary], to directory: String) throws -> (parquet: String, json: String) {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let rows = summaries.flatMap(\.histograms)
        let table = try Table(columns: [
            try Column(name: "hist", strings: rows.map(\.histogram)),
            try Column(name: "dim_0", int64: rows.map { Int64($0.shape.first ?? 0) }),
            try Column(name: "dim_1", int64: rows.map { Int64($0.shape.count > 1 ? $0.shape[1] : 0) }),
            try Column(name: "algo", strings: rows.map(\.tag)),
            try Column(name: "avg_an_score", float64: rows.map(\.meanScore)),
            try Column(name: "std_an_score", float64: rows.map(\.scoreStandardDeviation)),
            try Column(name: "auc", float64: rows.map(\.auc)),
            try Column(name: "auc_uncertainty", float64: rows.map(\.aucUncertainty)),
            try Column(name: "bad_runs_score_lower", bool: rows.map(\.badRunsScoreLower)),
        ])
        let parquet = (directory as NSString).appendingPathComponent("assessment_stats.parquet")
        try Parquet.write(table, to: parquet)

        // JSON has no NaN: undefined numbers are null.
        func number(_ value: Double) -> Any { value.isFinite ? value : NSNull() }
        let document: [String: Any] = [
            "algorithms": summaries.map { summary in
                [
                    "algo": summary.tag, "good_runs": summary.goodRuns, "bad_runs": summary.badRuns,
                    "mean_histogram_auc": number(summary.meanHistogramAUC),
                    "run_level_auc": Dictionary(uniqueKeysWithValues: summary.runLevelAUC.map { ("rf_n\($0.key)", number($0.value)) }),
                ] as [String: Any]
            },
            "histograms": rows.map { row in
                [
                    "hist": row.histogram, "algo": row.tag, "shape": row.shape, "avg_an_score": number(row.meanScore),
                    "std_an_score": number(row.scoreStandardDeviation), "auc": number(row.auc), "auc_uncertainty": number(row.aucUncertainty),
                    "bad_runs_score_lower": row.badRunsScoreLower,
                ] as [String: Any]
            },
        ]
        let json = (directory as NSString).appendingPathComponent("assessment.json")
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]), to: json)
        return (parquet, json)
    }

    /// The per-anomaly table of `detectionByAnomaly` as a report section.
    public static func detectionSection(_ rows: [DQMAnomalyDetection], tags: [String]) -> Report.Section {
        let tableRows: [[Report.Cell]] = rows.map { row in
            [.text(row.anomaly), .integer(row.runs), .text(row.histogram.map(shortName) ?? "")]
                + tags.flatMap { tag -> [Report.Cell] in
                    [.number(row.auc[tag] ?? .nan, digits: 3), .text(row.histogramAUC[tag].map { ($0 < 0.5 ? "⚠ " : "") + String(format: "%.3f", $0) } ?? "")]
                }
        }
        let headers = ["anomaly", "runs", "damaged histogram"] + tags.flatMap { ["\($0) run-level AUC", "\($0) AUC of damaged histogram"] }
        return Report.Section("Per anomaly kind", [
            .paragraph("Evaluated runs of each anomaly kind against the held-out good runs: run-level AUC (RF-ROC N = 1) and, where the truth names the damaged histogram, that histogram's own ROC AUC (⚠: below 0.5, the damaged histogram scores lower than good ones)."),
            .table(Report.Table(headers: headers, rows: tableRows)),
        ])
    }
}
