import Foundation
import HEPMLCore
import HEPMLExperiment
import HEPMLNN
import HEPMLTensor

/// Everything `hepml econt train` / `evaluate` take from the command line.
public struct StudyOptions: Sendable {
    public var inputs: [String]
    public var outputDirectory: String
    public var header = true
    public var rowsPerFile = 500_000
    public var double = false
    /// Keep only the first k validation modules; negative keeps all.
    public var maxValidation = -1
    public var quickTrain = false
    public var evaluationOnly = false
    public var retrain = false
    public var seed: UInt64 = 1
    public var randomSplit = false
    public var inputScaling: ChargeScaling = .sumPowerOfTwo
    public var outputScaling: ChargeScaling = .sumPowerOfTwo
    public var models = [NetworkDescription.defaultName]
    public var links = 5
    public var quantize = false
    public var epochs = 200
    public var batchSize = 500
    public var learningRate = 1e-3
    /// Upstream's 3 stops quantized training on a plateau near epoch 50 (docs/econt.md); its
    /// forks use 30.
    public var patience = 30
    /// `--loss`: replaces every network's catalog loss.
    public var loss: LossChoice?
    /// Where trained EMD-CNN critics are looked up; nil: `<output>/emd-cnn`.
    public var criticDirectory: String?
    public var full = false
    /// Rows of the RTL-verification CSVs (−1 = all).
    public var csvRows = 1
    public var skipPlots = false
    public var quiet = false
    /// False for `evaluate`: a model without saved weights is an error instead of being trained.
    public var mayTrain = true

    public init(inputs: [String], outputDirectory: String) {
        self.inputs = inputs
        self.outputDirectory = outputDirectory
    }
}

public struct StudyError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The modules of a run after loading, cleaning, normalizing, arranging and splitting.
public struct StudyData {
    public let modules: ModuleCharges
    public let split: ValidationSplit
    public let validationModules: ModuleCharges
    public let validationNormalized: NormalizedModules
    public let normalized: NormalizedModules

    public init(options: StudyOptions) throws {
        var modules = try CalQFiles.read(options.inputs, header: options.header, rowsPerFile: options.rowsPerFile).droppingEmptyModules()
        if options.double { modules = modules.pairwiseSummed() }
        guard modules.rows > 0 else {
            throw StudyError("\(options.inputs.joined(separator: ", ")): no module with charge (every row of every CALQ file is all zeros, or the files have no rows)")
        }
        self.modules = modules
        var split = options.evaluationOnly ? ValidationSplit.evaluationOnly(rows: modules.rows)
            : ValidationSplit(rows: modules.rows, randomSeed: options.randomSplit ? options.seed : nil)
        if options.quickTrain { split = split.limitingTraining(to: 5000) }
        split = split.limitingValidation(to: options.maxValidation)
        guard !split.validation.isEmpty else {
            throw StudyError("\(options.inputs.joined(separator: ", ")): the validation split is empty (\(modules.rows) modules with charge; the first 20 % are validation, so give at least 5, and --max-val must not be 0)")
        }
        self.split = split
        normalized = NormalizedModules(modules, scaling: options.inputScaling)
        validationModules = modules.rows(split.validation)
        validationNormalized = NormalizedModules(validationModules, scaling: options.inputScaling)
    }

    /// Network input images of the modules at `indices` (rows × pixels, channels last).
    public func images(_ arrangement: Arrangement, rows indices: [Int]) -> [Float] {
        let picked = indices.flatMap { row in normalized.values[row * triggerCellCount ..< (row + 1) * triggerCellCount] }
        return arrangement.arrange(picked, rows: indices.count)
    }
}

/// The outcome of one network of a run.
public struct ModelResult {
    public let runName: String
    public let directory: String
    public let autoencoder: ECONTAutoencoder
    public let history: TrainingHistory?
    public let trainingSeconds: Double?
    public let evaluation: Evaluation
}

/// Train (or load), save, export and evaluate the requested networks, Ecoder `train.py` style.
public enum Study {
    /// Directory name of a network in a run: the catalog name; `-loss-<name>` when `--loss`
    /// replaced the catalog loss; a quantized encoder depends on the eLinks (latent bits), so its
    /// name carries them, and `-quantized` when `--quantize` turned a float catalog network into
    /// a quantized one.
    public static func runName(_ network: NetworkDescription, options: StudyOptions) -> String {
        let catalog = NetworkDescription.named(network.name)
        var name = network.name
        if let loss = catalog?.loss, loss != network.loss { name += "-loss-\(network.loss.name)" }
        guard network.quantized else { return name }
        return "\(name)\(catalog?.quantized ?? true ? "" : "-quantized")-\(options.links)elinks"
    }

    public static func network(named name: String, options: StudyOptions) throws -> NetworkDescription {
        guard var network = NetworkDescription.named(name) else {
            throw StudyError("unknown network \(name); known: \(NetworkDescription.catalog.map(\.name).joined(separator: ", "))")
        }
        if options.quantize { network.quantized = true }
        if let loss = options.loss { network.loss = loss }
        return network
    }

