import Foundation
import HEPMLCore
import HEPMLNN
import HEPMLONNX
import HEPMLTensor

/// The deployment files of a trained network: the encoder and decoder as ONNX graphs.
public enum ModelFiles {
    /// Writes `encoder.onnx` (input "image" [N, H, W, C] → "latent" [N, 16]) and `decoder.onnx`
    /// ("latent" → "decoded" [N, H, W, C]) into `directory`.
    public static func exportONNX(_ model: ECONTAutoencoder, to directory: String) throws {
        try encoderONNX(model).write(to: (directory as NSString).appendingPathComponent("encoder.onnx"))
        try decoderONNX(model).write(to: (directory as NSString).appendingPathComponent("decoder.onnx"))
    }

    public static func encoderONNX(_ model: ECONTAutoencoder) throws -> ONNXModel {
        var graph = ONNXGraphBuilder(name: "\(model.network.name)_encoder")
        let x = graph.input("image", shape: [.symbolic("N")] + model.network.inputShape.map { .fixed(Int64($0)) })
        let y = try emit(model, block: "encoder", into: &graph, from: x)
        graph.output(y, name: "latent", shape: [.symbolic("N"), .fixed(Int64(model.latentWidth))])
        return graph.model(documentation: "ECON-T encoder \(model.network.name), \(model.budget.links) eLinks; exported by HEPML")
    }

    public static func decoderONNX(_ model: ECONTAutoencoder) throws -> ONNXModel {
        var graph = ONNXGraphBuilder(name: "\(model.network.name)_decoder")
        let x = graph.input("latent", shape: [.symbolic("N"), .fixed(Int64(model.latentWidth))])
        let y = try emit(model, block: "decoder", into: &graph, from: x)
        graph.output(y, name: "decoded", shape: [.symbolic("N")] + model.network.inputShape.map { .fixed(Int64($0)) })
        return graph.model(documentation: "ECON-T decoder \(model.network.name); exported by HEPML")
    }

    /// Appends the block's modules as ONNX nodes. Quantized weights are written already quantized
    /// and activation quantizers as exact fixed-point ops, so the graph reproduces the engine's
    /// forward pass (bit for bit for the quantized latents, whose sums are exact in float32).
    static func emit(_ model: ECONTAutoencoder, block: String, into graph: inout ONNXGraphBuilder, from input: String) throws -> String {
        var x = input
        let layers = model.autoencoder.summary.layers.filter { $0.block == block }
        guard let modules = model.autoencoder.block(named: block)?.layers, modules.count == layers.count else {
            throw StudyError("ONNX export: \(model.network.name) has no block \(block)")
        }
        for (module, layer) in zip(modules, layers) {
            // Spatial input shape (inside the network images are channels first).
            let shape = Array(layer.inputShape.dropFirst())
            switch module {
            case let permute as Permute<Float>:
                x = graph.transpose(x, permutation: [0] + permute.axes.map { $0 + 1 })
            case let quantize as Quantize<Float>:
                guard let q = quantize.quantizer.fixedPoint else { throw unsupported(module) }
                x = graph.fixedPointQuantize(x, fractionalBits: q.fractionalBits, lowCode: q.lowCode, highCode: q.highCode)
            case let conv as ConvolutionLayer<Float>:
                guard shape.count == 2, conv.stride.count == 2 else { throw unsupported(module) }
                let kernel = Array(conv.weight.shape.dropFirst(2))
                var pads = [0, 0, 0, 0]
                if conv.padding == .same {
                    for axis in 0..<2 {
                        (pads[axis], pads[axis + 2]) = HEPMLTensor.Padding.sameConvolution(input: shape[axis], kernel: kernel[axis], stride: conv.stride[axis])
                    }
                }
                let weight = graph.constant(quantized(conv.weight.value, conv.weightQuantizer), dimensions: conv.weight.shape)
                let bias = conv.bias.map { graph.constant(quantized($0.value, conv.biasQuantizer), dimensions: $0.shape) }
                x = graph.conv(x, weight: weight, bias: bias, strides: conv.stride, pads: pads)
            case let conv as TransposedConvolutionLayer<Float>:
                let kernel = Array(conv.weight.shape.dropFirst(2))
                var pads = [0, 0, 0, 0]
                if conv.padding == .same {
                    for axis in 0..<2 {
                        // ONNX crops with pads; a kernel shorter than the stride would need negative ones.
                        guard kernel[axis] >= conv.stride[axis] else { throw unsupported(module) }
                        (pads[axis], pads[axis + 2]) = HEPMLTensor.Padding.sameTransposedConvolution(kernel: kernel[axis], stride: conv.stride[axis])
                    }
                }
                let weight = graph.constant(quantized(conv.weight.value, conv.weightQuantizer), dimensions: conv.weight.shape)
                let bias = conv.bias.map { graph.constant(quantized($0.value, conv.biasQuantizer), dimensions: $0.shape) }
                x = graph.convTranspose(x, weight: weight, bias: bias, strides: conv.stride, pads: pads)
            case let linear as Linear<Float>:
                let weight = graph.constant(quantized(linear.weight.value, linear.weightQuantizer), dimensions: linear.weight.shape)
                let bias = linear.bias.map { graph.constant(quantized($0.value, linear.biasQuantizer), dimensions: $0.shape) }
                x = graph.gemm(x, weight, bias, transB: true)
            case let pool as Pool<Float>:
                guard pool.pooling == .max, pool.kernel.count == 2, pool.kernel[0] == pool.kernel[1], pool.stride == nil, !pool.ceilMode else { throw unsupported(module) }
                x = graph.maxPool(x, size: pool.kernel[0])
            case let upsample as Upsample<Float>:
                guard upsample.mode == .nearest, upsample.scale.count == 2, upsample.scale[0] == upsample.scale[1] else { throw unsupported(module) }
                x = graph.upsample(x, factor: upsample.scale[0])
            case is Flatten<Float>:
                x = graph.flatten(x)
            case let reshape as Reshape<Float>:
                x = graph.reshape(x, to: [-1] + reshape.shape)
            case let activation as HEPMLNN.Activation<Float>:
                switch activation.function {
                case .relu: x = graph.relu(x)
                case .sigmoid: x = graph.sigmoid(x)
                default: throw unsupported(module)
                }
            default:
                throw unsupported(module)
            }
        }
        return x
    }

    static func unsupported(_ module: Module<Float>) -> StudyError {
        StudyError("ONNX export: no mapping for \(module.kind) \(module.settings)")
    }

    static func quantized(_ tensor: Tensor<Float>, _ quantizer: Quantizer?) -> [Float] {
        guard let quantizer else { return tensor.scalars }
        return tensor.scalars.map { quantizer.quantize($0) }
    }
}
