import Foundation
import HEPMLCore
import HEPMLNN
import HEPMLONNX

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
        try ONNXExporter.export(model.encoder, inputs: [("image", model.network.inputShape)], outputs: ["latent"],
                                name: "\(model.network.name)_encoder",
                                documentation: "ECON-T encoder \(model.network.name), \(model.budget.links) eLinks; exported by HEPML")
    }

    public static func decoderONNX(_ model: ECONTAutoencoder) throws -> ONNXModel {
        try ONNXExporter.export(model.decoder, inputs: [("latent", [model.latentWidth])], outputs: ["decoded"],
                                name: "\(model.network.name)_decoder", documentation: "ECON-T decoder \(model.network.name); exported by HEPML")
    }
}
