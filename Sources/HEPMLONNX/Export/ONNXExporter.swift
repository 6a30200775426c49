import HEPMLNN
import HEPMLTensor

/// Writes a trained engine module tree as an ONNX graph: containers are walked, every layer the
/// engine has becomes the ONNX operators that compute it, with the batch axis left symbolic ("N").
///
///     let model = try ONNXExporter.export(encoder, inputs: [("image", [8, 8, 1])], outputs: ["latent"], name: "encoder")
///     try model.write(to: "encoder.onnx")
///
/// Shapes come from the engine itself: the walk carries, beside each ONNX value, the engine's
/// output for one all-zero sample, so every layer is exported with the shapes it really sees and
/// a module the engine rejects is rejected here with the same message. The module is exported in
/// inference mode (dropout off, batch-norm running statistics) and left in the mode it was in.
///
/// Models built from a `ModelSpec` (`GraphModel`) export with their named inputs and outputs. A
/// module type of a workflow that composes its children in its own `forward` conforms to
/// `ONNXExportable` and writes itself with `emit`, `concatenate` and `slice`.
public struct ONNXExporter {
    /// Choices that change the exported graph's interface.
    public struct Options: Sendable {
        /// Recurrent layers take their initial states as graph inputs and give their final states
        /// as graph outputs, so that a long sequence can be fed in chunks (see docs/onnx.md).
        public var statefulRecurrent: Bool

        public init(statefulRecurrent: Bool = false) {
            self.statefulRecurrent = statefulRecurrent
        }
    }

    /// A tensor of the graph being written: its ONNX name, and the engine's value for one
    /// all-zero sample, which gives the per-sample shape.
    public struct Value {
        public let name: String
        public let sample: Variable<Float>

        public init(name: String, sample: Variable<Float>) {
            self.name = name
            self.sample = sample
        }

        /// The shape without the batch axis.
        public var shape: [Int] { Array(sample.shape.dropFirst()) }
    }

    public var graph: ONNXGraphBuilder
    public let options: Options
    /// State outputs of stateful recurrent layers, declared after the model's own outputs.
    var stateOutputs: [(name: String, value: String, shape: [ONNXDimension])] = []
    /// Argmax indices and input shape of each exported max pooling that keeps its indices, for
    /// the `MaxUnpool` paired with it.
    var poolIndices: [ObjectIdentifier: (indices: String, inputShape: String)] = [:]

    public init(name: String, options: Options = Options()) {
        graph = ONNXGraphBuilder(name: name)
        self.options = options
    }

    /// Exports `module` with one graph input per entry of `inputs` (per-sample shapes; the batch
    /// axis is added as "N") and names its results `outputs`.
    public static func export(_ module: Module<Float>, inputs: [(name: String, shape: [Int])], outputs: [String], name: String,
                              documentation: String = "", options: Options = Options()) throws -> ONNXModel {
        try inInferenceMode(module) {
            var exporter = ONNXExporter(name: name, options: options)
            let values = inputs.map { exporter.input($0.name, shape: $0.shape) }
            let results = try exporter.emit(module, path: "", values)
            guard results.count == outputs.count else {
                throw ONNXExportError(path: "", kind: module.kind, "gives \(results.count) outputs, \(outputs.count) names given")
            }
            for (value, outputName) in zip(results, outputs) { exporter.output(value, name: outputName) }
            return exporter.model(documentation: documentation)
        }
    }

    /// Exports a model built from a `ModelSpec` with its declared inputs and outputs, named as
    /// in the spec unless `inputNames`/`outputNames` rename them (in order).
    public static func export(_ model: GraphModel<Float>, inputNames: [String]? = nil, outputNames: [String]? = nil, name: String? = nil,
                              documentation: String = "", options: Options = Options()) throws -> ONNXModel {
        let spec = model.spec
        let inputs = inputNames ?? spec.inputs.map(\.name), outputs = outputNames ?? spec.outputs
        guard inputs.count == spec.inputs.count, outputs.count == spec.outputs.count else {
            throw ONNXExportError(path: "", kind: model.kind, "has inputs \(spec.inputs.map(\.name)) and outputs \(spec.outputs); \(inputs.count) and \(outputs.count) names given")
        }
        return try export(model, inputs: zip(inputs, spec.inputs).map { (name: $0, shape: $1.shape) }, outputs: outputs,
                          name: name ?? spec.name, documentation: documentation, options: options)
    }

    /// Declares a float graph input of shape (N, shape…).
    public mutating func input(_ name: String, shape: [Int]) -> Value {
        let sample = Variable(Tensor<Float>(zeros: [1] + shape))
        return Value(name: graph.input(name, shape: Self.batched(shape)), sample: sample)
    }

    /// Declares `value` as a graph output named `name`.
    public mutating func output(_ value: Value, name: String) {
        graph.output(value.name, name: name, shape: Self.batched(value.shape))
    }

    /// The model, with the state outputs of stateful recurrent layers after the declared outputs.
    public mutating func model(documentation: String) -> ONNXModel {
        for state in stateOutputs { graph.output(state.value, name: state.name, shape: state.shape) }
        stateOutputs = []
        return graph.model(documentation: documentation)
    }

