/// Builds an ONNX graph one operator at a time. Every method appends a node and returns the name
/// of its output, so a network is written as straight-line code:
///
///     var graph = ONNXGraphBuilder(name: "encoder")
///     let x = graph.input("input", shape: [.symbolic("N"), .fixed(1), .fixed(8), .fixed(8)])
///     let h = graph.relu(graph.conv(x, weight: w, bias: b, strides: [2, 2], pads: [0, 0, 1, 1]))
///     graph.output(h, shape: …)
///     try graph.model().write(to: "encoder.onnx")
///
/// Tensors use ONNX's NCHW layout; weights come in as flat float buffers with their dimensions.
public struct ONNXGraphBuilder {
    public private(set) var nodes: [ONNXNode] = []
    public private(set) var initializers: [ONNXTensor] = []
    public private(set) var inputs: [ONNXValueInfo] = []
    public private(set) var outputs: [ONNXValueInfo] = []
    public let name: String
    private var counter = 0
    /// Every input, initializer and node output name so far: ONNX names must be unique.
    private var usedNames: Set<String> = []

    public init(name: String) { self.name = name }

    /// A fresh value name with a readable prefix.
    private mutating func fresh(_ prefix: String) -> String {
        var candidate: String
        repeat {
            counter += 1
            candidate = "\(prefix)_\(counter)"
        } while usedNames.contains(candidate)
        usedNames.insert(candidate)
        return candidate
    }

    /// `preferred` if no value has that name yet, otherwise a fresh name with it as prefix.
    private mutating func unique(_ preferred: String) -> String {
        guard usedNames.contains(preferred) else {
            usedNames.insert(preferred)
            return preferred
        }
        return fresh(preferred)
    }

    // MARK: Graph interface

    @discardableResult
    public mutating func input(_ name: String, shape: [ONNXDimension]) -> String {
        usedNames.insert(name)
        inputs.append(ONNXValueInfo(name: name, shape: shape))
        return name
    }

    /// Declares `value` as a graph output, renamed to `name` through an Identity when given.
    public mutating func output(_ value: String, name: String? = nil, shape: [ONNXDimension]) {
        var exported = value
        if let name, name != value {
            usedNames.insert(name)
            nodes.append(ONNXNode(opType: "Identity", name: fresh("Identity"), inputs: [value], outputs: [name]))
            exported = name
        }
        outputs.append(ONNXValueInfo(name: exported, shape: shape))
    }

    /// A float constant; `dimensions` must multiply to `values.count` (a scalar has none). A
    /// `name` already taken gets a numbered suffix; the name used is returned.
    public mutating func constant(_ values: [Float], dimensions: [Int], name: String? = nil) -> String {
        let tensorName = name.map { unique($0) } ?? fresh("const")
        initializers.append(ONNXTensor(name: tensorName, dimensions: dimensions.map(Int64.init), data: .float(values)))
        return tensorName
    }

    public mutating func constant(int64 values: [Int64], dimensions: [Int], name: String? = nil) -> String {
        let tensorName = name.map { unique($0) } ?? fresh("const")
        initializers.append(ONNXTensor(name: tensorName, dimensions: dimensions.map(Int64.init), data: .int64(values)))
        return tensorName
    }

    /// A one-dimensional int64 constant (the shape, axes and index inputs of many operators).
    public mutating func constant(int64 values: [Int]) -> String {
        constant(int64: values.map(Int64.init), dimensions: [values.count])
    }

    /// Appends any operator; the other methods are shorthands for this.
    public mutating func node(_ opType: String, _ inputs: [String], attributes: [ONNXAttribute] = []) -> String {
        node(opType, inputs, attributes: attributes, outputs: 1)[0]
    }

    /// Appends an operator with several outputs (MaxPool with indices, LSTM's Y, Y_h, Y_c).
    public mutating func node(_ opType: String, _ inputs: [String], attributes: [ONNXAttribute] = [], outputs count: Int) -> [String] {
        let name = fresh(opType)
        let outputs = [name] + (1..<Swift.max(count, 1)).map { _ in fresh(opType) }
        nodes.append(ONNXNode(opType: opType, name: name, inputs: inputs, outputs: outputs, attributes: attributes))
        return outputs
    }

