import Foundation
import Testing
import HEPMLCore
import HEPMLNN
import HEPMLTensor
import HEPMLTestSupport
@testable import HEPMLECONT

@Suite("EMD-approximating CNN and the EMD-CNN loss", .serialized)
struct EMDCriticTests {
    /// `rows` modules of a few hit TCs each.
    static func modules(rows: Int, seed: UInt64) throws -> ModuleCharges {
        var generator = SeededGenerator(seed: seed)
        var values = [Double](repeating: 0, count: rows * 48)
        for row in 0..<rows {
            for _ in 0..<(1 + Int(generator.nextUniform() * 5)) {
                values[row * 48 + Int(generator.nextUniform() * 48)] += Double(Int(generator.nextUniform() * 300) + 1)
            }
        }
        return try #require(ModuleCharges(values: values))
    }

    static func writeCSV(_ modules: ModuleCharges, to path: String) throws {
        var text = (0..<48).map { "CALQ_\($0)" }.joined(separator: ",") + "\n"
        for row in 0..<modules.rows { text += modules.values[row * 48 ..< (row + 1) * 48].map { String(Int($0)) }.joined(separator: ",") + "\n" }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test("The critic has the spec's 189,089 weights (188,385 trained + 704 BatchNorm statistics) and is symmetric")
    func architecture() throws {
        let critic = EMDCritic(seed: 3)
        let buffers = critic.namedBuffers().reduce(0) { $0 + $1.1.value.count }
        #expect(critic.parameterCount == 188_385 && buffers == 704)
        let modules = try Self.modules(rows: 6, seed: 1)
        let a = Array(modules.values[0..<(3 * 48)]), b = Array(modules.values[(3 * 48)...])
        critic.setTraining(false)
        let forward = try critic.predict(first: a, second: b, rows: 3)
        let backward = try critic.predict(first: b, second: a, rows: 3)
        #expect(forward == backward)
        // Unit normalization: scaling a module does not change its input.
        let scaled = try EMDCritic.pairInput(first: a.map { $0 * 7 }, second: b, rows: 3)
        let plain = try EMDCritic.pairInput(first: a, second: b, rows: 3)
        #expect(zip(scaled.scalars, plain.scalars).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test("Ordered pairs: all n² with zero EMD on the diagonal, or a seeded sample of distinct pairs")
    func orderedPairs() throws {
        let modules = try Self.modules(rows: 7, seed: 2)
        let all = EMDPairs.orderedPairs(of: modules, limit: nil, seed: 1)
        #expect(all.count == 49)
        for i in 0..<7 { #expect(all.distance[i * 7 + i] == 0) }
        // (i, j) and (j, i) have the same exact EMD.
        #expect(abs(all.distance[1 * 7 + 4] - all.distance[4 * 7 + 1]) < 1e-9 && all.distance[1 * 7 + 4] > 0)
        let sample = EMDPairs.orderedPairs(of: modules, limit: 20, seed: 5)
        #expect(sample.count == 20)
        let keys = (0..<20).map { Array(sample.first[$0 * 48 ..< ($0 + 1) * 48] + sample.second[$0 * 48 ..< ($0 + 1) * 48]) }
        #expect(Set(keys.map { $0.description }).count == 20)
        #expect(EMDPairs.orderedPairs(of: modules, limit: 20, seed: 5).distance == sample.distance)
    }

    @Test("train-emd-loss on a small slice: the trained critic predicts exact EMD better than the untrained one")
    func trainingImproves() throws {
        let directory = try TestEnvironment.temporaryDirectory("econt-critic")
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = directory.appendingPathComponent("modules.csv").path
        try Self.writeCSV(try Self.modules(rows: 30, seed: 3), to: csv)
        var options = EMDCriticOptions(name: "test_mse", outputDirectory: directory.path)
        options.inputs = [csv]
        // Small batches: enough steps for the BatchNorm running statistics (momentum 0.99) to settle.
        options.epochs = 5
        options.batchSize = 8
        options.quiet = true
        let (_, validation) = try EMDCriticTraining.pairs(options)
        #expect(validation.count == 144)
        let untrained = try EMDCritic(seed: options.seed).predict(first: validation.first, second: validation.second, rows: validation.count)
        let untrainedMSE = zip(untrained, validation.distance).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(validation.count)
        let record = try EMDCriticTraining.run(options) { _ in }
        #expect(record.trainingPairs == 324 && record.validationPairs == 144 && record.epochs == 5)
        let trainedMSE = try #require(record.validationMSE)
        #expect(trainedMSE < 0.5 * untrainedMSE, "untrained \(untrainedMSE), trained \(trainedMSE)")
        // The saved critic reproduces the recorded validation error.
        let loaded = try EMDCritic.load(name: "test_mse", directory: EMDCriticTraining.directory(output: directory.path))
        let predicted = try loaded.predict(first: validation.first, second: validation.second, rows: validation.count)
        let reloadedMSE = zip(predicted, validation.distance).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(validation.count)
        #expect(abs(reloadedMSE - trainedMSE) < 1e-9 * max(trainedMSE, 1))
        #expect(throws: StudyError.self) { _ = try EMDCriticTraining.run(options) { _ in } }
    }

    @Test("The EMD-CNN loss: gradients reach the reconstruction through the frozen critic, which never changes")
    func gradientsThroughFrozenCritic() throws {
        let directory = try TestEnvironment.temporaryDirectory("econt-critic-loss")
        defer { try? FileManager.default.removeItem(at: directory) }
        let critic = EMDCritic(seed: 8)
        let record = EMDCritic.Record(name: "frozen", dataset: "pair", trainingPairs: 0, validationPairs: 0, epochs: 0, bestEpoch: nil,
                                      validationMSE: nil, relativeDifferenceMean: 0, relativeDifferenceStd: 0, parameters: 0, buffers: 0, architecture: "")
        try critic.save(name: "frozen", record: record, directory: directory.path)
        let objective = try ReconstructionObjective(.emdCNN(name: "frozen"), arrangement: .eightByEight, criticDirectory: directory.path)
        guard case .emdCritic(let frozen, _) = objective else { Issue.record("not a critic objective"); return }
        let before = frozen.stateDictionary()

        let modules = try Self.modules(rows: 8, seed: 4)
        let truth = try Tensor(shape: [8, 8, 8, 1], scalars: Arrangement.eightByEight.arrange(modules.values, rows: 8))
        var generator = SeededGenerator(seed: 6)
        let start = try Tensor(shape: [8, 8, 8, 1], scalars: (0..<512).map { _ in Float(generator.nextUniform() * 0.3 + 0.01) })
        let prediction = Variable(start, requiresGrad: true)
        let loss = try objective(prediction, truth)
        try loss.backward()
        let gradient = try #require(prediction.grad)
        // Masked pixels are not read back: no gradient there; the 48 TC pixels get one.
        let mask = Arrangement.eightByEight.inputMask
        #expect((0..<512).allSatisfy { mask[$0 % 64] || gradient.scalars[$0] == 0 })
        #expect(gradient.scalars.contains { $0 != 0 })
        // A small step against the gradient lowers the critic's score.
        let norm = gradient.scalars.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let stepped = try Tensor(shape: start.shape, scalars: zip(start.scalars, gradient.scalars).map { $0 - 1e-3 * $1 / norm })
        let after = try objective(Variable(stepped), truth)
        #expect(after.value.scalars[0] < loss.value.scalars[0])

        // Training an autoencoder with it updates the autoencoder, never the critic.
        let network = NetworkDescription(name: "test", label: "test", loss: .emdCNN(name: "frozen"), strides: [2])
        let model = try ECONTAutoencoder(network, budget: try #require(ELinkBudget(links: 5)), seed: 1)
        let initial = model.autoencoder.stateDictionary()
        let data = try Dataset(inputs: truth, targets: truth)
        var configuration = TrainingConfiguration(epochs: 2, batchSize: 4, seed: 1, learningRate: 1e-2)
        configuration.quiet = true
        _ = try train(model.autoencoder, optimizer: Adam(model.autoencoder.parameters, learningRate: 1e-2), training: data,
                      configuration: configuration, loss: objective.lossFunction)
        #expect(zip(model.autoencoder.stateDictionary(), initial).contains { $0.1 != $1.1 })
        #expect(zip(frozen.stateDictionary(), before).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 })
    }

    @Test("Loss names: parsed and printed the same way; bad critic names refused")
    func lossNames() {
        for choice in [LossChoice.telescope, .weightedMSE, .mse, .emdCNN(name: "ae_mse_ttbar")] {
            #expect(LossChoice(name: choice.name) == choice)
        }
        #expect(LossChoice(name: "emdCNN:../x") == nil && LossChoice(name: "emdCNN:") == nil && LossChoice(name: "huber") == nil)
        var options = StudyOptions(inputs: [], outputDirectory: "out")
        options.loss = .mse
        let network = try? Study.network(named: NetworkDescription.defaultName, options: options)
        #expect(network.map { Study.runName($0, options: options) } == "8x8_c8_S2_tele-loss-mse")
    }
}
