import Foundation
import HEPMLCore
import HEPMLExperiment
import HEPMLNN
import HEPMLTensor

/// What an HCAL model is trained on and with (recorded as the run's `settings.json`).
public struct HCALTrainingSettings: Codable, Equatable, Sendable {
    public var model: String
    public var options: HCALModelOptions
    /// The data set's runs and LS ranges (a run trained on other data is refused, not reused).
    public var runs: [Int]
    public var trainingRange: HCALDataset.LumisectionRange
    public var scaling: HCALDataset.Scaling
    public var seed: UInt64 = 123
    public var epochs = 10
    /// Windows per batch (upstream 4); with the side split a batch holds twice as many samples.
    public var batchSize = 4
    public var learningRate = 0.01
    public var weightDecay = 1e-7
    public var patience = 10
    /// The last fraction of each run's training windows is the validation set.
    public var validationFraction = 0.2
    /// Upstream multiplies the plain autoencoder's loss by 100.
    public var lossScale = 100.0

    public init(model: String, options: HCALModelOptions, dataset: HCALDataset) {
        self.model = model
        self.options = options
        runs = dataset.description.runs.map(\.run)
        trainingRange = dataset.description.trainingRange
        scaling = dataset.description.scaling
    }
}

/// The scoring side of a trained HCAL model, stored beside it in the run directory: `hcal.json`
/// (model options and settings) and `scoring.safetensors` (mask, scaler offset and range, and the
/// per-channel σ of the training reconstruction errors of each `HCALScorer.ScoreKind`: `sigma` of
/// the last-LS error, `window_sigma` of the window-mean error; each `[64, 72, depths]`).
public enum HCALRunFiles {
    public static let options = "hcal.json"
    public static let scoring = "scoring.safetensors"
}

public enum HCALTraining {
    /// Non-overlapping windows of `steps` consecutive LS among `rows` of one run: a gap in the LS
    /// numbers starts a new window, and a window never straddles two runs (each call is one run).
    public static func windows(_ data: HCALDataset.RunData, rows: [Int], steps: Int) -> [[Int]] {
        var result: [[Int]] = [], current: [Int] = []
        for row in rows {
            if let last = current.last, data.lumisections[row] != data.lumisections[last] + 1 { current = [] }
            current.append(row)
            if current.count == steps { result.append(current); current = [] }
        }
        return result
    }

    /// The scaled window `[T, 64, 72, depths]` of `rows` of `data`.
    static func scaledWindow(_ data: HCALDataset.RunData, rows: [Int], input: HCALModelInput) -> [Float] {
        let channels = input.channels
        var window = [Float](repeating: 0, count: rows.count * channels)
        window.withUnsafeMutableBufferPointer { target in
            for (step, row) in rows.enumerated() {
                for channel in 0..<channels { target[step * channels + channel] = data.maps[row * channels + channel] }
                input.scale(UnsafeMutableBufferPointer(rebasing: target[(step * channels)..<((step + 1) * channels)]))
            }
        }
        return window
    }

    /// Trains (or loads, or resumes) `settings.model` in `directory` on the training LS of `dataset`,
    /// then writes the scoring files (σ of the per-channel errors over all training LS and windows),
    /// also for a loaded model whose scoring file lacks a score's σ (a run trained before it).
    @discardableResult
    public static func train(dataset: HCALDataset, directory: RunDirectory, settings: HCALTrainingSettings, retrain: Bool = false,
                             showProgress: Bool = true, log: @escaping (String) -> Void = { print($0) }) throws -> ModelTraining<HCALTrainingSettings>.Outcome {
        let options = settings.options
        guard options.subdetector == dataset.description.subdetector else {
            throw HCALError("the model is for \(options.subdetector.rawValue.uppercased()), the data set \(dataset.directory) for \(dataset.description.subdetector.rawValue.uppercased())")
        }
        let input = try HCALModelInput(options: options, mask: dataset.mask, offset: dataset.offset, range: dataset.range)
        let spec = try options.spec()
        var trainingWindows: [[Float]] = [], validationWindows: [[Float]] = []
        for run in dataset.description.runs {
            let data = try dataset.runData(run.run)
            let windows = Self.windows(data, rows: dataset.rows(of: data, in: dataset.description.trainingRange), steps: options.steps)
            let validationCount = Int((Double(windows.count) * settings.validationFraction).rounded())
            for (index, rows) in windows.enumerated() {
                let window = scaledWindow(data, rows: rows, input: input)
                if index < windows.count - validationCount { trainingWindows.append(window) } else { validationWindows.append(window) }
            }
        }
        guard trainingWindows.count >= settings.batchSize else {
            throw HCALError("\(trainingWindows.count) training windows of \(options.steps) LS: fewer than one batch of \(settings.batchSize)")
        }
        func makeDataset(_ windows: [[Float]]) throws -> Dataset<Float>? {
            guard !windows.isEmpty else { return nil }
            let tensor = try Tensor<Float>(shape: [windows.count * input.sides] + options.inputShape, scalars: input.networkBatch(windows).samples)
            return try Dataset(inputs: tensor, targets: tensor)
        }
        guard let training = try makeDataset(trainingWindows) else { throw HCALError("no training windows") }
        let validation = try makeDataset(validationWindows)
        let weights = try Tensor<Float>(shape: [1] + options.inputShape, scalars: try input.sampleMask())
        // Upstream scales the plain AE's loss only; a VAE's is MSE + β·KL.
        let lossScale = Float(options.variational ? 1 : settings.lossScale)
        var configuration = TrainingConfiguration(epochs: settings.epochs, batchSize: settings.batchSize * input.sides, seed: settings.seed,
                                                  learningRate: settings.learningRate)
        configuration.label = "hcal \(settings.model) \(options.subdetector.rawValue)"
        configuration.earlyStopping = EarlyStopping(patience: settings.patience, restoreBest: true)
        var driver = ModelTraining(spec: spec, seed: settings.seed, settings: settings, configuration: configuration)
        driver.retrain = retrain
        driver.showProgress = showProgress
        let outcome = try driver.run(in: directory, optimizer: { model in
            // Upstream's optimizer: Adam with AMSGrad and L2 weight decay.
            Adam(model.parameters, learningRate: settings.learningRate, weightDecay: .l2(settings.weightDecay), amsgrad: true)
        }, training: training, validation: validation, log: log) { model, batch in
            let output = try model(batch.modelInputs)[0]
            let reconstruction = try Loss.meanSquaredError(output, batch.targets, weights: weights) * lossScale
            return try model.auxiliaryLosses().reduce(reconstruction) { try $0 + $1 }
        }
        if try outcome.history != nil || !hasEverySigma(directory.file(HCALRunFiles.scoring)) {
            try writeScoringFiles(model: outcome.model, input: input, windows: trainingWindows + validationWindows, directory: directory, settings: settings)
        }
        return outcome
    }

