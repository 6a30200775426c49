import HEPMLNN
import HEPMLTensor

/// The engine's feed-forward layers as ONNX operators (the table in docs/onnx.md).
extension ONNXExporter {
    /// Appends the nodes of leaf layer `module`, which turned `input` into the engine's `output`;
    /// returns the name of the result, or nil when the layer has no mapping.
    mutating func emitLayer(_ module: Module<Float>, path: String, _ input: Value, output: Variable<Float>) throws -> String? {
        let x = input.name
        switch module {
        case let linear as Linear<Float>:
            return emitLinear(linear, path: path, x, inputRank: input.shape.count)
        case let conv as ConvolutionLayer<Float>:
            return emitConvolution(conv, path: path, x, spatial: Array(input.shape.dropFirst()))
        case let conv as TransposedConvolutionLayer<Float>:
            return emitTransposedConvolution(conv, path: path, x)
        case let pool as Pool<Float>:
            return emitPool(pool, x, spatial: Array(input.shape.dropFirst()), pooled: Array(output.shape.dropFirst(2)))
        case let unpool as MaxUnpool<Float>:
            guard let recorded = poolIndices[ObjectIdentifier(unpool.pool)] else {
                throw ONNXExportError(path: path, kind: module.kind, "its paired max pooling (keepsIndices) must be exported before it")
            }
            let pool = unpool.pool
            let pads = Self.partialWindowPads(spatial: Array(output.shape.dropFirst(2)), pooled: Array(input.shape.dropFirst()),
                                              kernel: pool.kernel, stride: pool.stride ?? pool.kernel)
            return graph.node("MaxUnpool", [x, recorded.indices, recorded.inputShape],
                              attributes: [ONNXAttribute("kernel_shape", .ints(pool.kernel.map(Int64.init))),
                                           ONNXAttribute("strides", .ints((pool.stride ?? pool.kernel).map(Int64.init))),
                                           ONNXAttribute("pads", .ints(pads.map(Int64.init)))])
        case let upsample as Upsample<Float>:
            return graph.resize(x, scales: [1, 1] + upsample.scale.map(Float.init), mode: upsample.mode == .nearest ? "nearest" : "linear")
        case let norm as BatchNorm<Float>:
            let scale = graph.constant(norm.scale.value.scalars, dimensions: norm.scale.shape, name: Self.join(path, "weight"))
            let shift = graph.constant(norm.shift.value.scalars, dimensions: norm.shift.shape, name: Self.join(path, "bias"))
            let mean = graph.constant(norm.statistics.mean.value.scalars, dimensions: norm.scale.shape, name: Self.join(path, "running_mean"))
            let variance = graph.constant(norm.statistics.variance.value.scalars, dimensions: norm.scale.shape, name: Self.join(path, "running_var"))
            return graph.node("BatchNormalization", [x, scale, shift, mean, variance],
                              attributes: [ONNXAttribute("epsilon", .float(Float(norm.epsilon)))])
        case let activation as Activation<Float>:
            return emitActivation(activation.function, x)
        case let quantize as Quantize<Float>:
            guard let quantized = emitQuantizer(quantize.quantizer, x) else {
                throw ONNXExportError(path: path, kind: module.kind, "\(quantize.quantizer) has no fixed-point form")
            }
            return quantized
        case is Dropout<Float>:
            return x
        case is Flatten<Float>:
            return graph.flatten(x)
        case let reshape as Reshape<Float>:
            // A −1 inside the sample's shape leaves the batch axis to ONNX's 0 (copy that axis).
            return graph.reshape(x, to: (reshape.shape.contains(-1) ? [0] : [-1]) + reshape.shape)
        case let gather as Gather<Float>:
            return graph.node("Gather", [x, graph.constant(int64: gather.indices.map(Int64.init), dimensions: [gather.indices.count], name: Self.join(path, "indices"))],
                              attributes: [ONNXAttribute("axis", .int(Int64(gather.axis + 1)))])
        case let residual as Residual<Float>:
            return graph.add(x, try emit(residual.body, path: Self.join(path, "body"), input).name)
        case let variational as VariationalBottleneck<Float>:
            // Inference: z = μ.
            return emitLinear(variational.mean, path: Self.join(path, "mean"), x, inputRank: input.shape.count)
        case let permute as Permute<Float>:
            return graph.transpose(x, permutation: [0] + permute.axes.map { $0 + 1 })
        case let slice as Slice<Float>:
            return graph.slice(x, starts: [slice.range.lowerBound], ends: [slice.range.upperBound], axes: [slice.axis + 1])
        case let recurrent as Recurrent<Float>:
            return emitRecurrent(recurrent, path: path, x)
        case let convolution as GraphConvolution<Float>:
            return try emitGraphConvolution(convolution, path: path, input)
        case let pooling as AttentionPooling<Float>:
            return try emitAttentionPooling(pooling, path: path, input)
        case let convolution as GroupGraphConvolution<Float>:
            return try emitGroupGraphConvolution(convolution, path: path, input)
        default:
            return nil
        }
    }

