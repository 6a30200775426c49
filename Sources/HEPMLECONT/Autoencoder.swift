import Foundation
import HEPMLCore
import HEPMLNN
import HEPMLTensor

/// An ECON-T autoencoder as engine modules: the encoder and the decoder are separate
/// `Sequential`s (the encoder is what the ASIC runs; the decoder runs off detector).
///
/// The engine computes convolutions channels-first (N, C, H, W) while the study's images are
/// channels-last like Keras (N, H, W, C). The encoder therefore starts and the decoder ends with a
/// layout change, so both take and give the arrangement's own image buffers; for the one-channel
/// 8×8 image this is a pure reshape. Keras's Flatten reads (H, W, C) order and the engine's reads
/// (C, H, W): the dense weights are a permutation of Keras's, which changes nothing trained here.
public final class ECONTAutoencoder {
    public let network: NetworkDescription
    public let budget: ELinkBudget
    public let encoder: Sequential<Float>
    public let decoder: Sequential<Float>
    /// `decoder(encoder(x))`, the model trained end to end; its parameter paths ("encoder.1.weight",
    /// "decoder.3.bias", …) name the tensors of the weight files and checkpoints.
    public let autoencoder: EncoderDecoder

    /// Builds the network with Glorot-uniform kernels and zero biases (Keras defaults) from `seed`.
    public init(_ network: NetworkDescription, budget: ELinkBudget, seed: UInt64) throws {
        self.network = network
        self.budget = budget
        var generator = SeededGenerator(seed: seed, stream: 0xEC0)
        encoder = Sequential(try Self.build(network.encoderLayers(budget: budget), generator: &generator))
        decoder = Sequential(try Self.build(network.decoderLayers, generator: &generator))
        autoencoder = EncoderDecoder(encoder: encoder, decoder: decoder)
    }

    public var encoderParameterCount: Int { encoder.parameterCount }
    public var decoderParameterCount: Int { decoder.parameterCount }
    public var latentWidth: Int { network.encodedDimension }

    /// Maps the description's layers onto engine modules, tracking the channels-last shape.
    static func build(_ layers: [LayerDescription], generator: inout SeededGenerator) throws -> [Module<Float>] {
        var shape: [Int] = []
        var modules: [Module<Float>] = []
        for layer in layers {
            guard let output = layer.outputShape(shape) else {
                throw ShapeError(operation: "ECONTAutoencoder", "layer \(layer) does not accept its input", shapes: [shape])
            }
            switch layer {
            case .input(let declared):
                if declared.count == 3 { modules.append(Permute<Float>(channelsLastToFirst)) }
            case .quantize(let quantizer):
                modules.append(Quantize(quantizer.engineQuantizer))
            case .conv2D(let filters, let kernel, let stride, let padding, let activation, let weightQuantizer):
                let conv = Conv2d<Float>(shape[2], filters, kernel: [kernel, kernel], stride: [stride, stride],
                                         padding: padding.engine, generator: &generator)
                conv.weightQuantizer = weightQuantizer?.engineQuantizer
                conv.biasQuantizer = weightQuantizer?.engineQuantizer
                modules.append(conv)
                modules += activation.engineModules
            case .maxPool2D(let size):
                modules.append(Pool(.max, kernel: [size, size]))
            case .upSampling2D(let size):
                modules.append(Upsample(scale: [size, size]))
            case .flatten:
                modules.append(Flatten())
            case .dense(let units, let activation, let weightQuantizer):
                let linear = Linear<Float>(shape.reduce(1, *), units, generator: &generator)
                linear.weightQuantizer = weightQuantizer?.engineQuantizer
                linear.biasQuantizer = weightQuantizer?.engineQuantizer
                modules.append(linear)
                modules += activation.engineModules
            case .reshape(let target):
                // Channels-last target (H, W, C) as the engine's (C, H, W).
                modules.append(Reshape(target.count == 3 ? [target[2], target[0], target[1]] : target))
            case .conv2DTranspose(let filters, let kernel, let stride, let padding, let activation):
                modules.append(ConvTranspose2d<Float>(shape[2], filters, kernel: [kernel, kernel], stride: [stride, stride],
                                                      padding: padding.engine, generator: &generator))
                modules += activation.engineModules
            case .activation(let activation):
                modules += activation.engineModules
            }
            shape = output
        }
        if shape.count == 3 { modules.append(Permute<Float>(channelsFirstToLast)) }
        return modules
    }

