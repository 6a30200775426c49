import HEPMLCore
import HEPMLTensor

/// Pointwise activation functions as a layer.
public enum ActivationFunction: Sendable, Equatable, Codable {
    case relu, tanh, sigmoid, softplus, gelu, softmax, logSoftmax
    case leakyRelu(slope: Double)
    case elu(alpha: Double)

    @_specialize(where T == Float)
    public func apply<T: TensorScalar>(_ x: Variable<T>) throws -> Variable<T> {
        switch self {
        case .relu: return x.relu()
        case .tanh: return x.tanh()
        case .sigmoid: return x.sigmoid()
        case .softplus: return x.softplus()
        case .gelu: return x.gelu()
        case .softmax: return try x.softmax()
        case .logSoftmax: return try x.logSoftmax()
        case .leakyRelu(let slope): return x.leakyRelu(slope: T(slope))
        case .elu(let alpha): return x.elu(alpha: T(alpha))
        }
    }
}

extension ActivationFunction {
    /// The slope below zero when this is a ReLU (0) or a LeakyReLU with a slope ≥ 0, the
    /// activations a convolution can apply in its own output pass (`Sequential`).
    var fusedNegativeSlope: Double? {
        switch self {
        case .relu: 0
        case .leakyRelu(let slope) where slope >= 0: slope
        default: nil
        }
    }
}

public final class Activation<T: TensorScalar>: Module<T> {
    public let function: ActivationFunction
    public init(_ function: ActivationFunction) {
        self.function = function
        super.init()
    }
    public override var kind: String { "Activation" }
    public override var settings: [String: String] { ["function": "\(function)"] }
    public override func forward(_ x: Variable<T>) throws -> Variable<T> { try function.apply(x) }
}

/// Applies a QKeras quantizer to activations (QActivation).
public final class Quantize<T: TensorScalar>: Module<T> {
    public let quantizer: Quantizer
    public init(_ quantizer: Quantizer) {
        self.quantizer = quantizer
        super.init()
    }
    public override var kind: String { "Quantize" }
    public override var settings: [String: String] { ["quantizer": "\(quantizer)"] }
    public override func forward(_ x: Variable<T>) throws -> Variable<T> { try quantizer(x) }
}

/// Flattens all axes after the batch axis.
public final class Flatten<T: TensorScalar>: Module<T> {
    public override init() { super.init() }
    public override var kind: String { "Flatten" }
    public override func forward(_ x: Variable<T>) throws -> Variable<T> { try x.flattened() }
}

/// Reshapes each sample to `shape` (the batch axis is kept). One entry may be −1: the size that
/// makes the element count fit, as in PyTorch's `view` — a layer that serves any number of time
/// steps (`[-1, features]`).
public final class Reshape<T: TensorScalar>: Module<T> {
    public let shape: [Int]
    public init(_ shape: [Int]) {
        self.shape = shape
        super.init()
    }
    public override var kind: String { "Reshape" }
    public override var settings: [String: String] { ["shape": "\(shape)"] }
    public override func forward(_ x: Variable<T>) throws -> Variable<T> {
        let wildcards = shape.filter { $0 == -1 }.count
        let known = shape.filter { $0 != -1 }.reduce(1, *)
        guard let batch = x.shape.first, wildcards <= 1, shape.allSatisfy({ $0 >= -1 }),
              wildcards == 0 ? x.value.count == batch * known : batch * known > 0 && x.value.count % (batch * known) == 0 else {
            throw ShapeError(operation: "Reshape(\(shape))", "sample size does not match", shapes: [x.shape, shape])
        }
        return try x.reshaped([batch] + shape.map { $0 == -1 ? x.value.count / (batch * known) : $0 })
    }
}

/// Elements `indices` of each sample's axis `axis` (counted without the batch axis), in that
/// order: a fixed selection such as a graph's nodes out of a detector map.
public final class Gather<T: TensorScalar>: Module<T> {
    public let axis: Int
    public let indices: [Int]
    public init(axis: Int, indices: [Int]) {
        self.axis = axis
        self.indices = indices
        super.init()
    }
    public override var kind: String { "Gather" }
    public override var settings: [String: String] { ["axis": "\(axis)", "indices": "\(indices.count)"] }
    public override func forward(_ x: Variable<T>) throws -> Variable<T> {
        try x.gathering(axis: Self.batchAxis(ofSampleAxis: axis, in: x, operation: "Gather"), indices: indices)
    }
}

extension Module {
    /// The batched axis of per-sample axis `axis` of `x` (axis + 1), or an error naming `operation`.
    static func batchAxis(ofSampleAxis axis: Int, in x: Variable<T>, operation: String) throws -> Int {
        guard axis >= 0, axis + 1 < x.shape.count else {
            throw ShapeError(operation: "\(operation)(axis: \(axis))", "sample has no axis \(axis)", shapes: [x.shape])
        }
        return axis + 1
    }
}

