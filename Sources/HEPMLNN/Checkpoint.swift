import Foundation
import HEPMLCore
import HEPMLTensor

/// Training checkpoints: one directory per saved epoch holding
/// - `weights.safetensors`: every parameter and buffer, named by path ("encoder.0.weight");
/// - `optimizer.safetensors`: the optimizer slots, named "<parameter path>.<slot>" (F64);
/// - `checkpoint.json`: the model description, completed epochs, optimizer step count and history;
/// and a `latest` file naming the newest complete directory. `latest` is replaced atomically only
/// after the directory is fully written, so an interrupted save leaves the previous checkpoint
/// in force.
public enum Checkpoint {
    public struct Record: Codable, Equatable, Sendable {
        public var epochsCompleted: Int
        public var optimizerSteps: Int
        public var model: ModuleDescription
        public var history: TrainingHistory
    }

    public static func save<T: TensorScalar>(model: Module<T>, optimizer: Optimizer, history: TrainingHistory, epochsCompleted: Int, to directory: String) throws {
        let name = String(format: "epoch-%05d", epochsCompleted)
        let folder = URL(fileURLWithPath: directory).appendingPathComponent(name)
        try SafeTensors.write(model.stateDictionary(), metadata: ["format": "pt", "producer": "hepml"], to: folder.appendingPathComponent("weights.safetensors").path)
        let state = optimizer.state
        let names = model.namedParameters().map(\.0)
        var slots: [(String, Tensor<Double>)] = []
        for (slot, arrays) in state.slots {
            for (parameter, values) in zip(names, arrays) { slots.append(("\(parameter).\(slot)", try Tensor(shape: [values.count], scalars: values))) }
        }
        try SafeTensors.write(slots, to: folder.appendingPathComponent("optimizer.safetensors").path)
        let record = Record(epochsCompleted: epochsCompleted, optimizerSteps: state.steps, model: model.describe(), history: history)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(record), to: folder.appendingPathComponent("checkpoint.json").path)
        let latest = URL(fileURLWithPath: directory).appendingPathComponent("latest")
        let previous = try? String(contentsOf: latest, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try AtomicFile.write(name + "\n", to: latest.path)
        if let previous, previous != name, previous.hasPrefix("epoch-") {
            try? FileManager.default.removeItem(at: URL(fileURLWithPath: directory).appendingPathComponent(previous))
        }
    }

    /// Loads the newest checkpoint in `directory` into `model` and `optimizer`; nil when there is none.
    public static func load<T: TensorScalar>(into model: Module<T>, optimizer: Optimizer, from directory: String) throws -> Record? {
        let latest = URL(fileURLWithPath: directory).appendingPathComponent("latest")
        guard let name = try? String(contentsOf: latest, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) else { return nil }
        guard name.hasPrefix("epoch-"), !name.contains("/") else {
            throw FileFormatError(file: latest.path, reason: "does not name a checkpoint directory: \(name)")
        }
        let folder = URL(fileURLWithPath: directory).appendingPathComponent(name)
        let recordPath = folder.appendingPathComponent("checkpoint.json").path
        let record: Record
        do {
            record = try JSONDecoder().decode(Record.self, from: Data(contentsOf: URL(fileURLWithPath: recordPath)))
        } catch {
            throw FileFormatError(file: recordPath, reason: "unreadable checkpoint record: \(error)")
        }
        try model.loadStateDictionary(SafeTensors.read(folder.appendingPathComponent("weights.safetensors").path, as: T.self).tensors)
        let stored = try SafeTensors.read(folder.appendingPathComponent("optimizer.safetensors").path, as: Double.self).tensors
        var slots: [String: [[Double]]] = [:]
        let slotNames = Set(stored.keys.compactMap { $0.split(separator: ".").last.map(String.init) })
        for slot in slotNames {
            slots[slot] = model.namedParameters().map { stored["\($0.0).\(slot)"]?.scalars ?? [] }
        }
        try optimizer.load(OptimizerState(steps: record.optimizerSteps, slots: slots))
        return record
    }
}
