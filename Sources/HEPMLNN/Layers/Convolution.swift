import HEPMLCore
import HEPMLTensor

/// A convolution that runs the layers after it in its own passes (`Sequential`): an
/// inference-mode batch norm folded into its weight and bias, a ReLU or LeakyReLU
/// (`negativeSlope`) applied as it writes its output.
protocol FusingConvolution<Scalar> {
    associatedtype Scalar: TensorScalar
    func forward(_ x: Variable<Scalar>, folding normalization: BatchNorm<Scalar>?, negativeSlope: Scalar?) throws -> Variable<Scalar>
}

/// Convolution over 1–3 spatial axes, weight [out, in, k...]. `Conv1d/2d/3d` fix the rank.
public class ConvolutionLayer<T: TensorScalar>: Module<T>, FusingConvolution {
    public let weight: Variable<T>
    public let bias: Variable<T>?
    public let stride: [Int]
    public let padding: Padding
    public var weightQuantizer: Quantizer?
    public var biasQuantizer: Quantizer?

    init(in inChannels: Int, out outChannels: Int, kernel: [Int], stride: [Int], padding: Padding, bias: Bool, initializer: Initializer, generator: inout SeededGenerator) {
        weight = Variable(initializer.tensor([outChannels, inChannels] + kernel, generator: &generator), requiresGrad: true)
        self.bias = bias ? Variable(Tensor(zeros: [outChannels]), requiresGrad: true) : nil
        self.stride = stride
        self.padding = padding
        super.init()
    }

    public override var kind: String { "Conv\(stride.count)d" }
    public override var localParameters: [(String, Variable<T>)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }
    public override var settings: [String: String] {
        ["in": "\(weight.shape[1])", "out": "\(weight.shape[0])", "kernel": "\(Array(weight.shape.dropFirst(2)))", "stride": "\(stride)", "padding": "\(padding)"]
    }

    public override func forward(_ x: Variable<T>) throws -> Variable<T> {
        try forward(x, folding: nil, negativeSlope: nil)
    }

    /// The convolution with the fusions of `FusingConvolution`.
    func forward(_ x: Variable<T>, folding normalization: BatchNorm<T>?, negativeSlope: T?) throws -> Variable<T> {
        guard x.shape.count == stride.count + 2, x.shape[1] == weight.shape[1] else {
            throw ShapeError(operation: kind, "expected input [N, \(weight.shape[1]), \(stride.count) spatial axes]", shapes: [x.shape, weight.shape])
        }
        var w = try weightQuantizer.map { try $0(weight) } ?? weight
        var b = try bias.map { b in try biasQuantizer.map { try $0(b) } ?? b }
        if let normalization { (w, b) = try normalization.folded(weight: w, bias: b, channelAxis: 0) }
        return try Variable.convolution(x, weight: w, bias: b, stride: stride, padding: padding, negativeSlope: negativeSlope)
    }
}

/// Transposed convolution over 1–3 spatial axes, weight [in, out, k...] (PyTorch layout).
public class TransposedConvolutionLayer<T: TensorScalar>: Module<T>, FusingConvolution {
    public let weight: Variable<T>
    public let bias: Variable<T>?
    public let stride: [Int]
    public let padding: Padding
    public let outputPadding: [Int]
    public var weightQuantizer: Quantizer?
    public var biasQuantizer: Quantizer?

    init(in inChannels: Int, out outChannels: Int, kernel: [Int], stride: [Int], padding: Padding, outputPadding: [Int], bias: Bool, initializer: Initializer, generator: inout SeededGenerator) {
        // For [in, out, k...] the fans come out as Keras computes them for Conv*DTranspose
        // (fanIn = out·∏k), since the output channels are the ones each gradient sums over.
        let tensor: Tensor<T> = initializer.tensor([inChannels, outChannels] + kernel, generator: &generator)
        weight = Variable(tensor, requiresGrad: true)
        self.bias = bias ? Variable(Tensor(zeros: [outChannels]), requiresGrad: true) : nil
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
        super.init()
    }

    public override var kind: String { "ConvTranspose\(stride.count)d" }
    public override var localParameters: [(String, Variable<T>)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }
    public override var settings: [String: String] {
        ["in": "\(weight.shape[0])", "out": "\(weight.shape[1])", "kernel": "\(Array(weight.shape.dropFirst(2)))", "stride": "\(stride)",
         "padding": "\(padding)", "outputPadding": "\(outputPadding)"]
    }