/// x + body(x): a residual (identity skip) connection around a chain of layers that keeps the
/// sample's shape (ResNet; upstream HCAL's ResCNN encoder blocks).
public final class Residual<T: TensorScalar>: Module<T> {
    public let body: Sequential<T>
    public init(_ body: Sequential<T>) {
        self.body = body
        super.init()
    }
    public override var kind: String { "Residual" }
    public override var children: [(String, Module<T>)] { [("body", body)] }
    public override func forward(_ x: Variable<T>) throws -> Variable<T> {
        let y = try call(body, named: "body", x)
        guard y.shape == x.shape else {
            throw ShapeError(operation: "Residual", "the body changes the shape", shapes: [x.shape, y.shape])
        }
        return try x + y
    }
}

/// Keeps elements `range` of each sample's axis `axis` (counted without the batch axis).
public final class Slice<T: TensorScalar>: Module<T> {
    public let axis: Int
    public let range: Range<Int>
    public init(axis: Int, _ range: Range<Int>) {
        self.axis = axis
        self.range = range
        super.init()
    }
    public override var kind: String { "Slice" }
    public override var settings: [String: String] { ["axis": "\(axis)", "range": "\(range.lowerBound)..<\(range.upperBound)"] }
    public override func forward(_ x: Variable<T>) throws -> Variable<T> {
        try x.slice(axis: Self.batchAxis(ofSampleAxis: axis, in: x, operation: "Slice"), range)
    }
}

/// The generator of a layer's training-time randomness (dropout masks, VAE noise): seeded, and
/// restarted at each epoch on that epoch's own stream, so a resumed run draws what an
/// uninterrupted one draws.
struct EpochSeededGenerator {
    private let seed: UInt64, stream: UInt64
    var generator: SeededGenerator

    init(seed: UInt64, stream: UInt64) {
        self.seed = seed
        self.stream = stream
        generator = SeededGenerator(seed: seed, stream: stream)
    }

    mutating func begin(epoch: Int) {
        generator = SeededGenerator(seed: seed, stream: (stream << 32) &+ UInt64(epoch))
    }
}

/// Inverted dropout with its own seeded generator; identity in inference mode.
public final class Dropout<T: TensorScalar>: Module<T> {
    public let probability: Double
    private var random: EpochSeededGenerator
    public init(_ probability: Double, seed: UInt64) {
        self.probability = probability
        random = EpochSeededGenerator(seed: seed, stream: 0xD0)
        super.init()
    }
    public override func epochWillBegin(_ epoch: Int) { random.begin(epoch: epoch) }
    public override var kind: String { "Dropout" }
    public override var settings: [String: String] { ["p": "\(probability)"] }
    public override func forward(_ x: Variable<T>) throws -> Variable<T> {
        isTraining ? x.dropout(probability, generator: &random.generator) : x
    }
}

public enum PoolingKind: String, Sendable, Codable { case max, average }

/// Max or average pooling over 1–3 spatial axes (the kernel's length sets the rank); `ceilMode`
/// keeps the partial windows at the end of each axis, as PyTorch's `ceil_mode=True`.
/// A max pooling with `keepsIndices` remembers where its last outputs came from, for the
/// `MaxUnpool` paired with it (PyTorch's `return_indices=True` + `MaxUnpool`).
public final class Pool<T: TensorScalar>: Module<T> {
    public let pooling: PoolingKind
    public let kernel: [Int]
    public let stride: [Int]?
    public let ceilMode: Bool
    public let keepsIndices: Bool
    /// The argmax positions of the last forward pass when `keepsIndices`.
    public private(set) var lastIndices: PoolIndices?
    public init(_ pooling: PoolingKind, kernel: [Int], stride: [Int]? = nil, ceilMode: Bool = false, keepsIndices: Bool = false) {
        self.pooling = pooling
        self.kernel = kernel
        self.stride = stride
        self.ceilMode = ceilMode
        self.keepsIndices = keepsIndices && pooling == .max
        super.init()
    }
    public override var kind: String { pooling == .max ? "MaxPool\(kernel.count)d" : "AvgPool\(kernel.count)d" }
    public override var settings: [String: String] { ["kernel": "\(kernel)", "stride": "\(stride ?? kernel)", "ceil_mode": "\(ceilMode)"] }
    public override func forward(_ x: Variable<T>) throws -> Variable<T> {
        if keepsIndices {
            let (output, indices) = try x.maxPoolWithIndices(kernel: kernel, stride: stride, ceilMode: ceilMode)
            lastIndices = indices
            return output
        }
        return pooling == .max ? try x.maxPool(kernel: kernel, stride: stride, ceilMode: ceilMode)
            : try x.avgPool(kernel: kernel, stride: stride, ceilMode: ceilMode)
    }
}