    public static func run(_ options: StudyOptions, log: (String) -> Void) throws -> [ModelResult] {
        guard let budget = ELinkBudget(links: options.links) else { throw StudyError("--n-elinks must be 2…5, got \(options.links)") }
        let networks = try options.models.map { try network(named: $0, options: options) }
        let data = try StudyData(options: options)
        log("\(data.modules.rows) modules: \(data.split.training.count) training, \(data.split.validation.count) validation")
        try FileManager.default.createDirectory(atPath: options.outputDirectory, withIntermediateDirectories: true)
        var results: [ModelResult] = []
        for network in networks {
            results.append(try runNetwork(network, budget: budget, data: data, options: options, log: log))
        }
        let baselines = Evaluation.baselines(data: data, budget: budget, metrics: ModuleMetric.selection(full: options.full))
        let report = EvaluationReport(options: options, budget: budget, data: data, models: results, baselines: baselines)
        let summary = report.summaryTable()
        try AtomicFile.write(summary.csv, to: path(options.outputDirectory, "summary.csv"))
        log(summary.text)
        if !options.skipPlots {
            let index = try report.write(to: path(options.outputDirectory, "report"))
            log("report: \(index)")
        }
        return results
    }

    static func runNetwork(_ network: NetworkDescription, budget: ELinkBudget, data: StudyData, options: StudyOptions,
                           log: (String) -> Void) throws -> ModelResult {
        let name = runName(network, options: options)
        let run = RunDirectory(path(options.outputDirectory, name))
        let autoencoder = try ECONTAutoencoder(network, budget: budget, seed: options.seed)
        var history: TrainingHistory?
        var seconds: Double?
        if run.isComplete && !(options.retrain && options.mayTrain) {
            try autoencoder.loadWeights(from: run.weightsFile)
            log("\(name): loaded \(run.weightsFile)")
            if let data = FileManager.default.contents(atPath: run.historyJSON) {
                history = try? JSONDecoder().decode(TrainingHistory.self, from: data)
            }
        } else if options.mayTrain && !options.evaluationOnly {
            guard !data.split.training.isEmpty else { throw StudyError("\(name): no training modules") }
            let started = ResourceUsage.now()
            let trained = try train(autoencoder, data: data, options: options, label: name, in: run, log: log)
            seconds = ResourceUsage.now() - started
            history = trained
            log(String(format: "%@: %d epochs in %.1f s (%.2f s/epoch), best epoch %d", name, trained.epochs.count, seconds ?? 0,
                       (seconds ?? 0) / Double(max(trained.epochs.count, 1)), trained.restoredEpoch ?? trained.epochs.count))
        } else {
            let hint = FileManager.default.fileExists(atPath: run.checkpointDirectory) ? " (an interrupted training: `hepml econt train` resumes it)" : " (run `hepml econt train` first)"
            throw StudyError("\(name): no trained weights at \(run.weightsFile)\(hint)")
        }
        try ModelFiles.exportONNX(autoencoder, to: run.path)
        let images = data.images(network.arrangement, rows: data.split.validation)
        let evaluation = try Evaluation(autoencoder: autoencoder, images: images, data: data, options: options)
        try evaluation.verificationTables.write(to: run.path, rowLimit: options.csvRows)
        return ModelResult(runName: name, directory: run.path, autoencoder: autoencoder, history: history, trainingSeconds: seconds, evaluation: evaluation)
    }

    /// What a network's run directory was trained with: resuming or reusing it with other
    /// settings or data would silently mix two trainings, so that is refused.
    public struct RunSettings: Codable, Equatable, Sendable {
        public var model: String
        public var seed: UInt64
        public var batchSize: Int
        public var learningRate: Double
        /// nil: never stop early, keep the best epoch (Keras ModelCheckpoint).
        public var patience: Int?
        public var trainingSamples: Int
        public var validationSamples: Int
    }

    /// Adam, batch 500, early stopping on the validation loss with the best epoch's weights
    /// restored; resumable and reusable through the run directory (`ModelTraining`). `autoencoder`
    /// ends holding the trained weights.
    public static func train(_ autoencoder: ECONTAutoencoder, data: StudyData, options: StudyOptions, label: String,
                             in run: RunDirectory, log: (String) -> Void) throws -> TrainingHistory {
        let network = autoencoder.network
        let objective = try ReconstructionObjective(network.loss, arrangement: network.arrangement,
                                                    criticDirectory: options.criticDirectory ?? EMDCriticTraining.directory(output: options.outputDirectory))
        func dataset(_ rows: [Int]) throws -> Dataset<Float> {
            let images = try Tensor(shape: [rows.count] + network.inputShape, scalars: data.images(network.arrangement, rows: rows))
            return try Dataset(inputs: images, targets: images)
        }
        let training = try dataset(data.split.training)
        let validation = try dataset(data.split.validation)
        let settings = RunSettings(
            model: "\(network.name) loss \(network.loss.name) \(network.quantized ? "quantized \(autoencoder.budget.links) eLinks" : "float")",
            seed: options.seed, batchSize: options.batchSize, learningRate: options.learningRate, patience: options.patience,
            trainingSamples: training.count, validationSamples: validation.count)
        var configuration = TrainingConfiguration(epochs: options.epochs, batchSize: options.batchSize, seed: options.seed, learningRate: options.learningRate)
        configuration.label = label
        // Without patience the run never stops early but still ends on its best epoch (Keras ModelCheckpoint).
        configuration.earlyStopping = EarlyStopping(patience: options.patience)
        var driver = ModelTraining(spec: autoencoder.spec, seed: options.seed, stream: ECONTAutoencoder.weightStream, settings: settings, configuration: configuration)
        driver.retrain = options.retrain
        driver.showProgress = !options.quiet
        let outcome = try driver.run(in: run, optimizer: { Adam($0.parameters, learningRate: options.learningRate) }, training: training,
                                     validation: validation, log: log, loss: objective.lossFunction)
        guard let history = outcome.history, !history.epochs.isEmpty else { throw StudyError("\(label): no epoch to train (--epochs \(options.epochs))") }
        try autoencoder.loadWeights(from: run.weightsFile)
        return history
    }

    static func path(_ directory: String, _ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
}