    /// Weights are written already quantized, as the engine's forward pass uses them.
    static func quantized(_ variable: Variable<Float>, _ quantizer: Quantizer?) -> [Float] {
        quantizer.map { q in variable.value.scalars.map { q.quantize($0) } } ?? variable.value.scalars
    }

    mutating func parameter(_ variable: Variable<Float>, quantizer: Quantizer?, name: String) -> String {
        graph.constant(Self.quantized(variable, quantizer), dimensions: variable.shape, name: name)
    }

    /// Dense layer: Gemm on (N, F); MatMul + Add when the features are the last of several axes.
    mutating func emitLinear(_ linear: Linear<Float>, path: String, _ x: String, inputRank: Int) -> String {
        let bias = linear.bias.map { parameter($0, quantizer: linear.biasQuantizer, name: Self.join(path, "bias")) }
        if inputRank == 1 {
            return graph.gemm(x, parameter(linear.weight, quantizer: linear.weightQuantizer, name: Self.join(path, "weight")), bias, transB: true)
        }
        // MatMul broadcasts over the leading axes with the weight as (in, out).
        let weight = Self.quantized(linear.weight, linear.weightQuantizer)
        let (rows, columns) = (linear.outFeatures, linear.inFeatures)
        let transposed = (0..<(rows * columns)).map { index in weight[(index % rows) * columns + index / rows] }
        let product = graph.matMul(x, graph.constant(transposed, dimensions: [columns, rows], name: Self.join(path, "weight_t")))
        return bias.map { graph.add(product, $0) } ?? product
    }

    mutating func emitConvolution(_ conv: ConvolutionLayer<Float>, path: String, _ x: String, spatial: [Int]) -> String {
        let kernel = Array(conv.weight.shape.dropFirst(2))
        var before = [Int](), after = [Int]()
        for axis in kernel.indices {
            switch conv.padding {
            case .valid:
                before.append(0); after.append(0)
            case .same:
                let (b, a) = HEPMLTensor.Padding.sameConvolution(input: spatial[axis], kernel: kernel[axis], stride: conv.stride[axis])
                before.append(b); after.append(a)
            case .explicit(let values):
                before.append(values[axis]); after.append(values[axis])
            }
        }
        let weight = parameter(conv.weight, quantizer: conv.weightQuantizer, name: Self.join(path, "weight"))
        let bias = conv.bias.map { parameter($0, quantizer: conv.biasQuantizer, name: Self.join(path, "bias")) }
        return graph.conv(x, weight: weight, bias: bias, strides: conv.stride, pads: before + after)
    }

    /// ONNX crops a transposed convolution's full output with `pads` and extends it at the end
    /// with `output_padding` (positions that get only the bias, as in the engine). Keras' "same"
    /// crops k − s when the kernel is longer than the stride and otherwise extends by s − k.
    mutating func emitTransposedConvolution(_ conv: TransposedConvolutionLayer<Float>, path: String, _ x: String) -> String {
        let kernel = Array(conv.weight.shape.dropFirst(2))
        var before = [Int](), after = [Int](), outputPadding = [Int]()
        for axis in kernel.indices {
            switch conv.padding {
            case .valid:
                before.append(0); after.append(0); outputPadding.append(conv.outputPadding[axis])
            case .same:
                let (b, a) = HEPMLTensor.Padding.sameTransposedConvolution(kernel: kernel[axis], stride: conv.stride[axis])
                before.append(b); after.append(a); outputPadding.append(max(conv.stride[axis] - kernel[axis], 0))
            case .explicit(let values):
                before.append(values[axis]); after.append(values[axis]); outputPadding.append(conv.outputPadding[axis])
            }
        }
        let weight = parameter(conv.weight, quantizer: conv.weightQuantizer, name: Self.join(path, "weight"))
        let bias = conv.bias.map { parameter($0, quantizer: conv.biasQuantizer, name: Self.join(path, "bias")) }
        return graph.convTranspose(x, weight: weight, bias: bias, strides: conv.stride, pads: before + after,
                                   outputPadding: outputPadding.allSatisfy { $0 == 0 } ? nil : outputPadding)
    }

