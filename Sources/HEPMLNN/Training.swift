import Foundation
import HEPMLCore
import HEPMLTensor

/// Samples held in contiguous buffers: inputs [N, ...], targets [N, ...] (or class labels [N]),
/// optional per-element loss weights [N, ...] and, for models with side inputs, further inputs
/// [N, ...] in the model's input order after the first.
public struct Dataset<T: TensorScalar> {
    public var inputs: Tensor<T>
    public var sideInputs: [Tensor<T>]
    public var targets: Tensor<T>
    public var weights: Tensor<T>?

    public init(inputs: Tensor<T>, sideInputs: [Tensor<T>] = [], targets: Tensor<T>, weights: Tensor<T>? = nil) throws {
        let n = inputs.shape.first
        guard n != nil, targets.shape.first == n, weights.map({ $0.shape.first == n }) ?? true,
              sideInputs.allSatisfy({ $0.shape.first == n }) else {
            throw ShapeError(operation: "Dataset", "inputs, side inputs, targets and weights need the same number of samples",
                             shapes: [inputs.shape, targets.shape, weights?.shape ?? []] + sideInputs.map(\.shape))
        }
        self.inputs = inputs
        self.sideInputs = sideInputs
        self.targets = targets
        self.weights = weights
    }

    public var count: Int { inputs.shape.first ?? 0 }

    /// The samples at `indices`, copied into fresh contiguous tensors.
    public func batch(_ indices: ArraySlice<Int>) throws -> Batch<T> {
        Batch(inputs: try inputs.gatheringRows(indices), sideInputs: try sideInputs.map { try $0.gatheringRows(indices) },
              targets: try targets.gatheringRows(indices), weights: try weights.map { try $0.gatheringRows(indices) })
    }
}

public struct Batch<T: TensorScalar> {
    public var inputs: Tensor<T>
    public var sideInputs: [Tensor<T>]
    public var targets: Tensor<T>
    public var weights: Tensor<T>?

    /// Every input in the model's order, as graph leaves.
    public var modelInputs: [Variable<T>] { ([inputs] + sideInputs).map { Variable($0) } }
}

/// Stops training when the validation loss has not improved by `minimumDelta` for `patience`
/// epochs; with `restoreBest` the weights of the best epoch are put back at the end.
public struct EarlyStopping: Sendable, Equatable, Codable {
    public var patience: Int
    public var minimumDelta: Double
    public var restoreBest: Bool
    public init(patience: Int, minimumDelta: Double = 0, restoreBest: Bool = true) {
        self.patience = patience
        self.minimumDelta = minimumDelta
        self.restoreBest = restoreBest
    }
}

public struct TrainingConfiguration: Sendable {
    public var epochs: Int
    public var batchSize: Int
    public var seed: UInt64
    public var learningRate: Double
    public var schedule: LearningRateSchedule = .constant
    public var gradientClipNorm: Double?
    public var earlyStopping: EarlyStopping?
    /// Shown before the progress bar.
    public var label = "train"
    /// Silences progress output (tests, library use).
    public var quiet = false
    /// Seconds between checkpoints (with a checkpoint directory): a checkpoint is written after an
    /// epoch once this much time has passed since the last one, and always after the last epoch.
    /// A resumed run redoes the epochs after its checkpoint and still ends exactly like an
    /// uninterrupted one, so the interval trades only repeated work against write and fsync
    /// traffic (many small models, hundreds of epochs). 0 writes one after every epoch.
    public var checkpointInterval: Double = 0
    /// Called after every epoch, e.g. to print the loss or write a checkpoint.
    public var onEpochEnd: (@Sendable (EpochRecord) -> Void)?

    public init(epochs: Int, batchSize: Int, seed: UInt64, learningRate: Double) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.seed = seed
        self.learningRate = learningRate
    }
}

public struct EpochRecord: Codable, Equatable, Sendable {
    public var epoch: Int
    public var trainLoss: Double
    public var validationLoss: Double?
    public var learningRate: Double
    public var seconds: Double
}

