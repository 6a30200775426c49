import Foundation
import HEPMLNN

/// The HEPAutoencoders model zoo (spec A.6) as `ModelSpec`s with two blocks, "encoder" (input
/// "x") and "decoder", so that the latent is the encoder block's output and the decoder alone is
/// a spec of its own (`decoderSpec`) whose parameter paths ("decoder.3.weight") are the full
/// model's. PyTorch's defaults: LeakyReLU slope 0.01, BatchNorm eps 1e-5 and momentum 0.1, and
/// `nn.Linear`'s initial weights and biases (`DenseInitialization.pytorch`), which upstream never
/// replaced; Glorot-uniform weights with zero biases trained to a clearly higher loss in the same
/// epochs (docs/compress.md, "Training throughput").
///
/// Names: the generic builders with a node list `NAME:n0,n1,…,n2k` (`AE_basic`, `AE_LeakyReLU`,
/// `AE_bn`, `AE_bn_LeakyReLU`), and the hand-written 4D models by name (`AE_3D_200`, `AE_3D_100`,
/// `AE_3D_50`, `AE_3D_50cone`, `AE_3D_small`, `AE_3D_small_v2`, `AE_big`, `AE_3D_200_LeakyReLU`,
/// `AE_3D_500cone_bn`, and `AE_3D_{50,50cone,100,200}_bn_drop[:p]`).
public enum ModelZoo {
    public static let leakySlope = 0.01