    static func batched(_ shape: [Int]) -> [ONNXDimension] { [.symbolic("N")] + shape.map { .fixed(Int64($0)) } }

    /// `module` at `path` (dot-separated child names, "" for the root) applied to `inputs`.
    public mutating func emit(_ module: Module<Float>, path: String, _ inputs: [Value]) throws -> [Value] {
        if let custom = module as? any ONNXExportable {
            return try custom.exportONNX(to: &self, path: path, inputs: inputs)
        }
        if let graphModel = module as? GraphModel<Float> {
            return try emitGraphModel(graphModel, path: path, inputs)
        }
        guard inputs.count == 1 else {
            throw ONNXExportError(path: path, kind: module.kind, "takes one input, \(inputs.count) given")
        }
        return [try emit(module, path: path, inputs[0])]
    }

    /// `module` at `path` applied to one input.
    public mutating func emit(_ module: Module<Float>, path: String, _ input: Value) throws -> Value {
        if module is any ONNXExportable || module is GraphModel<Float> {
            let results = try emit(module, path: path, [input])
            guard results.count == 1 else { throw ONNXExportError(path: path, kind: module.kind, "gives \(results.count) outputs where one is expected") }
            return results[0]
        }
        if let sequential = module as? Sequential<Float> {
            var x = input
            for (name, child) in sequential.children { x = try emit(child, path: Self.join(path, name), x) }
            return x
        }
        let sample: Variable<Float>
        do {
            sample = try module(input.sample)
        } catch {
            throw ONNXExportError(path: path, kind: module.kind, "the engine rejects its input \(input.shape): \(error)")
        }
        guard let name = try emitLayer(module, path: path, input, output: sample) else {
            throw ONNXExportError(path: path, kind: module.kind, "no ONNX mapping")
        }
        return Value(name: name, sample: sample)
    }

    /// A spec-built model: each block reads model inputs and earlier blocks by name, several
    /// concatenated along the block's axis, as `GraphModel.forward` does.
    mutating func emitGraphModel(_ model: GraphModel<Float>, path: String, _ inputs: [Value]) throws -> [Value] {
        let spec = model.spec
        guard inputs.count == spec.inputs.count else {
            throw ONNXExportError(path: path, kind: model.kind, "takes inputs \(spec.inputs.map(\.name)), \(inputs.count) given")
        }
        var values = Dictionary(zip(spec.inputs.map(\.name), inputs), uniquingKeysWith: { first, _ in first })
        for (block, sequential) in zip(spec.blocks, model.blocks) {
            let parts = block.inputs.compactMap { values[$0] }
            values[block.name] = try emit(sequential, path: Self.join(path, block.name), try concatenate(parts, axis: block.concatenationAxis))
        }
        return try spec.outputs.map { output in
            guard let value = values[output] else { throw ONNXExportError(path: path, kind: model.kind, "output \(output) is not defined") }
            return value
        }
    }

    /// `values` joined along per-sample axis `axis` (the engine's `concatenate` on axis + 1).
    public mutating func concatenate(_ values: [Value], axis: Int) throws -> Value {
        if values.count == 1 { return values[0] }
        let sample = try Variable.concatenate(values.map(\.sample), axis: axis + 1)
        return Value(name: graph.concat(values.map(\.name), axis: axis + 1), sample: sample)
    }

    /// Elements `range` of per-sample axis `axis`.
    public mutating func slice(_ value: Value, axis: Int, _ range: Range<Int>) throws -> Value {
        let sample = try value.sample.slice(axis: axis + 1, range)
        return Value(name: graph.slice(value.name, starts: [range.lowerBound], ends: [range.upperBound], axes: [axis + 1]), sample: sample)
    }

    /// A child's path: "encoder" + "3" → "encoder.3".
    public static func join(_ path: String, _ child: String) -> String { path.isEmpty ? child : "\(path).\(child)" }

    /// Runs `body` with `module` and its descendants in inference mode, then restores each one's
    /// mode (set in pre-order, so that every module ends with its own).
    static func inInferenceMode<R>(_ module: Module<Float>, _ body: () throws -> R) rethrows -> R {
        var modes: [(Module<Float>, Bool)] = []
        func collect(_ module: Module<Float>) {
            modes.append((module, module.isTraining))
            for (_, child) in module.children { collect(child) }
        }
        collect(module)
        module.setTraining(false)
        defer { for (module, training) in modes { module.setTraining(training) } }
        return try body()
    }
}

/// A module that writes its own ONNX nodes: a workflow's model whose `forward` composes its
/// children in ways a walk cannot see (branches, packed inputs). It emits its children with
/// `exporter.emit(child, path: ONNXExporter.join(path, name), …)`.
public protocol ONNXExportable {
    func exportONNX(to exporter: inout ONNXExporter, path: String, inputs: [ONNXExporter.Value]) throws -> [ONNXExporter.Value]
}

/// A module that cannot be exported, named by its path and kind: "encoder.3 (Foo): no ONNX mapping".
public struct ONNXExportError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let kind: String
    public let reason: String

    public init(path: String, kind: String, _ reason: String) {
        self.path = path
        self.kind = kind
        self.reason = reason
    }

    public var description: String { "ONNX export: \(path.isEmpty ? "model" : path) (\(kind)): \(reason)" }
}
