import Foundation
import HEPMLCore
import HEPMLExperiment
import HEPMLNN
import HEPMLTensor

/// Where the critic's training pairs come from (upstream `train_emdloss.py --pairEMD/--aeEMD/--appEMD`).
public enum EMDPairSource: String, CaseIterable, Sendable {
    /// Ordered pairs of modules: the first 60 % of the modules pair among themselves for
    /// training, the last 40 % for validation.
    case pair
    /// (input, autoencoder output) of a previous run's verification CSVs; first 70 % training.
    case ae
    /// Both: the autoencoder pairs split 60/40, plus the module pairs.
    case app
}

/// Everything `hepml econt train-emd-loss` takes from the command line.
public struct EMDCriticOptions: Sendable {
    public var inputs: [String] = []
    public var header = true
    /// Upstream's default: pairs grow quadratically with the modules.
    public var rowsPerFile = 1000
    public var source: EMDPairSource = .pair
    /// A trained network's run directory holding `verify_input_calQ.csv` and
    /// `verify_decoded_calQ.csv` (written with `--n-csv -1`), for `ae` and `app`.
    public var autoencoderRun: String?
    /// Cap on the module pairs of each split (drawn with the seed); nil: all ordered pairs.
    public var maxPairs: Int?
    public var name: String
    public var outputDirectory: String
    public var epochs = 64
    public var batchSize = 32
    public var learningRate = 1e-3
    public var seed: UInt64 = 1
    public var retrain = false
    public var quiet = false

    public init(name: String, outputDirectory: String) {
        self.name = name
        self.outputDirectory = outputDirectory
    }
}

/// Trains an `EMDCritic` on exact-EMD targets and saves it where `hepml econt train` finds it.
public enum EMDCriticTraining {
    /// The critics of an output directory.
    public static func directory(output: String) -> String { (output as NSString).appendingPathComponent("emd-cnn") }

    /// Training and validation pairs with their exact EMD.
    public static func pairs(_ options: EMDCriticOptions) throws -> (training: EMDPairs, validation: EMDPairs) {
        func modulePairs(training fraction: Double) throws -> (EMDPairs, EMDPairs) {
            let modules = try CalQFiles.read(options.inputs, header: options.header, rowsPerFile: options.rowsPerFile).droppingEmptyModules()
            let cut = Int((Double(modules.rows) * fraction).rounded(.toNearestOrEven))
            let limit = options.maxPairs
            return (EMDPairs.orderedPairs(of: modules.rows(Array(0..<cut)), limit: limit, seed: options.seed),
                    EMDPairs.orderedPairs(of: modules.rows(Array(cut..<modules.rows)), limit: limit, seed: options.seed &+ 1))
        }
        func autoencoderPairs(training fraction: Double) throws -> (EMDPairs, EMDPairs) {
            guard let run = options.autoencoderRun else { throw StudyError("--source \(options.source) needs --ae-run DIR") }
            func read(_ file: String) throws -> ModuleCharges {
                try CalQFiles.read([(run as NSString).appendingPathComponent(file)], header: false, rowsPerFile: .max)
            }
            let all = EMDPairs(first: try read("verify_input_calQ.csv"), second: try read("verify_decoded_calQ.csv"))
            let cut = Int((Double(all.count) * fraction).rounded(.toNearestOrEven))
            return (all.subset(0..<cut), all.subset(cut..<all.count))
        }
        switch options.source {
        case .pair:
            return try modulePairs(training: 0.6)
        case .ae:
            return try autoencoderPairs(training: 0.7)
        case .app:
            let (aeTraining, aeValidation) = try autoencoderPairs(training: 0.6)
            let (pairTraining, pairValidation) = try modulePairs(training: 0.6)
            return (aeTraining + pairTraining, aeValidation + pairValidation)
        }
    }

