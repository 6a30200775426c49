import HEPMLNN

/// Which reconstruction loss a network trains with.
public enum LossChoice: Sendable, Equatable {
    /// The telescope loss on the 48 TCs (`TelescopeLoss`).
    case telescope
    /// Mean over pixels of `(t − p)² · max(t, p)`, padding pixels included (Ecoder `weightedMSE`).
    case weightedMSE
    case mse
    /// A frozen EMD-approximating CNN trained by `hepml econt train-emd-loss`, by its saved name.
    case emdCNN(name: String)

    /// The name `--loss` takes and run names and files show: `telescope`, `weightedMSE`, `mse`, `emdCNN:<critic>`.
    public var name: String {
        switch self {
        case .telescope: return "telescope"
        case .weightedMSE: return "weightedMSE"
        case .mse: return "mse"
        case .emdCNN(let critic): return "emdCNN:\(critic)"
        }
    }

    /// Parses `name`; nil for anything else (a critic name must be a plain file name).
    public init?(name: String) {
        switch name {
        case "telescope": self = .telescope
        case "weightedMSE": self = .weightedMSE
        case "mse": self = .mse
        default:
            guard name.hasPrefix("emdCNN:") else { return nil }
            let critic = String(name.dropFirst("emdCNN:".count))
            guard !critic.isEmpty, !critic.contains("/"), !critic.hasPrefix(".") else { return nil }
            self = .emdCNN(name: critic)
        }
    }
}

/// The bit settings of the quantized encoder (Ecoder `build_model`), the latent width set by the eLinks.
public struct QuantizationSettings: Sendable, Equatable {
    public var input: Quantizer
    public var weights: Quantizer
    public var accumulator: Quantizer
    public var latent: Quantizer

    public init(budget: ELinkBudget) {
        input = .bits(bits: 10, integer: 3)
        weights = .bits(bits: 5, integer: 1)
        accumulator = .relu(bits: 11, integer: 3)
        latent = .relu(bits: budget.latentBits, integer: 1)
    }
}

/// One network of the model dictionary.
public struct NetworkDescription: Sendable, Equatable {
    public var name: String
    public var label: String
    public var arrangement: Arrangement
    public var loss: LossChoice
    /// Whether the encoder is quantized (QKeras); `--quantize` turns it on for every network.
    public var quantized: Bool
    public var convolutionFilters: [Int]
    public var kernelSizes: [Int]
    public var strides: [Int]
    public var pooling: [Bool]
    public var denseUnits: [Int]
    public var encodedDimension: Int

    public init(name: String, label: String, arrangement: Arrangement = .eightByEight, loss: LossChoice, quantized: Bool = false,
                convolutionFilters: [Int] = [8], kernelSizes: [Int] = [3], strides: [Int] = [1], pooling: [Bool] = [false],
                denseUnits: [Int] = [], encodedDimension: Int = 16) {
        self.name = name
        self.label = label
        self.arrangement = arrangement
        self.loss = loss
        self.quantized = quantized
        self.convolutionFilters = convolutionFilters
        self.kernelSizes = kernelSizes
        self.strides = strides
        self.pooling = pooling
        self.denseUnits = denseUnits
        self.encodedDimension = encodedDimension
    }

    public var inputShape: [Int] { arrangement.shape }

