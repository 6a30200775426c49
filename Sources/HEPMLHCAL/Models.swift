import Foundation
import HEPMLNN

/// The HCAL autoencoder catalogue as `ModelSpec`s (docs/hcal.md, "Models").
///
/// Every model takes one window of T lumisections as one sample `[1, ieta, 72, T·Dp]`: the depth
/// axis padded to a power of two Dp (HE 7 → 8, HB 4) with the window's steps stacked along it.
/// Upstream's CNN kernels are (3, 3, 1) — they never mix depths — and its depth pooling pairs
/// depths, so with Dp a power of two every convolution and pooling stays inside its own time step:
/// a 3-D convolution over that layout is upstream's time-distributed 3-D CNN. The padded depth
/// slot is an inactive channel (masked in the loss, never scored).
public struct HCALModelOptions: Codable, Equatable, Sendable {
    public enum Architecture: String, Codable, Sendable, CaseIterable {
        /// Spatial CNN + fully connected AE, one LS per sample (upstream `CNNFNNAE_MultiDim_SPATIAL`).
        case cnnfnnae
        /// Temporal CNN + RNN AE over a window (upstream `CNNRNNAE_MultiDim_SPATIAL`).
        case cnnrnnae
    }

    public var architecture: Architecture = .cnnrnnae
    public var subdetector: HCALSubdetector = .he
    /// L: the CNN has 4L channels, the RNN encoder 4L → L.
    public var latent = 4
    /// Window length T in LS (1 for the spatial model).
    public var window = 5
    public var recurrentCell: RecurrentCell = .lstm
    /// Reversible normalization along iphi (RIN), applied around the network.
    public var reversibleNormalization = false
    /// Minus/plus side split with shared weights (DC).
    public var sideSplit = false
    public var convolutionLayers = 4
    public var leakySlope = 0.5
    /// Dropout of the fully connected bottleneck (the only place upstream applies it).
    public var dropout = 0.2

    public init() {}

    /// The catalogue's named models.
    public static func named(_ name: String, subdetector: HCALSubdetector) throws -> HCALModelOptions {
        var options = HCALModelOptions()
        options.subdetector = subdetector
        switch name {
        case "cnnfnnae":
            options.architecture = .cnnfnnae
            options.window = 1
        case "cnnrnnae":
            break
        case "rin-dc-cnnrnnae":
            options.reversibleNormalization = true
            options.sideSplit = true
        default:
            throw HCALError("unknown HCAL model '\(name)'; the catalogue has \(catalogue.joined(separator: ", "))")
        }
        return options
    }

    public static let catalogue = ["cnnfnnae", "cnnrnnae", "rin-dc-cnnrnnae"]
    /// The production-like model (upstream `GraphSTAD_RIN_DC__CNNRNNAE_MultiDim_SPATIAL_HE`).
    public static let productionName = "rin-dc-cnnrnnae"

    public var steps: Int { architecture == .cnnfnnae ? 1 : window }
    /// Depth slots per step: the subdetector's depths padded to a power of two.
    public var paddedDepths: Int { subdetector == .he ? 8 : 4 }

    /// ieta slots of the minus side (flipped so |ieta| grows along the axis) and of the plus side
    /// in the side-split layout; the full 64 slots without it.
    public var etaSlots: [[Int]] {
        guard sideSplit else { return [Array(0..<HCALIndex.etaCount)] }
        let range = subdetector.absoluteEtaRange
        let minus = range.compactMap { HCALIndex.etaIndex(-$0) }
        let plus = range.compactMap { HCALIndex.etaIndex($0) }
        return [minus, plus]
    }

    /// Per-sample input shape of the network.
    public var inputShape: [Int] { [1, etaSlots[0].count, HCALIndex.phiCount, steps * paddedDepths] }
    /// Per-sample input shape of one step, which the encoder and decoder also take (see `HCALStepwiseNetwork`).
    public var stepInputShape: [Int] { [1, etaSlots[0].count, HCALIndex.phiCount, paddedDepths] }