    /// Image axes (H, W, C) → (C, H, W) and back.
    static let channelsLastToFirst = [2, 0, 1], channelsFirstToLast = [1, 2, 0]

    /// Latents (`rows × latentWidth`) and decoded images (`rows × pixels`, the arrangement's
    /// layout) for `rows` input images, in inference mode and in batches.
    public func predict(images: [Float], rows: Int, batchSize: Int = 4096) throws -> (latent: [Float], decoded: [Float]) {
        autoencoder.setTraining(false)
        let pixels = network.arrangement.pixelCount
        var latent = [Float](), decoded = [Float]()
        latent.reserveCapacity(rows * latentWidth)
        decoded.reserveCapacity(rows * pixels)
        for start in stride(from: 0, to: rows, by: batchSize) {
            let count = min(batchSize, rows - start)
            let batch = try Tensor(shape: [count] + network.inputShape, scalars: Array(images[(start * pixels)..<((start + count) * pixels)]))
            let code = try encoder(Variable(batch))
            latent += code.value.scalars
            decoded += try decoder(code).value.scalars
        }
        return (latent, decoded)
    }

    /// Decodes latents alone (e.g. to check an exported decoder).
    public func decode(latent: [Float], rows: Int) throws -> [Float] {
        decoder.setTraining(false)
        return try decoder(Variable(Tensor(shape: [rows, latentWidth], scalars: latent))).value.scalars
    }

    /// Saves every parameter by its path as float32 safetensors (Python `safetensors`, PyTorch),
    /// with the network, eLinks and quantization in the metadata. Quantized networks store the
    /// float weights training updates; the quantizers are applied in the forward pass and the ONNX
    /// graphs hold the quantized values.
    public func saveWeights(to path: String) throws {
        let metadata = ["producer": "hepml", "network": network.name, "elinks": "\(budget.links)", "quantized": "\(network.quantized)"]
        try SafeTensors.write(autoencoder.stateDictionary(), metadata: metadata, to: path)
    }

    /// Loads weights written by `saveWeights`; every tensor must be present with its shape.
    public func loadWeights(from path: String) throws {
        let tensors = try SafeTensors.read(path, as: Float.self).tensors
        do {
            try autoencoder.loadStateDictionary(tensors)
        } catch let error as ShapeError {
            throw FileFormatError(file: path, object: network.name, reason: "\(error)")
        }
    }
}

/// The autoencoder as one engine module, so that its parameter paths say which half they belong to.
public final class EncoderDecoder: Module<Float> {
    public let encoder: Sequential<Float>
    public let decoder: Sequential<Float>

    public init(encoder: Sequential<Float>, decoder: Sequential<Float>) {
        self.encoder = encoder
        self.decoder = decoder
        super.init()
    }

    public override var kind: String { "EncoderDecoder" }
    public override var children: [(String, Module<Float>)] { [("encoder", encoder), ("decoder", decoder)] }

    public override func forward(_ x: Variable<Float>) throws -> Variable<Float> {
        try call(decoder, named: "decoder", try call(encoder, named: "encoder", x))
    }
}

extension FixedPointQuantizer {
    /// The engine's QKeras quantizer with the same forward values: signed codes are
    /// `quantized_bits` (gradient 1), unsigned codes `quantized_relu` (gradient 1 inside the range).
    public var engineQuantizer: Quantizer {
        let magnitudeBits = (highCode + 1).trailingZeroBitCount
        if lowCode < 0 {
            return .bits(bits: magnitudeBits + 1, integer: magnitudeBits - fractionalBits, keepNegative: true)
        }
        return .relu(bits: magnitudeBits, integer: magnitudeBits - fractionalBits)
    }
}

extension Padding {
    var engine: HEPMLTensor.Padding { self == .same ? .same : .valid }
}

extension Activation {
    var engineModules: [Module<Float>] {
        switch self {
        case .linear: return []
        case .relu: return [HEPMLNN.Activation<Float>(.relu)]
        case .sigmoid: return [HEPMLNN.Activation<Float>(.sigmoid)]
        }
    }
}
