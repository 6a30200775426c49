import Foundation
import Testing
import HEPMLCore
import HEPMLExperiment
import HEPMLNN
import HEPMLTensor
import HEPMLTestSupport
@testable import HEPMLECONT

@Suite("Engine models of the catalog networks")
struct AutoencoderTests {
    static let budget = ELinkBudget(links: 5)!

    @Test("Default network: encoder 2,144 and decoder 2,833 parameters, shapes through the engine")
    func defaultParameterCounts() throws {
        let network = try #require(NetworkDescription.named(NetworkDescription.defaultName))
        let model = try ECONTAutoencoder(network, budget: Self.budget, seed: 3)
        #expect(model.encoderParameterCount == 2144)
        #expect(model.decoderParameterCount == 2833)
        #expect(model.encoderParameterCount == model.encoder.parameterCount)
        let (latent, decoded) = try model.predict(images: [Float](repeating: 0.1, count: 3 * 64), rows: 3)
        #expect(latent.count == 3 * 16 && decoded.count == 3 * 64)
        #expect(decoded.allSatisfy { $0 > 0 && $0 < 1 })
    }

    @Test("Every catalog network builds, float and quantized, with the summary's parameter counts")
    func catalogBuilds() throws {
        for network in NetworkDescription.catalog {
            for quantized in [false, true] {
                var variant = network
                variant.quantized = quantized
                let model = try ECONTAutoencoder(variant, budget: Self.budget, seed: 1)
                #expect(model.encoderParameterCount == model.encoder.parameterCount, "\(network.name)")
                #expect(model.decoderParameterCount == model.decoder.parameterCount, "\(network.name)")
                let (latent, decoded) = try model.predict(images: (0..<128).map { Float($0 % 7) / 7 }, rows: 2)
                #expect(latent.count == 32 && decoded.count == 128, "\(network.name)")
            }
        }
    }

    /// An independent forward pass of the quantized encoder written with `FixedPointQuantizer`
    /// and a direct TensorFlow-"same" convolution; the engine's latents must match exactly.
    @Test("Quantized encoder forward equals a FixedPointQuantizer reference, bit for bit", arguments: [2, 3, 4, 5])
    func quantizedForward(links: Int) throws {
        let budget = try #require(ELinkBudget(links: links))
        var network = try #require(NetworkDescription.named(NetworkDescription.defaultName))
        network.quantized = true
        let model = try ECONTAutoencoder(network, budget: budget, seed: 11)
        // Ecoder's bit settings, written with the reference quantizers.
        let settings = (input: FixedPointQuantizer.bits(10, integer: 3), weights: FixedPointQuantizer.bits(5, integer: 1),
                        accumulator: FixedPointQuantizer.relu(11, integer: 3), latent: FixedPointQuantizer.relu(budget.latentBits, integer: 1))
        #expect(QuantizationSettings(budget: budget).latent.fixedPoint?.fractionalBits == settings.latent.fractionalBits)
        let conv = try #require(model.encoder.layers.compactMap { $0 as? ConvolutionLayer<Float> }.first)
        let dense = try #require(model.encoder.layers.compactMap { $0 as? Linear<Float> }.first)
        // Spread the weights so that the quantizers' clipping and rounding are exercised.
        var generator = SeededGenerator(seed: 5)
        conv.weight.value.scalars = conv.weight.value.scalars.map { _ in Float(generator.nextUniform() * 3 - 1.5) }
        conv.bias?.value.scalars = (0..<8).map { _ in Float(generator.nextUniform() * 0.5) }
        dense.weight.value.scalars = dense.weight.value.scalars.map { _ in Float(generator.nextUniform() * 0.6 - 0.3) }
        dense.bias?.value.scalars = (0..<16).map { _ in Float(generator.nextUniform() * 0.2) }

        let rows = 20
        let images: [Float] = (0..<(rows * 64)).map { _ in generator.nextUniform() < 0.6 ? 0 : Float(generator.nextUniform() * 1.2) }
        let (latent, _) = try model.predict(images: images, rows: rows)

        let w = conv.weight.value.scalars.map { settings.weights($0) }, b = (conv.bias?.value.scalars ?? []).map { settings.weights($0) }
        let dw = dense.weight.value.scalars.map { settings.weights($0) }, db = (dense.bias?.value.scalars ?? []).map { settings.weights($0) }
        var expected: [Float] = []
        for row in 0..<rows {
            let x = (0..<64).map { settings.input(images[row * 64 + $0]) }
            // 3×3 stride 2, "same": output 4×4, padding 0 before and 1 after; features in (C, H, W) order.
            var features = [Float](repeating: 0, count: 128)
            for filter in 0..<8 { for oh in 0..<4 { for ow in 0..<4 {
                var sum = b[filter]
                for kh in 0..<3 { for kw in 0..<3 {
                    let ih = oh * 2 + kh, iw = ow * 2 + kw
                    if ih < 8 && iw < 8 { sum += w[filter * 9 + kh * 3 + kw] * x[ih * 8 + iw] }
                } }
                features[filter * 16 + oh * 4 + ow] = settings.accumulator(sum)
            } } }
            for unit in 0..<16 {
                var sum = db[unit]
                for k in 0..<128 { sum += dw[unit * 128 + k] * features[k] }
                expected.append(settings.latent(sum))
            }
        }
        #expect(latent == expected)
        let step = Float(settings.latent.leastSignificantBit)
        #expect(latent.allSatisfy { ($0 / step).rounded() == $0 / step && $0 >= 0 && Double($0) <= settings.latent.highest })
        #expect(Set(latent).count > 3)
    }

