import Foundation
import HEPMLNN
import HEPMLTensor

/// Adam exactly as `tf.keras.optimizers.Adam` applies it, the optimizer AutoDQM_ML's
/// autoencoder is trained with (TensorFlow's `ApplyAdam`):
///
///     m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,
///     w ← w − lr·√(1−β₂ᵗ)/(1−β₁ᵗ) · m / (√v + ε̂),  ε̂ = 1e-7.
///
/// The engine's `Adam` is PyTorch's, which adds ε to the bias-corrected √v̂. The two differ
/// only through ε, but AutoDQM_ML's inputs are histograms normalized to unit sum, so bin values
/// are 10⁻²–10⁻⁴ and gradients often 10⁻⁶–10⁻⁸: there Keras' ε̂ (worth ε̂/√(1−β₂ᵗ) ≈ 3·10⁻⁶ in
/// PyTorch's units at the first step) damps the steps strongly, while PyTorch's ε = 1e-8 lets
/// Adam take full-size sign-like steps. Training with the engine's `Adam` therefore does not
/// reproduce upstream's training dynamics (see docs/dqm.md).
public final class KerasAdam: Optimizer {
    public var learningRate: Double
    public let beta1: Double
    public let beta2: Double
    /// Keras' `epsilon`, added to the uncorrected √v.
    public let epsilon: Double
    private let parameters: [Variable<Float>]
    private var firstMoments: [[Float]]
    private var secondMoments: [[Float]]
    private var stepCount = 0

    /// Keras' defaults.
    public init(_ parameters: [Variable<Float>], learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-7) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        firstMoments = parameters.map { [Float](repeating: 0, count: $0.value.count) }
        secondMoments = firstMoments
    }

    public func step() {
        stepCount += 1
        let t = Double(stepCount)
        let stepSize = Float(learningRate * (1 - pow(beta2, t)).squareRoot() / (1 - pow(beta1, t)))
        let b1 = Float(beta1), b2 = Float(beta2), eps = Float(epsilon)
        for (index, parameter) in parameters.enumerated() {
            guard let grad = parameter.grad else { continue }
            parameter.value.scalars.withUnsafeMutableBufferPointer { w in
                grad.scalars.withUnsafeBufferPointer { g in
                    firstMoments[index].withUnsafeMutableBufferPointer { m in
                        secondMoments[index].withUnsafeMutableBufferPointer { v in
                            for i in 0..<w.count {
                                m[i] = b1 * m[i] + (1 - b1) * g[i]
                                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                                w[i] -= stepSize * m[i] / (v[i].squareRoot() + eps)
                            }
                        }
                    }
                }
            }
            parameter.zeroGrad()
        }
    }

    /// The same slots as the engine's Adam (`exp_avg`, `exp_avg_sq`).
    public var state: OptimizerState {
        OptimizerState(steps: stepCount, slots: ["exp_avg": firstMoments.map { $0.map(Double.init) },
                                                 "exp_avg_sq": secondMoments.map { $0.map(Double.init) }])
    }

    public func load(_ state: OptimizerState) throws {
        let sizes = parameters.map(\.value.count)
        guard let first = state.slots["exp_avg"], let second = state.slots["exp_avg_sq"],
              first.map(\.count) == sizes, second.map(\.count) == sizes
        else { throw ShapeError(operation: "KerasAdam.load", "exp_avg/exp_avg_sq missing or not matching the parameters", shapes: [sizes]) }
        firstMoments = first.map { $0.map { Float($0) } }
        secondMoments = second.map { $0.map { Float($0) } }
        stepCount = state.steps
    }
}
