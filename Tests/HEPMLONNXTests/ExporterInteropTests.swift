import Foundation
import HEPMLCore
import HEPMLNN
import HEPMLTensor
import HEPMLTestSupport
import Testing
@testable import HEPMLONNX

/// One small seeded model per layer family, exported and run in ONNX Runtime against the
/// engine's own forward pass: within 1e-5 for float outputs, equal for quantized ones. Each test
/// runs all its models in one Python process.
@Suite("ONNX export against ONNX Runtime")
struct ExporterInteropTests {
    /// A model and its inputs; with `chunks`, the first input is fed in pieces of these lengths
    /// along the time axis, each run starting from the states ("….h_out" → "….h_in") the last
    /// one ended with (zeros at first).
    struct Case {
        var model: ONNXModel
        var inputs: [(name: String, tensor: Tensor<Float>)]
        var chunks: [Int]? = nil
    }

    /// Checks each model with `onnx.checker`, runs it, and prints per case a list of runs, each
    /// a dictionary of output name → values flattened.
    static let runner = """
    import json, sys
    import numpy as np, onnx, onnxruntime as ort
    results = []
    for case in json.load(open(sys.argv[1])):
        onnx.checker.check_model(onnx.load(case["model"]), full_check=True)
        session = ort.InferenceSession(case["model"], providers=["CPUExecutionProvider"])
        feeds = {name: np.array(v["values"], dtype=np.float32).reshape(v["shape"]) for name, v in case["inputs"].items()}
        names = [o.name for o in session.get_outputs()]
        def run(feeds):
            return {name: [float(x) for x in np.asarray(value, dtype=np.float64).ravel()] for name, value in zip(names, session.run(None, feeds))}
        if "chunks" not in case:
            results.append([run(feeds)])
            continue
        sequence_name = case["sequence"]
        sequence, start, runs = feeds[sequence_name], 0, []
        states = {i.name: np.zeros([d if isinstance(d, int) else sequence.shape[0] for d in i.shape], dtype=np.float32)
                  for i in session.get_inputs() if i.name.endswith("_in")}
        for length in case["chunks"]:
            outputs = session.run(None, {**feeds, sequence_name: sequence[:, start:start + length], **states})
            start += length
            runs.append({name: [float(x) for x in np.asarray(value, dtype=np.float64).ravel()] for name, value in zip(names, outputs)})
            states = {name[:-4] + "_in": value for name, value in zip(names, outputs) if name.endswith("_out")}
        results.append(runs)
    print(json.dumps(results))
    """

    static func run(_ cases: [Case], python: String) throws -> [[[String: [Double]]]] {
        let directory = try TestEnvironment.temporaryDirectory("onnx-export")
        defer { try? FileManager.default.removeItem(at: directory) }
        var specification: [[String: Any]] = []
        for (index, testCase) in cases.enumerated() {
            let path = directory.appendingPathComponent("model\(index).onnx").path
            try testCase.model.write(to: path)
            var inputs: [String: Any] = [:]
            for (name, tensor) in testCase.inputs { inputs[name] = ["shape": tensor.shape, "values": tensor.scalars.map(Double.init)] }
            var entry: [String: Any] = ["model": path, "inputs": inputs]
            if let chunks = testCase.chunks, let first = testCase.inputs.first {
                entry["chunks"] = chunks
                entry["sequence"] = first.name
            }
            specification.append(entry)
        }
        let specificationPath = directory.appendingPathComponent("cases.json").path
        try JSONSerialization.data(withJSONObject: specification).write(to: URL(fileURLWithPath: specificationPath))
        let result = try TestEnvironment.runPython(python, script: runner, arguments: [specificationPath])
        try #require(result.status == 0, "python failed: \(result.output)")
        let lastLine = result.output.split(separator: "\n").last.map(String.init) ?? ""
        return try #require(try JSONSerialization.jsonObject(with: Data(lastLine.utf8)) as? [[[String: [Double]]]])
    }

