import Foundation
import HEPMLCore
import HEPMLNN
import HEPMLTensor

/// AutoDQM_ML's convolutional autoencoder built from an `AutoencoderArchitecture` with the
/// engine's layers.
///
/// The engine's modules map one tensor to one tensor, so the histograms of a simultaneous
/// network travel packed side by side in one `[N, Σ bins]` tensor: each branch slices its
/// histogram out, and the reconstructions are concatenated back in the same order. Tensors are
/// channels-first (`[N, 1, bins]`, `[N, 1, nx, ny]`) where Keras is channels-last; the network
/// is the same up to a fixed permutation of the decoder's dense outputs.
public final class AutoencoderNetwork: Module<Float> {
    public let architecture: AutoencoderArchitecture
    let encoders: [Sequential<Float>]
    let bottleneck: Sequential<Float>
    let decoders: [Sequential<Float>]
    /// Where each branch's bins sit in the packed tensor.
    public let branchRanges: [Range<Int>]

    public init(_ architecture: AutoencoderArchitecture, seed: UInt64) {
        self.architecture = architecture
        var generator = SeededGenerator(seed: seed, stream: 0xAE)
        let options = architecture.options
        var encoders: [Sequential<Float>] = []
        var decoders: [Sequential<Float>] = []
        var ranges: [Range<Int>] = []
        var encodedWidth = 0
        var start = 0
        for branch in architecture.branches {
            let bins = branch.shape.reduce(1, *)
            ranges.append(start..<start + bins)
            start += bins
            let twoDimensional = branch.shape.count == 2
            let kernel = twoDimensional ? options.kernel2D : options.kernel1D
            var encoder: [Module<Float>] = [Reshape([1] + branch.shape)]
            var channels = 1
            for _ in 0..<options.hiddenLayers {
                encoder.append(twoDimensional
                    ? Conv2d(channels, options.filters, kernel: [kernel, kernel], generator: &generator)
                    : Conv1d(channels, options.filters, kernel: kernel, generator: &generator))
                encoder.append(Activation(.relu))
                channels = options.filters
            }
            encoder.append(Flatten())
            encoders.append(Sequential(encoder))
            let shrunk = branch.shape.map { $0 - options.hiddenLayers * (kernel - 1) }
            encodedWidth += options.filters * shrunk.reduce(1, *)
        }
        var hidden: [Module<Float>] = []
        var width = encodedWidth
        for _ in 0..<options.hiddenLayers {
            hidden.append(Linear(width, options.nodes, generator: &generator))
            hidden.append(Activation(.relu))
            width = options.nodes
        }
        hidden.append(Linear(width, options.components, generator: &generator))
        bottleneck = Sequential(hidden)
        for branch in architecture.branches {
            let bins = branch.shape.reduce(1, *)
            let twoDimensional = branch.shape.count == 2
            let kernel = twoDimensional ? options.kernel2D : options.kernel1D
            var decoder: [Module<Float>] = [
                Linear(options.components, bins * options.filters, generator: &generator), Activation(.relu),
                Reshape([options.filters] + branch.shape),
            ]
            for index in 0..<options.hiddenLayers {
                let out = index == options.hiddenLayers - 1 ? 1 : options.filters
                decoder.append(twoDimensional
                    ? ConvTranspose2d(options.filters, out, kernel: [kernel, kernel], padding: .same, generator: &generator)
                    : ConvTranspose1d(options.filters, out, kernel: kernel, padding: .same, generator: &generator))
                decoder.append(Activation(.relu))
            }
            decoder.append(Flatten())
            decoders.append(Sequential(decoder))
        }
        self.encoders = encoders
        self.decoders = decoders
        branchRanges = ranges
        super.init()
    }

    public var inputWidth: Int { branchRanges.last?.upperBound ?? 0 }

    public override var kind: String { "AutoDQMAutoencoder" }

    /// Keras-like names: `encoder_<name>`, `bottleneck`, `decoder_<name>`.
    public override var children: [(String, Module<Float>)] {
        let names = architecture.branches.map(\.name)
        return zip(names, encoders).map { ("encoder_\($0)", $1 as Module<Float>) }
            + [("bottleneck", bottleneck)]
            + zip(names, decoders).map { ("decoder_\($0)", $1 as Module<Float>) }
    }

