import Foundation
import HEPMLCore
import HEPMLTensor
import HEPMLTestSupport
import Testing
@testable import HEPMLNN

/// An encoder/decoder pair composed in plain Swift, the way workflow models are written.
final class TinyAutoencoder: Module<Float> {
    let encoder: Sequential<Float>
    let decoder: Sequential<Float>
    init(seed: UInt64) {
        var g = SeededGenerator(seed: seed)
        encoder = Sequential([Linear(8, 16, generator: &g), Activation(.tanh), Linear(16, 2, generator: &g)])
        decoder = Sequential([Linear(2, 16, generator: &g), Activation(.tanh), Linear(16, 8, generator: &g)])
        super.init()
    }
    override var children: [(String, Module<Float>)] { [("encoder", encoder), ("decoder", decoder)] }
    override func forward(_ x: Variable<Float>) throws -> Variable<Float> {
        try call(decoder, named: "decoder", try call(encoder, named: "encoder", x))
    }
}

/// 8-dimensional points on a 2-dimensional curved sheet, so a 2-unit bottleneck can fit them.
func toyData(samples: Int, seed: UInt64) throws -> Dataset<Float> {
    var g = SeededGenerator(seed: seed)
    var x = [Float]()
    for _ in 0..<samples {
        let a = g.nextUniform() * 2 - 1, b = g.nextUniform() * 2 - 1
        x += [a, b, a * b, a + b, a - b, 0.5 * a * a, 0.5 * b * b, 0.3 * (a + 2 * b)].map { Float($0) }
    }
    let inputs = try Tensor(shape: [samples, 8], scalars: x)
    return try Dataset(inputs: inputs, targets: inputs)
}

let mseLoss: LossFunction<Float> = { model, batch in try Loss.meanSquaredError(try model(Variable(batch.inputs)), batch.targets) }

@Suite struct ModuleTests {
    /// `Sequential` runs Conv + ReLU as one fused operation; values and gradients must equal the
    /// layers applied one by one.
    @Test func fusedConvolutionReLUMatchesSeparateLayers() throws {
        var g = SeededGenerator(seed: 61)
        let model = Sequential<Float>([Conv2d(2, 3, kernel: [3, 3], padding: .same, generator: &g), Activation(.relu), Flatten(),
                                       Linear(3 * 5 * 4, 2, generator: &g)])
        var values = [Float]()
        for _ in 0..<(4 * 2 * 5 * 4) { values.append(Float(g.nextNormal())) }
        let x = try Tensor<Float>(shape: [4, 2, 5, 4], scalars: values)
        func gradients(_ forward: () throws -> Variable<Float>) throws -> (Tensor<Float>, [Tensor<Float>]) {
            model.zeroGradients()
            let y = try forward()
            try (y * y).sum().backward()
            return (y.value, model.parameters.map { $0.grad ?? Tensor(zeros: [0]) })
        }
        let fused = try gradients { try model(Variable(x)) }
        let separate = try gradients { try model.layers[3](try model.layers[2](try model.layers[1](try model.layers[0](Variable(x))))) }
        #expect(fused.0 == separate.0)
        #expect(fused.1 == separate.1)
    }