    static func random(_ shape: [Int], seed: UInt64, scale: Double = 1) -> Tensor<Float> {
        var generator = SeededGenerator(seed: seed, stream: 0x0E)
        let count = shape.reduce(1, *)
        // Shapes here are non-empty and positive, so the tensor always builds.
        return (try? Tensor(shape: shape, scalars: (0..<count).map { _ in Float((generator.nextUniform() * 2 - 1) * scale) })) ?? Tensor(zeros: shape)
    }

    /// The engine's output in inference mode.
    static func engine(_ module: Module<Float>, _ x: Tensor<Float>) throws -> [Float] {
        module.setTraining(false)
        return try module(Variable(x)).value.scalars
    }

    /// Exports each single-input module (input "x", output "y"), runs it on a seeded batch of 3
    /// and compares with the engine: max |Δ| ≤ `tolerance` (0: equal).
    static func expectAgreement(_ models: [(label: String, module: Module<Float>, shape: [Int])], python: String,
                                tolerance: Double = 1e-5, scale: Double = 1) throws {
        var cases: [Case] = [], expected: [[Float]] = []
        for (index, entry) in models.enumerated() {
            let x = random([3] + entry.shape, seed: UInt64(index) + 1, scale: scale)
            expected.append(try engine(entry.module, x))
            cases.append(Case(model: try ONNXExporter.export(entry.module, inputs: [("x", entry.shape)], outputs: ["y"], name: entry.label),
                              inputs: [("x", x)]))
        }
        let results = try run(cases, python: python)
        for (index, entry) in models.enumerated() {
            let actual = try #require(results[index].first?["y"], "\(entry.label)")
            #expect(actual.count == expected[index].count, "\(entry.label)")
            let difference = zip(actual, expected[index]).map { abs($0 - Double($1)) }.max() ?? 0
            #expect(difference <= tolerance, "\(entry.label): max |ONNX Runtime − HEPML| = \(difference)")
        }
    }

    @Test("Linear (Gemm and MatMul), every activation, dropout and batch norm in inference form", .requiresPython)
    func linearActivationsAndNormalization() throws {
        let python = try TestEnvironment.python()
        var generator = SeededGenerator(seed: 21)
        let functions: [ActivationFunction] = [.relu, .tanh, .sigmoid, .softplus, .gelu, .softmax, .logSoftmax, .leakyRelu(slope: 0.2), .elu(alpha: 0.7)]
        var models: [(label: String, module: Module<Float>, shape: [Int])] = functions.map { function in
            let linear = Linear<Float>(5, 4, generator: &generator)
            linear.bias?.value = Self.random([4], seed: 3)
            return ("\(function)", Sequential<Float>([linear, Activation(function), Dropout(0.4, seed: 1)]), [5])
        }
        // Features on the last of several axes: MatMul + Add.
        models.append(("linear on [6, 5]", Sequential<Float>([Linear<Float>(5, 3, generator: &generator), Activation(.tanh)]), [6, 5]))
        let dense = BatchNorm<Float>(4, epsilon: 1e-3)
        let image = BatchNorm<Float>(2)
        for (index, norm) in [dense, image].enumerated() {
            let channels = norm.scale.shape[0]
            norm.scale.value = Self.random([channels], seed: 10 + UInt64(index))
            norm.shift.value = Self.random([channels], seed: 20 + UInt64(index))
            norm.statistics.mean.value = Self.random([channels], seed: 30 + UInt64(index))
            norm.statistics.variance.value = try Tensor(shape: [channels], scalars: (0..<channels).map { 0.5 + Float($0) })
        }
        models.append(("batchnorm [C]", Sequential<Float>([Linear<Float>(5, 4, generator: &generator), dense]), [5]))
        models.append(("batchnorm [C, H, W]", image, [2, 3, 4]))
        try Self.expectAgreement(models, python: python, scale: 2)
    }