    /// The model `description` names, for `variables` inputs.
    public static func spec(_ description: String, variables: Int) throws -> ModelSpec {
        let parts = description.split(separator: ":", maxSplits: 1).map(String.init)
        let name = parts.first ?? ""
        let argument = parts.count > 1 ? parts[1] : nil
        func nodes() throws -> [Int] {
            guard let argument else { throw ModelZooError("\(name) needs a node list, e.g. \(name):4,200,200,3,200,200,4") }
            let values = argument.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard values.allSatisfy({ ($0 ?? 0) > 0 }), values.count >= 3, values.count % 2 == 1 else {
                throw ModelZooError("\(description): the node list needs an odd number (≥ 3) of positive sizes, the middle one the latent")
            }
            return values.compactMap { $0 }
        }
        let handWritten: [String: [Int]] = [
            "AE_3D_200": [4, 200, 100, 50, 3, 50, 100, 200, 4], "AE_3D_100": [4, 100, 100, 50, 3, 50, 100, 100, 4],
            "AE_3D_50": [4, 50, 50, 20, 3, 20, 50, 50, 4], "AE_3D_50cone": [4, 50, 30, 20, 3, 20, 20, 20, 4],
            "AE_3D_small": [4, 3, 4], "AE_3D_small_v2": [4, 8, 3, 8, 4], "AE_big": [4, 8, 6, 4, 3, 4, 6, 8, 4],
            "AE_3D_200_LeakyReLU": [4, 200, 200, 20, 3, 20, 200, 200, 4],
        ]
        let dropoutModels: [String: [Int]] = [
            "AE_3D_50_bn_drop": [4, 50, 50, 20, 3, 20, 50, 50, 4], "AE_3D_50cone_bn_drop": [4, 50, 30, 20, 3, 20, 20, 20, 4],
            "AE_3D_100_bn_drop": [4, 100, 100, 50, 3, 50, 100, 100, 4], "AE_3D_200_bn_drop": [4, 200, 100, 50, 3, 50, 100, 200, 4],
            "AE_3D_500cone_bn": [4, 400, 200, 100, 3, 100, 100, 100, 4],
        ]
        let sizes: [Int], encoder: [LayerSpec], decoder: [LayerSpec]
        switch name {
        case "AE_basic", "AE_LeakyReLU", "AE_bn", "AE_bn_LeakyReLU":
            sizes = try nodes()
            let hidden: (Int) -> [LayerSpec]
            switch name {
            case "AE_basic": hidden = { [.dense($0), .tanh] }
            case "AE_LeakyReLU": hidden = { [.dense($0), .activation(.leakyRelu(slope: leakySlope))] }
            case "AE_bn": hidden = { [.dense($0), .batchNorm, .tanh] }
            default: hidden = { [.dense($0), .activation(.leakyRelu(slope: leakySlope)), .batchNorm] }
            }
            let k = sizes.count / 2
            encoder = sizes[1...k].flatMap(hidden)
            decoder = sizes[(k + 1)..<(sizes.count - 1)].flatMap(hidden) + [.dense(sizes[sizes.count - 1])]
        default:
            if let widths = handWritten[name] {
                guard argument == nil else { throw ModelZooError("\(name) takes no argument") }
                sizes = widths
                // Tanh between layers, none on the latent; the decoder applies tanh to its input first.
                let k = sizes.count / 2
                encoder = sizes[1..<k].flatMap { [LayerSpec.dense($0), .tanh] } + [.dense(sizes[k])]
                decoder = sizes[(k + 1)...].flatMap { [LayerSpec.tanh, .dense($0)] }
            } else if let widths = dropoutModels[name] {
                let probability: Double?
                if name == "AE_3D_500cone_bn" {
                    guard argument == nil else { throw ModelZooError("\(name) takes no argument") }
                    probability = nil
                } else {
                    guard let p = Double(argument ?? "0"), p >= 0, p < 1 else { throw ModelZooError("\(description): the dropout probability must be in [0, 1)") }
                    probability = p
                }
                sizes = widths
                // Linear → tanh → BN → Dropout(p) per hidden layer; the decoder's input gets tanh → BN → Dropout.
                let block: [LayerSpec] = [.tanh, .batchNorm] + (probability.map { [LayerSpec.dropout(probability: $0)] } ?? [])
                let k = sizes.count / 2
                encoder = sizes[1..<k].flatMap { [LayerSpec.dense($0)] + block } + [.dense(sizes[k])]
                decoder = block + sizes[(k + 1)..<(sizes.count - 1)].flatMap { [LayerSpec.dense($0)] + block } + [.dense(sizes[sizes.count - 1])]
            } else {
                throw ModelZooError("unknown model \(name) (AE_basic, AE_LeakyReLU, AE_bn, AE_bn_LeakyReLU with :nodes; "
                                    + (handWritten.keys.sorted() + dropoutModels.keys.sorted()).joined(separator: ", ") + ")")
            }
        }
        guard sizes.first == variables, sizes.last == variables else {
            throw ModelZooError("\(description) takes \(sizes.first ?? 0) and gives \(sizes.last ?? 0) variables; the data have \(variables)")
        }
        let latent = sizes[sizes.count / 2]
        let spec = ModelSpec(name: description, inputs: [.init("x", shape: [variables])],
                             blocks: [.init("encoder", inputs: ["x"], layers: encoder), .init("decoder", inputs: ["encoder"], layers: decoder)],
                             outputs: ["decoder"],
                             metadata: ["nodes": sizes.map(String.init).joined(separator: "-"), "latent": String(latent),
                                        "source": "HEPAutoencoders nn_utils.py (spec A.6)"],
                             denseInitialization: .pytorch)
        try spec.validate()
        return spec
    }

    /// The decoder block alone, input "latent" of the encoder's width: the network a compressed
    /// file carries.
    public static func decoderSpec(of spec: ModelSpec) throws -> ModelSpec {
        guard let decoder = spec.blocks.first(where: { $0.name == "decoder" }) else { throw ModelZooError("\(spec.name) has no decoder block") }
        let summary = try spec.summary()
        guard let latent = summary.shapes["encoder"] else { throw ModelZooError("\(spec.name) has no encoder block") }
        let result = ModelSpec(name: spec.name + " decoder", inputs: [.init("latent", shape: latent)],
                               blocks: [.init("decoder", inputs: ["latent"], layers: decoder.layers)], outputs: ["decoder"],
                               metadata: spec.metadata, denseInitialization: spec.denseInitialization)
        try result.validate()
        return result
    }
}

public struct ModelZooError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
