import Foundation
import HEPMLTensor
#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// Updates parameters from their accumulated gradients. `learningRate` is set by the training
/// loop from its schedule before every step.
public protocol Optimizer: AnyObject {
    var learningRate: Double { get set }
    /// Applies one update to every parameter that has a gradient, then clears the gradients.
    func step()
    /// The running state, for checkpoints.
    var state: OptimizerState { get }
    /// Restores a state saved from an optimizer of the same kind over the same parameters.
    func load(_ state: OptimizerState) throws
}

/// Per-parameter buffers of an optimizer (slot name → one array per parameter, in parameter
/// order; PyTorch's slot names) and its step count.
public struct OptimizerState: Sendable, Equatable {
    public var steps: Int
    public var slots: [String: [[Double]]]

    public init(steps: Int, slots: [String: [[Double]]]) {
        self.steps = steps
        self.slots = slots
    }

    /// Converts a slot back to scalars after checking it matches the parameters' sizes.
    func slot<T: TensorScalar>(_ name: String, matching sizes: [Int]) throws -> [[T]] {
        guard let arrays = slots[name], arrays.map(\.count) == sizes else {
            throw ShapeError(operation: "optimizer state", "slot \(name) is missing or does not match the parameters", shapes: [sizes])
        }
        return arrays.map { $0.map { T($0) } }
    }
}

/// How weight decay enters an update.
public enum WeightDecay: Sendable, Equatable, Codable {
    case none
    /// Classic L2: λ·w is added to the gradient (PyTorch's `weight_decay` for SGD and Adam).
    case l2(Double)
    /// Decoupled: w ← w − lr·λ·w apart from the adaptive step (AdamW).
    case decoupled(Double)

    /// The factors the update loops use: the L2 term added to the gradient and the decoupled
    /// shrink factor; the one not selected is zero.
    var coefficients: (l2: Double, decoupled: Double) {
        switch self {
        case .none: return (0, 0)
        case .l2(let lambda): return (lambda, 0)
        case .decoupled(let lambda): return (0, lambda)
        }
    }

    /// Per parameter: whether decay applies, i.e. the parameter is not among `exempt`.
    static func applies<T>(to parameters: [Variable<T>], exempt: [Variable<T>]) -> [Bool] {
        let excluded = Set(exempt.map(ObjectIdentifier.init))
        return parameters.map { !excluded.contains(ObjectIdentifier($0)) }
    }

    /// `coefficients` for a parameter the decay applies to, zeros for an exempt one.
    func coefficients<T: TensorScalar>(applied: Bool, as _: T.Type) -> (l2: T, decoupled: T) {
        applied ? (T(coefficients.l2), T(coefficients.decoupled)) : (0, 0)
    }
}

/// Stochastic gradient descent with optional (Nesterov-free) momentum, PyTorch's formulation:
/// v ← μ·v + g; w ← w − lr·v.
public final class SGD<T: TensorScalar>: Optimizer {
    public var state: OptimizerState {
        OptimizerState(steps: 0, slots: ["momentum_buffer": velocities.map { $0.map { Double($0) } }])
    }

    public func load(_ state: OptimizerState) throws {
        velocities = try state.slot("momentum_buffer", matching: parameters.map(\.value.count))
    }

    public var learningRate: Double
    public let momentum: Double
    public let weightDecay: WeightDecay
    private let parameters: [Variable<T>]
    private let decays: [Bool]
    private var velocities: [[T]]

