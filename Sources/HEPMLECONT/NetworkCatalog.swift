/// Plain descriptions of the study's autoencoders: what the training engine must build, with no
/// dependency on it. Built from the few numbers that distinguish Ecoder's networks (conv
/// filters, kernels, strides, pooling) with its construction rules.

public enum Activation: String, Sendable, Codable {
    case linear, relu, sigmoid
}

public enum Padding: String, Sendable, Codable {
    case same, valid
}

/// One layer, in forward order. Shapes are channels-last (height, width, channels).
public enum LayerDescription: Sendable, Equatable {
    case input(shape: [Int])
    /// A standalone quantizer on the activations (QKeras `QActivation`).
    case quantize(FixedPointQuantizer)
    /// `weightQuantizer` quantizes kernel and bias (QKeras `QConv2D`); nil for a float layer.
    case conv2D(filters: Int, kernel: Int, stride: Int, padding: Padding, activation: Activation, weightQuantizer: FixedPointQuantizer?)
    case maxPool2D(size: Int)
    case upSampling2D(size: Int)
    case flatten
    case dense(units: Int, activation: Activation, weightQuantizer: FixedPointQuantizer?)
    case reshape(shape: [Int])
    case conv2DTranspose(filters: Int, kernel: Int, stride: Int, padding: Padding, activation: Activation)
    case activation(Activation)

    /// Output shape for a given input shape; nil when the layer does not accept that shape.
    public func outputShape(_ shape: [Int]) -> [Int]? {
        switch self {
        case .input(let declared): return declared
        case .quantize, .activation: return shape
        case .conv2D(let filters, let kernel, let stride, let padding, _, _):
            guard shape.count == 3 else { return nil }
            func size(_ n: Int) -> Int { padding == .same ? (n + stride - 1) / stride : (n - kernel + stride) / stride }
            return [size(shape[0]), size(shape[1]), filters]
        case .maxPool2D(let size):
            guard shape.count == 3 else { return nil }
            return [(shape[0] + size - 1) / size, (shape[1] + size - 1) / size, shape[2]]
        case .upSampling2D(let size):
            guard shape.count == 3 else { return nil }
            return [shape[0] * size, shape[1] * size, shape[2]]
        case .flatten: return [shape.reduce(1, *)]
        case .dense(let units, _, _):
            guard shape.count == 1 else { return nil }
            return [units]
        case .reshape(let target):
            guard target.reduce(1, *) == shape.reduce(1, *) else { return nil }
            return target
        case .conv2DTranspose(let filters, let kernel, let stride, let padding, _):
            guard shape.count == 3 else { return nil }
            func size(_ n: Int) -> Int { padding == .same ? n * stride : (n - 1) * stride + kernel }
            return [size(shape[0]), size(shape[1]), filters]
        }
    }

    /// Trainable parameters given the input shape.
    public func parameterCount(input shape: [Int]) -> Int {
        switch self {
        case .conv2D(let filters, let kernel, _, _, _, _), .conv2DTranspose(let filters, let kernel, _, _, _):
            return kernel * kernel * (shape.last ?? 0) * filters + filters
        case .dense(let units, _, _):
            return shape.reduce(1, *) * units + units
        default:
            return 0
        }
    }