    /// The encoder (block "encoder", input "image" channels-last as the arrangements lay it out)
    /// and the decoder (block "decoder", back to channels-last), Ecoder's construction rules:
    /// - encoder: conv blocks (same padding, optional 2×2 max pooling), flatten, dense hidden
    ///   layers, the latent dense layer. Quantized: an input quantizer; conv and dense layers
    ///   with quantized weights and biases and no activation, each conv followed by the
    ///   accumulator's quantized ReLU; the latent's quantized ReLU. Float: ReLU everywhere.
    /// - decoder (always float): dense hidden layers in the encoder's order, a dense layer back to
    ///   the conv output size, reshape, then per conv layer optional up-sampling and a transposed
    ///   conv, a final transposed conv to the input channels and a sigmoid.
    public func spec(budget: ELinkBudget) throws -> ModelSpec {
        let settings = quantized ? QuantizationSettings(budget: budget) : nil
        var convolutions: [LayerSpec] = [.permute([2, 0, 1])]
        if let settings { convolutions.append(.quantize(settings.input)) }
        for index in convolutionFilters.indices {
            let kernel = [kernelSizes[index], kernelSizes[index]], stride = [strides[index], strides[index]]
            convolutions.append(.conv(convolutionFilters[index], kernel: kernel, stride: stride, padding: .same, quantizer: settings?.weights))
            if settings == nil { convolutions.append(.relu) }
            if pooling[index] { convolutions.append(.maxPool([2, 2])) }
            if let settings { convolutions.append(.quantize(settings.accumulator)) }
        }
        var encoder = convolutions + [.flatten]
        for units in denseUnits {
            encoder.append(.dense(units, quantizer: settings?.weights))
            if settings == nil { encoder.append(.relu) }
        }
        encoder.append(.dense(encodedDimension, quantizer: settings?.weights))
        encoder.append(settings.map { .quantize($0.latent) } ?? .relu)
        // The decoder mirrors the conv blocks' output shape, which the engine itself infers.
        let convolutionShape = try ModelSpec.sequential("convolutions", input: inputShape, layers: convolutions).summary().shapes["layers"] ?? []
        var decoder: [LayerSpec] = denseUnits.flatMap { [LayerSpec.dense($0), .relu] }
        decoder += [.dense(convolutionShape.reduce(1, *)), .relu, .reshape(convolutionShape)]
        for index in convolutionFilters.indices {
            if pooling[index] { decoder.append(.upsample(scale: [2, 2], mode: .nearest)) }
            let kernel = [kernelSizes[index], kernelSizes[index]], stride = [strides[index], strides[index]]
            decoder += [.convTranspose(convolutionFilters[index], kernel: kernel, stride: stride, padding: .same), .relu]
        }
        decoder += [.convTranspose(inputShape[2], kernel: [kernelSizes[0], kernelSizes[0]], padding: .same), .sigmoid, .permute([1, 2, 0])]
        return ModelSpec(name: name, inputs: [.init("image", shape: inputShape)],
                         blocks: [.init("encoder", inputs: ["image"], layers: encoder), .init("decoder", inputs: ["encoder"], layers: decoder)],
                         outputs: ["decoder"],
                         metadata: ["label": label, "arrangement": arrangement.name, "loss": loss.name, "quantized": "\(quantized)",
                                    "elinks": "\(budget.links)", "latent_bits": "\(budget.latentBits)",
                                    "layout": "images enter and leave channels last (N, H, W, C); dense [out, in], conv [out, in, kh, kw], transposed conv [in, out, kh, kw]; quantized networks store the float weights before their quantizers"])
    }
}

extension NetworkDescription {
    /// The default network.
    public static let defaultName = "8x8_c8_S2_tele"

    /// Every network of the upstream dictionary (cmantill `networks.py`) and its forks' additions.
    public static let catalog: [NetworkDescription] = [
        NetworkDescription(name: "8x8_c8_pool_tele", label: "8x8_c[8]_pool", loss: .telescope, strides: [1], pooling: [true]),
        NetworkDescription(name: "8x8_c8_S2", label: "8x8_c[8]_S2", loss: .weightedMSE, strides: [2]),
        NetworkDescription(name: "8x8_c8_S2_qK_RTL", label: "8x8_c[8]_S2", loss: .weightedMSE, quantized: true, strides: [2]),
        NetworkDescription(name: "8x8_c8_S2_tele", label: "8x8_c[8]_S2(tele)", loss: .telescope, strides: [2]),
        NetworkDescription(name: "8x8_c8_S2_qK_RTL_tele", label: "8x8_c[8]_S2(tele)", loss: .telescope, quantized: true, strides: [2]),
        NetworkDescription(name: "8x8_c8_S2_qK_RTL_MSE", label: "8x8_c[8]_S2(mse)", loss: .mse, quantized: true, strides: [2]),
        NetworkDescription(name: "8x8_c8_S2_emdCNN", label: "8x8_c[8]_S2(emdCNN)", loss: .emdCNN(name: "ae_mse"), strides: [2]),
    ] + ["ttbar", "egun", "epgun", "lphe"].map { sample in
        NetworkDescription(name: "8x8_c8_S2_qK_RTL_emd_\(sample)", label: "8x8_c[8]_S2(emd \(sample))",
                           loss: .emdCNN(name: "ae_mse_\(sample)"), quantized: true, strides: [2])
    }

    public static func named(_ name: String) -> NetworkDescription? { catalog.first { $0.name == name } }
}
