import Foundation
import HEPMLNN

/// AutoDQM_ML's convolutional autoencoder: its options and the `ModelSpec` they describe, one
/// named input and output per histogram. The spec is what is built, trained, saved as
/// `model.json` and exported, so the network documented here is the network that runs.
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
        /// The decoder's last layer (HEPML; upstream's is ReLU).
        public var outputActivation = DecoderOutput.relu

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
            outputActivation = try container.decodeIfPresent(DecoderOutput.self, forKey: .outputActivation) ?? defaults.outputActivation
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

        /// The options that shape training: the score is computed afterwards, so a trained
        /// model serves every score.
        var trainingOptions: Options {
            var options = self
            options.score = .sse
            return options
        }
    }

    /// The decoder's last layer: ReLU (upstream) or linear.
    public enum DecoderOutput: String, Sendable, Codable {
        case relu, linear
    }

    /// One AE per histogram (`individual`, the default) or one AE over all (`simultaneous`).
    public enum Mode: String, Sendable, Codable, CaseIterable {
        case individual
        case simultaneous
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

    /// Blocks in build order: per branch `encoder_<name>`, then the shared `bottleneck`, then per
    /// branch `decoder_<name>`. Inputs and outputs are named after the branches; each takes and
    /// gives the flattened histogram (`[bins]`), as the table stores it. Tensors inside are
    /// channels-first where Keras is channels-last: the same network up to a fixed permutation
    /// of the decoder's dense outputs.
    public var branches: [Branch]
    public var spec: ModelSpec
    public var options: Options

    /// The random stream of the weights, apart from other models' streams.
    public static let weightStream: UInt64 = 0xAE

    /// The upstream network for `branches`; throws when an input is too small for the valid
    /// convolutions (each removes `kernel − 1` bins per axis) or options are out of range.
    public init(branches: [Branch], options: Options = Options()) throws {
        guard !branches.isEmpty else { throw DQMError.invalidConfiguration("an autoencoder needs at least one histogram") }
        guard options.hiddenLayers >= 1, options.nodes >= 1, options.components >= 1, options.filters >= 1,
              options.kernel1D >= 1, options.kernel2D >= 1, options.batchSize >= 1, options.epochs >= 1,
              options.learningRate > 0, options.earlyStoppingRounds >= 1
        else { throw DQMError.invalidConfiguration("autoencoder options must be positive") }
        var blocks: [ModelSpec.Block] = []
        for branch in branches {
            let dimensions = branch.shape.count
            guard dimensions == 1 || dimensions == 2, branch.shape.allSatisfy({ $0 >= 1 }) else {
                throw DQMError.invalidHistogram("\(branch.name): only 1D and 2D histograms are supported")
            }
            let kernel = Array(repeating: dimensions == 1 ? options.kernel1D : options.kernel2D, count: dimensions)
            guard branch.shape.allSatisfy({ $0 - options.hiddenLayers * (kernel[0] - 1) >= 1 }) else {
                throw DQMError.invalidHistogram("\(branch.name): \(branch.shape) bins are too few for \(options.hiddenLayers) convolutions of kernel \(kernel[0])")
            }
            let convolutions = (0..<options.hiddenLayers).flatMap { _ in [LayerSpec.conv(options.filters, kernel: kernel), .relu] }
            blocks.append(.init("encoder_\(branch.name)", inputs: [branch.name], layers: [.reshape([1] + branch.shape)] + convolutions + [.flatten]))
        }
        let hidden = (0..<options.hiddenLayers).flatMap { _ in [LayerSpec.dense(options.nodes), .relu] }
        blocks.append(.init("bottleneck", inputs: branches.map { "encoder_\($0.name)" }, layers: hidden + [.dense(options.components)]))
        for branch in branches {
            let kernel = Array(repeating: branch.shape.count == 1 ? options.kernel1D : options.kernel2D, count: branch.shape.count)
            let transposed = (0..<options.hiddenLayers).flatMap { index -> [LayerSpec] in
                let last = index == options.hiddenLayers - 1
                let convolution = LayerSpec.convTranspose(last ? 1 : options.filters, kernel: kernel, padding: .same)
                return last && options.outputActivation == .linear ? [convolution] : [convolution, .relu]
            }
            blocks.append(.init("decoder_\(branch.name)", inputs: ["bottleneck"], layers: [
                .dense(branch.shape.reduce(1, *) * options.filters), .relu, .reshape([options.filters] + branch.shape),
            ] + transposed + [.flatten]))
        }
        self.branches = branches
        self.spec = ModelSpec(name: "autodqm-autoencoder", inputs: branches.map { .init($0.name, shape: [$0.shape.reduce(1, *)]) },
                              blocks: blocks, outputs: branches.map { "decoder_\($0.name)" })
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
