import HEPMLCore
import HEPMLTensor

/// One layer of a `ModelSpec`, by its hyperparameters alone. Sizes that follow from the layer's
/// input (input features, input channels) are not part of the description: they are inferred
/// when the model is built, as Keras does, so a description never disagrees with itself.
///
/// Shapes are per sample and channels-first (the engine's layout): `[features]`,
/// `[channels, length]`, `[channels, height, width]`, `[channels, depth, height, width]`,
/// `[steps, features]` for recurrent layers, `[nodes, features]` for graph layers.
public enum LayerSpec: Codable, Equatable, Sendable {
    /// Dense layer on the last axis; QKeras quantizers on the weight and bias when given.
    case linear(units: Int, bias: Bool, weightQuantizer: Quantizer?, biasQuantizer: Quantizer?)
    /// Convolution over `kernel.count` spatial axes.
    case convolution(filters: Int, kernel: [Int], stride: [Int], padding: Padding, bias: Bool,
                     weightQuantizer: Quantizer?, biasQuantizer: Quantizer?)
    case transposedConvolution(filters: Int, kernel: [Int], stride: [Int], padding: Padding, outputPadding: [Int], bias: Bool)
    case pool(PoolingKind, kernel: [Int], stride: [Int]?, ceilMode: Bool)
    case upsample(scale: [Int], mode: UpsamplingMode)
    case batchNorm(momentum: Double, epsilon: Double)
    case activation(ActivationFunction)
    /// A quantizer on the activations (QKeras `QActivation`).
    case quantize(Quantizer)
    case dropout(probability: Double)
    case flatten
    case reshape([Int])
    /// Reorders the per-sample axes (`[2, 0, 1]`: channels-last image to channels-first).
    case permute([Int])
    case recurrent(RecurrentCell, hidden: Int, layers: Int, returnSequences: Bool)
    /// Graph convolution over the fixed edge list (source, target) of a graph with `nodes` nodes.
    case graphConvolution(features: Int, nodes: Int, edges: [[Int]], normalization: GraphAdjacency.Normalization)
    case attentionPooling
    /// DGL `GraphConv(norm="both")` over a graph that joins every two nodes with the same entry
    /// of `groups` (one group id per node of the input [..., nodes, features]; see `NodeGroups`).
    case groupGraphConvolution(features: Int, groups: [Int])
    /// Elements `indices` of per-sample axis `axis`, in that order.
    case gather(axis: Int, indices: [Int])
    /// x + layers(x); every layer must keep the sample's shape.
    case residual([LayerSpec])
    /// VAE bottleneck on the last axis (μ and log σ² of the same size; see `VariationalBottleneck`),
    /// β = `klWeight` on its KL divergence.
    case variational(klWeight: Double)

    // Short forms with the defaults a model author expects (PyTorch's and Keras' alike).

    public static func dense(_ units: Int, bias: Bool = true, quantizer: Quantizer? = nil) -> LayerSpec {
        .linear(units: units, bias: bias, weightQuantizer: quantizer, biasQuantizer: quantizer)
    }

    public static func conv(_ filters: Int, kernel: [Int], stride: [Int]? = nil, padding: Padding = .valid, bias: Bool = true,
                            quantizer: Quantizer? = nil) -> LayerSpec {
        .convolution(filters: filters, kernel: kernel, stride: stride ?? kernel.map { _ in 1 }, padding: padding, bias: bias,
                     weightQuantizer: quantizer, biasQuantizer: quantizer)
    }

    public static func convTranspose(_ filters: Int, kernel: [Int], stride: [Int]? = nil, padding: Padding = .valid,
                                     outputPadding: [Int]? = nil, bias: Bool = true) -> LayerSpec {
        .transposedConvolution(filters: filters, kernel: kernel, stride: stride ?? kernel.map { _ in 1 }, padding: padding,
                               outputPadding: outputPadding ?? kernel.map { _ in 0 }, bias: bias)
    }

    public static func maxPool(_ kernel: [Int], stride: [Int]? = nil, ceilMode: Bool = false) -> LayerSpec {
        .pool(.max, kernel: kernel, stride: stride, ceilMode: ceilMode)
    }

    public static func averagePool(_ kernel: [Int], stride: [Int]? = nil, ceilMode: Bool = false) -> LayerSpec {
        .pool(.average, kernel: kernel, stride: stride, ceilMode: ceilMode)
    }

    /// PyTorch's BatchNorm defaults.
    public static var batchNorm: LayerSpec { .batchNorm(momentum: 0.1, epsilon: 1e-5) }

    public static var relu: LayerSpec { .activation(.relu) }
    public static var sigmoid: LayerSpec { .activation(.sigmoid) }
    public static var tanh: LayerSpec { .activation(.tanh) }