    /// In inference mode `Sequential` folds each batch norm into the convolution before it and
    /// applies the LeakyReLU (or ReLU) after it in the convolution's output pass; values and
    /// gradients must equal the layers applied one by one, to rounding. Training mode keeps the
    /// batch norm separate (its batch statistics differ from the running ones).
    @Test func foldedBatchNormMatchesSeparateLayersInInference() throws {
        var g = SeededGenerator(seed: 62)
        func normal(_ count: Int, scale: Double = 1, offset: Double = 0) -> [Float] { (0..<count).map { _ in Float(offset + scale * g.nextNormal()) } }
        let norms = [BatchNorm<Float>(6), BatchNorm<Float>(6), BatchNorm<Float>(4)]
        for norm in norms {
            let channels = norm.scale.shape[0]
            norm.scale.value = try Tensor(shape: [channels], scalars: normal(channels, scale: 0.5, offset: 1))
            norm.shift.value = try Tensor(shape: [channels], scalars: normal(channels))
            norm.statistics.mean.value = try Tensor(shape: [channels], scalars: normal(channels))
            norm.statistics.variance.value = try Tensor(shape: [channels], scalars: normal(channels).map { 0.5 + $0 * $0 })
        }
        let model = Sequential<Float>([
            Conv3d(2, 6, kernel: [3, 3, 1], padding: .explicit([1, 1, 0]), bias: false, generator: &g), norms[0], Activation(.leakyRelu(slope: 0.5)),
            Pool(.max, kernel: [2, 2, 2], stride: nil, ceilMode: true),
            ConvTranspose3d(6, 6, kernel: [3, 3, 2], stride: [2, 2, 2], padding: .explicit([1, 1, 0]), outputPadding: [1, 1, 0], bias: false, generator: &g),
            norms[1], Activation(.relu),
            Conv3d(6, 4, kernel: [1, 1, 1], bias: true, generator: &g), norms[2],
        ])
        let x = try Tensor<Float>(shape: [2, 2, 6, 5, 4], scalars: normal(2 * 2 * 6 * 5 * 4))
        func run(_ forward: () throws -> Variable<Float>) throws -> (Tensor<Float>, [Tensor<Float>]) {
            model.zeroGradients()
            let y = try forward()
            try (y * y).sum().backward()
            return (y.value, model.parameters.map { $0.grad ?? Tensor(zeros: [0]) })
        }
        func close(_ a: Tensor<Float>, _ b: Tensor<Float>) -> Bool {
            let scale = max(1, b.scalars.map(abs).max() ?? 0)
            return a.shape == b.shape && zip(a.scalars, b.scalars).allSatisfy { abs($0 - $1) <= 1e-5 * scale }
        }
        model.setTraining(false)
        let folded = try run { try model(Variable(x)) }
        let separate = try run { try model.layers.reduce(Variable(x)) { try $1($0) } }
        #expect(close(folded.0, separate.0))
        #expect(folded.1.count == separate.1.count && zip(folded.1, separate.1).allSatisfy { close($0, $1) })
        // Without folding the batch norms' running statistics would not matter here.
        #expect(!close(folded.0, try model.layers.filter { !($0 is BatchNorm<Float>) }.reduce(Variable(x)) { try $1($0) }.value))
    }

    /// `Sequential` runs BatchNorm + LeakyReLU as one fused operation (the HCAL models' levels);
    /// values, gradients and running statistics must equal the layers applied one by one.
    @Test func fusedBatchNormLeakyReLUMatchesSeparateLayers() throws {
        var g = SeededGenerator(seed: 62)
        func model() -> Sequential<Float> { Sequential([BatchNorm(3), Activation(.leakyRelu(slope: 0.2))]) }
        let fusedModel = model(), separateModel = model()
        var values = [Float]()
        for _ in 0..<(4 * 3 * 5 * 4) { values.append(Float(g.nextNormal())) }
        let x = try Tensor<Float>(shape: [4, 3, 5, 4], scalars: values)
        let weights = Variable(try Tensor<Float>(shape: [4, 3, 5, 4], scalars: values.reversed()))
        for training in [true, false] {
            func run(_ model: Sequential<Float>, _ forward: () throws -> Variable<Float>) throws -> [Tensor<Float>] {
                model.setTraining(training)
                model.zeroGradients()
                let y = try forward()
                try (y * weights).sum().backward()
                return [y.value] + model.parameters.map { $0.grad ?? Tensor(zeros: [0]) } + model.namedBuffers().map(\.1.value)
            }
            let fused = try run(fusedModel) {
                let y = try fusedModel(Variable(x))
                #expect(y.operation == "batchNorm+leakyRelu")
                return y
            }
            let separate = try run(separateModel) { try separateModel.layers[1](try separateModel.layers[0](Variable(x))) }
            #expect(fused == separate, "training \(training)")
        }
    }

