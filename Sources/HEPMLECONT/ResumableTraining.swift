import Foundation
import HEPMLCore
import HEPMLNN
import HEPMLTensor

/// The study's training settings around the engine's loop: Adam, Keras-style early stopping on
/// the validation loss with the best epoch's weights restored, and resumption of an interrupted
/// run. The engine checkpoints every epoch in `checkpoints` (weights, Adam state, history, early
/// stopping's best epoch and weights), so a run interrupted at any point resumes and ends with
/// the weights of an uninterrupted run; this layer refuses resumes with changed settings.
public enum ResumableTraining {
    /// What a checkpoint directory was started with: resuming with other settings or data would
    /// silently mix two trainings, so it is refused.
    public struct Settings: Codable, Equatable, Sendable {
        public var model: String
        public var seed: UInt64
        public var batchSize: Int
        public var learningRate: Double
        /// nil: never stop early, keep the best epoch (Keras ModelCheckpoint).
        public var patience: Int?
        public var epochs: Int?
        public var trainingSamples: Int
        public var validationSamples: Int

        /// Records the settings in a new checkpoint directory, or checks them against an existing one.
        func claim(_ directory: String) throws {
            let file = (directory as NSString).appendingPathComponent("settings.json")
            if let stored = FileManager.default.contents(atPath: file) {
                let previous: Settings
                do { previous = try JSONDecoder().decode(Settings.self, from: stored) } catch {
                    throw FileFormatError(file: file, reason: "unreadable training settings: \(error)")
                }
                guard previous == self else {
                    throw StudyError("\(directory) holds an interrupted training with other settings (\(previous)); resume with those or train again with --retrain")
                }
                return
            }
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(try encoder.encode(self), to: file)
        }
    }

    /// Trains `model` with Adam for up to `epochs` epochs and leaves it holding the best epoch's weights.
    public static func run(_ model: Module<Float>, training: Dataset<Float>, validation: Dataset<Float>, settings: Settings,
                           epochs: Int, checkpoints: String, label: String, quiet: Bool, log: (String) -> Void,
                           loss: @escaping LossFunction<Float>) throws -> TrainingHistory {
        try settings.claim(checkpoints)
        let completed = try Checkpoint.latestRecord(in: checkpoints)
        if let completed {
            log("\(label): resuming after epoch \(completed.epochsCompleted) of \(epochs)\(completed.earlyStopping.map { " (best so far: epoch \($0.bestEpoch))" } ?? "")")
        }
        var configuration = TrainingConfiguration(epochs: epochs, batchSize: settings.batchSize, seed: settings.seed, learningRate: settings.learningRate)
        configuration.quiet = true
        // Without patience the run never stops early but still ends on its best epoch (Keras ModelCheckpoint).
        configuration.earlyStopping = EarlyStopping(patience: settings.patience ?? .max)
        let progress = ProgressReporter(label, total: epochs, unit: "epochs", quiet: quiet)
        progress.advance(by: min(completed?.epochsCompleted ?? 0, epochs))
        configuration.onEpochEnd = { record in
            progress.setSuffix(String(format: "loss %.5g  val_loss %.5g", record.trainLoss, record.validationLoss ?? Double.nan))
            progress.advance()
        }
        let history = try HEPMLNN.train(model, optimizer: Adam(model.parameters, learningRate: settings.learningRate), training: training,
                                        validation: validation, configuration: configuration, checkpointDirectory: checkpoints, loss: loss)
        progress.finish()
        guard !history.epochs.isEmpty else { throw StudyError("\(label): no epoch to train (--epochs \(epochs))") }
        return history
    }
}