    @Test("Engine quantizers and their fixed-point view have the reference quantizers' forward values")
    func quantizerBridge() throws {
        let pairs: [(Quantizer, FixedPointQuantizer)] = [
            (.bits(bits: 10, integer: 3), .bits(10, integer: 3)), (.bits(bits: 5, integer: 1), .bits(5, integer: 1)),
            (.relu(bits: 11, integer: 3), .relu(11, integer: 3)), (.relu(bits: 3, integer: 1), .relu(3, integer: 1)),
            (.relu(bits: 9, integer: 1), .relu(9, integer: 1)),
        ]
        for (engine, reference) in pairs {
            let view = try #require(engine.fixedPoint)
            #expect(FixedPointQuantizer(fractionalBits: view.fractionalBits, lowCode: view.lowCode, highCode: view.highCode) == reference)
            for step in -400...400 {
                let x = Float(step) / 97
                #expect(engine.quantize(x) == reference(x), "\(engine) at \(x)")
            }
        }
        #expect(Quantizer.bits(bits: 1, integer: 0).fixedPoint == nil)
    }

    @Test("Telescope objective: the engine gradient is the analytic gradient")
    func telescopeObjectiveGradient() throws {
        let arrangement = Arrangement.eightByEight
        let objective = try ReconstructionObjective(.telescope, arrangement: arrangement)
        var generator = SeededGenerator(seed: 9)
        let truth = (0..<(4 * 64)).map { _ in Float(generator.nextUniform() * 0.2) }
        let prediction = (0..<(4 * 64)).map { _ in Float(generator.nextUniform() * 0.2) }
        let p = Variable(try Tensor(shape: [4, 8, 8, 1], scalars: prediction), requiresGrad: true)
        let loss = try objective(p, try Tensor(shape: [4, 8, 8, 1], scalars: truth))
        try (loss * 2).backward()
        let reference = TelescopeLoss(arrangement: arrangement).valueAndGradient(truth: truth, prediction: prediction, batch: 4)
        #expect(abs(Double(loss.value.scalars[0]) - reference.loss) < 1e-6)
        let gradient = try #require(p.grad?.scalars)
        for (a, b) in zip(gradient, reference.gradient) { #expect(abs(a - 2 * b) < 1e-7) }
    }

    @Test("Permute: channels last ↔ first is a permutation and its inverse")
    func channelLayout() throws {
        let x = Variable(try Tensor<Float>(shape: [2, 4, 4, 3], scalars: (0..<96).map(Float.init)))
        let first = try Permute<Float>([2, 0, 1])(x)
        #expect(first.shape == [2, 3, 4, 4])
        // Sample 1, channel 2, row 3, column 1 is (1, 3, 1, 2) channels last.
        #expect(first.value.scalars[((1 * 3 + 2) * 4 + 3) * 4 + 1] == Float(((1 * 4 + 3) * 4 + 1) * 3 + 2))
        #expect(try Permute<Float>([1, 2, 0])(first).value == x.value)
        #expect(throws: ShapeError.self) { try Permute<Float>([0, 0, 1])(x) }
    }

    @Test("Weights round-trip through safetensors named by parameter path; a different network is refused")
    func weightsRoundTrip() throws {
        let network = try #require(NetworkDescription.named("8x8_c8_pool_tele"))
        let a = try ECONTAutoencoder(network, budget: Self.budget, seed: 1)
        let b = try ECONTAutoencoder(network, budget: Self.budget, seed: 2)
        let directory = try TestEnvironment.temporaryDirectory("econt-weights")
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = RunDirectory(directory.path)
        try run.saveModel(a.autoencoder, history: nil)
        let path = run.weightsFile
        try b.loadWeights(from: path)
        let images = (0..<128).map { Float($0 % 5) / 5 }
        #expect(try a.predict(images: images, rows: 2).decoded == b.predict(images: images, rows: 2).decoded)
        let stored = try SafeTensors.read(path, as: Float.self)
        #expect(Set(stored.tensors.keys) == Set(a.autoencoder.namedParameters().map(\.0)))
        #expect(stored.tensors["encoder.1.weight"]?.shape == [8, 1, 3, 3] && stored.metadata["model"] == "8x8_c8_pool_tele")
        #expect(try run.spec() == a.spec && run.spec().metadata["elinks"] == "5")
        let other = try ECONTAutoencoder(try #require(NetworkDescription.named(NetworkDescription.defaultName)), budget: Self.budget, seed: 1)
        #expect(throws: FileFormatError.self) { try other.loadWeights(from: path) }
    }

    /// Python's `safetensors` reads the weight file: names, shapes, dtype and every value (as
    /// float32 bit patterns, which survive JSON exactly).
    @Test("Interop: Python safetensors reads the encoder and decoder weights", .requiresPython)
    func weightsReadByPythonSafetensors() throws {
        let python = try TestEnvironment.python()
        var network = try #require(NetworkDescription.named(NetworkDescription.defaultName))
        network.quantized = true
        let model = try ECONTAutoencoder(network, budget: Self.budget, seed: 7)
        let directory = try TestEnvironment.temporaryDirectory("econt-safetensors")
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = RunDirectory(directory.path)
        try run.saveModel(model.autoencoder, history: nil)
        let path = run.weightsFile
        let script = """
        import json, sys
        from safetensors import safe_open
        from safetensors.numpy import load_file
        tensors = load_file(sys.argv[1])
        with safe_open(sys.argv[1], framework="np") as f:
            metadata = f.metadata()
        print(json.dumps({"metadata": metadata, "tensors": {name: {"dtype": str(t.dtype), "shape": list(t.shape),
                          "bits": t.view("<u4").ravel().tolist()} for name, t in tensors.items()}}))
        """
        let output = try TestEnvironment.runPython(python, script: script, arguments: [path])
        try #require(output.status == 0, "python failed: \(output.output)")
        let lastLine = output.output.split(separator: "\n").last.map(String.init) ?? ""
        let read = try #require(try JSONSerialization.jsonObject(with: Data(lastLine.utf8)) as? [String: Any])
        let metadata = try #require(read["metadata"] as? [String: String])
        #expect(metadata["model"] == NetworkDescription.defaultName && metadata["producer"] == "hepml")
        let tensors = try #require(read["tensors"] as? [String: [String: Any]])
        let expected = model.autoencoder.stateDictionary()
        #expect(Set(tensors.keys) == Set(expected.map(\.0)))
        // Quantized encoder: layout, input quantizer, conv (2), accumulator, flatten, dense (5), latent quantizer.
        #expect(Set(tensors.keys).isSuperset(of: ["encoder.2.weight", "encoder.2.bias", "encoder.5.weight", "decoder.0.weight", "decoder.5.weight"]))
        for (name, tensor) in expected {
            let entry = try #require(tensors[name], "\(name)")
            #expect(entry["dtype"] as? String == "float32", "\(name)")
            #expect(entry["shape"] as? [Int] == tensor.shape, "\(name)")
            #expect(entry["bits"] as? [Int] == tensor.scalars.map { Int($0.bitPattern) }, "\(name)")
        }
    }

    /// 600 generated modules of four neighbouring hit TCs each, written as a CALQ CSV.
    static func generatedStudy(in directory: URL) throws -> (StudyOptions, StudyData) {
        var generator = SeededGenerator(seed: 4)
        var values = [Double](repeating: 0, count: 600 * 48)
        for row in 0..<600 {
            let centre = Int(generator.nextUniform() * 44)
            for offset in 0..<4 { values[row * 48 + centre + offset] = Double(Int(generator.nextUniform() * 200) + 1) }
        }
        let modules = try #require(ModuleCharges(values: values))
        let csv = directory.appendingPathComponent("generated.csv").path
        var text = (0..<48).map { "CALQ_\($0)" }.joined(separator: ",") + "\n"
        for row in 0..<modules.rows { text += modules.values[row * 48 ..< (row + 1) * 48].map { String(Int($0)) }.joined(separator: ",") + "\n" }
        try text.write(toFile: csv, atomically: true, encoding: .utf8)
        var options = StudyOptions(inputs: [csv], outputDirectory: directory.path)
        options.quiet = true
        return (options, try StudyData(options: options))
    }

    @Test("A few epochs on generated modules lower the telescope loss")
    func trainingLowersLoss() throws {
        let directory = try TestEnvironment.temporaryDirectory("econt-train")
        defer { try? FileManager.default.removeItem(at: directory) }
        var (options, data) = try Self.generatedStudy(in: directory)
        options.epochs = 6
        options.batchSize = 32
        let model = try ECONTAutoencoder(try Study.network(named: NetworkDescription.defaultName, options: options), budget: Self.budget, seed: 1)
        let objective = try ReconstructionObjective(.telescope, arrangement: .eightByEight)
        let images = try Tensor(shape: [data.split.validation.count, 8, 8, 1], scalars: data.images(.eightByEight, rows: data.split.validation))
        let validation = try Dataset(inputs: images, targets: images)
        let untrained = try evaluate(model.autoencoder, on: validation, batchSize: 500, loss: objective.lossFunction)
        let history = try Study.train(model, data: data, options: options, label: "test", in: RunDirectory(directory.appendingPathComponent("run").path)) { _ in }
        let losses = history.epochs.compactMap(\.validationLoss)
        #expect(losses.count >= 4)
        #expect(try #require(losses.min()) < untrained * 0.5, "untrained \(untrained), epochs \(losses)")
        // The best epoch's weights are the ones kept.
        let restored = try evaluate(model.autoencoder, on: validation, batchSize: 500, loss: objective.lossFunction)
        #expect(abs(restored - (losses.min() ?? 0)) < 1e-6 * max(restored, 1))
    }

    /// The uninterrupted run stops early; runs interrupted at its best epoch and between the best
    /// epoch and the stop (the patience count half used) resume from their checkpoints and must
    /// end with the same history, the same restored epoch and bit-identical weights.
    @Test("An interrupted training resumes from its checkpoint and ends with the uninterrupted run's weights")
    func resumeMatchesUninterruptedRun() throws {
        let directory = try TestEnvironment.temporaryDirectory("econt-resume")
        defer { try? FileManager.default.removeItem(at: directory) }
        var (options, data) = try Self.generatedStudy(in: directory)
        options.epochs = 60
        options.batchSize = 64
        options.learningRate = 0.03
        options.patience = 2
        let network = try Study.network(named: NetworkDescription.defaultName, options: options)
        func train(_ options: StudyOptions, in folder: String) throws -> (TrainingHistory, [(String, Tensor<Float>)]) {
            let model = try ECONTAutoencoder(network, budget: Self.budget, seed: options.seed)
            let history = try Study.train(model, data: data, options: options, label: "test",
                                          in: RunDirectory(directory.appendingPathComponent(folder).path)) { _ in }
            return (history, model.autoencoder.stateDictionary())
        }
        let (full, fullWeights) = try train(options, in: "uninterrupted")
        try #require(full.stoppedEarly, "the learning rate is chosen so that early stopping fires: \(full.epochs.map(\.validationLoss))")
        let best = try #require(full.restoredEpoch)
        #expect(full.epochs.count == best + 2)
        for stop in [best, best + 1] {
            var interrupted = options
            interrupted.epochs = stop
            _ = try train(interrupted, in: "interrupted-\(stop)")
            // Interrupted before the final weights were written: only the checkpoint is there.
            try FileManager.default.removeItem(at: directory.appendingPathComponent("interrupted-\(stop)/weights.safetensors"))
            let (resumed, resumedWeights) = try train(options, in: "interrupted-\(stop)")
            #expect(resumed.epochs.map(\.validationLoss) == full.epochs.map(\.validationLoss), "stopped after \(stop)")
            #expect(resumed.restoredEpoch == best && resumed.stoppedEarly)
            #expect(resumedWeights.map(\.0) == fullWeights.map(\.0))
            #expect(zip(resumedWeights, fullWeights).allSatisfy { $0.1 == $1.1 }, "weights differ after resuming at epoch \(stop)")
        }
        // Resuming with other settings would mix two trainings.
        var otherSeed = options
        otherSeed.seed = 2
        #expect(throws: RunDirectoryError.self) { _ = try train(otherSeed, in: "interrupted-\(best)") }
    }
}