    /// Pooling without ONNX's `ceil_mode`: the partial windows the engine keeps in ceil mode are
    /// written as end padding, which max pooling ignores and average pooling leaves out of the
    /// divisor (`count_include_pad` 0), exactly the engine's windows clipped to the input.
    mutating func emitPool(_ pool: Pool<Float>, _ x: String, spatial: [Int], pooled: [Int]) -> String {
        let stride = pool.stride ?? pool.kernel
        let pads = Self.partialWindowPads(spatial: spatial, pooled: pooled, kernel: pool.kernel, stride: stride)
        guard pool.pooling == .max else {
            return graph.pool("AveragePool", x, kernel: pool.kernel, strides: stride, pads: pads)[0]
        }
        let outputs = graph.pool("MaxPool", x, kernel: pool.kernel, strides: stride, pads: pads, outputs: pool.keepsIndices ? 2 : 1)
        if pool.keepsIndices {
            poolIndices[ObjectIdentifier(pool)] = (outputs[1], graph.node("Shape", [x]))
        }
        return outputs[0]
    }

    /// [0…, end…] padding that makes the engine's `pooled` window count fit `spatial`.
    static func partialWindowPads(spatial: [Int], pooled: [Int], kernel: [Int], stride: [Int]) -> [Int] {
        let after = spatial.indices.map { axis in max((pooled[axis] - 1) * stride[axis] + kernel[axis] - spatial[axis], 0) }
        return [Int](repeating: 0, count: spatial.count) + after
    }

    mutating func emitActivation(_ function: ActivationFunction, _ x: String) -> String {
        switch function {
        case .relu: return graph.relu(x)
        case .tanh: return graph.tanh(x)
        case .sigmoid: return graph.sigmoid(x)
        case .softplus: return graph.node("Softplus", [x])
        case .softmax: return graph.softmax(x, axis: -1)
        case .logSoftmax: return graph.node("LogSoftmax", [x], attributes: [ONNXAttribute("axis", .int(-1))])
        case .leakyRelu(let slope): return graph.node("LeakyRelu", [x], attributes: [ONNXAttribute("alpha", .float(Float(slope)))])
        case .elu(let alpha): return graph.node("Elu", [x], attributes: [ONNXAttribute("alpha", .float(Float(alpha)))])
        case .gelu:
            // x·(1 + erf(x/√2))/2 in the engine's order (ONNX has no Gelu before opset 20).
            let error = graph.node("Erf", [graph.mul(x, graph.constant([1 / Float(2).squareRoot()], dimensions: []))])
            let scaled = graph.mul(x, graph.add(error, graph.constant([1], dimensions: [])))
            return graph.div(scaled, graph.constant([2], dimensions: []))
        }
    }

    /// QKeras quantizers as exact fixed-point arithmetic (`quantized_bits` with α ≠ 1 as the
    /// α = 1 codes times α, the engine's product); the binary sign mode as 1 for x ≥ 0 and −1
    /// otherwise. Nil for a quantizer with neither form.
    mutating func emitQuantizer(_ quantizer: Quantizer, _ x: String) -> String? {
        var fixed = quantizer.fixedPoint
        var alpha: Float = 1
        if case .bits(let bits, let integer, let keepNegative, let scale) = quantizer {
            if bits - (keepNegative ? 1 : 0) <= 0 {
                let positive = graph.node("GreaterOrEqual", [x, graph.constant([0], dimensions: [])])
                return graph.node("Where", [positive, graph.constant([1], dimensions: []), graph.constant([-1], dimensions: [])])
            }
            if scale != 1 {
                fixed = Quantizer.bits(bits: bits, integer: integer, keepNegative: keepNegative).fixedPoint
                alpha = Float(scale)
            }
        }
        guard let fixed else { return nil }
        let codes = graph.fixedPointQuantize(x, fractionalBits: fixed.fractionalBits, lowCode: fixed.lowCode, highCode: fixed.highCode)
        return alpha == 1 ? codes : graph.mul(codes, graph.constant([alpha], dimensions: []))
    }
}
