/// A node of the reverse-mode autodiff graph: a value, its accumulated gradient, and the
/// hand-written backward function of the operation that produced it.
///
/// Operations on variables record their inputs only when one of them requires a gradient, so
/// inference on constants builds no graph. `backward()` visits the graph once in reverse
/// topological order; every backward function receives the output gradient and adds into the
/// gradients of its inputs.
public final class Variable<T: TensorScalar> {
    public var value: Tensor<T>
    public var grad: Tensor<T>?
    public let requiresGrad: Bool
    /// Operation name, for error messages and graph dumps.
    public let operation: String
    let inputs: [Variable<T>]
    let backwardFunction: ((Tensor<T>) throws -> Void)?

    /// A leaf: a parameter (`requiresGrad: true`) or a constant input.
    public init(_ value: Tensor<T>, requiresGrad: Bool = false) {
        self.value = value
        self.requiresGrad = requiresGrad
        self.operation = requiresGrad ? "parameter" : "constant"
        self.inputs = []
        self.backwardFunction = nil
    }

    /// The result of an operation. `backward` is kept only when some input needs a gradient.
    init(_ value: Tensor<T>, operation: String, inputs: [Variable<T>], backward: @escaping (Tensor<T>) throws -> Void) {
        self.value = value
        self.operation = operation
        let needed = inputs.contains { $0.requiresGrad }
        self.requiresGrad = needed
        self.inputs = needed ? inputs : []
        self.backwardFunction = needed ? backward : nil
    }

    public var shape: [Int] { value.shape }

    /// Adds `gradient` into this variable's gradient (allocated on first use).
    @_specialize(where T == Float)
    public func accumulate(_ gradient: Tensor<T>) {
        guard requiresGrad else { return }
        if var existing = grad {
            grad = nil
            existing.scalars.withUnsafeMutableBufferPointer { e in
                gradient.scalars.withUnsafeBufferPointer { g in Kernels.addInPlace(e, g) }
            }
            grad = existing
        } else {
            grad = gradient
        }
    }

    @_specialize(where T == Float)
    public func zeroGrad() { grad = nil }

    /// Back-propagates from this (scalar) variable: seeds its gradient with one and runs every
    /// recorded backward function once, outputs before inputs.
    @_specialize(where T == Float)
    public func backward() throws {
        try backward(seed: Tensor(repeating: 1, shape: value.shape))
    }

    /// Back-propagates a given output gradient (for non-scalar outputs).
    @_specialize(where T == Float)
    public func backward(seed: Tensor<T>) throws {
        guard requiresGrad else { return }
        var order: [Variable<T>] = []
        var visited = Set<ObjectIdentifier>()
        // Iterative depth-first post-order, so deep graphs cannot overflow the stack.
        var stack: [(Variable<T>, Bool)] = [(self, false)]
        while let (node, expanded) = stack.popLast() {
            if expanded { order.append(node); continue }
            guard visited.insert(ObjectIdentifier(node)).inserted else { continue }
            stack.append((node, true))
            for input in node.inputs where input.requiresGrad && !visited.contains(ObjectIdentifier(input)) {
                stack.append((input, false))
            }
        }
        accumulate(seed)
        for node in order.reversed() {
            guard let function = node.backwardFunction, let gradient = node.grad else { continue }
            try function(gradient)
            // Intermediate gradients are no longer needed once passed on.
            node.grad = nil
        }
    }

    /// Defines a differentiable operation from closures: `forward` maps input values to the
    /// output value, `backward` maps (output gradient, input values, output value) to one
    /// gradient per input (nil for inputs that need none). Workflow code uses this for losses
    /// and operations the library does not provide (e.g. the ECON-T telescope loss).
    @_specialize(where T == Float)
    public static func custom(
        _ name: String, inputs: [Variable<T>],
        forward: ([Tensor<T>]) throws -> Tensor<T>,
        backward: @escaping (_ outputGradient: Tensor<T>, _ inputs: [Tensor<T>], _ output: Tensor<T>) throws -> [Tensor<T>?]
    ) throws -> Variable<T> {
        let values = inputs.map(\.value)
        let output = try forward(values)
        return Variable(output, operation: name, inputs: inputs) { gradient in
            let gradients = try backward(gradient, values, output)
            guard gradients.count == inputs.count else {
                throw ShapeError(operation: name, "backward returned \(gradients.count) gradients for \(inputs.count) inputs", shapes: inputs.map(\.shape))
            }
            for (input, g) in zip(inputs, gradients) {
                guard let g else { continue }
                guard g.shape == input.shape else {
                    throw ShapeError(operation: name, "backward gradient shape differs from its input", shapes: [g.shape, input.shape])
                }
                input.accumulate(g)
            }
        }
    }
}
