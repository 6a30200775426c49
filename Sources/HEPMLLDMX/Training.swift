import Foundation
import HEPMLCore
import HEPMLExperiment
import HEPMLNN
import HEPMLTensor

/// The two networks of AndGasp/LDMX `cnn_function.py` (spec B.6) as model specs.
public enum LDMXModelKind: String, Codable, CaseIterable, Sendable {
    /// Convolutions, fc1 500 + ReLU, fc2 → 2 logits: the engine benchmark's `ldmx-convnet`.
    case convNet = "convnet"
    /// The final upstream ModelExtraInput: the same features, fc1 → 20 (no activation), the A′
    /// mass in GeV appended, fc2 21 → 60 + ReLU, fc3 → 2 logits.
    case extraInput = "extra-input"

    public var usesMass: Bool { self == .extraInput }

    public func spec(binning: ImageBinning) -> ModelSpec {
        var spec: ModelSpec
        switch self {
        case .convNet:
            spec = LDMXConvNet.spec(name: "ldmx-convnet", input: binning.shape)
        case .extraInput:
            spec = ModelSpec(name: "ldmx-extra-input", inputs: [.init("image", shape: binning.shape), .init("mass", shape: [1])], blocks: [
                .init("features", inputs: ["image"], layers: LDMXConvNet.featureLayers + [.dense(20)]),
                .init("head", inputs: ["features", "mass"], layers: [.dense(60), .relu, .dense(2)]),
            ], outputs: ["head"])
            spec.metadata["mass"] = "A′ mass in GeV (MeV / 1000); background events carry one of the signal masses"
        }
        spec.metadata["images"] = binning.description
        spec.metadata["output"] = "2 logits (background, signal); softmax[1] is the signal score"
        return spec
    }
}

/// Optional per-event scaling of the images before training and scoring (spec B.5).
public enum ImageNormalization: String, Codable, CaseIterable, Sendable {
    /// Energies in MeV as binned (upstream's single-mass script).
    case none
    /// Upstream's `uni_norm`: (image + 0.1) / max(image + 0.1), every event in (0, 1].
    case uniNorm = "uni-norm"
    /// image / max(image): the hottest pixel is 1, empty pixels stay 0.
    case maximum = "max"

    func apply(_ pixels: UnsafeMutableBufferPointer<Float>) {
        switch self {
        case .none: return
        case .uniNorm:
            var largest = -Float.infinity
            for i in pixels.indices { pixels[i] += 0.1; largest = max(largest, pixels[i]) }
            let scale = 1 / largest
            for i in pixels.indices { pixels[i] *= scale }
        case .maximum:
            let largest = pixels.max() ?? 0
            guard largest > 0 else { return }
            let scale = 1 / largest
            for i in pixels.indices { pixels[i] *= scale }
        }
    }
}

/// What `hepml ldmx train` varies (recorded in the run's settings.json).
public struct LDMXTrainingOptions: Codable, Equatable, Sendable {
    public var model = LDMXModelKind.convNet
    public var normalization = ImageNormalization.none
    /// Upstream multi-mass values: 5 epochs, batch 100, Adam at 5·10⁻⁴.
    public var epochs = 5
    public var batchSize = 100
    public var learningRate = 5e-4
    /// Weights, shuffling and the train/test split.
    public var seed: UInt64 = 1
    /// The first 70 % of the shuffled events train, the rest test (upstream's f_train).
    public var trainFraction = 0.7

    public init() {}
}

/// The train/test split of an image set: a seeded permutation, the first `trainFraction`
/// training, the rest testing; evaluation recomputes it from the run's settings.
public struct LDMXSplit: Equatable, Sendable {
    public var training: [Int]
    public var test: [Int]

    public init(count: Int, trainFraction: Double, seed: UInt64) throws {
        guard trainFraction > 0, trainFraction < 1 else { throw LDMXError("the training fraction must lie strictly between 0 and 1") }
        var generator = SeededGenerator(seed: seed, stream: 0x5B17)
        let order = generator.permutation(count)
        let cut = Int((Double(count) * trainFraction).rounded())
        training = Array(order[..<cut])
        test = Array(order[cut...])
        guard !training.isEmpty, !test.isEmpty else { throw LDMXError("\(count) events are too few to split into training and test events") }
    }
}

public enum LDMXTraining {
    /// settings.json of a run: the options and what identifies the images.
    public struct Settings: Codable, Equatable, Sendable {
        public var options: LDMXTrainingOptions
        public var binning: ImageBinning
        public var events: Int
        public var signalEvents: Int
    }

    public struct Outcome {
        public var model: GraphModel<Float>
        public var history: TrainingHistory?
        public var split: LDMXSplit
    }

    /// Trains (or loads, or resumes) the model in `run` on the training part of `images`,
    /// with the test part as the per-epoch validation in inference mode; the engine's loop puts
    /// the model back into training mode (dropout on) at the start of every epoch. Given the only
    /// reference to `images` (`train(consume set, …)`), it rearranges the image buffer into the
    /// training data instead of copying it (`datasets`).
    public static func train(_ images: consuming LDMXImageSet, options: LDMXTrainingOptions, run: RunDirectory, retrain: Bool = false,
                             showProgress: Bool = true, log: (String) -> Void = { print($0) }) throws -> Outcome {
        let split = try LDMXSplit(count: images.count, trainFraction: options.trainFraction, seed: options.seed)
        let settings = Settings(options: options, binning: images.binning, events: images.count,
                                signalEvents: images.labels.reduce(0) { $0 + Int($1) })
        var configuration = TrainingConfiguration(epochs: options.epochs, batchSize: options.batchSize, seed: options.seed,
                                                  learningRate: options.learningRate)
        configuration.label = options.model.rawValue
        var driver = ModelTraining(spec: options.model.spec(binning: images.binning), seed: options.seed, stream: 0x1D3C,
                                   settings: settings, configuration: configuration)
        driver.retrain = retrain
        driver.showProgress = showProgress
        let (training, test) = try datasets(consume images, split: split, normalization: options.normalization, withMass: options.model.usesMass)
        let outcome = try driver.run(in: run, optimizer: { Adam($0.parameters, learningRate: options.learningRate) },
                                     training: training, validation: test, log: log, loss: loss)
        return Outcome(model: outcome.model, history: outcome.history, split: split)
    }