    /// Whether `file` exists and holds the σ of every score.
    static func hasEverySigma(_ file: String) throws -> Bool {
        guard FileManager.default.fileExists(atPath: file) else { return false }
        let names = try SafeTensors.read(file, as: Float.self).tensors.keys
        return HCALScorer.ScoreKind.allCases.allSatisfy { names.contains(HCALScorer.sigmaTensor($0)) }
    }

    /// Per-channel σ of one error over the samples added (upstream's `describe()` std, n − 1).
    struct ErrorSpread {
        private var sum: [Double], squares: [Double], count = 0
        init(channels: Int) { sum = Array(repeating: 0, count: channels); squares = sum }

        mutating func add(_ errors: [Float], active: [Bool]) {
            for channel in errors.indices where active[channel] {
                let error = Double(errors[channel])
                sum[channel] += error
                squares[channel] += error * error
            }
            count += 1
        }

        /// σ per active channel; a channel with σ 0 gets the mean σ of the active channels
        /// (upstream's `PredErrorScaler`), inactive channels 0.
        func sigma(active: [Bool]) -> [Float] {
            var sigma = [Float](repeating: 0, count: sum.count)
            var total = 0.0, counted = 0
            for channel in sum.indices where active[channel] && count > 1 {
                let mean = sum[channel] / Double(count)
                let variance = max(squares[channel] / Double(count) - mean * mean, 0) * Double(count) / Double(count - 1)
                sigma[channel] = Float(variance.squareRoot())
                total += variance.squareRoot()
                counted += 1
            }
            let fallback = Float(counted > 0 ? total / Double(counted) : 1)
            for channel in sum.indices where active[channel] && !(sigma[channel] > 0) { sigma[channel] = fallback > 0 ? fallback : 1 }
            return sigma
        }
    }

    /// σ of each channel's |reconstruction error| (scaled units) over all training LS, and of its
    /// mean over each training window (upstream's `train_perf_report` spatial and window statistics).
    static func writeScoringFiles(model: GraphModel<Float>, input: HCALModelInput, windows: [[Float]], directory: RunDirectory,
                                  settings: HCALTrainingSettings) throws {
        let channels = input.channels, active = input.mask.active
        var lumisectionErrors = ErrorSpread(channels: channels), windowErrors = ErrorSpread(channels: channels)
        for start in stride(from: 0, to: windows.count, by: 16) {
            let batch = Array(windows[start..<min(start + 16, windows.count)])
            let reconstructions = try HCALScorer.reconstruct(model, input: input, windows: batch)
            for (window, reconstruction) in zip(batch, reconstructions) {
                for step in 0..<input.options.steps {
                    let range = (step * channels)..<((step + 1) * channels)
                    lumisectionErrors.add(HCALScorer.meanAbsoluteErrors(Array(reconstruction[range]), targets: Array(window[range]), channels: channels,
                                                                        active: active), active: active)
                }
                windowErrors.add(HCALScorer.meanAbsoluteErrors(reconstruction, targets: window, channels: channels, active: active), active: active)
            }
        }
        let shape = [HCALIndex.etaCount, HCALIndex.phiCount, input.depths]
        let tensors: [(String, Tensor<Float>)] = [("mask", try Tensor(shape: shape, scalars: input.mask.active.map { $0 ? 1 : 0 })),
                                                  ("offset", try Tensor(shape: shape, scalars: input.offset)),
                                                  ("range", try Tensor(shape: shape, scalars: input.range)),
                                                  (HCALScorer.sigmaTensor(.lastLumisection), try Tensor(shape: shape, scalars: lumisectionErrors.sigma(active: active))),
                                                  (HCALScorer.sigmaTensor(.window), try Tensor(shape: shape, scalars: windowErrors.sigma(active: active)))]
        try SafeTensors.write(tensors,
                              metadata: ["producer": "hepml", "workflow": "hcal"], to: directory.file(HCALRunFiles.scoring))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(settings), to: directory.file(HCALRunFiles.options))
    }
}
