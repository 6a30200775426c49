import Foundation
import HEPMLColumnar
import HEPMLCore
import HEPMLMetrics

/// What is known about one run beyond its label: the planted (or later diagnosed) problem. The
/// `truth.json` of `hepml dqm generate` and of any other tool that writes `[{run, anomaly,
/// histogram}]` decode into it; other keys are ignored.
public struct DQMRunTruth: Codable, Sendable, Equatable {
    public var run: Int
    /// The kind of problem; nil for a healthy run.
    public var anomaly: String?
    /// The column of the histogram the problem is in, when it is in one histogram.
    public var histogram: String?

    public init(run: Int, anomaly: String?, histogram: String? = nil) {
        self.run = run
        self.anomaly = anomaly
        self.histogram = histogram
    }

    /// A truth file: a JSON array of such objects.
    public static func list(json data: Data, file: String) throws -> [DQMRunTruth] {
        do {
            return try JSONDecoder().decode([DQMRunTruth].self, from: data)
        } catch {
            throw FileFormatError(file: file, reason: "not a truth JSON ([{\"run\": N, \"anomaly\": \"kind\" or null}]): \(describe(error))")
        }
    }
}

/// How well the algorithms of a trained table find one kind of anomaly.
public struct DQMAnomalyDetection: Sendable, Equatable {
    public var anomaly: String
    /// Evaluated runs (bad or unlabelled, never trained on) that carry the anomaly.
    public var runs: Int
    /// Per algorithm tag, the run-level AUC (RF-ROC, N = 1) of these runs against the held-out
    /// good runs.
    public var auc: [String: Double]
    /// The histogram every run of this kind has its problem in, if the truth names one.
    public var histogram: String?
    /// Per algorithm tag, the ROC AUC of `histogram`'s score alone for these runs against the
    /// held-out good runs: below 0.5 means the algorithm calls the damaged histogram healthier
    /// than a good one.
    public var histogramAUC: [String: Double]
}

extension DQMAssessment {
    /// The run-level AUC per anomaly kind and algorithm (and, where the truth names the damaged
    /// histogram, that histogram's own AUC): the truth turned into one ROC per kind, so that a
    /// weak detector shows which kind of problem it misses rather than only a lower overall
    /// number. Kinds are in alphabetical order.
    public static func detectionByAnomaly(table: Table, truth: [DQMRunTruth]) throws -> [DQMAnomalyDetection] {
        let runNumbers = try DQMTable.runNumbers(table)
        let labels = try DQMTable.labels(table)
        let roles = table[DQMTable.splitColumn] != nil ? try DQMTable.integers(table, DQMTable.splitColumn) : nil
        let evaluated = runNumbers.indices.filter { index in roles.map { (SplitRole(rawValue: $0[index]) ?? .excluded).isEvaluated } ?? true }
        let evaluatedRuns = evaluated.map { runNumbers[$0] }
        let known = Dictionary(truth.map { ($0.run, $0) }, uniquingKeysWith: { first, _ in first })
        let histograms = DQMTable.histogramColumnNames(table)
        var scoresByTag: [(tag: String, names: [String], scores: [[Double]])] = []
        for tag in algorithmTags(table, histograms: histograms) {
            let names = histograms.filter { table[DQMTable.scoreColumn($0, tag: tag)] != nil }
            let scores = try names.map { name in
                let all = try DQMTable.scores(table, DQMTable.scoreColumn(name, tag: tag))
                return evaluated.map { all[$0] }
            }
            scoresByTag.append((tag, names, scores))
        }
        var result: [DQMAnomalyDetection] = []
        for anomaly in Set(truth.compactMap(\.anomaly)).sorted() {
            let isKind = evaluated.map { labels[$0] != .good && known[runNumbers[$0]]?.anomaly == anomaly }
            let kindLabels: [RunLabel] = evaluated.indices.map { labels[evaluated[$0]] == .good ? .good : isKind[$0] ? .bad : .unknown }
            let count = isKind.filter { $0 }.count
            guard count > 0 else { continue }
            let damaged = Set(evaluated.indices.filter { isKind[$0] }.map { known[evaluatedRuns[$0]]?.histogram })
            let histogram = damaged.count == 1 ? damaged.first ?? nil : nil
            var auc: [String: Double] = [:]
            var histogramAUC: [String: Double] = [:]
            for entry in scoresByTag {
                let assessment = try RunLevelAssessment(runs: evaluatedRuns, labels: kindLabels, histogramNames: entry.names, scores: entry.scores)
                auc[entry.tag] = assessment.runLevelAUC(minimumFlags: 1)
                if let histogram, let index = entry.names.firstIndex(of: histogram) {
                    let rows = kindLabels.indices.filter { kindLabels[$0] != .unknown }
                    histogramAUC[entry.tag] = (try? ROCCurve(scores: rows.map { entry.scores[index][$0] }, isPositive: rows.map { kindLabels[$0] == .bad }))?.auc
                }
            }
            result.append(DQMAnomalyDetection(anomaly: anomaly, runs: count, auc: auc, histogram: histogram, histogramAUC: histogramAUC))
        }
        return result
    }

    /// The terminal table of `detectionByAnomaly`: per tag the run-level AUC and, where the
    /// truth names the damaged histogram, that histogram's AUC in parentheses.
    public static func detectionTable(_ rows: [DQMAnomalyDetection], tags: [String]) -> String {
        let width = max(14, rows.map(\.anomaly.count).max() ?? 0)
        let cellWidth = 15
        let header = "anomaly".padding(toLength: width, withPad: " ", startingAt: 0) + "  runs"
            + tags.map { " " + $0.padding(toLength: max(cellWidth, $0.count), withPad: " ", startingAt: 0) }.joined()
        let lines = rows.map { row in
            row.anomaly.padding(toLength: width, withPad: " ", startingAt: 0) + String(format: " %5d", row.runs)
                + tags.map { tag in
                    var cell = String(format: "%.3f", row.auc[tag] ?? .nan)
                    if let value = row.histogramAUC[tag] { cell += String(format: " (%.3f)", value) }
                    return " " + cell.padding(toLength: max(cellWidth, tag.count), withPad: " ", startingAt: 0)
                }.joined()
        }
        let note = rows.contains { !$0.histogramAUC.isEmpty } ? ["(in parentheses: AUC of the damaged histogram alone)"] : []
        return ([header] + lines + note).joined(separator: "\n")
    }
}