    public override func forward(_ x: Variable<Float>) throws -> Variable<Float> {
        var encoded: [Variable<Float>] = []
        for (index, encoder) in encoders.enumerated() {
            let input = branchRanges.count == 1 ? x : try x.slice(axis: 1, branchRanges[index])
            encoded.append(try call(encoder, named: "encoder_\(architecture.branches[index].name)", input))
        }
        let joined = encoded.count == 1 ? encoded[0] : try Variable.concatenate(encoded, axis: 1)
        let latent = try call(bottleneck, named: "bottleneck", joined)
        var outputs: [Variable<Float>] = []
        for (index, decoder) in decoders.enumerated() {
            outputs.append(try call(decoder, named: "decoder_\(architecture.branches[index].name)", latent))
        }
        return outputs.count == 1 ? outputs[0] : try Variable.concatenate(outputs, axis: 1)
    }

    /// Per-bin loss weights `1/bins` of the bin's histogram, so the loss is the mean over
    /// histograms of each histogram's mean squared error (Keras sums the per-output losses;
    /// the constant factor does not change Adam's steps).
    public var lossWeights: Tensor<Float>? {
        guard branchRanges.count > 1 else { return nil }
        var weights = [Float](repeating: 0, count: inputWidth)
        for range in branchRanges { for i in range { weights[i] = 1 / Float(range.count) } }
        return try? Tensor(shape: [1, inputWidth], scalars: weights)
    }

    /// Saves the weights as F32 safetensors named by parameter path (`bottleneck.0.weight`),
    /// readable with Python's `safetensors`, with the network's engine description as JSON under
    /// `model` next to `metadata`.
    public func save(to path: String, metadata: [String: String]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var all = metadata
        all["model"] = String(decoding: try encoder.encode(describe()), as: UTF8.self)
        try SafeTensors.write(stateDictionary(), metadata: all, to: path)
    }

    /// Loads weights saved by `save(to:metadata:)`; every parameter must be there with its shape.
    public func load(_ tensors: [String: Tensor<Float>], from path: String) throws {
        do {
            try loadStateDictionary(tensors)
        } catch let error as ShapeError {
            throw FileFormatError(file: path, object: "autoencoder", reason: "\(error)")
        }
    }

    /// Reconstructions of packed rows, in batches of 1024 (upstream's prediction batch).
    public func reconstruct(_ rows: [[Float]]) throws -> [[Float]] {
        setTraining(false)
        var result: [[Float]] = []
        result.reserveCapacity(rows.count)
        for start in stride(from: 0, to: rows.count, by: 1024) {
            let batch = rows[start..<min(start + 1024, rows.count)]
            let input = try Tensor<Float>(shape: [batch.count, inputWidth], scalars: batch.flatMap { $0 })
            let output = try forward(Variable(input)).value.scalars
            for row in 0..<batch.count { result.append(Array(output[row * inputWidth..<(row + 1) * inputWidth])) }
        }
        return result
    }

    /// Trains with Keras' Adam (the engine's `Adam` with ε placed as TensorFlow does, upstream's optimizer) and mean squared error as
    /// `architecture.trainingPlan` says: early stopping on the held-out good runs, best weights
    /// restored.
    public func fit(training: [[Float]], validation: [[Float]], seed: UInt64, label: String, quiet: Bool) throws -> TrainingHistory {
        let plan = architecture.trainingPlan
        func dataset(_ rows: [[Float]]) throws -> Dataset<Float> {
            let tensor = try Tensor<Float>(shape: [rows.count, inputWidth], scalars: rows.flatMap { $0 })
            return try Dataset(inputs: tensor, targets: tensor)
        }
        var configuration = TrainingConfiguration(epochs: plan.maximumEpochs, batchSize: plan.batchSize, seed: seed, learningRate: plan.learningRate)
        configuration.quiet = true
        configuration.label = label
        if let patience = plan.patience { configuration.earlyStopping = EarlyStopping(patience: patience, restoreBest: plan.restoresBestWeights) }
        let weights = lossWeights
        let optimizer = Adam(parameters, learningRate: plan.learningRate, epsilon: 1e-7, epsilonPlacement: .keras)
        let progress = ProgressReporter(label, total: plan.maximumEpochs, unit: "epochs", quiet: quiet)
        configuration.onEpochEnd = { record in
            progress.setSuffix(String(format: "loss %.3g val %.3g", record.trainLoss, record.validationLoss ?? .nan))
            progress.advance()
        }
        defer { progress.finish() }
        return try train(self, optimizer: optimizer, training: try dataset(training),
                         validation: validation.isEmpty ? nil : try dataset(validation), configuration: configuration) { model, batch in
            try Loss.meanSquaredError(try model(Variable(batch.inputs)), batch.targets, weights: weights)
        }
    }
}