    /// `undecayed` lists parameters that skip `weightDecay`, as a PyTorch parameter group with
    /// `weight_decay=0` (commonly biases and batch-norm scales and shifts).
    public init(_ parameters: [Variable<T>], learningRate: Double, momentum: Double = 0, weightDecay: WeightDecay = .none,
                undecayed: [Variable<T>] = []) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        decays = WeightDecay.applies(to: parameters, exempt: undecayed)
        velocities = parameters.map { [T](repeating: 0, count: $0.value.count) }
    }

    @_specialize(where T == Float)
    public func step() {
        let lr = T(learningRate), mu = T(momentum)
        for (index, parameter) in parameters.enumerated() {
            guard let grad = parameter.grad else { continue }
            let (l2, decoupled) = weightDecay.coefficients(applied: decays[index], as: T.self)
            parameter.value.scalars.withUnsafeMutableBufferPointer { w in
                grad.scalars.withUnsafeBufferPointer { g in
                    velocities[index].withUnsafeMutableBufferPointer { v in
                        for i in 0..<w.count {
                            if decoupled != 0 { w[i] -= lr * decoupled * w[i] }
                            let gi = g[i] + l2 * w[i]
                            v[i] = mu * v[i] + gi
                            w[i] -= lr * v[i]
                        }
                    }
                }
            }
            parameter.zeroGrad()
        }
    }
}

/// Where Adam adds ε. PyTorch adds it to the bias-corrected √v̂; TensorFlow/Keras adds its ε̂ to
/// the uncorrected √v, which equals PyTorch's form with ε = ε̂/√(1−β₂ᵗ). The two differ a lot
/// when gradients are tiny (unit-sum DQM histograms: 10⁻⁶–10⁻¹⁰), so ports of Keras models that
/// must train as upstream did use `.keras`.
public enum AdamEpsilonPlacement: String, Sendable, Codable {
    case pytorch
    case keras
}

/// Adam (Kingma & Ba) with bias correction; `weightDecay: .decoupled(λ)` makes it AdamW, and
/// `amsgrad: true` is AMSGrad (Reddi et al.), PyTorch's `amsgrad=True`: the step divides by the
/// running maximum of the second moment, so a parameter whose gradients shrink keeps a small step
/// instead of a growing one.
public final class Adam<T: TensorScalar>: Optimizer {
    public var state: OptimizerState {
        var slots = ["exp_avg": firstMoments.map { $0.map { Double($0) } }, "exp_avg_sq": secondMoments.map { $0.map { Double($0) } }]
        if amsgrad { slots["max_exp_avg_sq"] = maximumSecondMoments.map { $0.map { Double($0) } } }
        return OptimizerState(steps: stepCount, slots: slots)
    }

    public func load(_ state: OptimizerState) throws {
        let sizes = parameters.map(\.value.count)
        firstMoments = try state.slot("exp_avg", matching: sizes)
        secondMoments = try state.slot("exp_avg_sq", matching: sizes)
        if amsgrad { maximumSecondMoments = try state.slot("max_exp_avg_sq", matching: sizes) }
        stepCount = state.steps
    }

    public var learningRate: Double
    /// Mutable so that a schedule can cycle it (fastai's one-cycle momentum).
    public var beta1: Double
    public let beta2: Double
    public let epsilon: Double
    public let epsilonPlacement: AdamEpsilonPlacement
    public let weightDecay: WeightDecay
    public let amsgrad: Bool
    private let parameters: [Variable<T>]
    private let decays: [Bool]
    private var firstMoments: [[T]]
    private var secondMoments: [[T]]
    /// AMSGrad's running maximum of `secondMoments` (empty arrays without AMSGrad).
    private var maximumSecondMoments: [[T]]
    private var stepCount = 0

    /// Defaults are PyTorch's; Keras' are `epsilon: 1e-7, epsilonPlacement: .keras`. `undecayed`
    /// lists parameters that skip `weightDecay`, as a PyTorch parameter group with
    /// `weight_decay=0` (fastai's `bn_wd=False` exempts the batch-norm scales and shifts and the biases).
    public init(_ parameters: [Variable<T>], learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
                epsilonPlacement: AdamEpsilonPlacement = .pytorch, weightDecay: WeightDecay = .none, amsgrad: Bool = false,
                undecayed: [Variable<T>] = []) {
        self.parameters = parameters
        decays = WeightDecay.applies(to: parameters, exempt: undecayed)
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.epsilonPlacement = epsilonPlacement
        self.weightDecay = weightDecay
        self.amsgrad = amsgrad
        firstMoments = parameters.map { [T](repeating: 0, count: $0.value.count) }
        secondMoments = firstMoments
        maximumSecondMoments = amsgrad ? firstMoments : parameters.map { _ in [] }
    }

