import Foundation
import HEPMLCore
import HEPMLExperiment
import HEPMLNN
import HEPMLTensor

extension AutoencoderArchitecture {
    /// What a DQM autoencoder run is trained on and with; a run directory trained otherwise is
    /// refused rather than reused (see `RunDirectory.claim`).
    public struct RunSettings: Codable, Equatable, Sendable {
        public var histograms: [String]
        public var rebinMaps: [RebinMap?]
        /// Per histogram, the factor its normalized contents are multiplied by before the network
        /// sees them (`Options.inputScale`); an exported model takes its inputs in that scale.
        public var inputScales: [Double]
        public var options: Options
        public var seed: UInt64
        public var trainingRuns: [Int]
        public var validationRuns: [Int]
    }

    /// Trains (or loads, or resumes) the network in `directory` as `trainingPlan` says: Keras'
    /// Adam (the engine's `Adam` with ε placed as TensorFlow does, upstream's optimizer), mean
    /// squared error averaged over the histograms, early stopping on the held-out good runs with
    /// the best weights restored. `buffers` hold each branch's inputs, runs after one another.
    public func train(in directory: RunDirectory, settings: RunSettings, buffers: [[Float]], trainingRows: [Int], validationRows: [Int],
                      label: String, retrain: Bool, showProgress: Bool, log: (String) -> Void) throws -> ModelTraining<RunSettings>.Outcome {
        let plan = trainingPlan
        var configuration = TrainingConfiguration(epochs: plan.maximumEpochs, batchSize: plan.batchSize, seed: settings.seed, learningRate: plan.learningRate)
        configuration.label = label
        if let patience = plan.patience { configuration.earlyStopping = EarlyStopping(patience: patience, restoreBest: plan.restoresBestWeights) }
        var training = ModelTraining(spec: spec, seed: settings.seed, stream: Self.weightStream, settings: settings, configuration: configuration)
        training.retrain = retrain
        training.showProgress = showProgress
        let tensors = try zip(branches, buffers).map { branch, buffer in
            try Tensor<Float>(shape: [buffer.count / max(branch.shape.reduce(1, *), 1), branch.shape.reduce(1, *)], scalars: buffer)
        }
        func dataset(_ rows: [Int]) throws -> Dataset<Float> {
            let selected = try tensors.map { try $0.gatheringRows(ArraySlice(rows)) }
            return try Dataset(inputs: selected[0], sideInputs: Array(selected.dropFirst()), targets: selected[0])
        }
        return try training.run(in: directory, optimizer: { Adam($0.parameters, learningRate: plan.learningRate, epsilon: 1e-7, epsilonPlacement: .keras) },
                                training: try dataset(trainingRows), validation: validationRows.isEmpty ? nil : try dataset(validationRows),
                                log: log, loss: Self.reconstructionLoss)
    }

    /// The mean over histograms of each histogram's mean squared error (the inputs are the targets).
    static func reconstructionLoss(_ model: Module<Float>, _ batch: Batch<Float>) throws -> Variable<Float> {
        let inputs = batch.modelInputs
        let outputs = try model(inputs)
        var total = try Loss.meanSquaredError(outputs[0], inputs[0].value)
        for (output, input) in zip(outputs, inputs).dropFirst() { total = try total + Loss.meanSquaredError(output, input.value) }
        return outputs.count == 1 ? total : total * (1 / Float(outputs.count))
    }

    /// Reconstructions of every branch for `rows` runs, in batches of 1024 (upstream's prediction batch).
    public static func reconstruct(_ model: GraphModel<Float>, buffers: [[Float]], rows: Int) throws -> [[Float]] {
        model.setTraining(false)
        let widths = buffers.map { rows > 0 ? $0.count / rows : 0 }
        var result = widths.map { [Float](repeating: 0, count: rows * $0) }
        for start in stride(from: 0, to: rows, by: 1024) {
            let count = min(1024, rows - start)
            let inputs = try zip(buffers, widths).map { buffer, width in
                Variable(try Tensor<Float>(shape: [count, width], scalars: Array(buffer[(start * width)..<((start + count) * width)])))
            }
            for (branch, output) in try model(inputs).enumerated() {
                let width = widths[branch]
                result[branch].replaceSubrange((start * width)..<((start + count) * width), with: output.value.scalars)
            }
        }
        return result
    }
}
