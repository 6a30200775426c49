import Foundation
import HEPMLColumnar
import HEPMLCore
import HEPMLExperiment
import HEPMLNN
import HEPMLTensor
import HEPMLTestSupport
import Testing

@Suite struct RunDirectoryTests {
    struct Settings: Codable, Equatable {
        var samples: Int
        var learningRate: Double
    }

    static let spec = ModelSpec.sequential("tiny-ae", input: [6], layers: [.dense(3), .tanh, .dense(6)])

    static func data() throws -> Dataset<Float> {
        var g = SeededGenerator(seed: 4)
        let x = try Tensor<Float>(shape: [32, 6], scalars: (0..<192).map { _ in Float(g.nextNormal()) })
        return try Dataset(inputs: x, targets: x)
    }

    static func training(epochs: Int, settings: Settings = Settings(samples: 32, learningRate: 0.01)) -> ModelTraining<Settings> {
        var configuration = TrainingConfiguration(epochs: epochs, batchSize: 8, seed: 2, learningRate: settings.learningRate)
        configuration.label = "tiny"
        var run = ModelTraining(spec: spec, seed: 7, settings: settings, configuration: configuration)
        run.showProgress = false
        return run
    }

    static func run(_ training: ModelTraining<Settings>, in directory: RunDirectory) throws -> ModelTraining<Settings>.Outcome {
        try training.run(in: directory, optimizer: { Adam($0.parameters, learningRate: 0.01) }, training: try data(), validation: nil,
                         log: { _ in }) { model, batch in
            try Loss.meanSquaredError(try model(Variable(batch.inputs)), batch.targets)
        }
    }

    @Test func trainsThenLoadsTheSameModel() throws {
        let root = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = RunDirectory(root.appendingPathComponent("run").path)
        let first = try Self.run(Self.training(epochs: 3), in: directory)
        #expect(first.history?.epochs.count == 3)
        for file in [directory.modelFile, directory.weightsFile, directory.settingsFile, directory.historyCSV, directory.historyJSON] {
            #expect(FileManager.default.fileExists(atPath: file), "\(file)")
        }
        #expect(try directory.spec() == Self.spec)
        let second = try Self.run(Self.training(epochs: 3), in: directory)
        #expect(second.loaded)
        #expect(zip(first.model.stateDictionary(), second.model.stateDictionary()).allSatisfy { $0.1.scalars == $1.1.scalars })
    }

    @Test func refusesOtherSettingsByNameUnlessRetrained() throws {
        let root = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = RunDirectory(root.appendingPathComponent("run").path)
        _ = try Self.run(Self.training(epochs: 2), in: directory)
        var changed = Self.training(epochs: 2, settings: Settings(samples: 32, learningRate: 0.02))
        do {
            _ = try Self.run(changed, in: directory)
            Issue.record("other settings were accepted")
        } catch let error as RunDirectoryError {
            #expect(error.description.contains("learningRate: 0.01 → 0.02"))
            #expect(error.description.contains("--retrain"))
        }
        changed.retrain = true
        #expect(try Self.run(changed, in: directory).history != nil)
    }

    @Test func resumesAnInterruptedRunToTheUninterruptedResult() throws {
        let root = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let straight = try Self.run(Self.training(epochs: 4), in: RunDirectory(root.appendingPathComponent("straight").path))
        // An interruption after two epochs: the checkpoint is there, the final weights are not.
        let interrupted = RunDirectory(root.appendingPathComponent("interrupted").path)
        let settings = Settings(samples: 32, learningRate: 0.01)
        try interrupted.claim(settings, spec: Self.spec)
        let partial: GraphModel<Float> = try Self.spec.build(seed: 7)
        var firstTwo = Self.training(epochs: 2).configuration
        firstTwo.quiet = true
        _ = try train(partial, optimizer: Adam(partial.parameters, learningRate: 0.01), training: try Self.data(), configuration: firstTwo,
                      checkpointDirectory: interrupted.checkpointDirectory) { model, batch in
            try Loss.meanSquaredError(try model(Variable(batch.inputs)), batch.targets)
        }
        let resumed = try Self.run(Self.training(epochs: 4), in: interrupted)
        #expect(resumed.history?.epochs.count == 4)
        #expect(zip(straight.model.stateDictionary(), resumed.model.stateDictionary()).allSatisfy { $0.1.scalars == $1.1.scalars })
    }
}

@Suite struct TableDatasetTests {
    @Test func listColumnsBecomeOneContiguousBuffer() throws {
        // Rows: a 2×2 map, a null, a ragged map, another 2×2 map.
        let maps = try Column(name: "map", values: .float64([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
                              listOffsets: [[0, 2, 2, 4, 6], [0, 2, 4, 5, 7, 9, 11]], validity: [true, false, true, true])
        let counts = try Column(name: "events", int64: [10, 20, 30, 40])
        let table = try Table(columns: [maps, counts])
        let block = try TableDataset.block(table, column: "map", as: Float.self)
        #expect(block.rowShape == [2, 2])
        #expect(block.present == [true, false, false, true])
        #expect(block.values == [1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 8, 9, 10, 11])
        let data = try TableDataset.dataset(table, inputs: ["map", "events"], targets: nil, rows: [0, 3])
        #expect(data.inputs.shape == [2, 2, 2])
        #expect(data.sideInputs.map(\.shape) == [[2]])
        #expect(data.sideInputs[0].scalars == [10, 40])
        #expect(data.targets.scalars == [1, 2, 3, 4, 8, 9, 10, 11])
        #expect(throws: TableDatasetError.self) { try TableDataset.dataset(table, inputs: ["map"], targets: nil, rows: [1]) }
        #expect(throws: TableDatasetError.self) { try TableDataset.block(table, column: "absent", as: Double.self) }
    }
}
