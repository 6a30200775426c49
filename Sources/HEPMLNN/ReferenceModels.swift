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
    public let model: Sequential<Float>
    /// Shape of one input sample (without the batch axis).
    public let sampleShape: [Int]
    public let batchSize: Int
    public let learningRate: Double
    /// Samples per benchmark epoch.
    public let benchmarkSamples: Int

    public var isClassifier: Bool { name == .ldmxConvNet }

    public init(_ name: Name, seed: UInt64) {
        self.name = name
        var g = SeededGenerator(seed: seed, stream: 0x1DE1)
        learningRate = 1e-3
        switch name {
        case .dqmAE:
            sampleShape = [1, 100]
            batchSize = 128
            benchmarkSamples = 20_000
            model = Sequential([
                Conv1d(1, 12, kernel: 3, generator: &g), Activation(.relu),
                Conv1d(12, 12, kernel: 3, generator: &g), Activation(.relu),
                Flatten(),
                Linear(12 * 96, 50, generator: &g), Activation(.relu),
                Linear(50, 50, generator: &g), Activation(.relu),
                Linear(50, 3, generator: &g),
                Linear(3, 1200, generator: &g), Activation(.relu),
                Reshape([12, 100]),
                ConvTranspose1d(12, 12, kernel: 3, padding: .same, generator: &g), Activation(.relu),
                ConvTranspose1d(12, 1, kernel: 3, padding: .same, generator: &g), Activation(.relu),
            ])
        case .econtAE:
            sampleShape = [1, 8, 8]
            batchSize = 500
            benchmarkSamples = 20_000
            model = Sequential([
                Conv2d(1, 8, kernel: [3, 3], stride: [2, 2], padding: .same, generator: &g), Activation(.relu),
                Flatten(),
                Linear(128, 16, generator: &g), Activation(.relu),
                Linear(16, 128, generator: &g), Activation(.relu),
                Reshape([8, 4, 4]),
                ConvTranspose2d(8, 8, kernel: [3, 3], stride: [2, 2], padding: .same, generator: &g), Activation(.relu),
                ConvTranspose2d(8, 1, kernel: [3, 3], padding: .same, generator: &g), Activation(.sigmoid),
            ])
        case .eventAE:
            sampleShape = [4]
            batchSize = 256
            benchmarkSamples = 20_000
            let widths = [4, 200, 100, 50, 3, 50, 100, 200, 4]
            var layers: [Module<Float>] = []
            for i in 0..<(widths.count - 1) {
                layers.append(Linear(widths[i], widths[i + 1], generator: &g))
                if i < widths.count - 2 { layers.append(Activation(.tanh)) }
            }
            model = Sequential(layers)
        case .ldmxConvNet:
            sampleShape = [3, 20, 20]
            batchSize = 100
            benchmarkSamples = 5_000
            model = Sequential([
                Conv2d(3, 32, kernel: [5, 5], padding: .explicit([2, 2]), generator: &g), Activation(.relu),
                Pool(.max, kernel: [2, 2]),
                Conv2d(32, 64, kernel: [5, 5], padding: .explicit([2, 2]), generator: &g), Activation(.relu),
                Pool(.max, kernel: [2, 2]),
                Flatten(),
                Dropout(0.5, seed: seed),
                Linear(64 * 5 * 5, 500, generator: &g), Activation(.relu),
                Linear(500, 2, generator: &g),
            ])
        }
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

    /// Multiply-accumulates of one forward pass of one sample, counted layer by layer from the
    /// shapes that flow through the model (dense, convolution and transposed convolution).
    public func forwardMultiplyAccumulates() throws -> Int {
        var x = Variable(Tensor<Float>(zeros: [1] + sampleShape))
        var total = 0
        model.setTraining(false)
        defer { model.setTraining(true) }
        for layer in model.layers {
            let y = try layer(x)
            switch layer {
            case let linear as Linear<Float>:
                total += linear.inFeatures * linear.outFeatures
            case let conv as ConvolutionLayer<Float>:
                total += conv.weight.value.count * y.value.count / y.shape[1]
            case let transposed as TransposedConvolutionLayer<Float>:
                total += transposed.weight.value.count * x.value.count / x.shape[1]
            default:
                break
            }
            x = y
        }
        return total
    }
}