    public func model(opsetVersion: Int64 = ONNXModel.defaultOpset, documentation: String = "") -> ONNXModel {
        ONNXModel(graph: ONNXGraph(name: name, nodes: nodes, initializers: initializers, inputs: inputs, outputs: outputs),
                  opsetVersion: opsetVersion, documentation: documentation)
    }

    // MARK: Layers

    /// 2-D convolution; weight (M, C, kH, kW), bias (M); pads [top, left, bottom, right].
    public mutating func conv(_ x: String, weight: String, bias: String?, strides: [Int], pads: [Int]) -> String {
        node("Conv", [x, weight] + (bias.map { [$0] } ?? []),
             attributes: [ONNXAttribute("strides", .ints(strides.map(Int64.init))), ONNXAttribute("pads", .ints(pads.map(Int64.init)))])
    }

    /// Transposed convolution; weight (C, M, kH, kW). TensorFlow's "same" transposed conv is the
    /// full output cropped by the forward conv's asymmetric padding, e.g. `pads: [0, 0, 1, 1]`
    /// for a 3×3 kernel with stride 2.
    public mutating func convTranspose(_ x: String, weight: String, bias: String?, strides: [Int], pads: [Int], outputPadding: [Int]? = nil) -> String {
        var attributes = [ONNXAttribute("strides", .ints(strides.map(Int64.init))), ONNXAttribute("pads", .ints(pads.map(Int64.init)))]
        if let outputPadding { attributes.append(ONNXAttribute("output_padding", .ints(outputPadding.map(Int64.init)))) }
        return node("ConvTranspose", [x, weight] + (bias.map { [$0] } ?? []), attributes: attributes)
    }

    /// `alpha·A·B + beta·C` with optional transposes (a dense layer is `gemm(x, W, b, transB: true)` for W of shape (out, in)).
    public mutating func gemm(_ a: String, _ b: String, _ c: String?, transA: Bool = false, transB: Bool = false) -> String {
        node("Gemm", [a, b] + (c.map { [$0] } ?? []),
             attributes: [ONNXAttribute("transA", .int(transA ? 1 : 0)), ONNXAttribute("transB", .int(transB ? 1 : 0))])
    }

    public mutating func matMul(_ a: String, _ b: String) -> String { node("MatMul", [a, b]) }
    public mutating func add(_ a: String, _ b: String) -> String { node("Add", [a, b]) }
    public mutating func sub(_ a: String, _ b: String) -> String { node("Sub", [a, b]) }
    public mutating func mul(_ a: String, _ b: String) -> String { node("Mul", [a, b]) }
    public mutating func div(_ a: String, _ b: String) -> String { node("Div", [a, b]) }
    public mutating func max(_ values: [String]) -> String { node("Max", values) }
    public mutating func min(_ values: [String]) -> String { node("Min", values) }
    public mutating func relu(_ x: String) -> String { node("Relu", [x]) }
    public mutating func sigmoid(_ x: String) -> String { node("Sigmoid", [x]) }
    public mutating func tanh(_ x: String) -> String { node("Tanh", [x]) }
    /// Rounds half to even, like TensorFlow's `tf.round` that QKeras uses.
    public mutating func round(_ x: String) -> String { node("Round", [x]) }
    public mutating func floor(_ x: String) -> String { node("Floor", [x]) }

    /// Clips to [low, high] (scalar bounds given as constants, opset ≥ 11 form).
    public mutating func clip(_ x: String, low: Float, high: Float) -> String {
        let lowName = constant([low], dimensions: [])
        let highName = constant([high], dimensions: [])
        return node("Clip", [x, lowName, highName])
    }

    public mutating func reshape(_ x: String, to shape: [Int]) -> String {
        let shapeName = constant(int64: shape.map(Int64.init), dimensions: [shape.count])
        return node("Reshape", [x, shapeName])
    }

