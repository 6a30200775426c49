import Foundation
import HEPMLCore
import HEPMLTensor

/// The four reference models of the engine benchmark (issue 2, "Speed"), with generated data
/// of the right shape. `hepml train-example` and `hepml bench engine` use them; the PyTorch
/// twin is bench/torch_reference.py.
public struct ReferenceModel {
    public enum Name: String, CaseIterable, Sendable {
        case dqmAE = "dqm-ae", econtAE = "econt-ae", eventAE = "event-ae", ldmxConvNet = "ldmx-convnet"
    }

    public let name: Name
    public let spec: ModelSpec
    public let model: GraphModel<Float>
    public let batchSize: Int
    public let learningRate: Double
    /// Samples per benchmark epoch.
    public let benchmarkSamples: Int

    public var isClassifier: Bool { name == .ldmxConvNet }
    /// Shape of one input sample (without the batch axis).
    public var sampleShape: [Int] { spec.inputs[0].shape }

    public init(_ name: Name, seed: UInt64) throws {
        self.name = name
        learningRate = 1e-3
        switch name {
        case .dqmAE:
            batchSize = 128
            benchmarkSamples = 20_000
            spec = .sequential(name.rawValue, input: [1, 100], layers: [
                .conv(12, kernel: [3]), .relu, .conv(12, kernel: [3]), .relu, .flatten,
                .dense(50), .relu, .dense(50), .relu, .dense(3),
                .dense(1200), .relu, .reshape([12, 100]),
                .convTranspose(12, kernel: [3], padding: .same), .relu,
                .convTranspose(1, kernel: [3], padding: .same), .relu,
            ])
        case .econtAE:
            batchSize = 500
            benchmarkSamples = 20_000
            spec = .sequential(name.rawValue, input: [1, 8, 8], layers: [
                .conv(8, kernel: [3, 3], stride: [2, 2], padding: .same), .relu, .flatten,
                .dense(16), .relu, .dense(128), .relu, .reshape([8, 4, 4]),
                .convTranspose(8, kernel: [3, 3], stride: [2, 2], padding: .same), .relu,
                .convTranspose(1, kernel: [3, 3], padding: .same), .sigmoid,
            ])
        case .eventAE:
            batchSize = 256
            benchmarkSamples = 20_000
            let widths = [200, 100, 50, 3, 50, 100, 200, 4]
            spec = .sequential(name.rawValue, input: [4], layers: widths.enumerated().flatMap { index, width in
                index < widths.count - 1 ? [LayerSpec.dense(width), .tanh] : [.dense(width)]
            })
        case .ldmxConvNet:
            batchSize = 100
            benchmarkSamples = 5_000
            spec = LDMXConvNet.spec(name: name.rawValue)
        }
        model = try spec.build(seed: seed, stream: 0x1DE1)
    }

    /// Generated data with learnable structure: smooth peaked histograms, sparse normalized
    /// 8×8 energy maps, correlated 4-vectors, and two classes of images that differ in where
    /// their energy lies.
    public func data(samples: Int, seed: UInt64) throws -> Dataset<Float> {
        var g = SeededGenerator(seed: seed, stream: 0xDA7A)
        let size = sampleShape.reduce(1, *)
        var x = [Float](repeating: 0, count: samples * size)
        var labels = [Float](repeating: 0, count: samples)
        for s in 0..<samples {
            let row = s * size
            switch name {
            case .dqmAE:
                let mean = 30 + 40 * g.nextUniform(), width = 5 + 10 * g.nextUniform()
                for b in 0..<100 {
                    let z = (Double(b) - mean) / width
                    x[row + b] = Float(exp(-z * z / 2) + 0.02 * g.nextUniform())
                }
            case .econtAE:
                let cx = 8 * g.nextUniform(), cy = 8 * g.nextUniform()
                var total: Float = 0
                for i in 0..<8 { for j in 0..<8 {
                    let d2 = (Double(i) - cx) * (Double(i) - cx) + (Double(j) - cy) * (Double(j) - cy)
                    let v = Float(exp(-d2 / 2) * g.nextUniform())
                    x[row + i * 8 + j] = v
                    total += v
                } }
                for k in 0..<64 { x[row + k] /= max(total, 1e-6) }
            case .eventAE:
                let a = g.nextNormal(), b = g.nextNormal()
                x[row] = Float(a); x[row + 1] = Float(b); x[row + 2] = Float(0.5 * a + 0.5 * b); x[row + 3] = Float(a - b + 0.1 * g.nextNormal())
            case .ldmxConvNet:
                let label = g.nextUniform() < 0.5 ? 0 : 1
                labels[s] = Float(label)
                for c in 0..<3 { for i in 0..<20 { for j in 0..<20 {
                    let signal = label == 1 ? 0.1 * exp(-Double((i - 10) * (i - 10) + (j - 10) * (j - 10)) / 20) : 0
                    x[row + (c * 20 + i) * 20 + j] = Float(signal + 0.3 * g.nextUniform())
                } } }
            }
        }
        let inputs = try Tensor(shape: [samples] + sampleShape, scalars: x)
        return try Dataset(inputs: inputs, targets: isClassifier ? Tensor(shape: [samples], scalars: labels) : inputs)
    }

    /// MSE for the autoencoders, cross-entropy for the classifier.
    public var loss: LossFunction<Float> {
        let classifier = isClassifier
        return { model, batch in
            let output = try model(Variable(batch.inputs))
            return classifier ? try Loss.crossEntropy(logits: output, labels: batch.targets)
                : try Loss.meanSquaredError(output, batch.targets, weights: batch.weights)
        }
    }
}

/// The ConvNet of the LDMX ECal classifier (AndGasp/LDMX `cnn_function.py`, spec B.6): one
/// definition for the engine benchmark and the HEPMLLDMX workflow, which also builds its
/// ModelExtraInput on `featureLayers`.
public enum LDMXConvNet {
    /// layer1 and layer2 (5×5 convolutions with 32 and 64 filters, ReLU, 2×2 max pooling),
    /// flatten, dropout 0.5.
    public static let featureLayers: [LayerSpec] = [
        .conv(32, kernel: [5, 5], padding: .explicit([2, 2])), .relu, .maxPool([2, 2]),
        .conv(64, kernel: [5, 5], padding: .explicit([2, 2])), .relu, .maxPool([2, 2]),
        .flatten, .dropout(probability: 0.5),
    ]

    /// The features, fc1 (500, ReLU) and fc2 (2 logits) on images of shape `input` [C, H, W].
    public static func spec(name: String = "ldmx-convnet", input: [Int] = [3, 20, 20]) -> ModelSpec {
        .sequential(name, input: input, layers: featureLayers + [.dense(500), .relu, .dense(2)])
    }
}
