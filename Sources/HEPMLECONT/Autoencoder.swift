import Foundation
import HEPMLCore
import HEPMLNN
import HEPMLTensor

/// An ECON-T autoencoder as engine modules: the network's `ModelSpec` built into one
/// `GraphModel` whose "encoder" block is what the ASIC runs and whose "decoder" block runs off
/// detector. Its parameter paths ("encoder.2.weight", "decoder.3.bias", …) name the tensors of
/// the weight files and checkpoints.
///
/// The engine computes convolutions channels-first (N, C, H, W) while the study's images are
/// channels-last like Keras (N, H, W, C): the encoder starts and the decoder ends with a
/// permutation, so both take and give the arrangement's own image buffers. Keras's Flatten reads
/// (H, W, C) order and the engine's reads (C, H, W): the dense weights are a permutation of
/// Keras's, which changes nothing trained here.
public final class ECONTAutoencoder {
    public let network: NetworkDescription
    public let budget: ELinkBudget
    public let spec: ModelSpec
    /// `decoder(encoder(x))`, the model trained end to end.
    public let autoencoder: GraphModel<Float>
    public let encoder: Sequential<Float>
    public let decoder: Sequential<Float>

    /// The random stream of the weights, apart from other models' streams.
    public static let weightStream: UInt64 = 0xEC0

    /// Builds the network with Glorot-uniform kernels and zero biases (Keras defaults) from `seed`.
    public init(_ network: NetworkDescription, budget: ELinkBudget, seed: UInt64) throws {
        self.network = network
        self.budget = budget
        spec = try network.spec(budget: budget)
        autoencoder = try spec.build(seed: seed, stream: Self.weightStream)
        guard let encoder = autoencoder.block(named: "encoder"), let decoder = autoencoder.block(named: "decoder") else {
            throw StudyError("\(network.name): the model has no encoder or decoder block")
        }
        self.encoder = encoder
        self.decoder = decoder
    }

    public var encoderParameterCount: Int { autoencoder.summary.parameters(in: ["encoder"]) }
    public var decoderParameterCount: Int { autoencoder.summary.parameters(in: ["decoder"]) }
    /// TensorFlow-convention FLOPs of the encoder for one module (the study's published number).
    public var encoderFLOPs: Int? { autoencoder.summary.tensorflowFLOPs(in: ["encoder"]) }
    public var latentWidth: Int { network.encodedDimension }

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

    /// Loads the weights of a run directory; every tensor must be present with its shape.
    public func loadWeights(from path: String) throws {
        let tensors = try SafeTensors.read(path, as: Float.self).tensors
        do {
            try autoencoder.loadStateDictionary(tensors)
        } catch let error as ShapeError {
            throw FileFormatError(file: path, object: network.name, reason: "\(error)")
        }
    }
}
