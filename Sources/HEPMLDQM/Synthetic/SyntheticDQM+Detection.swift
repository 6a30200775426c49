import Foundation
import HEPMLColumnar

extension SyntheticDQMDataset {
    /// The planted anomalies as assessment truth (unlabelled runs included).
    public var runTruth: [DQMRunTruth] {
        runs.map { DQMRunTruth(run: $0.run, anomaly: $0.anomaly?.rawValue) }
    }

    /// The run-level AUC per planted anomaly type and algorithm of a trained table
    /// (`DQMAssessment.detectionByAnomaly` with the generator's truth).
    public func detectionByAnomaly(table: Table) throws -> [DQMAnomalyDetection] {
        try DQMAssessment.detectionByAnomaly(table: table, truth: runTruth)
    }
}