    public override func forward(_ x: Variable<T>) throws -> Variable<T> {
        try forward(x, folding: nil, negativeSlope: nil)
    }

    /// The transposed convolution with the fusions of `FusingConvolution` (output channels on
    /// the weight's axis 1).
    func forward(_ x: Variable<T>, folding normalization: BatchNorm<T>?, negativeSlope: T?) throws -> Variable<T> {
        guard x.shape.count == stride.count + 2, x.shape[1] == weight.shape[0] else {
            throw ShapeError(operation: kind, "expected input [N, \(weight.shape[0]), \(stride.count) spatial axes]", shapes: [x.shape, weight.shape])
        }
        var w = try weightQuantizer.map { try $0(weight) } ?? weight
        var b = try bias.map { b in try biasQuantizer.map { try $0(b) } ?? b }
        if let normalization { (w, b) = try normalization.folded(weight: w, bias: b, channelAxis: 1) }
        return try Variable.transposedConvolution(x, weight: w, bias: b, stride: stride, padding: padding, outputPadding: outputPadding,
                                                  negativeSlope: negativeSlope)
    }
}

public final class Conv1d<T: TensorScalar>: ConvolutionLayer<T> {
    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Padding = .valid, bias: Bool = true, initializer: Initializer = .glorotUniform, generator: inout SeededGenerator) {
        super.init(in: inChannels, out: outChannels, kernel: [kernel], stride: [stride], padding: padding, bias: bias, initializer: initializer, generator: &generator)
    }
}

public final class Conv2d<T: TensorScalar>: ConvolutionLayer<T> {
    public init(_ inChannels: Int, _ outChannels: Int, kernel: [Int], stride: [Int] = [1, 1], padding: Padding = .valid, bias: Bool = true, initializer: Initializer = .glorotUniform, generator: inout SeededGenerator) {
        super.init(in: inChannels, out: outChannels, kernel: kernel, stride: stride, padding: padding, bias: bias, initializer: initializer, generator: &generator)
    }
}

public final class Conv3d<T: TensorScalar>: ConvolutionLayer<T> {
    public init(_ inChannels: Int, _ outChannels: Int, kernel: [Int], stride: [Int] = [1, 1, 1], padding: Padding = .valid, bias: Bool = true, initializer: Initializer = .glorotUniform, generator: inout SeededGenerator) {
        super.init(in: inChannels, out: outChannels, kernel: kernel, stride: stride, padding: padding, bias: bias, initializer: initializer, generator: &generator)
    }
}

public final class ConvTranspose1d<T: TensorScalar>: TransposedConvolutionLayer<T> {
    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Padding = .valid, outputPadding: Int = 0, bias: Bool = true, initializer: Initializer = .glorotUniform, generator: inout SeededGenerator) {
        super.init(in: inChannels, out: outChannels, kernel: [kernel], stride: [stride], padding: padding, outputPadding: [outputPadding], bias: bias, initializer: initializer, generator: &generator)
    }
}

public final class ConvTranspose2d<T: TensorScalar>: TransposedConvolutionLayer<T> {
    public init(_ inChannels: Int, _ outChannels: Int, kernel: [Int], stride: [Int] = [1, 1], padding: Padding = .valid, outputPadding: [Int] = [0, 0], bias: Bool = true, initializer: Initializer = .glorotUniform, generator: inout SeededGenerator) {
        super.init(in: inChannels, out: outChannels, kernel: kernel, stride: stride, padding: padding, outputPadding: outputPadding, bias: bias, initializer: initializer, generator: &generator)
    }
}

public final class ConvTranspose3d<T: TensorScalar>: TransposedConvolutionLayer<T> {
    public init(_ inChannels: Int, _ outChannels: Int, kernel: [Int], stride: [Int] = [1, 1, 1], padding: Padding = .valid, outputPadding: [Int] = [0, 0, 0], bias: Bool = true, initializer: Initializer = .glorotUniform, generator: inout SeededGenerator) {
        super.init(in: inChannels, out: outChannels, kernel: kernel, stride: stride, padding: padding, outputPadding: outputPadding, bias: bias, initializer: initializer, generator: &generator)
    }
}