    @Test func parameterPathsAndDescription() throws {
        let model = TinyAutoencoder(seed: 1)
        let names = model.namedParameters().map(\.0)
        #expect(names == ["encoder.0.weight", "encoder.0.bias", "encoder.2.weight", "encoder.2.bias",
                          "decoder.0.weight", "decoder.0.bias", "decoder.2.weight", "decoder.2.bias"])
        #expect(model.parameterCount == (8 * 16 + 16) + (16 * 2 + 2) + (2 * 16 + 16) + (16 * 8 + 8))
        let description = model.describe()
        #expect(description.children.first?.children.first?.kind == "Linear")
        var g = SeededGenerator(seed: 2)
        let bn = Sequential<Float>([Conv1d(1, 2, kernel: 3, generator: &g), BatchNorm(2)])
        #expect(bn.stateDictionary().map(\.0) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var"])
    }

    @Test func shapeErrorsNameTheLayerAndBothShapes() throws {
        var g = SeededGenerator(seed: 3)
        let model = Sequential<Float>([Linear(4, 3, generator: &g), Activation(.relu), Linear(5, 2, generator: &g)])
        do {
            _ = try model(Variable(Tensor(zeros: [7, 4])))
            Issue.record("expected a shape error")
        } catch let error as ShapeError {
            let text = error.description
            #expect(text.contains("layer 2 (Linear)"))
            #expect(text.contains("[7, 3]") && text.contains("[2, 5]"))
        }
        let conv = Sequential<Float>([Conv2d(3, 4, kernel: [3, 3], generator: &g)])
        #expect(throws: ShapeError.self) { try conv(Variable(Tensor(zeros: [1, 2, 8, 8]))) }
    }

    @Test func stateDictionaryRoundTripAndTrainingMode() throws {
        let a = TinyAutoencoder(seed: 4), b = TinyAutoencoder(seed: 5)
        try b.loadStateDictionary(Dictionary(a.stateDictionary(), uniquingKeysWith: { x, _ in x }))
        let x = Variable(try toyData(samples: 3, seed: 1).inputs)
        #expect(try a(x).value == b(x).value)
        b.setTraining(false)
        #expect(!b.decoder.layers[0].isTraining)
        #expect(throws: ShapeError.self) { try b.loadStateDictionary(["encoder.0.weight": Tensor(zeros: [1])]) }
    }

    @Test func quantizedLayerUsesQuantizedWeights() throws {
        var g = SeededGenerator(seed: 6)
        let layer = Linear<Float>(3, 2, generator: &g)
        layer.weightQuantizer = .bits(bits: 5, integer: 1)
        let y = try layer(Variable(try Tensor(shape: [1, 3], scalars: [1, 0, 0])))
        #expect(y.value.scalars[0] == Quantizer.bits(bits: 5, integer: 1).quantize(layer.weight.value.scalars[0]))
    }
}

@Suite struct OptimizerTests {
    @Test func sgdMomentumAndAdamFirstSteps() throws {
        let w = Variable(try Tensor<Double>(shape: [2], scalars: [1, -2]), requiresGrad: true)
        let sgd = SGD([w], learningRate: 0.1, momentum: 0.9)
        for _ in 0..<2 {
            try (w.squared()).sum().backward()  // gradient 2w
            sgd.step()
        }
        // v1 = 2w0, w1 = w0 − 0.2·w0 = 0.8·w0; v2 = 0.9·2w0 + 2w1 = 3.4·w0; w2 = 0.8·w0 − 0.34·w0.
        #expect(abs(w.value.scalars[0] - 0.46) < 1e-12)

        let u = Variable(try Tensor<Double>(shape: [2], scalars: [1, -2]), requiresGrad: true)
        let adamW = Adam([u], learningRate: 0.01, weightDecay: .decoupled(0.1))
        try (u * 3).sum().backward()
        adamW.step()
        // First Adam step moves by lr·sign(g) (up to ε); decoupled decay adds lr·λ·w.
        #expect(abs(u.value.scalars[0] - (1 - 0.01 * 0.1 * 1 - 0.01)) < 1e-7)
        #expect(abs(u.value.scalars[1] - (-2 + 0.01 * 0.1 * 2 - 0.01)) < 1e-7)
        #expect(u.grad == nil)
    }

    /// AMSGrad against PyTorch 2.13 (`torch.optim.Adam(lr=0.1, weight_decay=0.01, amsgrad=True)`,
    /// float64) on losses Σ c·w² whose scale c drops and rises again, so that the running maximum
    /// of the second moment differs from the moment itself; plain Adam ends elsewhere.
    @Test func amsgradMatchesPyTorch() throws {
        func run(amsgrad: Bool) throws -> (weights: [Double], state: OptimizerState) {
            let w = Variable(try Tensor<Double>(shape: [3], scalars: [1, -2, 0.5]), requiresGrad: true)
            let adam = Adam([w], learningRate: 0.1, weightDecay: .l2(0.01), amsgrad: amsgrad)
            for scale in [3.0, 0.2, 0.05, 1.0] {
                try (w.squared() * scale).sum().backward()
                adam.step()
            }
            return (w.value.scalars, adam.state)
        }
        let (weights, state) = try run(amsgrad: true)
        let torchWeights = [0.7133017748682919, -1.7110204474171335, 0.2181687247038539]
        let torchMaximum = [0.03856632138227096, 0.15737743047608865, 0.009333190219161399]
        for i in 0..<3 {
            #expect(abs(weights[i] - torchWeights[i]) < 1e-12)
            #expect(abs((state.slots["max_exp_avg_sq"]?.first?[i] ?? 0) - torchMaximum[i]) < 1e-12)
        }
        let plain = try run(amsgrad: false)
        #expect(abs(plain.weights[0] - 0.713280424115001) < 1e-12)
        #expect(plain.state.slots["max_exp_avg_sq"] == nil)
        // The checkpointed maximum is restored.
        let restored = Adam([Variable(try Tensor<Double>(shape: [3], scalars: weights), requiresGrad: true)], amsgrad: true)
        try restored.load(state)
        #expect(restored.state == state)
    }

