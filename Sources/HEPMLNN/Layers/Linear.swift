import HEPMLCore
import HEPMLTensor

/// Dense layer y = x·Wᵀ + b with weight [out, in]; optional QKeras quantizers on the weight and
/// bias (straight-through during training).
public final class Linear<T: TensorScalar>: Module<T> {
    public let weight: Variable<T>
    public let bias: Variable<T>?
    public var weightQuantizer: Quantizer?
    public var biasQuantizer: Quantizer?

    /// Weights default to Glorot-uniform and biases to zero (Keras' defaults, which the
    /// reference workflows were trained with). The weight draws before the bias.
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, initializer: Initializer = .glorotUniform,
                biasInitializer: Initializer = .zeros, generator: inout SeededGenerator) {
        weight = Variable(initializer.tensor([outFeatures, inFeatures], generator: &generator), requiresGrad: true)
        self.bias = bias ? Variable(biasInitializer.tensor([outFeatures], generator: &generator), requiresGrad: true) : nil
        super.init()
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }
    public override var localParameters: [(String, Variable<T>)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }
    public override var settings: [String: String] { ["in": "\(inFeatures)", "out": "\(outFeatures)"] }

    public override func forward(_ x: Variable<T>) throws -> Variable<T> {
        guard x.shape.last == inFeatures else {
            throw ShapeError(operation: "Linear(\(inFeatures)→\(outFeatures))", "expected \(inFeatures) input features", shapes: [x.shape, weight.shape])
        }
        let w = try weightQuantizer.map { try $0(weight) } ?? weight
        let b = try bias.map { b in try biasQuantizer.map { try $0(b) } ?? b }
        return try Variable.linear(x, weight: w, bias: b)
    }
}
