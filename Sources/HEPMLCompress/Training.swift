import Foundation
import HEPMLCore
import HEPMLExperiment
import HEPMLNN
import HEPMLPlot
import HEPMLTensor

/// What a compression model was trained with (`settings.json` of its run directory).
public struct CompressionTrainingSettings: Codable, Equatable, Sendable {
    public var source: ObjectSource
    public var normalization: NormalizationScheme
    public var filters: [JetFilter] = []
    public var model: String
    public var epochs: Int
    public var batchSize = 4096
    public var maximumLearningRate = 1e-3
    public var weightDecay = 1e-2
    public var cycle = OneCycle()
    /// fastai's Adam: β = (0.9, 0.99), ε = 1e-8; β₁ is cycled.
    public var beta2 = 0.99
    public var testFraction = 0.2
    public var seed: UInt64 = 41

    public init(source: ObjectSource, normalization: NormalizationScheme, model: String, epochs: Int) {
        self.source = source
        self.normalization = normalization
        self.model = model
        self.epochs = epochs
    }
}

/// What a compressor needs from a trained model beside its weights: the variables it was trained
/// on and their normalization (`compression.json` in the run directory).
public struct CompressionModelCard: Codable, Equatable, Sendable {
    public struct VariableInfo: Codable, Equatable, Sendable {
        public var name: String
        public var type: StoredType
    }

    public var variables: [VariableInfo]
    public var normalization: Normalization
    public var trainingObjects: Int
    public var validationObjects: Int
    public var bestValidationLoss: Double?

    public static let fileName = "compression.json"

    public static func load(from run: RunDirectory) throws -> CompressionModelCard {
        let path = run.file(fileName)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileFormatError(file: path, reason: "missing: \(run.path) is not a trained compression model (hepml compress train)")
        }
        do { return try JSONDecoder().decode(CompressionModelCard.self, from: data) } catch {
            throw FileFormatError(file: path, reason: "\(error)")
        }
    }
}

public enum CompressionTraining {
    public struct Outcome {
        public var model: GraphModel<Float>
        public var card: CompressionModelCard
        public var history: TrainingHistory?
    }

