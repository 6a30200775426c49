import Foundation
import Synchronization
import HEPMLCore
import HEPMLTensor
import HEPMLTestSupport
import Testing
@testable import HEPMLNN

@Suite struct CheckpointTests {
    @Test func safetensorsRoundTripAndValidation() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("t.safetensors").path
        let a = try Tensor<Float>(shape: [2, 3], scalars: [1, -2, 3.5, 4, 5, 6])
        let b = try Tensor<Float>(shape: [1], scalars: [0.25])
        try SafeTensors.write([("layer.weight", a), ("layer.bias", b)], metadata: ["format": "pt"], to: path)
        let (tensors, metadata) = try SafeTensors.read(path, as: Float.self)
        #expect(tensors["layer.weight"] == a && tensors["layer.bias"] == b)
        #expect(metadata["format"] == "pt")

        // A truncated file and a header whose byte range overruns the data are reported, not trapped.
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        try Data(bytes.prefix(bytes.count - 4)).write(to: URL(fileURLWithPath: path))
        #expect(throws: FileFormatError.self) { try SafeTensors.read(path, as: Float.self) }
        try Data(bytes.prefix(5)).write(to: URL(fileURLWithPath: path))
        #expect(throws: FileFormatError.self) { try SafeTensors.read(path, as: Float.self) }
        var huge = bytes
        huge[0] = 0xFF; huge[1] = 0xFF
        try Data(huge).write(to: URL(fileURLWithPath: path))
        #expect(throws: FileFormatError.self) { try SafeTensors.read(path, as: Float.self) }
    }

    @Test func resumedTrainingMatchesUninterruptedTraining() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = try toyData(samples: 128, seed: 21)
        func run(epochs: Int, checkpoint: String?) throws -> (TrainingHistory, TinyAutoencoder) {
            let model = TinyAutoencoder(seed: 21)
            var configuration = TrainingConfiguration(epochs: epochs, batchSize: 32, seed: 21, learningRate: 1e-2)
            configuration.quiet = true
            let history = try train(model, optimizer: Adam(model.parameters, learningRate: 1e-2), training: data, configuration: configuration,
                                    checkpointDirectory: checkpoint, loss: mseLoss)
            return (history, model)
        }
        let (straight, straightModel) = try run(epochs: 4, checkpoint: nil)
        _ = try run(epochs: 2, checkpoint: directory.path)  // "interrupted" after two epochs
        let (resumed, resumedModel) = try run(epochs: 4, checkpoint: directory.path)
        #expect(resumed.epochs.map(\.trainLoss) == straight.epochs.map(\.trainLoss))
        #expect(resumedModel.stateDictionary().map(\.1) == straightModel.stateDictionary().map(\.1))
        let latest = try String(contentsOf: directory.appendingPathComponent("latest"), encoding: .utf8)
        #expect(latest.hasPrefix("epoch-00004"))
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("epoch-00003").path))
    }

    /// With a checkpoint interval, epochs inside it write nothing; the last epoch always does,
    /// and resuming from the older checkpoint redoes the lost epochs to the same end.
    @Test func checkpointIntervalSkipsEpochsButNotTheLast() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = try toyData(samples: 64, seed: 5)
        let model = TinyAutoencoder(seed: 5)
        var configuration = TrainingConfiguration(epochs: 3, batchSize: 32, seed: 5, learningRate: 1e-2)
        configuration.quiet = true
        configuration.checkpointInterval = 1e9
        let path = directory.path
        let written = Mutex<[Int?]>([])
        configuration.onEpochEnd = { _ in
            let completed = (try? Checkpoint.latestRecord(in: path))??.epochsCompleted
            written.withLock { $0.append(completed) }
        }
        _ = try train(model, optimizer: Adam(model.parameters, learningRate: 1e-2), training: data, configuration: configuration,
                      checkpointDirectory: path, loss: mseLoss)
        #expect(written.withLock { $0 } == [nil, nil, 3])
    }

    /// Dropout masks are drawn per epoch, so a model with dropout also resumes bit-identically.
    @Test func resumedTrainingWithDropoutMatches() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = try toyData(samples: 96, seed: 24)
        func run(epochs: Int, checkpoint: String?) throws -> Sequential<Float> {
            var g = SeededGenerator(seed: 24)
            let model = Sequential<Float>([Linear(8, 16, generator: &g), Activation(.tanh), Dropout(0.3, seed: 24), Linear(16, 8, generator: &g)])
            var configuration = TrainingConfiguration(epochs: epochs, batchSize: 32, seed: 24, learningRate: 1e-2)
            configuration.quiet = true
            _ = try train(model, optimizer: Adam(model.parameters, learningRate: 1e-2), training: data, configuration: configuration,
                          checkpointDirectory: checkpoint, loss: mseLoss)
            return model
        }
        let straight = try run(epochs: 4, checkpoint: nil)
        _ = try run(epochs: 1, checkpoint: directory.path)
        let resumed = try run(epochs: 4, checkpoint: directory.path)
        #expect(resumed.stateDictionary().map(\.1) == straight.stateDictionary().map(\.1))
    }

    /// Early stopping's state travels with the checkpoint: a run interrupted after any epoch
    /// (right after the best one included) and resumed stops at the same epoch, restores the same
    /// best epoch and ends with bit-identical weights; resuming a finished run trains no further.
    @Test func resumeAfterAnyEpochReproducesEarlyStopping() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = try toyData(samples: 128, seed: 22), validation = try toyData(samples: 64, seed: 23)
        func run(epochs: Int, checkpoint: String?) throws -> (TrainingHistory, TinyAutoencoder) {
            let model = TinyAutoencoder(seed: 22)
            var configuration = TrainingConfiguration(epochs: epochs, batchSize: 32, seed: 22, learningRate: 0.3)
            configuration.quiet = true
            configuration.earlyStopping = EarlyStopping(patience: 2)
            let history = try train(model, optimizer: Adam(model.parameters, learningRate: 0.3), training: data, validation: validation,
                                    configuration: configuration, checkpointDirectory: checkpoint, loss: mseLoss)
            return (history, model)
        }
        let (straight, straightModel) = try run(epochs: 40, checkpoint: nil)
        try #require(straight.stoppedEarly, "the learning rate is chosen so that early stopping fires: \(straight.epochs.map(\.validationLoss))")
        let best = try #require(straight.restoredEpoch)
        #expect(best < straight.epochs.count - 1)
        for stop in 1..<straight.epochs.count {
            let folder = directory.appendingPathComponent("stop-\(stop)").path
            _ = try run(epochs: stop, checkpoint: folder)
            let (resumed, resumedModel) = try run(epochs: 40, checkpoint: folder)
            #expect(resumed.epochs.map(\.validationLoss) == straight.epochs.map(\.validationLoss), "interrupted after epoch \(stop)")
            #expect(resumed.restoredEpoch == best && resumed.stoppedEarly, "interrupted after epoch \(stop)")
            #expect(resumedModel.stateDictionary().map(\.1) == straightModel.stateDictionary().map(\.1), "interrupted after epoch \(stop)")
            if stop == best {
                let (again, againModel) = try run(epochs: 40, checkpoint: folder)
                #expect(again.epochs.count == straight.epochs.count && again.restoredEpoch == best)
                #expect(againModel.stateDictionary().map(\.1) == straightModel.stateDictionary().map(\.1))
            }
        }
    }

    @Test(.requiresPython) func pythonSafetensorsReadsCheckpoint() throws {
        let python = try TestEnvironment.python()
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var g = SeededGenerator(seed: 31)
        let model = Sequential<Float>([Conv1d(1, 4, kernel: 3, generator: &g), BatchNorm(4), Flatten(), Linear(4 * 8, 3, generator: &g)])
        try Checkpoint.save(model: model, optimizer: Adam(model.parameters), history: TrainingHistory(), epochsCompleted: 1, to: directory.path)
        let weights = directory.appendingPathComponent("epoch-00001/weights.safetensors").path
        let script = """
        import json, sys
        from safetensors.numpy import load_file
        tensors = load_file(sys.argv[1])
        print(json.dumps({k: [list(v.shape), str(v.dtype), float(v.astype('float64').sum()), float(v.flat[0])] for k, v in tensors.items()}))
        """
        let result = try TestEnvironment.runPython(python, script: script, arguments: [weights])
        #expect(result.status == 0, "\(result.output)")
        let line = try #require(result.output.split(separator: "\n").last)
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: [Any]])
        let expected = model.stateDictionary()
        #expect(Set(decoded.keys) == Set(expected.map(\.0)))
        for (name, tensor) in expected {
            let entry = try #require(decoded[name])
            #expect((entry[0] as? [Int]) == tensor.shape, "\(name)")
            #expect((entry[1] as? String) == "float32")
            let sum = tensor.scalars.reduce(0.0) { $0 + Double($1) }
            #expect(abs(((entry[2] as? Double) ?? .nan) - sum) < 1e-5, "\(name)")
            #expect((entry[3] as? Double) == Double(tensor.scalars[0]), "\(name)")
        }
    }
}
