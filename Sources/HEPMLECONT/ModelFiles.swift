import Foundation
import HEPMLCore
import HEPMLNN
import HEPMLONNX
import HEPMLTensor

/// The files a trained network leaves behind besides its weights: the model description as
/// JSON and the encoder and decoder as ONNX graphs (the deployment format).
public enum ModelFiles {
    /// The JSON model description: catalog entry, eLink budget, quantizer settings, parameter
    /// counts, encoder FLOPs and the engine's layer tree of both halves.
    public struct Description: Codable {
        public var name: String
        public var label: String
        public var arrangement: String
        public var inputShape: [Int]
        public var loss: String
        public var quantized: Bool
        public var eLinks: Int
        public var latentBits: Int
        public var quantizers: [String: String]?
        public var encoderParameters: Int
        public var decoderParameters: Int
        public var encoderFLOPs: Int?
        public var weightsFile: String
        public var weightLayout: String
        public var encoder: ModuleDescription
        public var decoder: ModuleDescription
    }

    public static func description(_ model: ECONTAutoencoder) -> Description {
        let network = model.network
        let settings = network.quantized ? QuantizationSettings(budget: model.budget) : nil
        let quantizers = settings.map { s in
            ["input": "\(s.input.engineQuantizer)", "weights": "\(s.weights.engineQuantizer)",
             "accumulator": "\(s.accumulator.engineQuantizer)", "latent": "\(s.latent.engineQuantizer)"]
        }
        return Description(
            name: network.name, label: network.label, arrangement: network.arrangement.name, inputShape: network.inputShape,
            loss: network.loss.name, quantized: network.quantized, eLinks: model.budget.links, latentBits: model.budget.latentBits,
            quantizers: quantizers, encoderParameters: model.encoderParameterCount, decoderParameters: model.decoderParameterCount,
            encoderFLOPs: NetworkDescription.floatingPointOperations(network.encoderLayers(budget: model.budget)),
            weightsFile: Study.weightsFileName,
            weightLayout: "safetensors F32 tensors named by parameter path, encoder.<i>.weight/bias and decoder.<i>.weight/bias (quantized networks: the float weights before their quantizers); dense [out, in], conv [out, in, kh, kw], transposed conv [in, out, kh, kw]; images enter channels last (N, H, W, C)",
            encoder: model.encoder.describe(name: "encoder"), decoder: model.decoder.describe(name: "decoder"))
    }

    public static func writeDescription(_ model: ECONTAutoencoder, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(description(model)), to: path)
    }

    /// Writes `encoder.onnx` (input "image" [N, H, W, C] → "latent" [N, 16]) and `decoder.onnx`
    /// ("latent" → "decoded" [N, H, W, C]) into `directory`.
    public static func exportONNX(_ model: ECONTAutoencoder, to directory: String) throws {
        try encoderONNX(model).write(to: (directory as NSString).appendingPathComponent("encoder.onnx"))
        try decoderONNX(model).write(to: (directory as NSString).appendingPathComponent("decoder.onnx"))
    }

    public static func encoderONNX(_ model: ECONTAutoencoder) throws -> ONNXModel {
        var graph = ONNXGraphBuilder(name: "\(model.network.name)_encoder")
        let x = graph.input("image", shape: [.symbolic("N")] + model.network.inputShape.map { .fixed(Int64($0)) })
        let y = try emit(model.encoderPlan, into: &graph, from: x)
        graph.output(y, name: "latent", shape: [.symbolic("N"), .fixed(Int64(model.latentWidth))])
        return graph.model(documentation: "ECON-T encoder \(model.network.name), \(model.budget.links) eLinks; exported by HEPML")
    }

    public static func decoderONNX(_ model: ECONTAutoencoder) throws -> ONNXModel {
        var graph = ONNXGraphBuilder(name: "\(model.network.name)_decoder")
        let x = graph.input("latent", shape: [.symbolic("N"), .fixed(Int64(model.latentWidth))])
        let y = try emit(model.decoderPlan, into: &graph, from: x)
        graph.output(y, name: "decoded", shape: [.symbolic("N")] + model.network.inputShape.map { .fixed(Int64($0)) })
        return graph.model(documentation: "ECON-T decoder \(model.network.name); exported by HEPML")
    }

    /// Appends the plan's modules as ONNX nodes. Quantized weights are written already quantized
    /// and activation quantizers as exact fixed-point ops, so the graph reproduces the engine's
    /// forward pass (bit for bit for the quantized latents, whose sums are exact in float32).
    static func emit(_ plan: [BuiltLayer], into graph: inout ONNXGraphBuilder, from input: String) throws -> String {
        var x = input
        for layer in plan {
            let shape = layer.inputShape
            for module in layer.modules {
                switch module {
                case let layout as ChannelLayout<Float>:
                    // The encoder's layout change belongs to its input layer, which declares the shape.
                    var image = shape
                    if case .input(let declared) = layer.description { image = declared }
                    guard image.count == 3 else { throw unsupported(module) }
                    let (h, w, c) = (image[0], image[1], image[2])
                    if layout.direction == .lastToFirst {
                        x = c == 1 ? graph.reshape(x, to: [-1, 1, h, w]) : graph.transpose(x, permutation: [0, 3, 1, 2])
                    } else {
                        x = c == 1 ? graph.reshape(x, to: [-1, h, w, 1]) : graph.transpose(x, permutation: [0, 2, 3, 1])
                    }
                case let quantize as Quantize<Float>:
                    let q = fixedPoint(quantize.quantizer)
                    x = graph.fixedPointQuantize(x, fractionalBits: q.fractionalBits, lowCode: q.lowCode, highCode: q.highCode)
                case let conv as ConvolutionLayer<Float>:
                    guard shape.count == 3, conv.stride.count == 2 else { throw unsupported(module) }
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

    /// The fixed-point form of an engine quantizer (all the study's quantizers have one).
    static func fixedPoint(_ quantizer: Quantizer) -> FixedPointQuantizer {
        switch quantizer {
        case .bits(let bits, let integer, let keepNegative, _): return .bits(bits, integer: integer, keepNegative: keepNegative)
        case .relu(let bits, let integer): return .relu(bits, integer: integer)
        }
    }
}