    public func spec() throws -> ModelSpec {
        guard latent > 0, steps > 0, convolutionLayers > 0 else { throw HCALError("latent, window and layers must be positive") }
        let channels = 4 * latent
        let activation = LayerSpec.activation(.leakyRelu(slope: leakySlope))
        // Per-step sizes (ieta, iphi, depth) before each level; pooling keeps ceil sizes.
        var sizes = [[inputShape[1], inputShape[2], paddedDepths]]
        var encoder: [LayerSpec] = [], decoderLevels: [[LayerSpec]] = []
        for _ in 0..<convolutionLayers {
            let size = sizes[sizes.count - 1]
            // Kernel min(S, 3) with even values made odd, depth 1 (upstream's effective (3, 3, 1)).
            let kernel = [size[0], size[1]].map { value -> Int in let k = min(value, 3); return k % 2 == 0 ? k - 1 : k } + [1]
            let pool = size.map { min($0, 2) }
            encoder += [.conv(channels, kernel: kernel, padding: .explicit([kernel[0] / 2, kernel[1] / 2, 0]), bias: false), .batchNorm, activation,
                        .maxPool(pool, ceilMode: true)]
            let next = zip(size, pool).map { ($0 + $1 - 1) / $1 }
            sizes.append(next)
            // The decoder level that undoes this one: a strided transposed convolution back to `size`.
            var upKernel: [Int] = [], padding: [Int] = [], outputPadding: [Int] = []
            for axis in 0..<3 {
                let stride = pool[axis]
                if stride == 1 {
                    upKernel.append(kernel[axis]); padding.append(kernel[axis] / 2); outputPadding.append(0)
                } else if axis == 2 {
                    upKernel.append(2); padding.append(0); outputPadding.append(0)
                } else {
                    upKernel.append(3); padding.append(1); outputPadding.append(size[axis] - (2 * next[axis] - 1))
                }
            }
            decoderLevels.append([.convTranspose(channels, kernel: upKernel, stride: pool, padding: .explicit(padding), outputPadding: outputPadding, bias: false),
                                  .batchNorm, activation])
        }
        let bottom = sizes[sizes.count - 1]
        guard bottom[2] == 1 else { throw HCALError("\(convolutionLayers) levels leave \(bottom[2]) depth slots per step; use at least \(paddedDepths.trailingZeroBitCount) levels") }
        let features = bottom[0] * bottom[1] * channels
        var bottleneck: [LayerSpec]
        switch architecture {
        case .cnnfnnae:
            bottleneck = [.flatten, .dense(channels), .dropout(probability: dropout), .dense(latent), .dropout(probability: dropout),
                          .dense(channels), .dropout(probability: dropout), .dense(features), .dropout(probability: dropout),
                          .reshape([channels, bottom[0], bottom[1], 1])]
        case .cnnrnnae:
            bottleneck = [.permute([3, 1, 2, 0]), .reshape([steps, features]),
                          .recurrent(recurrentCell, hidden: channels, layers: 1, returnSequences: true),
                          .recurrent(recurrentCell, hidden: latent, layers: 1, returnSequences: false),
                          .reshape([latent, 1]), .upsample(scale: [steps], mode: .nearest), .permute([1, 0]),
                          .recurrent(recurrentCell, hidden: channels, layers: 1, returnSequences: true),
                          .recurrent(recurrentCell, hidden: features, layers: 1, returnSequences: true),
                          .reshape([steps, bottom[0], bottom[1], channels]), .permute([3, 1, 2, 0])]
        }
        let decoder = decoderLevels.reversed().flatMap { $0 } + [.convTranspose(1, kernel: [1, 1, 1], bias: true)]
        let name = (reversibleNormalization || sideSplit ? "RIN_DC_" : "") + architecture.rawValue.uppercased() + "_" + subdetector.rawValue.uppercased()
        return ModelSpec(name: name, inputs: [.init("maps", shape: inputShape)],
                         blocks: [.init("encoder", inputs: ["maps"], layers: encoder), .init("bottleneck", inputs: ["encoder"], layers: bottleneck),
                                  .init("decoder", inputs: ["bottleneck"], layers: decoder)],
                         outputs: ["decoder"],
                         metadata: ["workflow": "hcal", "subdetector": subdetector.rawValue, "window": "\(steps)", "paddedDepths": "\(paddedDepths)",
                                    "reversibleNormalization": "\(reversibleNormalization)", "sideSplit": "\(sideSplit)",
                                    "layout": "[1, ieta, iphi, step * paddedDepths + depth]"])
    }
}
