import Foundation
import HEPMLColumnar

extension DQMAssessment {
    /// `hepml dqm assess` from a file: assesses the trained Parquet table at `inputFile` and writes
    /// the HTML report to `outputDirectory`. Returns the report's index.html path and the
    /// per-algorithm summaries (`summaryTable` prints them).
    public static func assess(inputFile: String, outputDirectory: String, configuration: DQMAssessmentConfiguration) throws
        -> (reportPath: String, summaries: [DQMAlgorithmSummary]) {
        let table = try Parquet.read(path: inputFile)
        let (report, summaries) = try assess(table: table, configuration: configuration, source: (inputFile as NSString).lastPathComponent)
        return (try report.write(to: outputDirectory), summaries)
    }
}