    @Test("Convolutions and transposed convolutions 1-D/2-D/3-D: stride, valid/same/explicit padding, output padding", .requiresPython)
    func convolutions() throws {
        let python = try TestEnvironment.python()
        var g = SeededGenerator(seed: 22)
        let models: [(label: String, module: Module<Float>, shape: [Int])] = [
            ("conv1d same stride 2 → transposed same k < s", Sequential<Float>([
                Conv1d<Float>(2, 3, kernel: 3, stride: 2, padding: .same, generator: &g), Activation(.relu),
                ConvTranspose1d<Float>(3, 2, kernel: 2, stride: 3, padding: .same, generator: &g)]), [2, 9]),
            ("conv2d explicit → transposed explicit + output padding", Sequential<Float>([
                Conv2d<Float>(1, 3, kernel: [3, 2], stride: [2, 1], padding: .explicit([1, 2]), generator: &g),
                ConvTranspose2d<Float>(3, 2, kernel: [3, 3], stride: [2, 3], padding: .explicit([1, 0]), outputPadding: [1, 2], generator: &g)]), [1, 7, 5]),
            ("conv2d same stride 2 → transposed same k > s", Sequential<Float>([
                Conv2d<Float>(2, 4, kernel: [3, 3], stride: [2, 2], padding: .same, generator: &g),
                ConvTranspose2d<Float>(4, 1, kernel: [3, 3], stride: [2, 2], padding: .same, generator: &g)]), [2, 8, 7]),
            ("conv3d valid stride → transposed valid + output padding", Sequential<Float>([
                Conv3d<Float>(2, 2, kernel: [2, 3, 2], stride: [1, 2, 2], generator: &g),
                ConvTranspose3d<Float>(2, 3, kernel: [2, 2, 3], stride: [2, 1, 2], outputPadding: [1, 0, 1], generator: &g)]), [2, 3, 5, 4]),
            ("conv3d same → transposed same", Sequential<Float>([
                Conv3d<Float>(1, 2, kernel: [3, 3, 3], stride: [2, 1, 2], padding: .same, generator: &g),
                ConvTranspose3d<Float>(2, 1, kernel: [3, 2, 3], stride: [2, 2, 2], padding: .same, generator: &g)]), [1, 5, 4, 5]),
        ]
        for (_, module, _) in models {
            for (_, parameter) in module.namedParameters() where parameter.shape.count == 1 { parameter.value = Self.random(parameter.shape, seed: 5) }
        }
        try Self.expectAgreement(models, python: python)
    }

    @Test("Max and average pooling 1-D/2-D/3-D with ceil mode, max-unpooling, nearest and linear upsampling", .requiresPython)
    func poolingAndUpsampling() throws {
        let python = try TestEnvironment.python()
        let ceilPool = Pool<Float>(.max, kernel: [3, 2], stride: [2, 2], ceilMode: true, keepsIndices: true)
        let floorPool = Pool<Float>(.max, kernel: [2], keepsIndices: true)
        let models: [(label: String, module: Module<Float>, shape: [Int])] = [
            ("maxpool2d ceil", Pool<Float>(.max, kernel: [3, 3], stride: [2, 2], ceilMode: true), [2, 7, 6]),
            ("avgpool1d ceil (clipped window)", Pool<Float>(.average, kernel: [3], stride: [2], ceilMode: true), [2, 8]),
            // Rows: a last window of one row; columns: none starts inside the input, none is kept.
            ("avgpool2d ceil, stride longer than kernel", Pool<Float>(.average, kernel: [2, 1], stride: [3, 3], ceilMode: true), [1, 10, 9]),
            ("avgpool3d floor", Pool<Float>(.average, kernel: [2, 2, 2], stride: [1, 2, 2]), [1, 3, 5, 4]),
            ("maxpool3d ceil", Pool<Float>(.max, kernel: [2, 2, 2], ceilMode: true), [2, 3, 5, 4]),
            ("max-unpool2d after a ceil-mode pool", Sequential<Float>([ceilPool, Activation(.tanh), MaxUnpool(ceilPool)]), [2, 7, 5]),
            ("max-unpool1d restoring a dropped remainder", Sequential<Float>([floorPool, MaxUnpool(floorPool)]), [3, 7]),
            ("upsample nearest 1-D", Upsample<Float>(scale: [3]), [2, 4]),
            ("upsample nearest 2-D", Upsample<Float>(scale: [2, 3]), [2, 3, 2]),
            ("upsample nearest 3-D", Upsample<Float>(scale: [2, 1, 2]), [1, 2, 3, 2]),
            ("upsample linear 1-D", Upsample<Float>(scale: [3], mode: .linear), [2, 4]),
            ("upsample linear 2-D", Upsample<Float>(scale: [2, 3], mode: .linear), [2, 3, 4]),
            ("upsample linear 3-D", Upsample<Float>(scale: [2, 2, 3], mode: .linear), [1, 2, 3, 2]),
        ]
        try Self.expectAgreement(models, python: python)
    }

