import Foundation

/// AutoDQM_ML's convolutional autoencoder as a plain description, which the training engine
/// turns into a network. Keeping it as data lets the workflow, its documentation and its tests
/// agree on the exact upstream layer list without depending on the engine.
public struct AutoencoderArchitecture: Sendable, Equatable {
    /// Hyper-parameters, named as the `config` dict of an AutoDQM_ML algorithm JSON. `Options()`
    /// is HEPML's default (`AutoencoderPreset.hepml`); `AutoencoderPreset.upstream` is
    /// AutoDQM_ML's `DEFAULT_OPT`.
    public struct Options: Codable, Sendable, Equatable {
        public var batchSize = 128
        public var learningRate = 0.001
        public var epochs = 1000
        public var earlyStopping = true
        /// Epochs without improvement of the held-out good-run loss before stopping.
        public var earlyStoppingRounds = 3
        public var hiddenLayers = 2
        public var nodes = 50
        /// Latent dimension.
        public var components = 3
        public var kernel1D = 3
        public var kernel2D = 3
        public var filters = 12
        /// How the network's inputs are scaled (HEPML; upstream feeds unit-sum histograms).
        public var inputScale = AutoencoderInputScale.unitSum
        /// How reconstructions are scored (HEPML; upstream scores the SSE).
        public var score = ReconstructionScore.sse
        /// The activation of the decoder's last layer (HEPML; upstream's is ReLU).
        public var outputActivation = Activation.relu

        public init() {
            self = AutoencoderPreset.hepml.options
        }

        /// The values every preset starts from: AutoDQM_ML's `DEFAULT_OPT`.
        init(upstream: Void) {}

        enum CodingKeys: String, CodingKey {
            case preset
            case batchSize = "batch_size"
            case learningRate = "learning_rate"
            case epochs = "n_epochs"
            case earlyStopping = "early_stopping"
            case earlyStoppingRounds = "early_stopping_rounds"
            case hiddenLayers = "n_hidden_layers"
            case nodes = "n_nodes"
            case components = "n_components"
            case kernel1D = "kernel_1d"
            case kernel2D = "kernel_2d"
            case filters = "n_filters"
            case inputScale = "input_scale"
            case score
            case outputActivation = "output_activation"
        }

        /// Missing keys keep the values of `preset` (HEPML's default when absent), like
        /// upstream's `update_dict` over `DEFAULT_OPT`.
        public init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let defaults = try container.decodeIfPresent(AutoencoderPreset.self, forKey: .preset)?.options ?? Options()
            batchSize = try container.decodeIfPresent(Int.self, forKey: .batchSize) ?? defaults.batchSize
            learningRate = try container.decodeIfPresent(Double.self, forKey: .learningRate) ?? defaults.learningRate
            epochs = try container.decodeIfPresent(Int.self, forKey: .epochs) ?? defaults.epochs
            earlyStopping = try container.decodeIfPresent(Bool.self, forKey: .earlyStopping) ?? defaults.earlyStopping
            earlyStoppingRounds = try container.decodeIfPresent(Int.self, forKey: .earlyStoppingRounds) ?? defaults.earlyStoppingRounds
            hiddenLayers = try container.decodeIfPresent(Int.self, forKey: .hiddenLayers) ?? defaults.hiddenLayers
            nodes = try container.decodeIfPresent(Int.self, forKey: .nodes) ?? defaults.nodes
            components = try container.decodeIfPresent(Int.self, forKey: .components) ?? defaults.components
            kernel1D = try container.decodeIfPresent(Int.self, forKey: .kernel1D) ?? defaults.kernel1D
            kernel2D = try container.decodeIfPresent(Int.self, forKey: .kernel2D) ?? defaults.kernel2D
            filters = try container.decodeIfPresent(Int.self, forKey: .filters) ?? defaults.filters
            inputScale = try container.decodeIfPresent(AutoencoderInputScale.self, forKey: .inputScale) ?? defaults.inputScale
            score = try container.decodeIfPresent(ReconstructionScore.self, forKey: .score) ?? defaults.score
            outputActivation = try container.decodeIfPresent(Activation.self, forKey: .outputActivation) ?? defaults.outputActivation
        }

