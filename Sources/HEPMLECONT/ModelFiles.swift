import Foundation
import HEPMLCore
import HEPMLNN
import HEPMLONNX

/// The deployment files of a trained network: the encoder and decoder as ONNX graphs.
public enum ModelFiles {
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