    @Test("Reshape, flatten, permute and slice", .requiresPython)
    func shapeLayers() throws {
        let python = try TestEnvironment.python()
        let models: [(label: String, module: Module<Float>, shape: [Int])] = [
            ("permute, slice, flatten, reshape", Sequential<Float>([Permute<Float>([2, 0, 1]), Slice<Float>(axis: 1, 1..<3), Flatten<Float>(), Reshape<Float>([4, 2, 2])]), [3, 4, 2]),
            ("permute of a one-channel image", Permute<Float>([1, 2, 0]), [1, 3, 4]),
        ]
        try Self.expectAgreement(models, python: python)
    }

    @Test("RNN, GRU and LSTM, one and two layers, sequences and last step", .requiresPython)
    func recurrent() throws {
        let python = try TestEnvironment.python()
        var g = SeededGenerator(seed: 23)
        var models: [(label: String, module: Module<Float>, shape: [Int])] = []
        for cell in [Recurrent<Float>.Cell.rnn, .gru, .lstm] {
            models.append(("\(cell) 1 layer, sequence", Recurrent<Float>(cell, inputSize: 3, hiddenSize: 4, generator: &g), [5, 3]))
            models.append(("\(cell) 2 layers, last step", Recurrent<Float>(cell, inputSize: 3, hiddenSize: 4, layers: 2, returnSequences: false, generator: &g), [6, 3]))
        }
        try Self.expectAgreement(models, python: python, scale: 2)
    }

    /// A sequence fed in chunks with the states carried between runs gives what the engine gives
    /// for the whole sequence.
    @Test("Stateful recurrent export: chunks with carried states equal the whole sequence", .requiresPython, arguments: [Recurrent<Float>.Cell.lstm, .gru, .rnn])
    func statefulRecurrent(cell: Recurrent<Float>.Cell) throws {
        let python = try TestEnvironment.python()
        var g = SeededGenerator(seed: 24)
        let recurrent = Recurrent<Float>(cell, inputSize: 3, hiddenSize: 4, layers: 2, generator: &g)
        let model = Sequential<Float>([recurrent, Linear<Float>(4, 2, generator: &g)])
        let x = Self.random([2, 7, 3], seed: 8, scale: 2)
        let expected = try Self.engine(model, x)  // [2, 7, 2]
        let exported = try ONNXExporter.export(model, inputs: [("x", [7, 3])], outputs: ["y"], name: "stateful",
                                               options: ONNXExporter.Options(statefulRecurrent: true))
        #expect(exported.graph.inputs.map(\.name) == ["x", "0.h_in"] + (cell == .lstm ? ["0.c_in"] : []))
        #expect(exported.graph.outputs.map(\.name) == ["y", "0.h_out"] + (cell == .lstm ? ["0.c_out"] : []))
        // The declared time axis is 7; a streaming caller feeds other lengths.
        var streaming = exported
        streaming.graph.inputs[0].shape[1] = .symbolic("T")
        streaming.graph.outputs[0].shape[1] = .symbolic("T")
        let runs = try #require(try Self.run([Case(model: streaming, inputs: [("x", x)], chunks: [3, 1, 3])], python: python).first)
        var start = 0
        for (run, length) in zip(runs, [3, 1, 3]) {
            let actual = try #require(run["y"])
            for sample in 0..<2 {
                for step in 0..<length {
                    for unit in 0..<2 {
                        let e = expected[(sample * 7 + start + step) * 2 + unit], a = actual[(sample * length + step) * 2 + unit]
                        #expect(abs(a - Double(e)) <= 1e-5, "\(cell) chunk at \(start), sample \(sample), step \(step)")
                    }
                }
            }
            start += length
        }
    }