        /// Every option explicitly, so a stored model says how it was trained.
        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(batchSize, forKey: .batchSize)
            try container.encode(learningRate, forKey: .learningRate)
            try container.encode(epochs, forKey: .epochs)
            try container.encode(earlyStopping, forKey: .earlyStopping)
            try container.encode(earlyStoppingRounds, forKey: .earlyStoppingRounds)
            try container.encode(hiddenLayers, forKey: .hiddenLayers)
            try container.encode(nodes, forKey: .nodes)
            try container.encode(components, forKey: .components)
            try container.encode(kernel1D, forKey: .kernel1D)
            try container.encode(kernel2D, forKey: .kernel2D)
            try container.encode(filters, forKey: .filters)
            try container.encode(inputScale, forKey: .inputScale)
            try container.encode(score, forKey: .score)
            try container.encode(outputActivation, forKey: .outputActivation)
        }

        /// The options stored with a model. Files written before every option was stored lack
        /// the HEPML keys and were trained with upstream's values for them.
        public static func stored(json text: String) throws -> Options {
            var object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
            if object[CodingKeys.preset.rawValue] == nil { object[CodingKeys.preset.rawValue] = AutoencoderPreset.upstream.rawValue }
            return try JSONDecoder().decode(Options.self, from: try JSONSerialization.data(withJSONObject: object))
        }

        /// Whether a network trained with `other` reconstructs as one trained with these options
        /// would: same input scale and output layer (the score is computed afterwards).
        public func reconstructsLike(_ other: Options) -> Bool {
            inputScale == other.inputScale && outputActivation == other.outputActivation
        }
    }

    /// One AE per histogram (`individual`, the default) or one AE over all (`simultaneous`).
    public enum Mode: String, Sendable, Codable, CaseIterable {
        case individual
        case simultaneous
    }

    public enum Activation: String, Sendable, Codable {
        case relu
        case linear
    }

    public enum Padding: String, Sendable, Codable {
        /// No padding: each convolution shrinks every axis by `kernel − 1`.
        case valid
        /// Output has the input's size.
        case same
    }

    /// The layers, in Keras vocabulary so the mapping onto the engine is one case per layer.
    public enum Layer: Sendable, Equatable {
        /// Input of shape `histogram shape + [1]` (one channel).
        case input(name: String, shape: [Int])
        /// Convolution over 1 or 2 spatial axes, stride 1.
        case convolution(name: String, dimensions: Int, filters: Int, kernel: Int, padding: Padding, activation: Activation)
        case flatten(name: String)
        /// Concatenation of the named layers' outputs (simultaneous mode only).
        case concatenate(name: String, inputs: [String])
        case dense(name: String, units: Int, activation: Activation)
        case reshape(name: String, shape: [Int])
        /// Transposed convolution, stride 1.
        case transposedConvolution(name: String, dimensions: Int, filters: Int, kernel: Int, padding: Padding, activation: Activation)
    }

    /// The histogram one encoder/decoder branch serves.
    public struct Branch: Sendable, Equatable {
        /// AutoDQM_ML's sanitized histogram name (used in layer names).
        public var name: String
        /// `[bins]` or `[nx, ny]` (after any rebinning the shape is `[bins]`).
        public var shape: [Int]

        public init(name: String, shape: [Int]) {
            self.name = name
            self.shape = shape
        }
    }

    /// Branches and layers in topological order: per branch the encoder, then the shared
    /// bottleneck, then per branch the decoder ending in `output_<name>`.
    public var branches: [Branch]
    public var layers: [Layer]
    public var options: Options

    /// The upstream network for `branches`; throws when an input is too small for the valid
    /// convolutions (each removes `kernel − 1` bins per axis) or options are out of range.
    public init(branches: [Branch], options: Options = Options()) throws {
        guard !branches.isEmpty else { throw DQMError.invalidConfiguration("an autoencoder needs at least one histogram") }
        guard options.hiddenLayers >= 1, options.nodes >= 1, options.components >= 1, options.filters >= 1,
              options.kernel1D >= 1, options.kernel2D >= 1, options.batchSize >= 1, options.epochs >= 1,
              options.learningRate > 0, options.earlyStoppingRounds >= 1
        else { throw DQMError.invalidConfiguration("autoencoder options must be positive") }
        var layers: [Layer] = []
        var encoderOutputs: [String] = []
        for branch in branches {
            let dimensions = branch.shape.count
            guard dimensions == 1 || dimensions == 2, branch.shape.allSatisfy({ $0 >= 1 }) else {
                throw DQMError.invalidHistogram("\(branch.name): only 1D and 2D histograms are supported")
            }
            let kernel = dimensions == 1 ? options.kernel1D : options.kernel2D
            guard branch.shape.allSatisfy({ $0 - options.hiddenLayers * (kernel - 1) >= 1 }) else {
                throw DQMError.invalidHistogram("\(branch.name): \(branch.shape) bins are too few for \(options.hiddenLayers) convolutions of kernel \(kernel)")
            }
            layers.append(.input(name: "input_\(branch.name)", shape: branch.shape + [1]))
            for index in 0..<options.hiddenLayers {
                layers.append(.convolution(name: "encoder_\(index)_\(branch.name)", dimensions: dimensions, filters: options.filters, kernel: kernel, padding: .valid, activation: .relu))
            }
            layers.append(.flatten(name: "flatten_\(branch.name)"))
            encoderOutputs.append("flatten_\(branch.name)")
        }
        if encoderOutputs.count > 1 { layers.append(.concatenate(name: "concatenate", inputs: encoderOutputs)) }
        for index in 0..<options.hiddenLayers {
            layers.append(.dense(name: "hidden_\(index)", units: options.nodes, activation: .relu))
        }
        layers.append(.dense(name: "latent_representation", units: options.components, activation: .linear))
        for branch in branches {
            let dimensions = branch.shape.count
            let kernel = dimensions == 1 ? options.kernel1D : options.kernel2D
            let bins = branch.shape.reduce(1, *)
            layers.append(.dense(name: "decoder_input_\(branch.name)", units: bins * options.filters, activation: .relu))
            layers.append(.reshape(name: "reshape_\(branch.name)", shape: branch.shape + [options.filters]))
            for index in 0..<options.hiddenLayers {
                let last = index == options.hiddenLayers - 1
                layers.append(.transposedConvolution(
                    name: last ? "output_\(branch.name)" : "decoder_\(index)_\(branch.name)", dimensions: dimensions,
                    filters: last ? 1 : options.filters, kernel: kernel, padding: .same, activation: last ? options.outputActivation : .relu))
            }
        }
        self.branches = branches
        self.layers = layers
        self.options = options
    }

    /// The networks to train: one per histogram in `individual` mode, one over all of them in
    /// `simultaneous` mode.
    public static func networks(for branches: [Branch], mode: Mode, options: Options = Options()) throws -> [AutoencoderArchitecture] {
        switch mode {
        case .individual: return try branches.map { try AutoencoderArchitecture(branches: [$0], options: options) }
        case .simultaneous: return [try AutoencoderArchitecture(branches: branches, options: options)]
        }
    }

    /// How training runs, fixed by the workflow rather than by options: mean-squared-error loss
    /// with Adam; early stopping watches the loss on held-out good runs (`SplitRole.heldOut`),
    /// never on bad runs, and the weights of the best epoch are restored at the end.
    public struct TrainingPlan: Sendable, Equatable {
        public var learningRate: Double
        public var batchSize: Int
        public var maximumEpochs: Int
        /// nil when early stopping is off.
        public var patience: Int?
        public var restoresBestWeights: Bool
        public var validationRole: SplitRole
    }

    public var trainingPlan: TrainingPlan {
        TrainingPlan(learningRate: options.learningRate, batchSize: options.batchSize, maximumEpochs: options.epochs,
                     patience: options.earlyStopping ? options.earlyStoppingRounds : nil,
                     restoresBestWeights: true, validationRole: .heldOut)
    }
}