    public mutating func flatten(_ x: String, axis: Int = 1) -> String {
        node("Flatten", [x], attributes: [ONNXAttribute("axis", .int(Int64(axis)))])
    }

    public mutating func transpose(_ x: String, permutation: [Int]) -> String {
        node("Transpose", [x], attributes: [ONNXAttribute("perm", .ints(permutation.map(Int64.init)))])
    }

    public mutating func concat(_ values: [String], axis: Int) -> String {
        node("Concat", values, attributes: [ONNXAttribute("axis", .int(Int64(axis)))])
    }

    /// Max or average pooling (`op` "MaxPool" or "AveragePool") over the spatial axes of
    /// (N, C, spatial…); pads [begin…, end…]. Average pooling divides by the values a window
    /// covers (`count_include_pad` 0), so padding written for partial windows only clips them.
    public mutating func pool(_ op: String, _ x: String, kernel: [Int], strides: [Int], pads: [Int], outputs: Int = 1) -> [String] {
        var attributes = [ONNXAttribute("kernel_shape", .ints(kernel.map(Int64.init))), ONNXAttribute("strides", .ints(strides.map(Int64.init))),
                          ONNXAttribute("pads", .ints(pads.map(Int64.init)))]
        if op == "AveragePool" { attributes.append(ONNXAttribute("count_include_pad", .int(0))) }
        return node(op, [x], attributes: attributes, outputs: outputs)
    }

    /// Resize by per-axis `scales` (every axis, batch and channels included): "nearest" copies
    /// input ⌊o/scale⌋ (`asymmetric`, `floor`), "linear" samples at (o + ½)/scale − ½ (`half_pixel`,
    /// PyTorch's `align_corners=False`).
    public mutating func resize(_ x: String, scales: [Float], mode: String) -> String {
        let scalesName = constant(scales, dimensions: [scales.count])
        let attributes = mode == "nearest"
            ? [ONNXAttribute("mode", .string("nearest")), ONNXAttribute("coordinate_transformation_mode", .string("asymmetric")),
               ONNXAttribute("nearest_mode", .string("floor"))]
            : [ONNXAttribute("mode", .string(mode)), ONNXAttribute("coordinate_transformation_mode", .string("half_pixel"))]
        return node("Resize", [x, "", scalesName], attributes: attributes)
    }

    /// Elements `starts[i]..<ends[i]` along `axes[i]`.
    public mutating func slice(_ x: String, starts: [Int], ends: [Int], axes: [Int]) -> String {
        node("Slice", [x, constant(int64: starts), constant(int64: ends), constant(int64: axes)])
    }

    public mutating func squeeze(_ x: String, axes: [Int]) -> String { node("Squeeze", [x, constant(int64: axes)]) }

    public mutating func reduceSum(_ x: String, axes: [Int], keepDimensions: Bool) -> String {
        node("ReduceSum", [x, constant(int64: axes)], attributes: [ONNXAttribute("keepdims", .int(keepDimensions ? 1 : 0))])
    }

    public mutating func softmax(_ x: String, axis: Int) -> String {
        node("Softmax", [x], attributes: [ONNXAttribute("axis", .int(Int64(axis)))])
    }

    /// Fixed-point quantization `clip(round(x·2^f), low, high) / 2^f`, exact in float arithmetic
    /// because the scale is a power of two: the deployed graph reproduces the trained quantizer
    /// bit for bit (QKeras `quantized_bits` / `quantized_relu`).
    public mutating func fixedPointQuantize(_ x: String, fractionalBits: Int, lowCode: Int, highCode: Int) -> String {
        let scale = Float(sign: .plus, exponent: fractionalBits, significand: 1)
        let scaled = mul(x, constant([scale], dimensions: []))
        let clipped = clip(round(scaled), low: Float(lowCode), high: Float(highCode))
        return div(clipped, constant([scale], dimensions: []))
    }
}