    /// The engine module for an input of per-sample shape `input`. Weights draw from
    /// `generator` in layer order, so a model built twice from one seed is the same model.
    func module<T: TensorScalar>(input: [Int], generator: inout SeededGenerator, dropoutSeed: UInt64,
                                 denseInitialization: DenseInitialization? = nil) throws -> Module<T> {
        func require(_ condition: Bool, _ message: String) throws {
            guard condition else { throw ShapeError(operation: "ModelSpec", "\(self): \(message)", shapes: [input]) }
        }
        switch self {
        case .linear(let units, let bias, let weightQuantizer, let biasQuantizer):
            try require(!input.isEmpty && units > 0, "needs a feature axis and positive units")
            let inFeatures = input[input.count - 1]
            let layer: Linear<T>
            switch denseInitialization {
            case nil: layer = Linear(inFeatures, units, bias: bias, generator: &generator)
            case .pytorch:
                let pytorch = Initializer.fanInUniform(fanIn: inFeatures)
                layer = Linear(inFeatures, units, bias: bias, initializer: pytorch, biasInitializer: pytorch, generator: &generator)
            }
            layer.weightQuantizer = weightQuantizer
            layer.biasQuantizer = biasQuantizer
            return layer
        case .convolution(let filters, let kernel, let stride, let padding, let bias, let weightQuantizer, let biasQuantizer):
            try require(input.count == kernel.count + 1 && stride.count == kernel.count && filters > 0,
                        "needs input [channels, \(kernel.count) spatial axes] and one stride per axis")
            let layer = ConvolutionLayer<T>(in: input[0], out: filters, kernel: kernel, stride: stride, padding: padding, bias: bias,
                                            initializer: .glorotUniform, generator: &generator)
            layer.weightQuantizer = weightQuantizer
            layer.biasQuantizer = biasQuantizer
            return layer
        case .transposedConvolution(let filters, let kernel, let stride, let padding, let outputPadding, let bias):
            try require(input.count == kernel.count + 1 && stride.count == kernel.count && outputPadding.count == kernel.count && filters > 0,
                        "needs input [channels, \(kernel.count) spatial axes] and one stride and output padding per axis")
            return TransposedConvolutionLayer<T>(in: input[0], out: filters, kernel: kernel, stride: stride, padding: padding,
                                                 outputPadding: outputPadding, bias: bias, initializer: .glorotUniform, generator: &generator)
        case .pool(let pooling, let kernel, let stride, let ceilMode):
            return Pool<T>(pooling, kernel: kernel, stride: stride, ceilMode: ceilMode)
        case .upsample(let scale, let mode):
            return Upsample<T>(scale: scale, mode: mode)
        case .batchNorm(let momentum, let epsilon):
            try require(!input.isEmpty, "needs a channel axis")
            return BatchNorm<T>(input[0], momentum: momentum, epsilon: epsilon)
        case .activation(let function):
            return Activation<T>(function)
        case .quantize(let quantizer):
            return Quantize<T>(quantizer)
        case .dropout(let probability):
            try require(probability >= 0 && probability < 1, "dropout probability must be in [0, 1)")
            return Dropout<T>(probability, seed: dropoutSeed)
        case .flatten:
            return Flatten<T>()
        case .reshape(let shape):
            return Reshape<T>(shape)
        case .permute(let axes):
            return Permute<T>(axes)
        case .recurrent(let cell, let hidden, let layers, let returnSequences):
            try require(input.count == 2 && hidden > 0 && layers > 0, "needs input [steps, features] and positive sizes")
            return Recurrent<T>(cell, inputSize: input[1], hiddenSize: hidden, layers: layers, returnSequences: returnSequences,
                                generator: &generator)
        case .graphConvolution(let features, let nodes, let edges, let normalization):
            try require(input.count == 2 && input[0] == nodes && features > 0, "needs input [\(nodes) nodes, features]")
            try require(edges.allSatisfy { $0.count == 2 }, "every edge is a (source, target) pair")
            return try GraphConvolution<T>(input[1], features, nodeCount: nodes, edges: edges.map { ($0[0], $0[1]) },
                                           normalization: normalization, generator: &generator)
        case .attentionPooling:
            try require(input.count >= 2, "needs input [..., nodes, features]")
            return AttentionPooling<T>(features: input[input.count - 1], generator: &generator)
        case .groupGraphConvolution(let features, let groups):
            try require(input.count >= 2 && input[input.count - 2] == groups.count && features > 0, "needs input [..., \(groups.count) nodes, features]")
            return GroupGraphConvolution<T>(input[input.count - 1], features, groups: try NodeGroups(groupOfNode: groups), generator: &generator)
        case .gather(let axis, let indices):
            try require(axis >= 0 && axis < input.count && indices.allSatisfy { $0 >= 0 && $0 < input[axis] }, "axis or index out of range")
            return Gather<T>(axis: axis, indices: indices)
        case .residual(let layers):
            var modules: [Module<T>] = []
            for layer in layers {
                let module: Module<T> = try layer.module(input: input, generator: &generator, dropoutSeed: dropoutSeed)
                module.setTraining(false)
                let output = Array(try module(Variable(Tensor<T>(zeros: [1] + input))).shape.dropFirst())
                module.setTraining(true)
                try require(output == input, "every layer of a residual body must keep the shape (\(layer.kind) gives \(output))")
                modules.append(module)
            }
            return Residual<T>(Sequential(modules))
        case .variational(let klWeight):
            try require(!input.isEmpty && klWeight >= 0, "needs a feature axis and a non-negative KL weight")
            return VariationalBottleneck<T>(features: input[input.count - 1], klWeight: klWeight, seed: dropoutSeed, generator: &generator)
        }
    }

