import Foundation
import HEPMLCore
import HEPMLNN
import HEPMLTensor

/// The one load / resume / retrain policy and per-epoch progress of every workflow:
/// - a complete run directory with the same settings and network is loaded, not trained again;
/// - an interrupted one resumes from its checkpoint and ends exactly as an uninterrupted run;
/// - other settings or another network are refused (naming the differences) unless `retrain`;
/// - progress is one bar in epochs with the losses, and the history is written with the weights.
public struct ModelTraining<Settings: Codable & Equatable> {
    public var spec: ModelSpec
    /// Seed and stream of the initial weights (see `ModelSpec.build`).
    public var seed: UInt64
    public var stream: UInt64
    public var settings: Settings
    public var configuration: TrainingConfiguration
    public var retrain = false
    /// Prints progress and the resume/load lines; false in tests and library use.
    public var showProgress = true

    /// `configuration.checkpointInterval` is raised to `defaultCheckpointInterval` when it is 0.
    public init(spec: ModelSpec, seed: UInt64, stream: UInt64 = 0, settings: Settings, configuration: TrainingConfiguration) {
        self.spec = spec
        self.seed = seed
        self.stream = stream
        self.settings = settings
        self.configuration = configuration
        if configuration.checkpointInterval == 0 { self.configuration.checkpointInterval = Self.defaultCheckpointInterval }
    }

    /// At most one checkpoint (and its fsyncs) every 10 s: an interruption costs at most that
    /// much repeated training, and a workflow that trains many small models for hundreds of
    /// epochs does not spend its time writing them.
    public static var defaultCheckpointInterval: Double { 10 }

    public struct Outcome {
        public var model: GraphModel<Float>
        /// nil when a finished model was loaded.
        public var history: TrainingHistory?
        public var loaded: Bool { history == nil }
    }

    /// Loads, resumes or trains the model in `directory`. `optimizer` makes the optimizer for the
    /// fresh model's parameters; `loss` is the batch loss.
    public func run(in directory: RunDirectory, optimizer makeOptimizer: (GraphModel<Float>) -> Optimizer,
                    training: Dataset<Float>, validation: Dataset<Float>?, log: (String) -> Void = { print($0) },
                    loss: @escaping LossFunction<Float>) throws -> Outcome {
        if retrain { try directory.clear() }
        try directory.claim(settings, spec: spec)
        if directory.isComplete {
            log("\(configuration.label): loading the trained model in \(directory.path) (--retrain trains it again)")
            return Outcome(model: try directory.loadModel(), history: nil)
        }
        let model: GraphModel<Float> = try spec.build(seed: seed, stream: stream)
        let history = try Self.trainResumably(model, checkpoints: directory.checkpointDirectory, optimizer: makeOptimizer(model),
                                              training: training, validation: validation, configuration: configuration,
                                              showProgress: showProgress, log: log, loss: loss)
        try directory.saveModel(model, history: history)
        return Outcome(model: model, history: history)
    }

    /// The engine's training loop with checkpoints in `checkpoints` (resuming from the last
    /// one), one progress bar in epochs with the losses, and a line when it resumes. For models
    /// that are not built from a spec (e.g. ones that share weights between branches).
    public static func trainResumably(_ model: Module<Float>, checkpoints: String, optimizer: Optimizer, training: Dataset<Float>,
                                      validation: Dataset<Float>?, configuration: TrainingConfiguration, showProgress: Bool,
                                      log: (String) -> Void, loss: @escaping LossFunction<Float>) throws -> TrainingHistory {
        let completed = try Checkpoint.latestRecord(in: checkpoints)?.epochsCompleted ?? 0
        if completed > 0 { log("\(configuration.label): resuming after epoch \(completed) of \(configuration.epochs)") }
        var configuration = configuration
        configuration.quiet = true
        let progress = ProgressReporter(configuration.label, total: configuration.epochs, unit: "epochs", quiet: !showProgress)
        progress.advance(by: min(completed, configuration.epochs))
        let perEpoch = configuration.onEpochEnd
        configuration.onEpochEnd = { record in
            progress.setSuffix(String(format: "loss %.5g  val_loss %.5g", record.trainLoss, record.validationLoss ?? Double.nan))
            progress.advance()
            perEpoch?(record)
        }
        defer { progress.finish() }
        return try train(model, optimizer: optimizer, training: training, validation: validation, configuration: configuration,
                         checkpointDirectory: checkpoints, loss: loss)
    }
}
