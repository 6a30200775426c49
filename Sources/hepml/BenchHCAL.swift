import ArgumentParser
import Foundation
import HEPMLCore
import HEPMLHCAL
import HEPMLNN
import HEPMLTensor

/// `hepml bench hcal`: the HE CNN+LSTM autoencoder (latent 8, window 5, batch 4 windows) on the
/// full map and with the side split, trained on random windows for one epoch after a warm-up
/// epoch; prints training windows/s, batch-1 inference latency and peak RSS, as
/// bench/hcal_torch_reference.py does for PyTorch.
struct BenchHCAL: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "hcal",
        abstract: "HCAL CNN+LSTM autoencoder training and latency benchmark (compare with bench/hcal_torch_reference.py).")

    @Option(help: "Training windows per epoch (full map; the side split trains 4× as many).") var windows = 24
    @Option(help: "Batch-1 inference repetitions (the median is reported).") var repetitions = 20
    @Option(help: "Seed for weights and data.") var seed: UInt64 = 1

    func run() throws {
        print("# hepml bench hcal: \(Parallel.threadCount) threads, HE CNN+LSTM AE, latent 8, window 5, batch 4 windows, training after one warm-up epoch")
        for sideSplit in [false, true] {
            var options = HCALModelOptions()
            options.latent = 8
            options.window = 5
            options.sideSplit = sideSplit
            let model: GraphModel<Float> = try options.spec().build(seed: seed)
            let samplesPerWindow = sideSplit ? 2 : 1
            let count = windows * (sideSplit ? 4 : 1)
            var generator = SeededGenerator(seed: seed, stream: 7)
            let shape = [count * samplesPerWindow] + options.inputShape
            let data = try Tensor<Float>(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float(generator.nextUniform()) })
            let dataset = try Dataset(inputs: data, targets: data)
            let optimizer = Adam(model.parameters, learningRate: 1e-3)
            var configuration = TrainingConfiguration(epochs: 1, batchSize: 4 * samplesPerWindow, seed: seed, learningRate: 1e-3)
            configuration.quiet = true
            let loss: LossFunction<Float> = { model, batch in try Loss.meanSquaredError(try model(batch.modelInputs)[0], batch.targets) }
            _ = try train(model, optimizer: optimizer, training: dataset, configuration: configuration, loss: loss)
            let start = ResourceUsage.now()
            _ = try train(model, optimizer: optimizer, training: dataset, configuration: configuration, loss: loss)
            let seconds = ResourceUsage.now() - start
            model.setTraining(false)
            let one = Variable(try Tensor<Float>(shape: [samplesPerWindow] + options.inputShape, scalars: Array(data.scalars.prefix(samplesPerWindow * options.inputShape.reduce(1, *)))))
            var latencies: [Double] = []
            for _ in 0..<max(repetitions, 1) {
                let begin = ResourceUsage.now()
                _ = try model([one])
                latencies.append(ResourceUsage.now() - begin)
            }
            latencies.sort()
            print(String(format: "%@ windows/s %8.2f  batch-1-ms %8.2f  peak-RSS-MiB %6.0f  parameters %d",
                         (sideSplit ? "dc" : "full").padding(toLength: 5, withPad: " ", startingAt: 0), Double(count) / seconds,
                         latencies[latencies.count / 2] * 1000, Double(ResourceUsage.peakResidentBytes()) / 1_048_576, try options.spec().summary().parameters))
        }
    }
}