/// Per-epoch losses of a run, writable as JSON or CSV.
public struct TrainingHistory: Codable, Equatable, Sendable {
    public var epochs: [EpochRecord] = []
    /// Epoch whose weights the model holds at the end when early stopping restored them.
    public var restoredEpoch: Int?
    public var stoppedEarly = false

    public func writeJSON(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(self), to: path)
    }

    public func writeCSV(to path: String) throws {
        var text = "epoch,train_loss,validation_loss,learning_rate,seconds\n"
        for e in epochs {
            text += "\(e.epoch),\(e.trainLoss),\(e.validationLoss.map { "\($0)" } ?? ""),\(e.learningRate),\(e.seconds)\n"
        }
        try AtomicFile.write(text, to: path)
    }
}

/// Early stopping's running state. It is part of every checkpoint, so a resumed run stops at,
/// and restores, the same epoch as an uninterrupted one.
public struct EarlyStoppingState: Codable, Equatable, Sendable {
    public var bestLoss: Double
    public var bestEpoch: Int
    public var epochsWithoutImprovement: Int

    /// The state after the first monitored epoch.
    public init(loss: Double, epoch: Int) {
        bestLoss = loss
        bestEpoch = epoch
        epochsWithoutImprovement = 0
    }

    /// Takes an epoch's monitored loss; true when the epoch is the new best.
    public mutating func update(loss: Double, epoch: Int, rule: EarlyStopping) -> Bool {
        if loss < bestLoss - rule.minimumDelta {
            self = EarlyStoppingState(loss: loss, epoch: epoch)
            return true
        }
        epochsWithoutImprovement += 1
        return false
    }

    public func shouldStop(_ rule: EarlyStopping) -> Bool { epochsWithoutImprovement >= rule.patience }
}

/// The loss of one batch: builds the forward graph for `batch` on `model` and returns a scalar.
public typealias LossFunction<T: TensorScalar> = (_ model: Module<T>, _ batch: Batch<T>) throws -> Variable<T>

