import Foundation
import HEPMLColumnar

extension SyntheticDQMDataset {
    /// How well the algorithms of a trained table find one planted anomaly type.
    public struct AnomalyDetection: Sendable, Equatable {
        public var anomaly: SyntheticAnomaly
        /// Evaluated runs (bad or unlabelled, never trained on) that carry the anomaly.
        public var runs: Int
        /// Per algorithm tag, the run-level AUC (RF-ROC, N = 1) of these runs against the
        /// held-out good runs.
        public var auc: [String: Double]
    }

    /// The run-level AUC per planted anomaly type and algorithm: the truth the generator knows
    /// (also for unlabelled runs) turned into one ROC per type, so that a weak detector shows
    /// which kind of problem it misses rather than only a lower overall number.
    public func detectionByAnomaly(table: Table) throws -> [AnomalyDetection] {
        let runNumbers = try DQMTable.runNumbers(table)
        let labels = try DQMTable.labels(table)
        let roles = table[DQMTable.splitColumn] != nil ? try DQMTable.integers(table, DQMTable.splitColumn) : nil
        let evaluated = runNumbers.indices.filter { roles?[$0] != SplitRole.train.rawValue }
        let evaluatedRuns = evaluated.map { runNumbers[$0] }
        let planted = Dictionary(runs.map { ($0.run, $0.anomaly) }, uniquingKeysWith: { first, _ in first })
        let histograms = DQMTable.histogramColumnNames(table)
        var scoresByTag: [(tag: String, names: [String], scores: [[Double]])] = []
        for tag in DQMAssessment.algorithmTags(table, histograms: histograms) {
            let names = histograms.filter { table[DQMTable.scoreColumn($0, tag: tag)] != nil }
            let scores = try names.map { name in
                let all = try DQMTable.scores(table, DQMTable.scoreColumn(name, tag: tag))
                return evaluated.map { all[$0] }
            }
            scoresByTag.append((tag, names, scores))
        }
        var result: [AnomalyDetection] = []
        for anomaly in SyntheticAnomaly.allCases {
            let typeLabels: [RunLabel] = evaluated.map { row in
                if labels[row] == .good { return .good }
                return planted[runNumbers[row]] == anomaly ? .bad : .unknown
            }
            let count = typeLabels.filter { $0 == .bad }.count
            guard count > 0 else { continue }
            var auc: [String: Double] = [:]
            for entry in scoresByTag {
                let assessment = try RunLevelAssessment(runs: evaluatedRuns, labels: typeLabels, histogramNames: entry.names, scores: entry.scores)
                auc[entry.tag] = assessment.runLevelAUC(minimumFlags: 1)
            }
            result.append(AnomalyDetection(anomaly: anomaly, runs: count, auc: auc))
        }
        return result
    }

    /// The terminal table of `detectionByAnomaly`, one column per tag.
    public static func detectionTable(_ rows: [AnomalyDetection], tags: [String]) -> String {
        let header = "anomaly         runs" + tags.map { " " + $0.padding(toLength: max(13, $0.count), withPad: " ", startingAt: 0) }.joined()
        let lines = rows.map { row in
            row.anomaly.rawValue.padding(toLength: 14, withPad: " ", startingAt: 0) + String(format: " %5d", row.runs)
                + tags.map { tag in " " + String(format: "%.3f", row.auc[tag] ?? .nan).padding(toLength: max(13, tag.count), withPad: " ", startingAt: 0) }.joined()
        }
        return ([header] + lines).joined(separator: "\n")
    }
}
