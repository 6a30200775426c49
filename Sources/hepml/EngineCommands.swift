import ArgumentParser
import Foundation
import HEPMLCore
import HEPMLNN
import HEPMLTensor

extension ReferenceModel.Name: ExpressibleByArgument {}

struct TrainExampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-example",
        abstract: "Train one of the engine's reference models on generated data and print the loss per epoch.")

    @Option(help: "Model: \(ReferenceModel.Name.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: ReferenceModel.Name = .dqmAE
    @Option(help: "Training epochs.")
    var epochs = 5
    @Option(help: "Generated training samples (a further 20% are generated for validation).")
    var samples = 5000
    @Option(help: "Seed for weights, data and shuffling.")
    var seed: UInt64 = 1
    @Option(help: "Adam's learning rate (default: the model's own).")
    var learningRate: Double?
    @Option(help: "Write the per-epoch history here (.json or .csv).")
    var history: String?

    func validate() throws {
        guard epochs > 0, samples > 0 else { throw ValidationError("--epochs and --samples must be positive") }
        if let learningRate, !(learningRate > 0 && learningRate.isFinite) { throw ValidationError("--learning-rate must be positive") }
    }

    func run() throws {
        let reference = try ReferenceModel(model, seed: seed)
        let training = try reference.data(samples: samples, seed: seed)
        let validation = try reference.data(samples: max(samples / 5, 1), seed: seed &+ 1)
        print("\(model.rawValue): \(reference.model.parameterCount) parameters, \(samples) training samples, batch \(reference.batchSize), \(Parallel.threadCount) threads")
        let rate = learningRate ?? reference.learningRate
        var configuration = TrainingConfiguration(epochs: epochs, batchSize: reference.batchSize, seed: seed, learningRate: rate)
        configuration.label = model.rawValue
        configuration.onEpochEnd = { record in
            print(String(format: "epoch %d  train loss %.6f  validation loss %.6f  (%.2f s)", record.epoch, record.trainLoss, record.validationLoss ?? .nan, record.seconds))
        }
        let optimizer = Adam(reference.model.parameters, learningRate: rate)
        let result = try train(reference.model, optimizer: optimizer, training: training, validation: validation, configuration: configuration, loss: reference.loss)
        if let history {
            if history.hasSuffix(".csv") { try result.writeCSV(to: history) } else { try result.writeJSON(to: history) }
        }
    }
}

struct BenchEngineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Train the four reference models for one epoch after a warm-up and print samples/s, GFLOP/s and peak RSS.")

    @Option(help: "Benchmark only this model.")
    var model: ReferenceModel.Name?
    @Option(help: "Override the samples per epoch (default: 20000, 5000 for ldmx-convnet).")
    var samples: Int?
    @Option(help: "Seed for weights and data.")
    var seed: UInt64 = 1

    func run() throws {
        print("# hepml bench engine: \(Parallel.threadCount) threads, \(BLASKernels.name) kernels, \(VectorInstructions.name) convolution kernels, training throughput after one warm-up epoch")
        for name in model.map({ [$0] }) ?? ReferenceModel.Name.allCases {
            let reference = try ReferenceModel(name, seed: seed)
            let count = samples ?? reference.benchmarkSamples
            let data = try reference.data(samples: count, seed: seed)
            let optimizer = Adam(reference.model.parameters, learningRate: reference.learningRate)
            var configuration = TrainingConfiguration(epochs: 1, batchSize: reference.batchSize, seed: seed, learningRate: reference.learningRate)
            configuration.quiet = true
            _ = try train(reference.model, optimizer: optimizer, training: data, configuration: configuration, loss: reference.loss)
            let start = ResourceUsage.now()
            _ = try train(reference.model, optimizer: optimizer, training: data, configuration: configuration, loss: reference.loss)
            let seconds = ResourceUsage.now() - start
            // Training costs about three forward passes: forward, input gradient, weight gradient.
            let flops = 6.0 * Double(reference.model.summary.multiplyAdds) * Double(count)
            let line = String(format: "%@ samples/s %10.0f  GFLOP/s %7.2f  peak-RSS-MiB %6.0f  seconds %.3f",
                              name.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0), Double(count) / seconds, flops / seconds / 1e9,
                              Double(ResourceUsage.peakResidentBytes()) / 1_048_576, seconds)
            print(line)
        }
    }
}