/// The reusable minibatch training loop: seeded shuffling each epoch, optimizer steps with the
/// scheduled learning rate and optional clipping, validation in inference mode, a progress bar,
/// early stopping and the history.
///
/// With `checkpointDirectory`, a checkpoint is written after every epoch and, if one is already
/// there, training resumes after its last completed epoch with its weights, optimizer state,
/// history and early-stopping state (best loss and epoch, its weights, epochs without
/// improvement), so the resumed run ends exactly like an uninterrupted one; a run that already
/// stopped early trains no further.
public func train<T: TensorScalar>(_ model: Module<T>, optimizer: Optimizer, training: Dataset<T>, validation: Dataset<T>? = nil,
                                   configuration: TrainingConfiguration, checkpointDirectory: String? = nil, loss: LossFunction<T>) throws -> TrainingHistory {
    guard configuration.batchSize > 0, training.count > 0 else {
        throw ShapeError(operation: "train", "needs a positive batch size and at least one sample", shapes: [training.inputs.shape])
    }
    let stepsPerEpoch = (training.count + configuration.batchSize - 1) / configuration.batchSize
    let totalSteps = stepsPerEpoch * configuration.epochs
    var history = TrainingHistory()
    var startEpoch = 0
    var stopping: EarlyStoppingState?
    var bestWeights: [(String, Tensor<T>)]?
    let keepsBest = configuration.earlyStopping?.restoreBest ?? false
    if let checkpointDirectory, let resumed = try Checkpoint.load(into: model, optimizer: optimizer, from: checkpointDirectory) {
        history = resumed.record.history
        startEpoch = resumed.record.epochsCompleted
        if let rule = configuration.earlyStopping, let state = resumed.record.earlyStopping {
            stopping = state
            history.stoppedEarly = state.shouldStop(rule)
            if keepsBest {
                guard let weights = resumed.bestWeights else {
                    throw FileFormatError(file: checkpointDirectory, reason: "the checkpoint keeps no best weights to restore (saved without restoreBest?)")
                }
                bestWeights = try model.stateDictionary().map { name, tensor in
                    guard let best = weights[name], best.shape == tensor.shape else {
                        throw FileFormatError(file: checkpointDirectory, reason: "the checkpoint's best weights lack \(name) \(tensor.shape)")
                    }
                    return (name, best)
                }
            }
        }
    }
    let parameters = model.parameters
    var lastCheckpoint = ResourceUsage.now()
    var epoch = startEpoch
    while epoch < configuration.epochs && !history.stoppedEarly {
        let started = ResourceUsage.now()
        model.setTraining(true)
        model.beginEpoch(epoch)
        // One stream per epoch, so a resumed run shuffles exactly like an uninterrupted one.
        var generator = SeededGenerator(seed: configuration.seed, stream: UInt64(epoch))
        let order = generator.permutation(training.count)
        let progress = ProgressReporter("\(configuration.label) epoch \(epoch + 1)/\(configuration.epochs)", total: training.count, unit: "samples", quiet: configuration.quiet)
        var lossSum = 0.0
        var rate = configuration.learningRate
        for step in 0..<stepsPerEpoch {
            let range = (step * configuration.batchSize)..<min((step + 1) * configuration.batchSize, training.count)
            rate = configuration.schedule.rate(base: configuration.learningRate, step: epoch * stepsPerEpoch + step, totalSteps: totalSteps, stepsPerEpoch: stepsPerEpoch)
            optimizer.learningRate = rate
            let value = try loss(model, try training.batch(order[range]))
            try value.backward()
            if let maxNorm = configuration.gradientClipNorm { clipGradientNorm(parameters, maxNorm: maxNorm) }
            optimizer.step()
            let batchLoss = Double(value.value.scalars.first ?? 0)
            lossSum += batchLoss * Double(range.count)
            progress.setSuffix(String(format: "loss %.5g", batchLoss))
            progress.advance(by: range.count)
        }
        progress.finish()
        let validationLoss = try validation.map { try evaluate(model, on: $0, batchSize: configuration.batchSize, loss: loss) }
        epoch += 1
        let record = EpochRecord(epoch: epoch, trainLoss: lossSum / Double(training.count), validationLoss: validationLoss,
                                 learningRate: rate, seconds: ResourceUsage.now() - started)
        history.epochs.append(record)
        if let rule = configuration.earlyStopping {
            let monitored = validationLoss ?? record.trainLoss
            var improved = true
            if var state = stopping {
                improved = state.update(loss: monitored, epoch: epoch, rule: rule)
                stopping = state
            } else {
                stopping = EarlyStoppingState(loss: monitored, epoch: epoch)
            }
            if improved && keepsBest { bestWeights = model.stateDictionary() }
            history.stoppedEarly = stopping?.shouldStop(rule) ?? false
        }
        let isLast = epoch == configuration.epochs || history.stoppedEarly
        if let checkpointDirectory, isLast || ResourceUsage.now() - lastCheckpoint >= configuration.checkpointInterval {
            try Checkpoint.save(model: model, optimizer: optimizer, history: history, epochsCompleted: epoch,
                                earlyStopping: stopping, bestWeights: bestWeights, to: checkpointDirectory)
            lastCheckpoint = ResourceUsage.now()
        }
        configuration.onEpochEnd?(record)
    }
    if let bestWeights, let stopping {
        try model.loadStateDictionary(Dictionary(bestWeights, uniquingKeysWith: { a, _ in a }))
        history.restoredEpoch = stopping.bestEpoch
    }
    model.setTraining(false)
    return history
}

/// Mean loss over a data set in inference mode, batch by batch (samples weighted equally).
public func evaluate<T: TensorScalar>(_ model: Module<T>, on data: Dataset<T>, batchSize: Int, loss: LossFunction<T>) throws -> Double {
    let wasTraining = model.isTraining
    model.setTraining(false)
    defer { model.setTraining(wasTraining) }
    var total = 0.0
    let indices = Array(0..<data.count)
    for start in stride(from: 0, to: data.count, by: max(batchSize, 1)) {
        let range = start..<min(start + batchSize, data.count)
        let value = try loss(model, try data.batch(indices[range]))
        total += Double(value.value.scalars.first ?? 0) * Double(range.count)
    }
    return total / Double(max(data.count, 1))
}