    @_specialize(where T == Float)
    public func step() {
        stepCount += 1
        let b1 = T(beta1), b2 = T(beta2)
        let correction1 = 1 - T(Foundation.pow(beta1, Double(stepCount)))
        let correction2 = 1 - T(Foundation.pow(beta2, Double(stepCount)))
        let eps = epsilonPlacement == .keras ? T(epsilon / (1 - Foundation.pow(beta2, Double(stepCount))).squareRoot()) : T(epsilon)
        let stepSize = T(learningRate) / correction1
        let lr = T(learningRate)
        for (index, parameter) in parameters.enumerated() {
            guard let grad = parameter.grad else { continue }
            let (l2, decoupled) = weightDecay.coefficients(applied: decays[index], as: T.self)
            parameter.value.scalars.withUnsafeMutableBufferPointer { wp in
                grad.scalars.withUnsafeBufferPointer { gp in
                    firstMoments[index].withUnsafeMutableBufferPointer { mp in
                        secondMoments[index].withUnsafeMutableBufferPointer { vp in
                            maximumSecondMoments[index].withUnsafeMutableBufferPointer { maximumPointer in
                                let w = wp.baseAddress.unsafelyUnwrapped, g = gp.baseAddress.unsafelyUnwrapped
                                let m = mp.baseAddress.unsafelyUnwrapped, v = vp.baseAddress.unsafelyUnwrapped
                                let maximum = amsgrad ? maximumPointer.baseAddress : nil
                                // The square root and division make this pass compute-bound: large
                                // parameters are updated on all cores.
                                WorkerPool.forEachChunk(wp.count, minimumChunk: 1 << 13) { range in
                                    var start = range.lowerBound
                                    #if arch(x86_64)
                                    if T.self == Float.self {
                                        start = Self.adamUpdateFloat4(w, g, m, v, maximum, range, b1: b1, b2: b2, l2: l2, lr: lr, decoupled: decoupled,
                                                                      stepSize: stepSize, correction2: correction2, epsilon: eps)
                                    }
                                    #endif
                                    for i in start..<range.upperBound {
                                        let wi = w[i], gi = g[i] + l2 * wi
                                        let mi = b1 * m[i] + (1 - b1) * gi
                                        let vi = b2 * v[i] + (1 - b2) * gi * gi
                                        m[i] = mi
                                        v[i] = vi
                                        var denominatorSquare = vi
                                        if let maximum {
                                            denominatorSquare = Swift.max(maximum[i], vi)
                                            maximum[i] = denominatorSquare
                                        }
                                        w[i] = wi - (lr * decoupled * wi + stepSize * mi / ((denominatorSquare / correction2).squareRoot() + eps))
                                    }
                                }
                            }
                        }
                    }
                }
            }
            parameter.zeroGrad()
        }
    }