    /// Cross-entropy of the two logits against the label.
    public static let loss: LossFunction<Float> = { model, batch in
        guard let logits = try model(batch.modelInputs).first else {
            throw ShapeError(operation: "ldmx loss", "the model returned no output", shapes: [batch.inputs.shape])
        }
        return try Loss.crossEntropy(logits: logits, labels: batch.targets)
    }

    /// The events `rows` as a data set: images (normalized per event) [n, C, H, W], for the
    /// mass model the mass in GeV [n, 1] as side input, labels [n] as targets. `massOverride`
    /// (MeV) replaces every event's mass, to score background at one signal mass.
    public static func dataset(_ images: LDMXImageSet, rows: [Int], normalization: ImageNormalization, withMass: Bool,
                               massOverride: Float? = nil) throws -> Dataset<Float> {
        let pixels = images.binning.pixelsPerEvent
        var values = [Float](repeating: 0, count: rows.count * pixels)
        values.withUnsafeMutableBufferPointer { out in
            images.images.withUnsafeBufferPointer { source in
                guard let to = out.baseAddress, let from = source.baseAddress else { return }
                for (position, row) in rows.enumerated() {
                    (to + position * pixels).update(from: from + row * pixels, count: pixels)
                    normalization.apply(UnsafeMutableBufferPointer(start: to + position * pixels, count: pixels))
                }
            }
        }
        return try dataset(values, of: images, rows: rows, withMass: withMass, massOverride: massOverride)
    }

    /// The training and test data sets of `split`, the same as `dataset` gives for its two row
    /// lists. The image buffer is permuted in place into training-then-test order and only the
    /// test part copied out, so that the images of a large set are in memory 1.3 times rather
    /// than twice (when the caller gives up its copy of `images`).
    public static func datasets(_ images: consuming LDMXImageSet, split: LDMXSplit, normalization: ImageNormalization,
                                withMass: Bool) throws -> (training: Dataset<Float>, test: Dataset<Float>) {
        let pixels = images.binning.pixelsPerEvent
        let order = split.training + split.test
        var values = images.images
        images.images = []
        guard values.count == order.count * pixels else {
            throw LDMXError("the split covers \(order.count) events but the image set holds \(values.count / max(pixels, 1))")
        }
        values.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            // Position p receives event order[p]: follow each cycle of the permutation with one
            // event held aside.
            var placed = [Bool](repeating: false, count: order.count)
            let held = UnsafeMutablePointer<Float>.allocate(capacity: pixels)
            defer { held.deallocate() }
            for start in order.indices where !placed[start] {
                held.update(from: base + start * pixels, count: pixels)
                var position = start
                while true {
                    placed[position] = true
                    let source = order[position]
                    if source == start {
                        (base + position * pixels).update(from: held, count: pixels)
                        break
                    }
                    (base + position * pixels).update(from: base + source * pixels, count: pixels)
                    position = source
                }
            }
            for position in order.indices {
                normalization.apply(UnsafeMutableBufferPointer(start: base + position * pixels, count: pixels))
            }
        }
        let testValues = Array(values[(split.training.count * pixels)...])
        values.removeLast(split.test.count * pixels)
        let test = try dataset(testValues, of: images, rows: split.test, withMass: withMass, massOverride: nil)
        return (try dataset(values, of: images, rows: split.training, withMass: withMass, massOverride: nil), test)
    }

    /// A data set of the normalized images `values` of events `rows`, with their labels and masses.
    private static func dataset(_ values: [Float], of images: LDMXImageSet, rows: [Int], withMass: Bool,
                                massOverride: Float?) throws -> Dataset<Float> {
        let inputs = try Tensor(shape: [rows.count] + images.binning.shape, scalars: values)
        let labels = try Tensor(shape: [rows.count], scalars: rows.map { Float(images.labels[$0]) })
        let masses = withMass ? [try Tensor(shape: [rows.count, 1], scalars: rows.map { (massOverride ?? images.massesMeV[$0]) / 1000 })] : []
        return try Dataset(inputs: inputs, sideInputs: masses, targets: labels)
    }

    /// P(signal) = softmax(logits)[1] of every sample, in inference mode.
    public static func scores(_ model: Module<Float>, on data: Dataset<Float>, batchSize: Int = 500) throws -> [Double] {
        let wasTraining = model.isTraining
        model.setTraining(false)
        defer { model.setTraining(wasTraining) }
        var scores: [Double] = []
        scores.reserveCapacity(data.count)
        let indices = Array(0..<data.count)
        for start in stride(from: 0, to: data.count, by: batchSize) {
            let batch = try data.batch(indices[start..<min(start + batchSize, data.count)])
            guard let logits = try model(batch.modelInputs).first else { continue }
            let probabilities = try logits.softmax(axis: 1).value.scalars
            for row in 0..<(probabilities.count / 2) { scores.append(Double(probabilities[2 * row + 1])) }
        }
        return scores
    }
}
