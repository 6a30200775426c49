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
        /// GraphSTAD: CNN + GNN + RNN AE over a window (upstream `CNNGNNRNNAE_MultiDim_SPATIAL`);
        /// the GNN runs over the readout-box graph of `HCALModelOptions.readoutGraph`.
        case cnngnnrnnae
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
    /// ResCNN: identity skips around encoder levels 2… (upstream `use_res`; encoder only, as upstream).
    public var residual = false
    /// VAE bottleneck on the latent (upstream `isvariational`), trained with β·KL and no loss scale.
    public var variational = false
    /// β of the VAE's KL term (upstream `reg_beta`).
    public var klWeight = 1e-4

    public init() {}

    /// A model by name: `[rin-|rin-dc-][res]cnn{fnn|rnn|gnnrnn}{ae|vae}` — RIN (and the side split
    /// DC), the ResCNN encoder, the spatial, temporal or graph (GraphSTAD) model, plain or
    /// variational bottleneck; `graphstad` is `cnngnnrnnae`.
    public static func named(_ name: String, subdetector: HCALSubdetector) throws -> HCALModelOptions {
        var options = HCALModelOptions()
        options.subdetector = subdetector
        var rest = Substring(name)
        func drop(_ prefix: String) -> Bool {
            guard rest.hasPrefix(prefix) else { return false }
            rest = rest.dropFirst(prefix.count)
            return true
        }
        if drop("rin-dc-") {
            options.reversibleNormalization = true
            options.sideSplit = true
        } else if drop("rin-") {
            options.reversibleNormalization = true
        }
        if rest == "graphstad" { rest = "cnngnnrnnae" }
        options.residual = drop("res")
        if rest.hasSuffix("vae") {
            options.variational = true
            rest = Substring(String(rest.dropLast(3)) + "ae")
        }
        guard let architecture = Architecture(rawValue: String(rest)) else {
            throw HCALError("unknown HCAL model '\(name)': names are [rin-|rin-dc-][res]cnn{fnn|rnn|gnnrnn}{ae|vae} or [rin-]graphstad, e.g. \(catalogue.joined(separator: ", "))")
        }
        options.architecture = architecture
        if architecture == .cnnfnnae { options.window = 1 }
        guard !(architecture == .cnngnnrnnae && options.sideSplit) else {
            throw HCALError("'\(name)': the graph model takes the full map; the side split (DC) cannot be combined with it (upstream rejects it too)")
        }
        return options
    }

    /// Named examples of every family (any name of the grammar of `named` is accepted).
    public static let catalogue = ["cnnfnnae", "rescnnfnnae", "cnnfnnvae", "cnnrnnae", "rescnnrnnae", "cnnrnnvae", "rin-dc-cnnrnnae",
                                   "graphstad", "rin-graphstad"]
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

    /// The GNN's graph (docs/hcal.md, "GraphSTAD graph"): nodes are the channels of the
    /// subdetector's public geometry (`HCALMask(geometry:)`) in map order; every two channels
    /// read out by the same RBX — one side (ieta sign) and the RBX's 4 iphi — are joined. Returns
    /// each node's position in one step's flattened map `[ieta, 72, Dp]` and its RBX group
    /// (minus side RBX 1…18 → 0…17, plus side → 18…35).
    public var readoutGraph: (positions: [Int], groups: [Int]) {
        let mask = HCALMask(geometry: subdetector), depths = subdetector.depthCount
        var positions: [Int] = [], groups: [Int] = []
        for eta in 0..<HCALIndex.etaCount {
            for phi in 0..<HCALIndex.phiCount {
                for depth in 0..<depths where mask.active[HCALIndex.flat(eta: eta, phi: phi, depth: depth, depths: depths)] {
                    positions.append((eta * HCALIndex.phiCount + phi) * paddedDepths + depth)
                    groups.append((HCALIndex.ieta(ofIndex: eta) < 0 ? 0 : 18) + HCALIndex.rbx(iphi: phi + 1) - 1)
                }
            }
        }
        return (positions, groups)
    }

    public func spec() throws -> ModelSpec {
        guard latent > 0, steps > 0, convolutionLayers > 0 else { throw HCALError("latent, window and layers must be positive") }
        guard !(architecture == .cnngnnrnnae && sideSplit) else { throw HCALError("the graph model cannot be combined with the side split (DC)") }
        let channels = 4 * latent
        let activation = LayerSpec.activation(.leakyRelu(slope: leakySlope))
        // Per-step sizes (ieta, iphi, depth) before each level; pooling keeps ceil sizes.
        var sizes = [[inputShape[1], inputShape[2], paddedDepths]]
        var encoder: [LayerSpec] = [], decoderLevels: [[LayerSpec]] = []
        for level in 0..<convolutionLayers {
            let size = sizes[sizes.count - 1]
            // Kernel min(S, 3) with even values made odd, depth 1 (upstream's effective (3, 3, 1)).
            let kernel = [size[0], size[1]].map { value -> Int in let k = min(value, 3); return k % 2 == 0 ? k - 1 : k } + [1]
            let pool = size.map { min($0, 2) }
            let block: [LayerSpec] = [.conv(channels, kernel: kernel, padding: .explicit([kernel[0] / 2, kernel[1] / 2, 0]), bias: false), .batchNorm, activation]
            // ResCNN: the level's input is added before pooling where the channels agree (levels 2…).
            encoder += (residual && level > 0 ? [.residual(block)] : block) + [.maxPool(pool, ceilMode: true)]
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
        // Per step, channel-last (upstream's flattening): [T, ieta', iphi', C] → [T, features];
        // −1 lets the encoder run on one step alone (`HCALStepwiseNetwork`).
        encoder += [.permute([3, 1, 2, 0]), .reshape([-1, features])]
        let latentLayers: [LayerSpec] = variational ? [.variational(klWeight: klWeight)] : []
        let unflatten: [LayerSpec] = [.reshape([steps, bottom[0], bottom[1], channels]), .permute([3, 1, 2, 0])]
        var blocks: [ModelSpec.Block] = [.init("encoder", inputs: ["maps"], layers: encoder)]
        var bottleneckInputs = ["encoder"]
        let bottleneck: [LayerSpec]
        switch architecture {
        case .cnnfnnae:
            bottleneck = [.flatten, .dense(channels), .dropout(probability: dropout), .dense(latent), .dropout(probability: dropout)] + latentLayers
                + [.dense(channels), .dropout(probability: dropout), .dense(features), .dropout(probability: dropout)] + unflatten
        case .cnnrnnae, .cnngnnrnnae:
            if architecture == .cnngnnrnnae {
                let graph = readoutGraph
                let mapSize = inputShape[1] * inputShape[2]
                var gnn: [LayerSpec] = [.reshape([mapSize, -1, paddedDepths]), .permute([1, 0, 2]), .reshape([-1, mapSize * paddedDepths]),
                                        .gather(axis: 1, indices: graph.positions), .reshape([-1, graph.positions.count, 1])]
                for _ in 0..<convolutionLayers { gnn += [.groupGraphConvolution(features: channels, groups: graph.groups), .relu] }
                blocks.append(.init("graph", inputs: ["maps"], layers: gnn + [.attentionPooling]))
                bottleneckInputs.append("graph")
            }
            bottleneck = [.recurrent(recurrentCell, hidden: channels, layers: 1, returnSequences: true),
                          .recurrent(recurrentCell, hidden: latent, layers: 1, returnSequences: false)] + latentLayers
                + [.reshape([latent, 1]), .upsample(scale: [steps], mode: .nearest), .permute([1, 0]),
                   .recurrent(recurrentCell, hidden: channels, layers: 1, returnSequences: true),
                   .recurrent(recurrentCell, hidden: features, layers: 1, returnSequences: true)] + unflatten
        }
        blocks.append(.init("bottleneck", inputs: bottleneckInputs, concatenationAxis: 1, layers: bottleneck))
        blocks.append(.init("decoder", inputs: ["bottleneck"], layers: decoderLevels.reversed().flatMap { $0 } + [.convTranspose(1, kernel: [1, 1, 1], bias: true)]))
        let family = (residual ? "RES" : "") + architecture.rawValue.dropLast(2).uppercased() + (variational ? "VAE" : "AE")
        let name = (reversibleNormalization ? "RIN_" : "") + (sideSplit ? "DC_" : "") + family + "_" + subdetector.rawValue.uppercased()
        return ModelSpec(name: name, inputs: [.init("maps", shape: inputShape)], blocks: blocks, outputs: ["decoder"],
                         metadata: ["workflow": "hcal", "subdetector": subdetector.rawValue, "window": "\(steps)", "paddedDepths": "\(paddedDepths)",
                                    "reversibleNormalization": "\(reversibleNormalization)", "sideSplit": "\(sideSplit)",
                                    "residual": "\(residual)", "variational": "\(variational)",
                                    "layout": "[1, ieta, iphi, step * paddedDepths + depth]"])
    }
}