/// Max-unpooling: puts each value back where the paired max pooling (built with `keepsIndices`)
/// found its maximum in its last forward pass, zeros elsewhere, in the pooled input's shape.
public final class MaxUnpool<T: TensorScalar>: Module<T> {
    public let pool: Pool<T>
    public init(_ pool: Pool<T>) {
        self.pool = pool
        super.init()
    }
    public override var kind: String { "MaxUnpool\(pool.kernel.count)d" }
    public override var settings: [String: String] { ["kernel": "\(pool.kernel)", "stride": "\(pool.stride ?? pool.kernel)"] }
    public override func forward(_ x: Variable<T>) throws -> Variable<T> {
        guard let indices = pool.lastIndices else {
            throw ShapeError(operation: kind, "the paired pooling keeps no indices (needs keepsIndices: true and a forward pass first)", shapes: [x.shape])
        }
        return try x.maxUnpool(indices)
    }
}

public final class Upsample<T: TensorScalar>: Module<T> {
    public let scale: [Int]
    public let mode: UpsamplingMode
    public init(scale: [Int], mode: UpsamplingMode = .nearest) {
        self.scale = scale
        self.mode = mode
        super.init()
    }
    public override var kind: String { "Upsample" }
    public override var settings: [String: String] { ["scale": "\(scale)", "mode": mode.rawValue] }
    public override func forward(_ x: Variable<T>) throws -> Variable<T> { try x.upsample(scale: scale, mode: mode) }
}

/// Batch normalization over axis 1 with learned scale/shift and running statistics.
public final class BatchNorm<T: TensorScalar>: Module<T> {
    public let scale: Variable<T>
    public let shift: Variable<T>
    public let statistics: BatchNormStatistics<T>
    public let momentum: Double
    public let epsilon: Double
    public init(_ channels: Int, momentum: Double = 0.1, epsilon: Double = 1e-5) {
        scale = Variable(Tensor(repeating: 1, shape: [channels]), requiresGrad: true)
        shift = Variable(Tensor(zeros: [channels]), requiresGrad: true)
        statistics = BatchNormStatistics(channels: channels)
        self.momentum = momentum
        self.epsilon = epsilon
        super.init()
    }
    public override var kind: String { "BatchNorm" }
    /// PyTorch's names, so checkpoints line up with `nn.BatchNorm*d` state dicts.
    public override var localParameters: [(String, Variable<T>)] { [("weight", scale), ("bias", shift)] }
    public override var localBuffers: [(String, Buffer<T>)] { [("running_mean", statistics.mean), ("running_var", statistics.variance)] }
    public override var settings: [String: String] { ["channels": "\(scale.shape[0])", "momentum": "\(momentum)", "epsilon": "\(epsilon)"] }
    public override func forward(_ x: Variable<T>) throws -> Variable<T> {
        try forward(x, leakySlope: nil)
    }

    /// The layer followed by LeakyReLU with `leakySlope` when one is given (see `Sequential`).
    func forward(_ x: Variable<T>, leakySlope: T?) throws -> Variable<T> {
        try Variable.batchNorm(x, scale: scale, shift: shift, statistics: statistics, training: isTraining, momentum: T(momentum), epsilon: T(epsilon),
                               leakySlope: leakySlope)
    }

    /// The inference-mode transform y·s + shift − mean·s (s = scale/√(variance + ε)) folded into
    /// the convolution before it: the weight scaled by s along its output-channel axis
    /// `channelAxis`, the bias b·s + shift − mean·s. The convolution's output is then this
    /// layer's output to rounding, without a pass over the feature maps; gradients still reach
    /// scale, shift, weight and bias through the folding's small operations.
    func folded(weight: Variable<T>, bias: Variable<T>?, channelAxis: Int) throws -> (weight: Variable<T>, bias: Variable<T>) {
        let channels = scale.shape[0]
        guard weight.shape.count > channelAxis, weight.shape[channelAxis] == channels else {
            throw ShapeError(operation: kind, "cannot fold \(channels) channels into a weight", shapes: [weight.shape, scale.shape])
        }
        let inverseDeviations = statistics.variance.value.scalars.map { 1 / ($0 + T(epsilon)).squareRoot() }
        let factors = try scale * Variable(Tensor(shape: [channels], scalars: inverseDeviations))
        var factorShape = [Int](repeating: 1, count: weight.shape.count)
        factorShape[channelAxis] = channels
        let scaledWeight = try weight * factors.reshaped(factorShape)
        var shifted = try shift - Variable(statistics.mean.value) * factors
        if let bias { shifted = try shifted + bias * factors }
        return (scaledWeight, shifted)
    }
}

/// Reorders the axes of each sample (the batch axis stays first): `[2, 0, 1]` turns a
/// channels-last image (H, W, C) into the engine's channels-first (C, H, W).
public final class Permute<T: TensorScalar>: Module<T> {
    public let axes: [Int]
    public init(_ axes: [Int]) {
        self.axes = axes
        super.init()
    }
    public override var kind: String { "Permute" }
    public override var settings: [String: String] { ["axes": "\(axes)"] }
    public override func forward(_ x: Variable<T>) throws -> Variable<T> {
        guard x.shape.count == axes.count + 1, axes.sorted() == Array(0..<axes.count) else {
            throw ShapeError(operation: "Permute(\(axes))", "expected a batch of \(axes.count)-axis samples and a permutation of their axes", shapes: [x.shape])
        }
        return try x.permuted([0] + axes.map { $0 + 1 })
    }
}