    #if arch(x86_64)
    /// The scalar update above, four lanes at a time with the same operations in the same order
    /// (so the same results): `Float.squareRoot` keeps libm's errno semantics and never
    /// vectorizes, so the square root comes from SSE's `sqrtps`. Returns where the scalar tail starts.
    @inline(__always)
    static func adamUpdateFloat4(_ w: UnsafeMutablePointer<T>, _ g: UnsafePointer<T>, _ m: UnsafeMutablePointer<T>, _ v: UnsafeMutablePointer<T>,
                                 _ maximum: UnsafeMutablePointer<T>?, _ range: Range<Int>,
                                 b1: T, b2: T, l2: T, lr: T, decoupled: T, stepSize: T, correction2: T, epsilon: T) -> Int {
        func f(_ x: T) -> SIMD4<Float> { SIMD4(repeating: Float(x)) }
        let (B1, B2, L2, LR, D, step, C2, eps) = (f(b1), f(b2), f(l2), f(lr), f(decoupled), f(stepSize), f(correction2), f(epsilon))
        let (oneMinusB1, oneMinusB2) = (f(1 - b1), f(1 - b2))
        let wf = UnsafeMutableRawPointer(w), gf = UnsafeRawPointer(g), mf = UnsafeMutableRawPointer(m), vf = UnsafeMutableRawPointer(v)
        let maximumf = maximum.map(UnsafeMutableRawPointer.init)
        var i = range.lowerBound
        while i + 4 <= range.upperBound {
            let offset = i * 4
            let wi = wf.loadUnaligned(fromByteOffset: offset, as: SIMD4<Float>.self)
            let gi = gf.loadUnaligned(fromByteOffset: offset, as: SIMD4<Float>.self) + L2 * wi
            let mi = B1 * mf.loadUnaligned(fromByteOffset: offset, as: SIMD4<Float>.self) + oneMinusB1 * gi
            let vi = B2 * vf.loadUnaligned(fromByteOffset: offset, as: SIMD4<Float>.self) + oneMinusB2 * gi * gi
            mf.storeBytes(of: mi, toByteOffset: offset, as: SIMD4<Float>.self)
            vf.storeBytes(of: vi, toByteOffset: offset, as: SIMD4<Float>.self)
            var denominatorSquare = vi
            if let maximumf {
                denominatorSquare = pointwiseMax(maximumf.loadUnaligned(fromByteOffset: offset, as: SIMD4<Float>.self), vi)
                maximumf.storeBytes(of: denominatorSquare, toByteOffset: offset, as: SIMD4<Float>.self)
            }
            let root = _mm_sqrt_ps(denominatorSquare / C2)
            wf.storeBytes(of: wi - (LR * D * wi + step * mi / (root + eps)), toByteOffset: offset, as: SIMD4<Float>.self)
            i += 4
        }
        return i
    }
    #endif
}

/// Scales all gradients so that their joint L2 norm is at most `maxNorm`; returns the norm
/// before clipping (PyTorch's `clip_grad_norm_`).
@discardableResult
public func clipGradientNorm<T: TensorScalar>(_ parameters: [Variable<T>], maxNorm: Double) -> Double {
    var squares = 0.0
    for parameter in parameters {
        guard let grad = parameter.grad else { continue }
        var local: T = 0
        for g in grad.scalars { local += g * g }
        squares += Double(local)
    }
    let norm = squares.squareRoot()
    if norm > maxNorm, norm > 0 {
        let scale = T(maxNorm / (norm + 1e-6))
        for parameter in parameters {
            if let grad = parameter.grad { parameter.grad = grad * scale }
        }
    }
    return norm
}

/// Learning rate as a function of the optimizer step.
public enum LearningRateSchedule: Sendable, Equatable, Codable {
    case constant
    /// Multiplies the rate by `factor` every `epochs` epochs.
    case step(epochs: Int, factor: Double)
    /// Cosine annealing from the base rate to `minimum` over the whole run.
    case cosine(minimum: Double)
    /// One-cycle (Smith; PyTorch's `OneCycleLR` with cosine annealing): warm up from
    /// max/`divisor` to the max over `warmupFraction` of the run, then anneal to max/`finalDivisor`.
    case oneCycle(warmupFraction: Double, divisor: Double, finalDivisor: Double)

    public func rate(base: Double, step: Int, totalSteps: Int, stepsPerEpoch: Int) -> Double {
        func cosineBetween(_ start: Double, _ end: Double, _ t: Double) -> Double {
            end + (start - end) * (1 + cos(Double.pi * min(max(t, 0), 1))) / 2
        }
        switch self {
        case .constant:
            return base
        case .step(let epochs, let factor):
            let epoch = step / max(stepsPerEpoch, 1)
            return base * Foundation.pow(factor, Double(epoch / max(epochs, 1)))
        case .cosine(let minimum):
            return cosineBetween(base, minimum, Double(step) / Double(max(totalSteps - 1, 1)))
        case .oneCycle(let warmupFraction, let divisor, let finalDivisor):
            let warmupSteps = max(Double(totalSteps) * warmupFraction, 1)
            let initial = base / divisor
            if Double(step) < warmupSteps {
                return cosineBetween(initial, base, Double(step) / warmupSteps)
            }
            let remaining = max(Double(totalSteps) - warmupSteps - 1, 1)
            return cosineBetween(base, initial / finalDivisor, (Double(step) - warmupSteps) / remaining)
        }
    }
}