    @Test("Graph convolution (sum, mean, symmetric) and attention pooling", .requiresPython)
    func graphLayers() throws {
        let python = try TestEnvironment.python()
        var g = SeededGenerator(seed: 25)
        let edges = [(0, 1), (1, 2), (2, 0), (3, 1), (1, 1), (4, 2)]
        var models: [(label: String, module: Module<Float>, shape: [Int])] = []
        for normalization in [GraphAdjacency.Normalization.sum, .mean, .symmetric] {
            let first = try GraphConvolution<Float>(3, 4, nodeCount: 5, edges: edges, normalization: normalization, generator: &g)
            let second = try GraphConvolution<Float>(4, 2, nodeCount: 5, edges: edges, normalization: normalization, generator: &g)
            first.neighbour.bias?.value = Self.random([4], seed: 9)
            models.append(("graph conv \(normalization) + attention pooling",
                           Sequential<Float>([first, Activation(.relu), second, AttentionPooling(features: 2, generator: &g)]), [5, 3]))
        }
        try Self.expectAgreement(models, python: python)
    }

    /// The group aggregation exports as Pad/Gather/ReduceSum/Gather (no V × V matrix), over
    /// leading step axes; uneven groups and a node alone in its group included.
    @Test("Group graph convolution and pooling over steps, gather, residual, VAE (inference) and reshape with −1", .requiresPython)
    func groupGraphAndFriends() throws {
        let python = try TestEnvironment.python()
        var g = SeededGenerator(seed: 26)
        let groups = try NodeGroups(groupOfNode: [2, 0, 0, 1, 0, 2, 3])
        let first = GroupGraphConvolution<Float>(1, 4, groups: groups, generator: &g)
        first.linear.bias?.value = Self.random([4], seed: 10)
        let models: [(label: String, module: Module<Float>, shape: [Int])] = [
            ("gather nodes, two group graph convolutions, attention pooling per step",
             Sequential<Float>([Reshape<Float>([-1, 9]), Gather<Float>(axis: 1, indices: [8, 0, 3, 4, 1, 7, 2]), Reshape<Float>([-1, 7, 1]),
                                first, Activation(.relu), GroupGraphConvolution<Float>(4, 3, groups: groups, generator: &g), Activation(.relu),
                                AttentionPooling(features: 3, generator: &g)]), [3, 3, 3]),
            ("residual around linear + leaky ReLU, then a VAE bottleneck",
             Sequential<Float>([Residual<Float>(Sequential([Linear<Float>(4, 4, generator: &g), Activation(.leakyRelu(slope: 0.5))])),
                                VariationalBottleneck<Float>(features: 4, klWeight: 1e-4, seed: 3, generator: &g)]), [5, 4]),
        ]
        try Self.expectAgreement(models, python: python)
    }

