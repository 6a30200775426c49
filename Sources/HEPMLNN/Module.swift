import HEPMLTensor

/// A layer or model in the spirit of PyTorch's `nn.Module`: it owns named parameters and
/// buffers, may contain named child modules, and maps a variable to a variable in `forward`.
///
/// Parameter paths join child names with dots ("encoder.0.weight"), the names checkpoints use.
/// Custom models subclass `Module`, list their children, and compose them in plain Swift.
open class Module<T: TensorScalar> {
    public private(set) var isTraining = true

    public init() {}

    /// The layer kind in error messages and model descriptions.
    open var kind: String { String(describing: Swift.type(of: self)).components(separatedBy: "<").first ?? "Module" }

    /// Parameters owned directly by this module (not its children).
    open var localParameters: [(String, Variable<T>)] { [] }
    /// Non-trained state owned directly by this module (e.g. batch-norm running statistics).
    open var localBuffers: [(String, Buffer<T>)] { [] }
    /// Direct children with their names.
    open var children: [(String, Module<T>)] { [] }
    /// Hyperparameters for the JSON model description.
    open var settings: [String: String] { [:] }
    /// Terms this module adds to the training loss, from its latest forward pass (Keras'
    /// `add_loss`): a VAE bottleneck's weighted KL divergence.
    open var localAuxiliaryLosses: [Variable<T>] { [] }

    /// The auxiliary loss terms of this module and all descendants (add them to the loss of the
    /// forward pass that produced them).
    public func auxiliaryLosses() -> [Variable<T>] {
        localAuxiliaryLosses + children.flatMap { $0.1.auxiliaryLosses() }
    }

    open func forward(_ x: Variable<T>) throws -> Variable<T> {
        throw ShapeError(operation: "forward", "\(kind) does not define forward(_:)", shapes: [x.shape], layer: kind)
    }

    /// Names of the inputs `forward(_: [Variable])` takes, in order (one for a plain layer).
    open var inputNames: [String] { ["input"] }
    /// Names of the outputs `forward(_: [Variable])` returns, in order.
    open var outputNames: [String] { ["output"] }

    /// The many-input form, for models with side inputs (maps plus event counts, images plus a
    /// mass): values in `inputNames` order in, values in `outputNames` order out. A plain layer
    /// takes its one input.
    open func forward(_ inputs: [Variable<T>]) throws -> [Variable<T>] {
        guard inputs.count == 1 else {
            throw ShapeError(operation: "forward", "\(kind) takes one input", shapes: inputs.map(\.shape), layer: kind)
        }
        return [try forward(inputs[0])]
    }

    /// Runs `forward`, labelling a shape error with this layer's kind.
    public func callAsFunction(_ x: Variable<T>) throws -> Variable<T> {
        try labellingShapeErrors { try forward(x) }
    }

    /// Runs the many-input `forward`, labelling a shape error with this layer's kind.
    public func callAsFunction(_ inputs: [Variable<T>]) throws -> [Variable<T>] {
        do {
            return try forward(inputs)
        } catch var error as ShapeError {
            if error.layer == nil { error.layer = kind }
            throw error
        }
    }

    /// Runs child `name`, prefixing its path onto a shape error so it reads "encoder.0 (Conv1d)".
    public func call(_ child: Module<T>, named name: String, _ x: Variable<T>) throws -> Variable<T> {
        try call(named: name) { try child(x) }
    }

    /// Runs `body` (this layer's computation), labelling a shape error with this layer's kind.
    func labellingShapeErrors(_ body: () throws -> Variable<T>) throws -> Variable<T> {
        do {
            return try body()
        } catch var error as ShapeError {
            if error.layer == nil { error.layer = kind }
            throw error
        }
    }

    /// Runs `body` (a child's computation), prefixing the child's name onto a shape error's path.
    func call(named name: String, _ body: () throws -> Variable<T>) throws -> Variable<T> {
        do {
            return try body()
        } catch var error as ShapeError {
            error.layerPath.insert(name, at: 0)
            throw error
        }
    }

    public func namedParameters() -> [(String, Variable<T>)] {
        localParameters + children.flatMap { name, child in child.namedParameters().map { ("\(name).\($0.0)", $0.1) } }
    }

    public func namedBuffers() -> [(String, Buffer<T>)] {
        localBuffers + children.flatMap { name, child in child.namedBuffers().map { ("\(name).\($0.0)", $0.1) } }
    }

    public var parameters: [Variable<T>] { namedParameters().map(\.1) }

    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    /// Tells this module and all descendants that training epoch `epoch` (from 0) begins. The
    /// training loop calls it so that per-epoch randomness (dropout masks) depends on the epoch
    /// alone, and a run resumed at any epoch draws what an uninterrupted run draws.
    public func beginEpoch(_ epoch: Int) {
        epochWillBegin(epoch)
        for (_, child) in children { child.beginEpoch(epoch) }
    }

