import HEPMLCore
import HEPMLTensor

/// The engine module of a `ModelSpec`: one `Sequential` per block, run in order, each reading the
/// model's inputs and earlier blocks by name. Parameter paths are "<block>.<layer>.<name>"
/// ("encoder.2.weight"), the names of weight files and checkpoints.
public final class GraphModel<T: TensorScalar>: Module<T> {
    public let spec: ModelSpec
    public let blocks: [Sequential<T>]
    /// Shapes and counts recorded while building.
    public let summary: ModelSummary

    init(_ spec: ModelSpec, seed: UInt64, stream: UInt64) throws {
        try spec.validate()
        self.spec = spec
        var generator = SeededGenerator(seed: seed, stream: stream)
        var shapes = Dictionary(spec.inputs.map { ($0.name, $0.shape) }, uniquingKeysWith: { a, _ in a })
        var built: [Sequential<T>] = []
        var layers: [ModelSummary.Layer] = []
        for block in spec.blocks {
            var shape = try Self.concatenatedShape(block.inputs.compactMap { shapes[$0] }, axis: block.concatenationAxis, block: block.name)
            var modules: [Module<T>] = []
            for (index, layer) in block.layers.enumerated() {
                let module: Module<T> = try layer.module(input: shape, generator: &generator, dropoutSeed: seed,
                                                                denseInitialization: spec.denseInitialization)
                // The engine is the one authority on output shapes: one zero sample in inference mode.
                module.setTraining(false)
                let output: [Int]
                do {
                    output = Array(try module(Variable(Tensor<T>(zeros: [1] + shape))).shape.dropFirst())
                } catch var error as ShapeError {
                    error.layerPath.insert(contentsOf: [block.name, String(index)], at: 0)
                    throw error
                }
                module.setTraining(true)
                layers.append(ModelSummary.Layer(block: block.name, index: index, kind: layer.kind, inputShape: shape, outputShape: output,
                                                 parameters: module.parameterCount, multiplyAdds: layer.multiplyAdds(input: shape, output: output),
                                                 tensorflowFLOPs: layer.tensorflowFLOPs(input: shape, output: output)))
                modules.append(module)
                shape = output
            }
            shapes[block.name] = shape
            built.append(Sequential(modules))
        }
        blocks = built
        summary = ModelSummary(layers: layers, shapes: shapes)
        super.init()
    }

    /// The per-sample shape of values concatenated along per-sample `axis`.
    static func concatenatedShape(_ shapes: [[Int]], axis: Int, block: String) throws -> [Int] {
        guard var result = shapes.first else { throw ShapeError(operation: "ModelSpec", "block \(block) has no input", shapes: []) }
        for shape in shapes.dropFirst() {
            guard shape.count == result.count, axis >= 0, axis < shape.count,
                  shape.indices.allSatisfy({ $0 == axis || shape[$0] == result[$0] }) else {
                throw ShapeError(operation: "ModelSpec", "block \(block) cannot concatenate its inputs on axis \(axis)", shapes: shapes)
            }
            result[axis] += shape[axis]
        }
        return result
    }

    public override var kind: String { "GraphModel" }
    public override var settings: [String: String] { ["name": spec.name] }
    public override var children: [(String, Module<T>)] { zip(spec.blocks.map(\.name), blocks).map { ($0, $1 as Module<T>) } }
    public override var inputNames: [String] { spec.inputs.map(\.name) }
    public override var outputNames: [String] { spec.outputs }

    public func block(named name: String) -> Sequential<T>? {
        spec.blocks.firstIndex { $0.name == name }.map { blocks[$0] }
    }

    public override func forward(_ inputs: [Variable<T>]) throws -> [Variable<T>] {
        guard inputs.count == spec.inputs.count else {
            throw ShapeError(operation: "GraphModel \(spec.name)", "expected inputs \(inputNames)", shapes: inputs.map(\.shape))
        }
        var values = Dictionary(zip(inputNames, inputs), uniquingKeysWith: { a, _ in a })
        for (block, sequential) in zip(spec.blocks, blocks) {
            let parts = block.inputs.compactMap { values[$0] }
            let x = parts.count == 1 ? parts[0] : try Variable.concatenate(parts, axis: block.concatenationAxis + 1)
            values[block.name] = try call(sequential, named: block.name, x)
        }
        return spec.outputs.compactMap { values[$0] }
    }

    public override func forward(_ x: Variable<T>) throws -> Variable<T> {
        let outputs = try forward([x])
        guard outputs.count == 1 else {
            throw ShapeError(operation: "GraphModel \(spec.name)", "has outputs \(outputNames); call it with forward(_: [Variable])", shapes: [x.shape])
        }
        return outputs[0]
    }
}
