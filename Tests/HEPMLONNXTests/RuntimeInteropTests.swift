import Foundation
import Testing
import HEPMLTestSupport
@testable import HEPMLONNX

/// ONNX Runtime runs graphs written by the builder and must reproduce what Swift computes.
@Suite("ONNX Runtime interop")
struct RuntimeInteropTests {
    /// Checks the model with `onnx.checker`, runs it in ONNX Runtime on `input` (float32, `shape`)
    /// and returns the first output flattened.
    static let runner = """
    import json, sys
    import numpy as np, onnx, onnxruntime as ort
    path, shape, values = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    x = np.array(values, dtype=np.float32).reshape(shape)
    out = session.run(None, {session.get_inputs()[0].name: x})[0]
    print(json.dumps([float(v) for v in out.astype(np.float64).ravel()]))
    """

    static func runInRuntime(_ model: ONNXModel, input: [Float], shape: [Int], python: String) throws -> [Double] {
        let directory = try TestEnvironment.temporaryDirectory("onnx-interop")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("model.onnx").path
        try model.write(to: path)
        let encode = { (value: Any) -> String in
            String(decoding: try JSONSerialization.data(withJSONObject: value), as: UTF8.self)
        }
        let result = try TestEnvironment.runPython(python, script: runner,
                                                   arguments: [path, try encode(shape), try encode(input.map(Double.init))])
        try #require(result.status == 0, "python failed: \(result.output)")
        let lastLine = result.output.split(separator: "\n").last.map(String.init) ?? ""
        return try #require(try JSONSerialization.jsonObject(with: Data(lastLine.utf8)) as? [Double])
    }