    /// Override to reset per-epoch state (see `beginEpoch`).
    open func epochWillBegin(_ epoch: Int) {}

    /// Switches this module and all descendants between training and inference behaviour
    /// (dropout, batch-norm statistics).
    public func setTraining(_ training: Bool) {
        isTraining = training
        for (_, child) in children { child.setTraining(training) }
    }

    public func zeroGradients() {
        for parameter in parameters { parameter.zeroGrad() }
    }

    /// Every parameter and buffer by path.
    public func stateDictionary() -> [(String, Tensor<T>)] {
        namedParameters().map { ($0.0, $0.1.value) } + namedBuffers().map { ($0.0, $0.1.value) }
    }

    /// Loads tensors by path; every parameter and buffer must be present with its shape.
    public func loadStateDictionary(_ state: [String: Tensor<T>]) throws {
        for (name, parameter) in namedParameters() {
            parameter.value = try Self.matching(state, name, parameter.value.shape)
        }
        for (name, buffer) in namedBuffers() {
            buffer.value = try Self.matching(state, name, buffer.value.shape)
        }
    }

    private static func matching(_ state: [String: Tensor<T>], _ name: String, _ shape: [Int]) throws -> Tensor<T> {
        guard let tensor = state[name] else {
            throw ShapeError(operation: "loadStateDictionary", "missing tensor \(name)", shapes: [shape])
        }
        guard tensor.shape == shape else {
            throw ShapeError(operation: "loadStateDictionary", "tensor \(name) has the wrong shape", shapes: [tensor.shape, shape])
        }
        return tensor
    }

    /// A JSON-encodable tree of kinds, settings and parameter shapes.
    public func describe(name: String = "") -> ModuleDescription {
        ModuleDescription(name: name, kind: kind, settings: settings,
                          parameters: localParameters.map { .init(name: $0.0, shape: $0.1.shape) },
                          children: children.map { $0.1.describe(name: $0.0) })
    }
}

public struct ModuleDescription: Codable, Equatable, Sendable {
    public struct ParameterShape: Codable, Equatable, Sendable {
        public var name: String
        public var shape: [Int]
    }
    public var name: String
    public var kind: String
    public var settings: [String: String]
    public var parameters: [ParameterShape]
    public var children: [ModuleDescription]
}

/// A plain stack of layers applied in order; children are named "0", "1", ….
public final class Sequential<T: TensorScalar>: Module<T> {
    public let layers: [Module<T>]

    public init(_ layers: [Module<T>]) {
        self.layers = layers
        super.init()
    }

    public override var children: [(String, Module<T>)] { layers.enumerated().map { (String($0.offset), $0.element) } }

    public override func forward(_ x: Variable<T>) throws -> Variable<T> {
        var y = x
        var index = 0
        while index < layers.count {
            // A convolution runs fused with what follows it: an inference-mode batch norm folded
            // into its weight and bias, then a ReLU or LeakyReLU applied in its output pass; a
            // batch norm not folded so runs fused with a LeakyReLU after it. The values (to
            // rounding) and gradients are those of the layers one by one, with up to four fewer
            // passes over the feature maps.
            let convolution = layers[index] as? any FusingConvolution<T>
            var next = index + 1
            var normalization: BatchNorm<T>?
            if convolution != nil, next < layers.count, let layer = layers[next] as? BatchNorm<T>, !layer.isTraining {
                normalization = layer
                next += 1
            }
            var negativeSlope: T?
            if convolution != nil, next < layers.count, let activation = layers[next] as? Activation<T>, let slope = activation.function.fusedNegativeSlope {
                negativeSlope = T(slope)
                next += 1
            }
            if next > index + 1, let convolution {
                let input = y, normalization = normalization, negativeSlope = negativeSlope
                y = try call(named: String(index)) {
                    try layers[index].labellingShapeErrors { try convolution.forward(input, folding: normalization, negativeSlope: negativeSlope) }
                }
                index = next
            } else if let batchNorm = layers[index] as? BatchNorm<T>, index + 1 < layers.count,
                      let activation = layers[index + 1] as? Activation<T>, case .leakyRelu(let slope) = activation.function {
                let input = y
                y = try call(named: String(index)) { try batchNorm.labellingShapeErrors { try batchNorm.forward(input, leakySlope: T(slope)) } }
                index += 2
            } else {
                y = try call(layers[index], named: String(index), y)
                index += 1
            }
        }
        return y
    }
}
