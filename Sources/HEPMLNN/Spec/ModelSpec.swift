import Foundation
import HEPMLCore
import HEPMLTensor

/// Initial weights of dense layers other than Keras' Glorot-uniform weights and zero biases.
public enum DenseInitialization: String, Codable, Equatable, Sendable {
    /// `torch.nn.Linear`'s own: weight and bias both U(±1/√in) (kaiming-uniform with a = √5),
    /// which models ported from PyTorch without an explicit init were trained with.
    case pytorch
}

/// The one declarative description of a network: named inputs, named blocks (sub-networks such
/// as "encoder" and "decoder", each a chain of layers over one input or over the concatenation
/// of several) and named outputs. It builds the engine module (`GraphModel`), infers every shape,
/// counts parameters and operations (`ModelSummary`), and is saved as `model.json` beside the
/// weights, so that a trained model can be rebuilt and reloaded without the code that made it.
public struct ModelSpec: Codable, Equatable, Sendable {
    public struct Input: Codable, Equatable, Sendable {
        public var name: String
        /// Per-sample shape, channels first.
        public var shape: [Int]
        public init(_ name: String, shape: [Int]) {
            self.name = name
            self.shape = shape
        }
    }

    public struct Block: Codable, Equatable, Sendable {
        public var name: String
        /// Model inputs or earlier blocks; several are concatenated along `concatenationAxis`.
        public var inputs: [String]
        /// Per-sample axis of the concatenation (0 = the first axis after the batch).
        public var concatenationAxis: Int
        public var layers: [LayerSpec]

        public init(_ name: String, inputs: [String], concatenationAxis: Int = 0, layers: [LayerSpec]) {
            self.name = name
            self.inputs = inputs
            self.concatenationAxis = concatenationAxis
            self.layers = layers
        }
    }

    public var name: String
    public var inputs: [Input]
    public var blocks: [Block]
    /// Block (or input) names the model returns, in order.
    public var outputs: [String]
    /// Workflow facts recorded with the model (e.g. ECON-T's eLink budget); never used to build it.
    public var metadata: [String: String]
    /// How dense layers draw their initial weights and biases; nil is Keras' defaults
    /// (Glorot-uniform weights, zero biases). Absent from `model.json` when nil.
    public var denseInitialization: DenseInitialization?

    public init(name: String, inputs: [Input], blocks: [Block], outputs: [String], metadata: [String: String] = [:],
                denseInitialization: DenseInitialization? = nil) {
        self.name = name
        self.inputs = inputs
        self.blocks = blocks
        self.outputs = outputs
        self.metadata = metadata
        self.denseInitialization = denseInitialization
    }

    /// The common case: one input, one chain of layers, one output.
    public static func sequential(_ name: String, input shape: [Int], layers: [LayerSpec]) -> ModelSpec {
        ModelSpec(name: name, inputs: [Input("input", shape: shape)], blocks: [Block("layers", inputs: ["input"], layers: layers)],
                  outputs: ["layers"])
    }

    /// Checks that names are unique and every block reads only inputs and earlier blocks.
    public func validate() throws {
        var known = Set<String>()
        func fail(_ message: String) -> ShapeError { ShapeError(operation: "ModelSpec \(name)", message, shapes: []) }
        guard !inputs.isEmpty else { throw fail("has no input") }
        for name in inputs.map(\.name) + blocks.map(\.name) {
            guard !name.isEmpty, !name.contains("."), known.insert(name).inserted else {
                throw fail("names must be unique, non-empty and free of '.': \(name)")
            }
        }
        var defined = Set(inputs.map(\.name))
        for block in blocks {
            guard !block.inputs.isEmpty, block.inputs.allSatisfy(defined.contains) else {
                throw fail("block \(block.name) reads \(block.inputs), but only \(defined.sorted()) come before it")
            }
            defined.insert(block.name)
        }
        guard !outputs.isEmpty, outputs.allSatisfy(defined.contains) else { throw fail("outputs \(outputs) are not all defined") }
    }

    /// Builds the network with weights drawn from `seed` (and `stream`, which lets a workflow keep
    /// its models' random streams apart) in block and layer order.
    public func build<T: TensorScalar>(seed: UInt64, stream: UInt64 = 0, as _: T.Type = T.self) throws -> GraphModel<T> {
        try GraphModel(self, seed: seed, stream: stream)
    }

    /// Shapes, parameters and operation counts of every layer (builds the model once, in Double,
    /// and passes one zero sample through it).
    public func summary() throws -> ModelSummary {
        try build(seed: 0, as: Double.self).summary
    }

    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// Reads a description written by `jsonData()`; `file` names it in errors.
    public init(json data: Data, file: String) throws {
        do {
            self = try JSONDecoder().decode(ModelSpec.self, from: data)
        } catch {
            throw FileFormatError(file: file, object: "model description", reason: "\(error)")
        }
        do {
            try validate()
        } catch {
            throw FileFormatError(file: file, object: "model description", reason: "\(error)")
        }
    }
}

/// What a built model looks like layer by layer, for reports, `model.json` readers and the
/// workflows' published numbers (parameter counts, FLOPs).
public struct ModelSummary: Codable, Equatable, Sendable {
    public struct Layer: Codable, Equatable, Sendable {
        public var block: String
        public var index: Int
        public var kind: String
        public var inputShape: [Int]
        public var outputShape: [Int]
        public var parameters: Int
        public var multiplyAdds: Int
        public var tensorflowFLOPs: Int?
    }

    public var layers: [Layer]
    /// Per-sample shape of every input and block output.
    public var shapes: [String: [Int]]

    public var parameters: Int { layers.reduce(0) { $0 + $1.parameters } }
    public var multiplyAdds: Int { layers.reduce(0) { $0 + $1.multiplyAdds } }

    public func parameters(in blocks: Set<String>) -> Int {
        layers.filter { blocks.contains($0.block) }.reduce(0) { $0 + $1.parameters }
    }

    /// TensorFlow-convention FLOPs of `blocks`; nil when one of their layers has no counting rule.
    public func tensorflowFLOPs(in blocks: Set<String>) -> Int? {
        var total = 0
        for layer in layers where blocks.contains(layer.block) {
            guard let flops = layer.tensorflowFLOPs else { return nil }
            total += flops
        }
        return total
    }
}
