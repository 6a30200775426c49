import HEPMLNN
import HEPMLTensor

/// The training loss of a network as a differentiable engine operation. The telescope and
/// weighted-MSE losses compute their value and analytic gradient in one pass over contiguous
/// buffers (`TelescopeLoss`, `WeightedMSELoss`) and enter the graph through the engine's
/// custom-operation hook, so the autodiff graph holds one node for the whole loss.
public enum ReconstructionObjective {
    case telescope(TelescopeLoss)
    case weightedMSE
    case mse

    /// The objective a network trains with; nil for the EMD-CNN loss, which needs a trained critic.
    public init?(_ choice: LossChoice, arrangement: Arrangement) {
        switch choice {
        case .telescope: self = .telescope(TelescopeLoss(arrangement: arrangement))
        case .weightedMSE: self = .weightedMSE
        case .mse: self = .mse
        case .emdCNN: return nil
        }
    }

    /// The batch loss of `prediction` against `truth` (same shape), optionally one weight per sample.
    public func callAsFunction(_ prediction: Variable<Float>, _ truth: Tensor<Float>, sampleWeights: Tensor<Float>? = nil) throws -> Variable<Float> {
        guard prediction.shape == truth.shape, let batch = prediction.shape.first, batch > 0 else {
            throw ShapeError(operation: "ECON-T loss", "prediction and truth must share a non-empty shape", shapes: [prediction.shape, truth.shape])
        }
        if let sampleWeights, sampleWeights.count != batch {
            throw ShapeError(operation: "ECON-T loss", "one weight per sample expected", shapes: [sampleWeights.shape, prediction.shape])
        }
        var gradient = [Float](repeating: 0, count: prediction.value.count)
        let value: Double
        switch self {
        case .mse:
            return try Loss.meanSquaredError(prediction, truth)
        case .telescope(let loss):
            guard prediction.value.count == batch * loss.pixelCount else {
                throw ShapeError(operation: "telescope loss", "images do not have \(loss.pixelCount) pixels", shapes: [prediction.shape])
            }
            value = Self.withBuffers(truth, prediction.value, sampleWeights, &gradient) { t, p, w, g in
                loss.evaluate(truth: t, prediction: p, batch: batch, sampleWeights: w, gradient: g)
            }
        case .weightedMSE:
            value = Self.withBuffers(truth, prediction.value, sampleWeights, &gradient) { t, p, w, g in
                WeightedMSELoss.evaluate(truth: t, prediction: p, batch: batch, sampleWeights: w, gradient: g)
            }
        }
        let shape = prediction.shape
        return try Variable.custom("econtLoss", inputs: [prediction], forward: { _ in Tensor(scalar: Float(value)) }) { outputGradient, _, _ in
            let scale = outputGradient.scalars[0]
            return [try Tensor(shape: shape, scalars: scale == 1 ? gradient : gradient.map { $0 * scale })]
        }
    }

    private static func withBuffers(_ truth: Tensor<Float>, _ prediction: Tensor<Float>, _ weights: Tensor<Float>?, _ gradient: inout [Float],
                                    _ body: (UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>?, UnsafeMutableBufferPointer<Float>) -> Double) -> Double {
        truth.scalars.withUnsafeBufferPointer { t in
            prediction.scalars.withUnsafeBufferPointer { p in
                gradient.withUnsafeMutableBufferPointer { g in
                    if let weights {
                        return weights.scalars.withUnsafeBufferPointer { w in body(t, p, w, g) }
                    }
                    return body(t, p, nil, g)
                }
            }
        }
    }

    /// The engine's loss hook for `train`: runs the model on the batch and applies the objective.
    public var lossFunction: LossFunction<Float> {
        { model, batch in
            let output = try model(Variable(batch.inputs))
            return try self(output, batch.targets, sampleWeights: batch.weights)
        }
    }
}