    /// Trains (or loads, or resumes) `settings.model` on `settings.source` in `run`: seeded split,
    /// normalization fitted on the training split, MSE on normalized values, fastai's Adam with
    /// decoupled weight decay except on batch-norm parameters and biases, one-cycle schedule, and the
    /// weights of the epoch with the lowest validation loss kept.
    public static func run(_ settings: CompressionTrainingSettings, in run: RunDirectory, retrain: Bool = false,
                           showProgress: Bool = true, log: (String) -> Void = { print($0) }) throws -> Outcome {
        guard settings.epochs > 0, settings.batchSize > 0, settings.testFraction > 0, settings.testFraction < 1 else {
            throw ModelZooError("epochs and batch size must be positive and the test fraction in (0, 1)")
        }
        var data = try settings.source.read().data
        for filter in settings.filters {
            let keep = try filter.passing(data)
            data.variables = data.variables.map { variable in
                ObjectVariable(name: variable.name, type: variable.type, values: zip(variable.values, keep).compactMap { $1 ? $0 : nil })
            }
            data.eventOffsets = nil
            data.kept = []
        }
        let count = data.objectCount
        var generator = SeededGenerator(seed: settings.seed, stream: 0x5917)
        let order = generator.permutation(count)
        let testCount = Int((Double(count) * settings.testFraction).rounded())
        let validationRows = Array(order[0..<testCount]).sorted(), trainingRows = Array(order[testCount...]).sorted()
        guard !validationRows.isEmpty, trainingRows.count >= 2 else {
            throw FileFormatError(file: settings.source.path, reason: "\(count) objects are too few to split into training and validation sets")
        }
        let transforms = try settings.normalization.transforms(for: data.variables, rows: trainingRows)
        let normalization = Normalization(scheme: settings.normalization, transforms: transforms)
        let matrix = try normalization.normalized(data, file: settings.source.path)
        let width = data.variables.count
        func dataset(_ rows: [Int]) throws -> Dataset<Float> {
            var values = [Float](repeating: 0, count: rows.count * width)
            for (index, row) in rows.enumerated() {
                for column in 0..<width { values[index * width + column] = matrix[row * width + column] }
            }
            let tensor = try Tensor(shape: [rows.count, width], scalars: values)
            return try Dataset(inputs: tensor, targets: tensor)
        }
        let training = try dataset(trainingRows), validation = try dataset(validationRows)
        let spec = try ModelZoo.spec(settings.model, variables: width)
        var configuration = TrainingConfiguration(epochs: settings.epochs, batchSize: settings.batchSize, seed: settings.seed,
                                                  learningRate: settings.maximumLearningRate)
        configuration.schedule = settings.cycle.schedule
        // SaveModelCallback(every='improvement', monitor='valid_loss'): never stop, keep the best epoch.
        configuration.earlyStopping = EarlyStopping(patience: settings.epochs + 1, restoreBest: true)
        configuration.label = "compress \(settings.model)"
        var driver = ModelTraining(spec: spec, seed: settings.seed, stream: 0xAE, settings: settings, configuration: configuration)
        driver.retrain = retrain
        driver.showProgress = showProgress
        let stepsPerEpoch = (training.count + settings.batchSize - 1) / settings.batchSize
        let outcome = try driver.run(in: run, optimizer: { model in
            optimizer(for: model, settings: settings, totalSteps: stepsPerEpoch * settings.epochs)
        }, training: training, validation: validation, log: log, loss: loss)
        let best = outcome.history.flatMap { history in history.epochs.compactMap(\.validationLoss).min() }
        let previous = try? CompressionModelCard.load(from: run)
        let card = CompressionModelCard(variables: data.variables.map { .init(name: $0.name, type: $0.type) }, normalization: normalization,
                                        trainingObjects: trainingRows.count, validationObjects: validationRows.count,
                                        bestValidationLoss: best ?? previous?.bestValidationLoss)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(card), to: run.file(CompressionModelCard.fileName))
        if let history = outcome.history {
            try FileManager.default.createDirectory(atPath: run.reportDirectory, withIntermediateDirectories: true)
            let figure = Figure.lossCurves([("training", history.epochs.map(\.trainLoss)),
                                            ("validation", history.epochs.map { $0.validationLoss ?? .nan })],
                                           yLabel: "MSE (normalized)", title: settings.model)
            try figure.save(to: (run.reportDirectory as NSString).appendingPathComponent("loss.png"))
        }
        return Outcome(model: outcome.model, card: card, history: outcome.history)
    }

    /// fastai's Adam for `fit_one_cycle`: β₁ cycled, decoupled weight decay except on batch norms
    /// and biases.
    public static func optimizer(for model: GraphModel<Float>, settings: CompressionTrainingSettings, totalSteps: Int) -> OneCycleAdam {
        let adam = Adam(model.parameters, learningRate: settings.maximumLearningRate, beta1: settings.cycle.maximumMomentum,
                        beta2: settings.beta2, weightDecay: .decoupled(settings.weightDecay), undecayed: undecayedParameters(model))
        return OneCycleAdam(adam, cycle: settings.cycle, totalSteps: totalSteps)
    }

    /// MSE between the reconstruction and the input, both normalized.
    public static func loss(_ model: Module<Float>, _ batch: Batch<Float>) throws -> Variable<Float> {
        try Loss.meanSquaredError(try model(Variable(batch.inputs)), batch.targets, weights: batch.weights)
    }

    /// The parameters fastai v1's `bn_wd=False` exempts from weight decay: `split_no_wd_params`
    /// puts the scales and shifts of every batch norm and the bias of every dense layer in the
    /// group that `true_wd` then leaves undecayed.
    static func undecayedParameters(_ module: Module<Float>) -> [Variable<Float>] {
        let own: [Variable<Float>]
        if module is BatchNorm<Float> {
            own = module.parameters
        } else if let dense = module as? Linear<Float> {
            own = dense.bias.map { [$0] } ?? []
        } else {
            own = []
        }
        return own + module.children.flatMap { undecayedParameters($0.1) }
    }
}