    /// Multiply-adds of one sample: the products of dense, convolution, recurrent and graph
    /// layers (element-wise layers count nothing).
    func multiplyAdds(input: [Int], output: [Int]) -> Int {
        let inputs = input.reduce(1, *), outputs = output.reduce(1, *)
        switch self {
        case .linear(let units, _, _, _):
            return inputs * units
        case .convolution(_, let kernel, _, _, _, _, _):
            return outputs * (input.first ?? 0) * kernel.reduce(1, *)
        case .transposedConvolution(let filters, let kernel, _, _, _, _):
            return inputs * filters * kernel.reduce(1, *)
        case .recurrent(let cell, let hidden, let layers, _):
            guard input.count == 2 else { return 0 }
            let steps = input[0], features = input[1]
            return steps * cell.gates * hidden * ((features + hidden) + (layers - 1) * (2 * hidden))
        case .graphConvolution(let features, let nodes, let edges, let normalization):
            guard input.count == 2 else { return 0 }
            let perNode = input[1] * features * (normalization == .symmetric ? 1 : 2)
            return nodes * perNode + edges.count * input[1]
        case .attentionPooling:
            return 2 * inputs
        case .groupGraphConvolution(let features, _):
            return inputs * features + inputs
        case .residual(let layers):
            return layers.reduce(0) { $0 + $1.multiplyAdds(input: input, output: input) }
        case .variational:
            return 2 * inputs * (input.last ?? 0)
        default:
            return 0
        }
    }

    /// Floating-point operations as TensorFlow's profiler counts them for a batch of one (the
    /// convention of the ECON-T study): Conv 2·k·C_in per output, MatMul 2·inputs per output,
    /// BiasAdd one per output, MaxPool/AvgPool k per output; activations, quantizers and layout
    /// changes count nothing. nil for layers without an agreed counting rule (transposed
    /// convolutions, batch norm, recurrent and graph layers), so no total claims one.
    func tensorflowFLOPs(input: [Int], output: [Int]) -> Int? {
        let outputs = output.reduce(1, *)
        switch self {
        case .linear(_, let bias, _, _):
            return 2 * (input.last ?? 0) * outputs + (bias ? outputs : 0)
        case .convolution(_, let kernel, _, _, let bias, _, _):
            return 2 * kernel.reduce(1, *) * (input.first ?? 0) * outputs + (bias ? outputs : 0)
        case .pool(_, let kernel, _, _):
            return kernel.reduce(1, *) * outputs
        case .activation, .quantize, .dropout, .flatten, .reshape, .permute, .upsample, .gather:
            return 0
        case .residual(let layers):
            let counts = layers.map { $0.tensorflowFLOPs(input: input, output: input) }
            return counts.contains(nil) ? nil : counts.reduce(0) { $0 + ($1 ?? 0) }
        case .transposedConvolution, .batchNorm, .recurrent, .graphConvolution, .attentionPooling, .groupGraphConvolution, .variational:
            return nil
        }
    }

    /// A short name for summaries ("Conv2d", "Linear", "LSTM").
    public var kind: String {
        switch self {
        case .linear: return "Linear"
        case .convolution(_, let kernel, _, _, _, _, _): return "Conv\(kernel.count)d"
        case .transposedConvolution(_, let kernel, _, _, _, _): return "ConvTranspose\(kernel.count)d"
        case .pool(let pooling, let kernel, _, _): return pooling == .max ? "MaxPool\(kernel.count)d" : "AvgPool\(kernel.count)d"
        case .upsample: return "Upsample"
        case .batchNorm: return "BatchNorm"
        case .activation(let function): return "Activation(\(function))"
        case .quantize: return "Quantize"
        case .dropout: return "Dropout"
        case .flatten: return "Flatten"
        case .reshape: return "Reshape"
        case .permute: return "Permute"
        case .recurrent(let cell, _, _, _): return cell.rawValue.uppercased()
        case .graphConvolution: return "GraphConvolution"
        case .attentionPooling: return "AttentionPooling"
        case .groupGraphConvolution: return "GroupGraphConvolution"
        case .gather: return "Gather"
        case .residual(let layers): return "Residual(\(layers.map(\.kind).joined(separator: ", ")))"
        case .variational: return "VariationalBottleneck"
        }
    }
}