    @Test("Conv + Relu + Flatten + Gemm + Sigmoid with known weights", .requiresPython)
    func convolutionNetwork() throws {
        let python = try TestEnvironment.python()
        // Input 1×1×4×4, conv 2 filters 3×3 stride 2 with TensorFlow "same" padding (pad bottom/right only),
        // → 1×2×2×2, relu, flatten 8, dense 8→3, sigmoid.
        let input = (0..<16).map { Float($0 % 5) * 0.3 - 0.4 }
        let kernel = (0..<18).map { Float(($0 * 7) % 11) * 0.1 - 0.5 }
        let convBias: [Float] = [0.05, -0.1]
        let dense = (0..<24).map { Float(($0 * 5) % 13) * 0.08 - 0.5 }
        let denseBias: [Float] = [0.1, 0, -0.2]

        var graph = ONNXGraphBuilder(name: "cnn")
        let x = graph.input("x", shape: [.symbolic("N"), .fixed(1), .fixed(4), .fixed(4)])
        let conv = graph.conv(x, weight: graph.constant(kernel, dimensions: [2, 1, 3, 3]), bias: graph.constant(convBias, dimensions: [2]),
                              strides: [2, 2], pads: [0, 0, 1, 1])
        let hidden = graph.flatten(graph.relu(conv))
        let logits = graph.gemm(hidden, graph.constant(dense, dimensions: [3, 8]), graph.constant(denseBias, dimensions: [3]), transB: true)
        graph.output(graph.sigmoid(logits), name: "y", shape: [.symbolic("N"), .fixed(3)])

        // Reference in Swift.
        var feature = [Float](repeating: 0, count: 8)  // (channel, row, column)
        for filter in 0..<2 {
            for row in 0..<2 {
                for column in 0..<2 {
                    var sum = convBias[filter]
                    for kr in 0..<3 {
                        for kc in 0..<3 {
                            let r = row * 2 + kr, c = column * 2 + kc
                            guard r < 4, c < 4 else { continue }
                            sum += kernel[filter * 9 + kr * 3 + kc] * input[r * 4 + c]
                        }
                    }
                    feature[filter * 4 + row * 2 + column] = max(0, sum)
                }
            }
        }
        let expected = (0..<3).map { unit -> Double in
            var sum = denseBias[unit]
            for k in 0..<8 { sum += dense[unit * 8 + k] * feature[k] }
            return 1 / (1 + exp(-Double(sum)))
        }
        let actual = try Self.runInRuntime(graph.model(), input: input, shape: [1, 1, 4, 4], python: python)
        #expect(actual.count == 3)
        for (a, e) in zip(actual, expected) { #expect(abs(a - e) < 1e-5) }
    }

    @Test("Fixed-point quantizer graph reproduces clip(round(x·2^f))/2^f exactly, ties to even", .requiresPython)
    func quantizer() throws {
        let python = try TestEnvironment.python()
        var graph = ONNXGraphBuilder(name: "quantizers")
        let x = graph.input("x", shape: [.symbolic("N"), .fixed(12)])
        // quantized_relu(9, 1) then quantized_bits(10, 3) of that value minus 1.
        let latent = graph.fixedPointQuantize(x, fractionalBits: 8, lowCode: 0, highCode: 511)
        let shifted = graph.sub(latent, graph.constant([1], dimensions: []))
        graph.output(graph.fixedPointQuantize(shifted, fractionalBits: 6, lowCode: -512, highCode: 511), name: "q", shape: [.symbolic("N"), .fixed(12)])
        let input: [Float] = [-0.3, 0, 0.5 / 256, 1.5 / 256, 2.5 / 256, 0.7, 1.0078125, 1.99, 2.5, 1 + 1.0 / 128 + 1.0 / 512, 0.123456, 1.9961]

        func quantize(_ value: Float, _ bits: Int, _ low: Float, _ high: Float) -> Float {
            let scale = Float(sign: .plus, exponent: bits, significand: 1)
            return min(max((value * scale).rounded(.toNearestOrEven), low), high) / scale
        }
        let expected = input.map { quantize(quantize($0, 8, 0, 511) - 1, 6, -512, 511) }
        let actual = try Self.runInRuntime(graph.model(), input: input, shape: [1, 12], python: python)
        #expect(actual == expected.map(Double.init))
    }
}

extension RuntimeInteropTests {
    @Test("Decoder-style ops load and produce the shapes TensorFlow's same padding gives", .requiresPython)
    func decoderOperators() throws {
        let python = try TestEnvironment.python()
        var graph = ONNXGraphBuilder(name: "decoder_ops")
        let x = graph.input("x", shape: [.symbolic("N"), .fixed(16)])
        let image = graph.reshape(x, to: [-1, 1, 4, 4])
        // All-ones 3×3 kernel, stride 2, cropped to 8×8: output (2r, 2c) sums inputs at (r, c) only.
        let upsampled = graph.convTranspose(image, weight: graph.constant([Float](repeating: 1, count: 9), dimensions: [1, 1, 3, 3]),
                                            bias: nil, strides: [2, 2], pads: [0, 0, 1, 1])
        let pooled = graph.pool("MaxPool", upsampled, kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0])[0]
        let merged = graph.concat([pooled, graph.resize(pooled, scales: [1, 1, 1, 1], mode: "nearest")], axis: 1)
        let clipped = graph.min([graph.max([merged, graph.constant([0], dimensions: [])]), graph.constant([100], dimensions: [])])
        graph.output(graph.tanh(graph.floor(graph.div(clipped, graph.constant([1000], dimensions: [])))), name: "y",
                     shape: [.symbolic("N"), .fixed(2), .fixed(4), .fixed(4)])
        let input = (0..<16).map { Float($0) }
        let actual = try Self.runInRuntime(graph.model(), input: input, shape: [1, 16], python: python)
        #expect(actual == [Double](repeating: 0, count: 32))

        // Output pixel o of the transposed conv (forward-conv padding 0 before, 1 after) sums the
        // inputs i with o − 2i ∈ {0, 1, 2}; in each 2×2 window the even pixel (2r, 2c) has the
        // largest sum, over inputs (r−1…r, c−1…c) where they exist.
        var direct = ONNXGraphBuilder(name: "convtranspose")
        let xi = direct.input("x", shape: [.symbolic("N"), .fixed(16)])
        let up = direct.convTranspose(direct.reshape(xi, to: [-1, 1, 4, 4]), weight: direct.constant([Float](repeating: 1, count: 9), dimensions: [1, 1, 3, 3]),
                                      bias: nil, strides: [2, 2], pads: [0, 0, 1, 1])
        direct.output(direct.pool("MaxPool", up, kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0])[0], name: "y", shape: [.symbolic("N"), .fixed(1), .fixed(4), .fixed(4)])
        let pooledValues = try Self.runInRuntime(direct.model(), input: input, shape: [1, 16], python: python)
        let expected = (0..<16).map { index -> Double in
            let r = index / 4, c = index % 4
            var sum = 0.0
            for (dr, dc) in [(0, 0), (0, -1), (-1, 0), (-1, -1)] where r + dr >= 0 && c + dc >= 0 { sum += Double(input[(r + dr) * 4 + c + dc]) }
            return sum
        }
        #expect(pooledValues == expected)
    }
}
