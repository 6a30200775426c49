import HEPMLNN
import HEPMLTensor

/// The training loss of a network as a differentiable engine operation. The telescope and
/// weighted-MSE losses compute their value and analytic gradient in one pass over contiguous
/// buffers (`TelescopeLoss`, `WeightedMSELoss`) and enter the graph through the engine's
/// custom-operation hook, so the autodiff graph holds one node for the whole loss. The EMD-CNN
/// loss is built from engine operations, so gradients flow through the frozen critic.
public enum ReconstructionObjective {
    case telescope(TelescopeLoss)
    case weightedMSE
    case mse
    /// A trained `EMDCritic`, never updated, scoring (input, output) after both are read back to
    /// CALQ order (`readback`: pixels × 48, one 1 per TC) and unit-normalized.
    case emdCritic(EMDCritic, readback: Tensor<Float>)

    /// The objective a network trains with; the EMD-CNN loss loads its critic from `criticDirectory`.
    public init(_ choice: LossChoice, arrangement: Arrangement, criticDirectory: String? = nil) throws {
        switch choice {
        case .telescope: self = .telescope(TelescopeLoss(arrangement: arrangement))
        case .weightedMSE: self = .weightedMSE
        case .mse: self = .mse
        case .emdCNN(let name):
            guard let criticDirectory else { throw StudyError("the EMD-CNN loss \(name) needs the directory of trained critics") }
            var matrix = [Float](repeating: 0, count: arrangement.pixelCount * triggerCellCount)
            for (cell, pixel) in arrangement.inverse.enumerated() { matrix[pixel * triggerCellCount + cell] = 1 }
            self = .emdCritic(try EMDCritic.load(name: name, directory: criticDirectory),
                              readback: try Tensor(shape: [arrangement.pixelCount, triggerCellCount], scalars: matrix))
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
        case .emdCritic(let critic, let readback):
            return try Self.criticLoss(critic, readback: readback, prediction, truth, sampleWeights: sampleWeights)
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

    /// Mean critic score of (truth, prediction) pairs, as upstream's `emd_model([y_true, y_pred])`.
    /// Unlike upstream, both sides are unit-normalized first: the critic was trained on
    /// unit-normalized modules, and the sigmoid outputs do not sum to one.
    private static func criticLoss(_ critic: EMDCritic, readback: Tensor<Float>, _ prediction: Variable<Float>, _ truth: Tensor<Float>,
                                   sampleWeights: Tensor<Float>?) throws -> Variable<Float> {
        let rows = prediction.shape[0], pixels = readback.shape[0]
        let matrix = Variable(readback)
        func unitModules(_ images: Variable<Float>) throws -> Variable<Float> {
            let cells = try Variable.matmul(try images.reshaped([rows, pixels]), matrix)
            return try cells / (try cells.sum(axis: 1, keepingAxis: true) + Float(1e-12))
        }
        let pairs = try Variable.concatenate([try unitModules(Variable(truth)), try unitModules(prediction)], axis: 1).reshaped([rows, 6, 4, 4])
        // The critic's own gradients are never used; clearing them keeps them from piling up.
        critic.zeroGradients()
        let scores = try critic(pairs).reshaped([rows])
        guard let sampleWeights else { return scores.mean() }
        let weights = try sampleWeights.reshaped([rows])
        let total = weights.scalars.reduce(0, +)
        return try (scores * Variable(weights)).sum() * (1 / max(total, Float.leastNormalMagnitude))
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