    @Test("QKeras quantizers and quantized weights reproduce the engine exactly", .requiresPython)
    func quantizers() throws {
        let python = try TestEnvironment.python()
        var g = SeededGenerator(seed: 26)
        let dense = Linear<Float>(6, 5, generator: &g)
        dense.weightQuantizer = .bits(bits: 4, integer: 0)
        dense.biasQuantizer = .bits(bits: 6, integer: 1)
        dense.bias?.value = Self.random([5], seed: 4)
        let conv = Conv1d<Float>(1, 2, kernel: 3, padding: .same, generator: &g)
        conv.weightQuantizer = .bits(bits: 5, integer: 1, alpha: 0.75)
        let quantizers: [Quantizer] = [.bits(bits: 6, integer: 2), .bits(bits: 5, integer: 1, keepNegative: false), .relu(bits: 5, integer: 1),
                                       .bits(bits: 1, integer: 0), .bits(bits: 8, integer: 3, alpha: 0.75)]
        var models: [(label: String, module: Module<Float>, shape: [Int])] = quantizers.map { ("\($0)", Quantize<Float>($0), [6]) }
        models.append(("quantized dense", Sequential<Float>([Quantize<Float>(.bits(bits: 8, integer: 2)), dense, Quantize<Float>(.relu(bits: 6, integer: 2))]), [6]))
        // Products and sums of few-bit values are exact in float32 in any order.
        models.append(("quantized conv", Sequential<Float>([Quantize<Float>(.bits(bits: 8, integer: 2)), Reshape<Float>([1, 6]), conv, Flatten<Float>(), Quantize<Float>(.bits(bits: 7, integer: 2))]), [6]))
        try Self.expectAgreement(models, python: python, tolerance: 0, scale: 3)
        // Ties: values exactly halfway between codes round to even in both.
        let ties = Quantize<Float>(.bits(bits: 6, integer: 2))  // least significant bit 1/8
        let x = try Tensor<Float>(shape: [1, 6], scalars: [1.0 / 16, 3.0 / 16, -1.0 / 16, -3.0 / 16, 5.0 / 16, 100])
        let results = try Self.run([Case(model: try ONNXExporter.export(ties, inputs: [("x", [6])], outputs: ["y"], name: "ties"), inputs: [("x", x)])], python: python)
        #expect(results.first?.first?["y"] == [0, 0.25, 0, -0.25, 0.25, 3.875])
        #expect(try Self.engine(ties, x) == [0, 0.25, 0, -0.25, 0.25, 3.875])
    }

    /// Two inputs concatenated and split again, through `ONNXExportable`.
    final class TwoBranches: Module<Float>, ONNXExportable {
        let mix: Linear<Float>
        init(generator: inout SeededGenerator) {
            mix = Linear(5, 5, generator: &generator)
            super.init()
        }
        override var children: [(String, Module<Float>)] { [("mix", mix)] }
        func exportONNX(to exporter: inout ONNXExporter, path: String, inputs: [ONNXExporter.Value]) throws -> [ONNXExporter.Value] {
            let mixed = try exporter.emit(mix, path: ONNXExporter.join(path, "mix"), try exporter.concatenate(inputs, axis: 0))
            return [try exporter.slice(mixed, axis: 0, 0..<2), try exporter.slice(mixed, axis: 0, 2..<5)]
        }
    }

    /// Two named inputs, a block over their concatenation, two named outputs; the names of the
    /// spec unless renamed.
    @Test("A ModelSpec's GraphModel exports with its named inputs, concatenations and outputs", .requiresPython)
    func graphModel() throws {
        let python = try TestEnvironment.python()
        let spec = ModelSpec(name: "two_inputs", inputs: [.init("maps", shape: [2, 4, 4]), .init("counts", shape: [3])], blocks: [
            .init("features", inputs: ["maps"], layers: [.conv(3, kernel: [3, 3], padding: .same), .relu, .flatten]),
            .init("joined", inputs: ["features", "counts"], layers: [.dense(5), .activation(.tanh)]),
            .init("score", inputs: ["joined"], layers: [.dense(1), .activation(.sigmoid)]),
        ], outputs: ["score", "joined"])
        let model: GraphModel<Float> = try spec.build(seed: 4)
        let maps = Self.random([3, 2, 4, 4], seed: 1), counts = Self.random([3, 3], seed: 2)
        model.setTraining(false)
        let expected = try model([Variable(maps), Variable(counts)]).map(\.value.scalars)
        let exported = try ONNXExporter.export(model)
        #expect(exported.graph.inputs.map(\.name) == ["maps", "counts"] && exported.graph.outputs.map(\.name) == ["score", "joined"])
        let renamed = try ONNXExporter.export(model, inputNames: ["m", "c"], outputNames: ["p", "h"])
        #expect(renamed.graph.inputs.map(\.name) == ["m", "c"] && renamed.graph.outputs.map(\.name) == ["p", "h"])
        #expect(throws: ONNXExportError.self) { try ONNXExporter.export(model, inputNames: ["m"]) }
        let results = try Self.run([Case(model: exported, inputs: [("maps", maps), ("counts", counts)])], python: python)
        let run = try #require(results.first?.first)
        for (name, values) in zip(["score", "joined"], expected) {
            let actual = try #require(run[name])
            #expect(actual.count == values.count && zip(actual, values).allSatisfy { abs($0 - Double($1)) <= 1e-5 }, "\(name)")
        }
    }