    /// Exempt parameters (PyTorch's weight_decay=0 group) move exactly as without decay.
    @Test func undecayedParametersSkipWeightDecay() throws {
        typealias Make = (_ parameters: [Variable<Double>], _ decay: WeightDecay, _ undecayed: [Variable<Double>]) -> any Optimizer
        let adam: Make = { Adam($0, learningRate: 0.01, weightDecay: $1, undecayed: $2) }
        let sgd: Make = { SGD($0, learningRate: 0.1, momentum: 0.9, weightDecay: $1, undecayed: $2) }
        for make in [adam, sgd] {
            for decay in [WeightDecay.l2(0.5), .decoupled(0.5)] {
                let start = try Tensor<Double>(shape: [2], scalars: [1, -2])
                let (decayed, exempt, plain) = (Variable(start, requiresGrad: true), Variable(start, requiresGrad: true), Variable(start, requiresGrad: true))
                let optimizer = make([decayed, exempt], decay, [exempt]), reference = make([plain], .none, [])
                for _ in 0..<3 {
                    try ((decayed * 3).sum() + (exempt * 3).sum() + (plain * 3).sum()).backward()
                    optimizer.step()
                    reference.step()
                }
                #expect(exempt.value == plain.value, "\(decay)")
                #expect(decayed.value != plain.value, "\(decay)")
            }
        }
    }

    /// Float parameters take a four-lane path; every element (lanes and the scalar tail) must
    /// follow the scalar formula bit for bit, with L2 and decoupled decay, and with AMSGrad.
    @Test func adamFloatLanesMatchTheScalarFormula() throws {
        let count = 4 * 2600 + 3  // above the parallel threshold, with a tail
        var g = SeededGenerator(seed: 71)
        let initial = (0..<count).map { _ in Float(g.nextNormal()) }, target = (0..<count).map { _ in Float(g.nextNormal()) }
        for (decay, amsgrad) in [(WeightDecay.l2(0.01), false), (.decoupled(0.1), false), (.l2(0.01), true)] {
            let w = Variable(try Tensor<Float>(shape: [count], scalars: initial), requiresGrad: true)
            let adam = Adam([w], learningRate: 0.01, weightDecay: decay, amsgrad: amsgrad)
            var (ws, ms, vs) = (initial, [Float](repeating: 0, count: count), [Float](repeating: 0, count: count))
            var maximums = vs
            let (b1, b2, eps, lr): (Float, Float, Float, Float) = (0.9, 0.999, 1e-8, 0.01)
            var l2: Float = 0, decoupled: Float = 0
            if case .l2(let value) = decay { l2 = Float(value) }
            if case .decoupled(let value) = decay { decoupled = Float(value) }
            for step in 1...3 {
                let difference = try Variable(try Tensor(shape: [count], scalars: target)) - w
                try (difference * difference).sum().backward()
                let gradient = try #require(w.grad).scalars
                adam.step()
                let correction1 = 1 - Float(Foundation.pow(0.9, Double(step))), correction2 = 1 - Float(Foundation.pow(0.999, Double(step)))
                let stepSize = lr / correction1
                for i in 0..<count {
                    let gi = gradient[i] + l2 * ws[i]
                    ms[i] = b1 * ms[i] + (1 - b1) * gi
                    vs[i] = b2 * vs[i] + (1 - b2) * gi * gi
                    maximums[i] = max(maximums[i], vs[i])
                    let denominatorSquare = amsgrad ? maximums[i] : vs[i]
                    ws[i] = ws[i] - (lr * decoupled * ws[i] + stepSize * ms[i] / ((denominatorSquare / correction2).squareRoot() + eps))
                }
            }
            #expect(w.value.scalars == ws, "\(decay) amsgrad \(amsgrad)")
        }
    }

