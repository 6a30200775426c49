import Foundation
import HEPMLCore
import HEPMLTensor

/// Training checkpoints: one directory per saved epoch holding
/// - `weights.safetensors`: every parameter and buffer, named by path ("encoder.0.weight");
/// - `optimizer.safetensors`: the optimizer slots, named "<parameter path>.<slot>" (F64);
/// - `best.safetensors` (with early stopping that restores the best weights): the weights of the
///   best epoch so far, which a resumed run needs to end like an uninterrupted one;
/// - `checkpoint.json`: the model description, completed epochs, optimizer step count, history
///   and early-stopping state;
/// and a `latest` file naming the newest complete directory. `latest` is replaced atomically only
/// after the directory is fully written, so an interrupted save leaves the previous checkpoint
/// in force; every directory is self-contained for the same reason.
public enum Checkpoint {
    public struct Record: Codable, Equatable, Sendable {
        public var epochsCompleted: Int
        public var optimizerSteps: Int
        public var model: ModuleDescription
        public var history: TrainingHistory
        /// nil without early stopping (or before its first epoch).
        public var earlyStopping: EarlyStoppingState?
    }

    /// What `load` restores beyond the model and optimizer.
    public struct Resumed<T: TensorScalar> {
        public var record: Record
        /// The best epoch's weights, when the checkpoint keeps them.
        public var bestWeights: [String: Tensor<T>]?
    }

    static let weightsFile = "weights.safetensors", optimizerFile = "optimizer.safetensors"
    static let bestWeightsFile = "best.safetensors", recordFile = "checkpoint.json"

    public static func save<T: TensorScalar>(model: Module<T>, optimizer: Optimizer, history: TrainingHistory, epochsCompleted: Int,
                                             earlyStopping: EarlyStoppingState? = nil, bestWeights: [(String, Tensor<T>)]? = nil,
                                             to directory: String) throws {
        let name = String(format: "epoch-%05d", epochsCompleted)
        let folder = URL(fileURLWithPath: directory).appendingPathComponent(name)
        try SafeTensors.write(model.stateDictionary(), metadata: ["format": "pt", "producer": "hepml"], to: folder.appendingPathComponent(weightsFile).path)
        if let bestWeights, let bestEpoch = earlyStopping?.bestEpoch {
            try SafeTensors.write(bestWeights, metadata: ["format": "pt", "producer": "hepml", "epoch": "\(bestEpoch)"],
                                  to: folder.appendingPathComponent(bestWeightsFile).path)
        }
        let state = optimizer.state
        let names = model.namedParameters().map(\.0)
        var slots: [(String, Tensor<Double>)] = []
        for (slot, arrays) in state.slots {
            for (parameter, values) in zip(names, arrays) { slots.append(("\(parameter).\(slot)", try Tensor(shape: [values.count], scalars: values))) }
        }
        try SafeTensors.write(slots, to: folder.appendingPathComponent(optimizerFile).path)
        let record = Record(epochsCompleted: epochsCompleted, optimizerSteps: state.steps, model: model.describe(), history: history,
                            earlyStopping: earlyStopping)
        try AtomicFile.write(try recordEncoder().encode(record), to: folder.appendingPathComponent(recordFile).path)
        let latest = URL(fileURLWithPath: directory).appendingPathComponent("latest")
        let previous = try? String(contentsOf: latest, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try AtomicFile.write(name + "\n", to: latest.path)
        if let previous, previous != name, previous.hasPrefix("epoch-") {
            try? FileManager.default.removeItem(at: URL(fileURLWithPath: directory).appendingPathComponent(previous))
        }
    }

    /// The record of the newest checkpoint in `directory` without loading any weights; nil when there is none.
    public static func latestRecord(in directory: String) throws -> Record? {
        guard let folder = try latestFolder(in: directory) else { return nil }
        return try readRecord(folder)
    }

    /// Loads the newest checkpoint in `directory` into `model` and `optimizer`; nil when there is none.
    public static func load<T: TensorScalar>(into model: Module<T>, optimizer: Optimizer, from directory: String) throws -> Resumed<T>? {
        guard let folder = try latestFolder(in: directory) else { return nil }
        let record = try readRecord(folder)
        try model.loadStateDictionary(SafeTensors.read(folder.appendingPathComponent(weightsFile).path, as: T.self).tensors)
        let stored = try SafeTensors.read(folder.appendingPathComponent(optimizerFile).path, as: Double.self).tensors
        var slots: [String: [[Double]]] = [:]
        let slotNames = Set(stored.keys.compactMap { $0.split(separator: ".").last.map(String.init) })
        for slot in slotNames {
            slots[slot] = model.namedParameters().map { stored["\($0.0).\(slot)"]?.scalars ?? [] }
        }
        try optimizer.load(OptimizerState(steps: record.optimizerSteps, slots: slots))
        let bestPath = folder.appendingPathComponent(bestWeightsFile).path
        guard FileManager.default.fileExists(atPath: bestPath) else { return Resumed(record: record, bestWeights: nil) }
        let best = try SafeTensors.read(bestPath, as: T.self)
        guard let bestEpoch = record.earlyStopping?.bestEpoch, best.metadata["epoch"] == "\(bestEpoch)" else {
            throw FileFormatError(file: bestPath, reason: "holds epoch \(best.metadata["epoch"] ?? "?"), not the checkpoint's best epoch \(record.earlyStopping.map { "\($0.bestEpoch)" } ?? "(none)")")
        }
        return Resumed(record: record, bestWeights: best.tensors)
    }

    private static func latestFolder(in directory: String) throws -> URL? {
        let latest = URL(fileURLWithPath: directory).appendingPathComponent("latest")
        guard let name = try? String(contentsOf: latest, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) else { return nil }
        guard name.hasPrefix("epoch-"), !name.contains("/") else {
            throw FileFormatError(file: latest.path, reason: "does not name a checkpoint directory: \(name)")
        }
        return URL(fileURLWithPath: directory).appendingPathComponent(name)
    }

    private static func readRecord(_ folder: URL) throws -> Record {
        let path = folder.appendingPathComponent(recordFile).path
        do {
            let decoder = JSONDecoder()
            decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            return try decoder.decode(Record.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw FileFormatError(file: path, reason: "unreadable checkpoint record: \(error)")
        }
    }

    /// A diverged run's NaN losses must not make its checkpoint unwritable.
    private static func recordEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }
}
