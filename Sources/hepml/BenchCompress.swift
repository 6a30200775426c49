import ArgumentParser
import Foundation
import HEPMLCompress
import HEPMLCore
import HEPMLNN
import HEPMLTensor

/// `hepml bench compress-train`: training throughput of a compression autoencoder (default the
/// 27D `AE_bn_LeakyReLU:27,200,200,200,14,200,200,200,27`, batch 4096) exactly as `hepml compress
/// train` runs it (MSE, one-cycle Adam with decoupled weight decay except on batch norms and
/// biases, shuffled batches), on seeded normal data: one two-epoch cycle, the second epoch timed,
/// its mean training loss printed; with `--python`, runs bench/compress_torch_reference.py on the
/// same model, batch and thread count and prints the ratio.
struct BenchCompressTrain: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "compress-train",
        abstract: "Compression autoencoder training throughput (compare with bench/compress_torch_reference.py).")

    @Option(help: "Model (ModelZoo name; the first node is the input width).") var model = "AE_bn_LeakyReLU:27,200,200,200,14,200,200,200,27"
    @Option(help: "Batch size.") var batchSize = 4096
    @Option(help: "Samples per epoch.") var samples = 20 * 4096
    @Option(help: "Seed for weights, data and shuffling.") var seed: UInt64 = 1
    @Option(help: "Python with PyTorch: also run bench/compress_torch_reference.py and print the ratio.") var python: String?
    @Option(help: "Path of bench/compress_torch_reference.py.") var reference = "bench/compress_torch_reference.py"

    func run() throws {
        guard let nodes = model.split(separator: ":").last, let width = nodes.split(separator: ",").first.flatMap({ Int($0) }), width > 0 else {
            throw ValidationError("--model needs a node list (AE_bn_LeakyReLU:27,...)")
        }
        let spec = try ModelZoo.spec(model, variables: width)
        let network: GraphModel<Float> = try spec.build(seed: seed)
        var generator = SeededGenerator(seed: seed, stream: 0xBE)
        let data = try Tensor<Float>(shape: [samples, width], scalars: (0..<(samples * width)).map { _ in Float(generator.nextNormal()) })
        let dataset = try Dataset(inputs: data, targets: data)
        var settings = CompressionTrainingSettings(source: ObjectSource(path: "generated"), normalization: .none, model: model, epochs: 2)
        settings.batchSize = batchSize
        let optimizer = CompressionTraining.optimizer(for: network, settings: settings, totalSteps: 2 * ((samples + batchSize - 1) / batchSize))
        // One cycle over both epochs, as `compress train --epochs 2` runs it; the first epoch warms up.
        var configuration = TrainingConfiguration(epochs: 2, batchSize: batchSize, seed: seed, learningRate: settings.maximumLearningRate)
        configuration.schedule = settings.cycle.schedule
        configuration.quiet = true
        print("# hepml bench compress-train: \(Parallel.threadCount) threads, \(BLASKernels.name) kernels, \(model) (\(network.summary.parameters) parameters), batch \(batchSize), \(samples) samples, the second of two epochs timed")
        let history = try train(network, optimizer: optimizer, training: dataset, configuration: configuration, loss: CompressionTraining.loss)
        guard let timed = history.epochs.last, history.epochs.count == 2 else { throw ValidationError("training stopped before its second epoch") }
        let rate = Double(samples) / timed.seconds
        print(String(format: "hepml samples/s %10.0f  peak-RSS-MiB %6.0f  seconds %.3f  epoch-loss %.4g", rate,
                     Double(ResourceUsage.peakResidentBytes()) / 1_048_576, timed.seconds, timed.trainLoss))
        guard let python else { return }
        let output = try runPeerScript(python: python, [reference, "--nodes", String(nodes), "--batch-size", "\(batchSize)", "--samples", "\(samples)", "--seed", "\(seed)"])
        print(output, terminator: "")
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("{") }),
              let peer = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Double], let torchRate = peer["samples_per_second"] else {
            throw ValidationError("\(reference) printed no result")
        }
        print(String(format: "hepml / torch: %.2f×", rate / torchRate))
    }
}
