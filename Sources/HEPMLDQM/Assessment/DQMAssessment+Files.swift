import Foundation
import HEPMLColumnar

extension DQMAssessment {
    /// `hepml dqm assess` from a file: assesses the trained Parquet table at `inputFile`, writes
    /// the HTML report and the statistics files to `outputDirectory`. With `truth` (which run
    /// carries which anomaly kind) the report also gets the run-level AUC per anomaly kind.
    /// Returns the report's index.html path, the per-algorithm summaries (`summaryTable` prints
    /// them) and, with `truth`, the per-kind table.
    public static func assess(inputFile: String, outputDirectory: String, configuration: DQMAssessmentConfiguration, truth: [DQMRunTruth]? = nil) throws
        -> (reportPath: String, summaries: [DQMAlgorithmSummary], detectionTable: String?) {
        let table = try Parquet.read(path: inputFile)
        var (report, summaries) = try assess(table: table, configuration: configuration, source: (inputFile as NSString).lastPathComponent)
        var detectionTable: String?
        if let truth {
            let detection = try detectionByAnomaly(table: table, truth: truth)
            let tags = summaries.map(\.tag)
            let afterRunLevel = report.sections.firstIndex { $0.title == "Run level" }.map { $0 + 1 } ?? report.sections.count
            report.sections.insert(detectionSection(detection, tags: tags), at: afterRunLevel)
            detectionTable = self.detectionTable(detection, tags: tags)
        }
        let path = try report.write(to: outputDirectory)
        try writeStatistics(summaries, to: outputDirectory)
        return (path, summaries, detectionTable)
    }
}
