import Foundation
import HEPMLCore
import HEPMLNN
import HEPMLTensor

/// The study's training loop around the engine: Adam, the best epoch's weights kept, Keras-style
/// early stopping, and resumption of an interrupted run.
///
/// Every epoch ends with an engine checkpoint in `checkpoints` (weights, Adam state, history),
/// then `best.safetensors` when the epoch improved the validation loss; a run interrupted at any
/// point resumes from there and ends with the weights of an uninterrupted run: the engine
/// shuffles every epoch from its own seeded stream, and the early-stopping state (best epoch and
/// its weights, epochs without improvement) is rebuilt from the checkpoint's history. The engine's
/// own early stopping forgets its best epoch on resume, so the engine runs one epoch per call and
/// the stopping decision is taken here.
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
        let optimizer = Adam(model.parameters, learningRate: settings.learningRate)
        // TrainingHistory has no public initializer: nil until the engine returns the first one.
        var latest = try Checkpoint.load(into: model, optimizer: optimizer, from: checkpoints)?.history
        let completed = latest?.epochs ?? []
        var stopping = EarlyStopping(patience: settings.patience)
        for record in completed { _ = stopping.record(record) }
        let bestPath = (checkpoints as NSString).appendingPathComponent("best.safetensors")
        var best: [String: Tensor<Float>]?
        if let bestEpoch = stopping.bestEpoch {
            if bestEpoch == completed.count {
                best = Dictionary(model.stateDictionary(), uniquingKeysWith: { a, _ in a })
            } else {
                let stored = try SafeTensors.read(bestPath, as: Float.self)
                guard stored.metadata["epoch"] == "\(bestEpoch)" else {
                    throw StudyError("\(label): \(bestPath) does not hold epoch \(bestEpoch), the checkpoint's best; train again with --retrain")
                }
                best = stored.tensors
            }
            log("\(label): resuming after epoch \(completed.count) of \(epochs) (best so far: epoch \(bestEpoch))")
        }

        var configuration = TrainingConfiguration(epochs: 0, batchSize: settings.batchSize, seed: settings.seed, learningRate: settings.learningRate)
        configuration.quiet = true
        let progress = ProgressReporter(label, total: epochs, unit: "epochs", quiet: quiet)
        progress.advance(by: min(completed.count, epochs))
        while (latest?.epochs.count ?? 0) < epochs && !stopping.shouldStop {
            configuration.epochs = (latest?.epochs.count ?? 0) + 1
            let history = try HEPMLNN.train(model, optimizer: optimizer, training: training, validation: validation,
                                            configuration: configuration, checkpointDirectory: checkpoints, loss: loss)
            latest = history
            guard let record = history.epochs.last else { break }
            if stopping.record(record) {
                let state = model.stateDictionary()
                try SafeTensors.write(state, metadata: ["epoch": "\(record.epoch)"], to: bestPath)
                best = Dictionary(state, uniquingKeysWith: { a, _ in a })
            }
            progress.setSuffix(String(format: "loss %.5g  val_loss %.5g  best epoch %d", record.trainLoss,
                                      record.validationLoss ?? Double.nan, stopping.bestEpoch ?? 0))
            progress.advance()
        }
        progress.finish()
        guard var history = latest else { throw StudyError("\(label): no epoch to train (--epochs \(epochs))") }
        if let best {
            try model.loadStateDictionary(best)
            history.restoredEpoch = stopping.bestEpoch
        }
        history.stoppedEarly = stopping.shouldStop
        model.setTraining(false)
        return history
    }

    /// Keras-style early stopping on the monitored loss (validation, else training): an epoch
    /// improves when its loss is below the best so far; `patience` epochs in a row without
    /// improvement stop (never with nil patience).
    struct EarlyStopping {
        let patience: Int?
        private(set) var bestLoss = Double.infinity
        private(set) var bestEpoch: Int?
        private(set) var epochsWithoutImprovement = 0

        init(patience: Int?) { self.patience = patience }

        var shouldStop: Bool { patience.map { epochsWithoutImprovement >= $0 } ?? false }

        /// Takes one epoch's record; true when it is the new best.
        mutating func record(_ record: EpochRecord) -> Bool {
            let monitored = record.validationLoss ?? record.trainLoss
            if bestEpoch == nil || monitored < bestLoss {
                bestLoss = monitored
                bestEpoch = record.epoch
                epochsWithoutImprovement = 0
                return true
            }
            epochsWithoutImprovement += 1
            return false
        }
    }
}