    /// Floating-point operations of the float layer as TensorFlow's profiler counts them for a
    /// batch of one: Conv2D 2·k²·C_in per output, MatMul 2·inputs per output, BiasAdd and
    /// element-wise ops one per output, MaxPool k² per output; ReLU, sigmoid and Round are not
    /// counted. Quantizers are not counted (their TF op graph is QKeras-version dependent).
    public func floatingPointOperations(input shape: [Int]) -> Int? {
        guard let output = outputShape(shape) else { return nil }
        let outputs = output.reduce(1, *)
        switch self {
        case .conv2D(_, let kernel, _, _, _, _):
            return 2 * kernel * kernel * (shape.last ?? 0) * outputs + outputs
        case .dense:
            return 2 * shape.reduce(1, *) * outputs + outputs
        case .maxPool2D(let size):
            return size * size * outputs
        case .input, .quantize, .flatten, .reshape, .activation, .upSampling2D:
            return 0
        case .conv2DTranspose:
            return nil
        }
    }
}

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
    public var input: FixedPointQuantizer
    public var weights: FixedPointQuantizer
    public var accumulator: FixedPointQuantizer
    public var latent: FixedPointQuantizer

    public init(budget: ELinkBudget) {
        input = .bits(10, integer: 3)
        weights = .bits(5, integer: 1)
        accumulator = .relu(11, integer: 3)
        latent = .relu(budget.latentBits, integer: 1)
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

    /// Encoder layers. Quantized: input quantizer, conv without activation followed by the
    /// accumulator quantized ReLU, dense layers without activation, latent quantized ReLU.
    public func encoderLayers(budget: ELinkBudget) -> [LayerDescription] {
        let settings = quantized ? QuantizationSettings(budget: budget) : nil
        var layers: [LayerDescription] = [.input(shape: inputShape)]
        if let settings { layers.append(.quantize(settings.input)) }
        for index in convolutionFilters.indices {
            layers.append(.conv2D(filters: convolutionFilters[index], kernel: kernelSizes[index], stride: strides[index],
                                  padding: .same, activation: settings == nil ? .relu : .linear, weightQuantizer: settings?.weights))
            if pooling[index] { layers.append(.maxPool2D(size: 2)) }
            if let settings { layers.append(.quantize(settings.accumulator)) }
        }
        layers.append(.flatten)
        for units in denseUnits {
            layers.append(.dense(units: units, activation: settings == nil ? .relu : .linear, weightQuantizer: settings?.weights))
        }
        if let settings {
            layers.append(.dense(units: encodedDimension, activation: .linear, weightQuantizer: settings.weights))
            layers.append(.quantize(settings.latent))
        } else {
            layers.append(.dense(units: encodedDimension, activation: .relu, weightQuantizer: nil))
        }
        return layers
    }

    /// Shape of the last convolution block's output, which the decoder reshapes back to.
    public var convolutionOutputShape: [Int] {
        var shape = inputShape
        for index in convolutionFilters.indices {
            shape = LayerDescription.conv2D(filters: convolutionFilters[index], kernel: kernelSizes[index], stride: strides[index],
                                            padding: .same, activation: .relu, weightQuantizer: nil).outputShape(shape) ?? shape
            if pooling[index] { shape = LayerDescription.maxPool2D(size: 2).outputShape(shape) ?? shape }
        }
        return shape
    }

    /// Decoder layers (always float): dense hidden layers in the encoder's order, a dense layer
    /// back to the conv output size, reshape, then for each conv layer in forward order optional
    /// up-sampling and a transposed conv, a final transposed conv to the input channels and a sigmoid.
    public var decoderLayers: [LayerDescription] {
        var layers: [LayerDescription] = [.input(shape: [encodedDimension])]
        for units in denseUnits { layers.append(.dense(units: units, activation: .relu, weightQuantizer: nil)) }
        let convShape = convolutionOutputShape
        layers.append(.dense(units: convShape.reduce(1, *), activation: .relu, weightQuantizer: nil))
        layers.append(.reshape(shape: convShape))
        for index in convolutionFilters.indices {
            if pooling[index] { layers.append(.upSampling2D(size: 2)) }
            layers.append(.conv2DTranspose(filters: convolutionFilters[index], kernel: kernelSizes[index], stride: strides[index],
                                           padding: .same, activation: .relu))
        }
        layers.append(.conv2DTranspose(filters: inputShape[2], kernel: kernelSizes[0], stride: 1, padding: .same, activation: .linear))
        layers.append(.activation(.sigmoid))
        return layers
    }

    /// Parameters of a layer stack (starting with its `.input`).
    public static func parameterCount(_ layers: [LayerDescription]) -> Int {
        var shape: [Int] = []
        var total = 0
        for layer in layers {
            total += layer.parameterCount(input: shape)
            shape = layer.outputShape(shape) ?? shape
        }
        return total
    }

    /// TensorFlow-convention FLOPs of a float layer stack for one module (see
    /// `LayerDescription.floatingPointOperations`); nil if a layer has no counting rule here.
    public static func floatingPointOperations(_ layers: [LayerDescription]) -> Int? {
        var shape: [Int] = []
        var total = 0
        for layer in layers {
            guard let flops = layer.floatingPointOperations(input: shape), let next = layer.outputShape(shape) else { return nil }
            total += flops
            shape = next
        }
        return total
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
