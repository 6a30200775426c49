import Foundation
import HEPMLCore
import HEPMLNN
import HEPMLTensor

/// The one layout of a trained model, whatever the workflow:
///
///     <run>/model.json           the ModelSpec (rebuilds the network without the code that made it)
///     <run>/weights.safetensors  the final weights by parameter path; written last, so its presence
///                                means the run is complete
///     <run>/settings.json        what the run was trained with (data, seed, optimizer, epochs, …)
///     <run>/checkpoints/         the engine's resumable checkpoint (weights, optimizer, history)
///     <run>/history.csv|.json    per-epoch losses
///     <run>/report/              figures and HTML written by the workflow
///     <run>/<name>.onnx          exports
public struct RunDirectory: Sendable {
    public let path: String

    public init(_ path: String) {
        self.path = path
    }

    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
    public var modelFile: String { file("model.json") }
    public var weightsFile: String { file("weights.safetensors") }
    public var settingsFile: String { file("settings.json") }
    public var checkpointDirectory: String { file("checkpoints") }
    public var historyJSON: String { file("history.json") }
    public var historyCSV: String { file("history.csv") }
    public var reportDirectory: String { file("report") }

    /// Whether a finished model is there to load.
    public var isComplete: Bool {
        FileManager.default.fileExists(atPath: weightsFile) && FileManager.default.fileExists(atPath: modelFile)
    }

    /// The stored model description.
    public func spec() throws -> ModelSpec {
        try ModelSpec(json: try Data(contentsOf: URL(fileURLWithPath: modelFile)), file: modelFile)
    }

    /// Rebuilds the stored network and loads its final weights.
    public func loadModel() throws -> GraphModel<Float> {
        let model: GraphModel<Float> = try spec().build(seed: 0)
        let weights = try SafeTensors.read(weightsFile, as: Float.self).tensors
        do {
            try model.loadStateDictionary(weights)
        } catch let error as ShapeError {
            throw FileFormatError(file: weightsFile, object: model.spec.name, reason: "does not fit model.json: \(error)")
        }
        model.setTraining(false)
        return model
    }

    /// Writes the final weights (and with them the mark of a complete run) and the history.
    public func saveModel(_ model: GraphModel<Float>, history: TrainingHistory?) throws {
        try AtomicFile.write(try model.spec.jsonData(), to: modelFile)
        if let history {
            try history.writeJSON(to: historyJSON)
            try history.writeCSV(to: historyCSV)
        }
        try SafeTensors.write(model.stateDictionary(), metadata: ["format": "pt", "producer": "hepml", "model": model.spec.name], to: weightsFile)
    }

    /// Removes everything a training run wrote, for `--retrain`.
    public func clear() throws {
        for name in ["weights.safetensors", "model.json", "settings.json", "checkpoints", "history.csv", "history.json"] {
            let target = file(name)
            if FileManager.default.fileExists(atPath: target) { try FileManager.default.removeItem(atPath: target) }
        }
    }

    /// Records `settings` for a new run, or checks them against the ones a run here was started
    /// with: loading or resuming a model trained on other data or with other choices would mix
    /// two experiments silently, so that is refused with the settings that differ.
    public func claim<Settings: Codable & Equatable>(_ settings: Settings, spec: ModelSpec?) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let requested = try encoder.encode(settings)
        if let stored = FileManager.default.contents(atPath: settingsFile) {
            let differences = try Self.differences(stored: stored, requested: requested)
            guard differences.isEmpty else {
                throw RunDirectoryError(directory: path, reason: "was trained with other settings (\(differences.joined(separator: "; "))); use those settings, or --retrain to train again")
            }
            if let spec, FileManager.default.fileExists(atPath: modelFile) {
                let storedSpec = try self.spec()
                guard storedSpec == spec else {
                    throw RunDirectoryError(directory: path, reason: "holds another network than the one asked for (\(storedSpec.name)); use --retrain to train again")
                }
            }
            return
        }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        if let spec { try AtomicFile.write(try spec.jsonData(), to: modelFile) }
        try AtomicFile.write(requested, to: settingsFile)
    }

    /// "key: stored → requested" for every top-level setting that differs.
    static func differences(stored: Data, requested: Data) throws -> [String] {
        func object(_ data: Data, _ what: String) throws -> [String: Any] {
            guard let value = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw FileFormatError(file: what, reason: "settings are not a JSON object")
            }
            return value
        }
        let old = try object(stored, "settings.json"), new = try object(requested, "requested settings")
        func text(_ value: Any?) -> String {
            guard let value else { return "(none)" }
            guard JSONSerialization.isValidJSONObject([value]),
                  let data = try? JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys]) else { return "\(value)" }
            return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
        }
        return Set(old.keys).union(new.keys).sorted().compactMap { key in
            let a = text(old[key]), b = text(new[key])
            return a == b ? nil : "\(key): \(a) → \(b)"
        }
    }
}

public struct RunDirectoryError: Error, CustomStringConvertible {
    public var directory: String
    public var reason: String
    public var description: String { "\(directory) \(reason)" }
}
