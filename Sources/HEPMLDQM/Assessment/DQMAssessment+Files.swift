import Foundation
import HEPMLColumnar

extension DQMAssessment {
    /// `hepml dqm assess` from a file: assesses the trained Parquet table at `inputFile` and writes
    /// the HTML report, `assessment_stats.parquet` and `assessment.json` to `outputDirectory`.
    /// With `truth`, the report also has the AUC per anomaly kind (returned as `detection`).
    /// Returns the report's index.html path and the per-algorithm summaries (`summaryTable`
    /// prints them).
    public static func assess(inputFile: String, outputDirectory: String, configuration: DQMAssessmentConfiguration, truth: [DQMRunTruth]? = nil) throws
        -> (reportPath: String, summaries: [DQMAlgorithmSummary], detection: [DQMAnomalyDetection]) {
        let table = try Parquet.read(path: inputFile)
        var (report, summaries) = try assess(table: table, configuration: configuration, source: (inputFile as NSString).lastPathComponent)
        var detection: [DQMAnomalyDetection] = []
        if let truth {
            detection = try detectionByAnomaly(table: table, truth: truth)
            let afterRunLevel = report.sections.firstIndex { $0.title == "Run level" }.map { $0 + 1 } ?? report.sections.count
            report.sections.insert(detectionSection(detection, tags: summaries.map(\.tag)), at: afterRunLevel)
        }
        let reportPath = try report.write(to: outputDirectory)
        try writeStatistics(summaries, to: outputDirectory)
        return (reportPath, summaries, detection)
    }
}