    @Test("A workflow module with several inputs and outputs exports itself; concatenation and slices", .requiresPython)
    func multipleInputs() throws {
        let python = try TestEnvironment.python()
        var g = SeededGenerator(seed: 27)
        let module = TwoBranches(generator: &g)
        let a = Self.random([3, 2], seed: 1), b = Self.random([3, 3], seed: 2)
        let joined = try Variable.concatenate([Variable(a), Variable(b)], axis: 1)
        let mixed = try module.mix(joined)
        let model = try ONNXExporter.export(module, inputs: [("a", [2]), ("b", [3])], outputs: ["first", "second"], name: "branches")
        let results = try #require(try Self.run([Case(model: model, inputs: [("a", a), ("b", b)])], python: python).first?.first)
        for (name, range) in [("first", 0..<2), ("second", 2..<5)] {
            let expected = try mixed.slice(axis: 1, range).value.scalars
            let actual = try #require(results[name])
            #expect(zip(actual, expected).allSatisfy { abs($0 - Double($1)) <= 1e-5 }, "\(name)")
        }
    }
}

@Suite("ONNX export errors")
struct ExporterErrorTests {
    final class Unknown: Module<Float> {
        override func forward(_ x: Variable<Float>) throws -> Variable<Float> { x }
    }

    @Test("A module without a mapping is named by its path and kind")
    func unsupportedModule() throws {
        var g = SeededGenerator(seed: 1)
        let model = Sequential<Float>([Linear(3, 3, generator: &g), Sequential<Float>([Activation(.relu), Unknown()])])
        do {
            _ = try ONNXExporter.export(model, inputs: [("x", [3])], outputs: ["y"], name: "m")
            Issue.record("export should fail")
        } catch let error as ONNXExportError {
            #expect(error.description == "ONNX export: 1.1 (Unknown): no ONNX mapping")
        }
    }

    @Test("An input the engine rejects, and an unpooling whose pooling was not exported, are refused with the path")
    func rejectedInputs() throws {
        var g = SeededGenerator(seed: 1)
        #expect(throws: ONNXExportError.self) {
            try ONNXExporter.export(Sequential<Float>([Linear(3, 3, generator: &g)]), inputs: [("x", [4])], outputs: ["y"], name: "m")
        }
        let pool = Pool<Float>(.max, kernel: [2], keepsIndices: true)
        _ = try pool(Variable(Tensor(zeros: [1, 1, 4])))
        do {
            _ = try ONNXExporter.export(Sequential<Float>([MaxUnpool(pool)]), inputs: [("x", [1, 2])], outputs: ["y"], name: "m")
            Issue.record("export should fail")
        } catch let error as ONNXExportError {
            #expect(error.path == "0" && error.kind == "MaxUnpool1d")
        }
    }

    @Test("Export leaves every module in the mode it was in")
    func trainingModeRestored() throws {
        var g = SeededGenerator(seed: 1)
        let inner = Sequential<Float>([Linear(3, 3, generator: &g), Dropout(0.5, seed: 1)])
        let model = Sequential<Float>([inner, BatchNorm(3)])
        model.setTraining(true)
        inner.setTraining(false)
        _ = try ONNXExporter.export(model, inputs: [("x", [3])], outputs: ["y"], name: "m")
        #expect(model.isTraining && !inner.isTraining && !inner.layers[1].isTraining && model.layers[1].isTraining)
    }
}