    @Test func clippingAndSchedules() throws {
        let w = Variable(Tensor<Double>(zeros: [2]), requiresGrad: true)
        w.grad = try Tensor(shape: [2], scalars: [3, 4])
        #expect(clipGradientNorm([w], maxNorm: 1) == 5)
        #expect(abs((w.grad?.scalars[0] ?? 0) - 0.6) < 1e-6)
        let cosine = LearningRateSchedule.cosine(minimum: 0)
        #expect(cosine.rate(base: 1, step: 0, totalSteps: 11, stepsPerEpoch: 1) == 1)
        #expect(abs(cosine.rate(base: 1, step: 5, totalSteps: 11, stepsPerEpoch: 1) - 0.5) < 1e-12)
        #expect(abs(cosine.rate(base: 1, step: 10, totalSteps: 11, stepsPerEpoch: 1)) < 1e-12)
        #expect(LearningRateSchedule.step(epochs: 2, factor: 0.5).rate(base: 1, step: 45, totalSteps: 100, stepsPerEpoch: 10) == 0.25)
        let oneCycle = LearningRateSchedule.oneCycle(warmupFraction: 0.3, divisor: 25, finalDivisor: 1e4)
        #expect(abs(oneCycle.rate(base: 1, step: 0, totalSteps: 100, stepsPerEpoch: 10) - 0.04) < 1e-12)
        #expect(abs(oneCycle.rate(base: 1, step: 30, totalSteps: 100, stepsPerEpoch: 10) - 1) < 1e-12)
        #expect(oneCycle.rate(base: 1, step: 99, totalSteps: 100, stepsPerEpoch: 10) < 1e-5)
    }
}

@Suite struct TrainingTests {
    func run(seed: UInt64, epochs: Int) throws -> (TrainingHistory, TinyAutoencoder) {
        let model = TinyAutoencoder(seed: seed)
        var configuration = TrainingConfiguration(epochs: epochs, batchSize: 32, seed: seed, learningRate: 1e-2)
        configuration.quiet = true
        let history = try train(model, optimizer: Adam(model.parameters, learningRate: 1e-2), training: try toyData(samples: 512, seed: seed),
                                validation: try toyData(samples: 128, seed: seed + 100), configuration: configuration, loss: mseLoss)
        return (history, model)
    }

    @Test func autoencoderConvergesReproducibly() throws {
        let (first, _) = try run(seed: 11, epochs: 40)
        let (second, _) = try run(seed: 11, epochs: 40)
        let initial = first.epochs[0].trainLoss
        let final = try #require(first.epochs.last?.validationLoss)
        // The data variance is ≈ 0.3 per coordinate; a 2-unit bottleneck reconstructs it well.
        #expect(final < 0.01, "validation MSE \(final) after 40 epochs (first epoch \(initial))")
        #expect(first.epochs.map(\.trainLoss) == second.epochs.map(\.trainLoss))
        #expect(first.epochs.map(\.validationLoss) == second.epochs.map(\.validationLoss))
    }

    @Test func earlyStoppingRestoresBestWeights() throws {
        let model = TinyAutoencoder(seed: 12)
        var configuration = TrainingConfiguration(epochs: 30, batchSize: 64, seed: 12, learningRate: 0.5)
        configuration.quiet = true
        configuration.earlyStopping = EarlyStopping(patience: 2)
        // A far too large SGD rate makes the validation loss bounce, triggering the stop.
        let validation = try toyData(samples: 64, seed: 13)
        let history = try train(model, optimizer: SGD(model.parameters, learningRate: 0.5, momentum: 0.9), training: try toyData(samples: 256, seed: 12),
                                validation: validation, configuration: configuration, loss: mseLoss)
        let best = try #require(history.epochs.compactMap(\.validationLoss).min())
        let restored = try #require(history.restoredEpoch)
        #expect(history.epochs[restored - 1].validationLoss == best)
        let now = try evaluate(model, on: validation, batchSize: 64, loss: mseLoss)
        #expect(abs(now - best) < 1e-6 * max(1, best))
    }

    @Test func historyFiles() throws {
        let (history, _) = try run(seed: 14, epochs: 2)
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try history.writeJSON(to: directory.appendingPathComponent("history.json").path)
        try history.writeCSV(to: directory.appendingPathComponent("history.csv").path)
        let decoded = try JSONDecoder().decode(TrainingHistory.self, from: Data(contentsOf: directory.appendingPathComponent("history.json")))
        #expect(decoded == history)
        let csv = try String(contentsOf: directory.appendingPathComponent("history.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 3)
    }

    @Test func referenceModelsRunOneStep() throws {
        for name in ReferenceModel.Name.allCases {
            let reference = try ReferenceModel(name, seed: 1)
            let data = try reference.data(samples: 4, seed: 1)
            let loss = try reference.loss(reference.model, try data.batch(ArraySlice(0..<4)))
            try loss.backward()
            #expect(loss.value.scalar?.isFinite == true)
            #expect(reference.model.summary.multiplyAdds > 0)
        }
        // Hand count for the event autoencoder: Σ in·out over its eight dense layers.
        #expect(try ReferenceModel(.eventAE, seed: 1).model.summary.multiplyAdds == 51_900)
    }
}