    /// Builds the pairs, trains (Adam, MSE plus the kernels' L2 penalty, the best validation
    /// epoch kept, resumable), saves `<name>.safetensors`, `<name>.json` and the history.
    public static func run(_ options: EMDCriticOptions, log: (String) -> Void) throws -> EMDCritic.Record {
        guard LossChoice(name: "emdCNN:\(options.name)") != nil else { throw StudyError("--name must be a plain file name, got \(options.name)") }
        let directory = directory(output: options.outputDirectory)
        let checkpoints = (directory as NSString).appendingPathComponent("\(options.name)-checkpoints")
        let weights = EMDCritic.weightsPath(name: options.name, directory: directory)
        if options.retrain {
            for stale in [weights, checkpoints] where FileManager.default.fileExists(atPath: stale) { try FileManager.default.removeItem(atPath: stale) }
        } else if FileManager.default.fileExists(atPath: weights) {
            throw StudyError("\(weights) exists; --retrain trains it again")
        }
        let started = ResourceUsage.now()
        let (training, validation) = try pairs(options)
        guard training.count > 0, validation.count > 0 else {
            throw StudyError("no training or validation pairs (\(training.count) / \(validation.count))")
        }
        log(String(format: "%d training and %d validation pairs, exact EMD in %.1f s", training.count, validation.count, ResourceUsage.now() - started))
        let critic = EMDCritic(seed: options.seed)
        let settings = Study.RunSettings(model: "emd-cnn \(options.source.rawValue)", seed: options.seed, batchSize: options.batchSize,
                                         learningRate: options.learningRate, patience: nil,
                                         trainingSamples: training.count, validationSamples: validation.count)
        // The critic shares its weights between the two orderings of a pair, so it is a module of
        // its own rather than a ModelSpec; its run keeps the settings check and resumption.
        try RunDirectory(checkpoints).claim(settings, spec: nil)
        var configuration = TrainingConfiguration(epochs: options.epochs, batchSize: options.batchSize, seed: options.seed, learningRate: options.learningRate)
        configuration.label = "emd-cnn \(options.name)"
        configuration.earlyStopping = EarlyStopping(patience: .max)
        let history = try ModelTraining<Study.RunSettings>.trainResumably(
            critic, checkpoints: RunDirectory(checkpoints).checkpointDirectory, optimizer: Adam(critic.parameters, learningRate: options.learningRate),
            training: try training.dataset(), validation: try validation.dataset(), configuration: configuration, showProgress: !options.quiet,
            log: log) { model, batch in
            let prediction = try model(Variable(batch.inputs))
            return try Loss.meanSquaredError(prediction, batch.targets) + (try critic.kernelPenalty())
        }
        let predicted = try critic.predict(first: validation.first, second: validation.second, rows: validation.count)
        var differences: [Double] = []
        var squaredError = 0.0
        for (p, t) in zip(predicted, validation.distance) {
            squaredError += (p - t) * (p - t)
            if t > 0 { differences.append((p - t) / t) }
        }
        let mean = differences.reduce(0, +) / Double(max(differences.count, 1))
        let std = (differences.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(differences.count, 1))).squareRoot()
        let record = EMDCritic.Record(
            name: options.name, dataset: options.source.rawValue, trainingPairs: training.count, validationPairs: validation.count,
            epochs: history.epochs.count, bestEpoch: history.restoredEpoch, validationMSE: squaredError / Double(validation.count),
            relativeDifferenceMean: mean, relativeDifferenceStd: std, parameters: critic.parameterCount,
            buffers: critic.namedBuffers().reduce(0) { $0 + $1.1.value.count },
            architecture: "symmetric average of base(a,b), base(b,a); base: 3 x [Conv2D(32, 5x5, same) + BatchNorm + ReLU], Dense(256) + BatchNorm + ReLU, Dense(1); input [6, 4, 4] = two unit-normalized modules in 4x4x3 (CALQ) order; L2 1e-4 on kernels")
        try critic.save(name: options.name, record: record, directory: directory)
        try history.writeJSON(to: (directory as NSString).appendingPathComponent("\(options.name)-history.json"))
        try history.writeCSV(to: (directory as NSString).appendingPathComponent("\(options.name)-history.csv"))
        try FileManager.default.removeItem(atPath: checkpoints)
        log(String(format: "%@: %d epochs, best %d, validation MSE %.4g, relative difference %.3f ± %.3f -> %@", options.name, history.epochs.count,
                   history.restoredEpoch ?? 0, record.validationMSE ?? .nan, mean, std, EMDCritic.weightsPath(name: options.name, directory: directory)))
        return record
    }
}
