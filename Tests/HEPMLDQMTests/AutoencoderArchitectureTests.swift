import Foundation
import HEPMLNN
import HEPMLTensor
import Testing
@testable import HEPMLDQM

@Suite struct AutoencoderArchitectureTests {
    /// The network that is built and trained has upstream's layers: two valid convolutions of 12
    /// filters, Dense 50-50-3, Dense back to bins·filters, two same-padded transposed convolutions.
    @Test func individualNetworkIsUpstreamsNetwork() throws {
        let networks = try AutoencoderArchitecture.networks(for: [.init(name: "A", shape: [20]), .init(name: "B", shape: [6, 8])], mode: .individual,
                                                            options: AutoencoderPreset.upstream.options)
        #expect(networks.count == 2)
        let model: GraphModel<Float> = try networks[0].spec.build(seed: 1, stream: AutoencoderArchitecture.weightStream)
        let shapes = Dictionary(model.namedParameters().map { ($0.0, $0.1.shape) }, uniquingKeysWith: { a, _ in a })
        #expect(shapes["encoder_A.1.weight"] == [12, 1, 3])
        #expect(shapes["encoder_A.3.weight"] == [12, 12, 3])
        #expect(shapes["bottleneck.0.weight"] == [50, 12 * 16])
        #expect(shapes["bottleneck.2.weight"] == [50, 50])
        #expect(shapes["bottleneck.4.weight"] == [3, 50])
        #expect(shapes["decoder_A.0.weight"] == [240, 3])
        #expect(shapes["decoder_A.3.weight"] == [12, 12, 3])
        #expect(shapes["decoder_A.5.weight"] == [12, 1, 3])
        #expect(model.summary.shapes["decoder_A"] == [20])
        let image: GraphModel<Float> = try networks[1].spec.build(seed: 1)
        #expect(image.summary.layers.first { $0.block == "encoder_B" && $0.kind == "Conv2d" }?.outputShape == [12, 4, 6])
        #expect(image.summary.shapes["decoder_B"] == [48])
        let plan = networks[0].trainingPlan
        #expect(plan == .init(learningRate: 0.001, batchSize: 128, maximumEpochs: 1000, patience: 3, restoresBestWeights: true, validationRole: .heldOut))
        // HEPML's default builds the same network but for a linear output layer, and trains longer.
        let hepml = try AutoencoderArchitecture.networks(for: [.init(name: "A", shape: [20])], mode: .individual)
        let upstreamDecoder = try #require(networks[0].spec.blocks.last).layers, hepmlDecoder = try #require(hepml[0].spec.blocks.last).layers
        #expect(Array(upstreamDecoder.dropLast(2)) == Array(hepmlDecoder.dropLast(1)))
        #expect(hepml[0].trainingPlan.patience == 20 && hepml[0].trainingPlan.maximumEpochs == 300)
        #expect(upstreamDecoder.suffix(2) == [.relu, .flatten] && hepmlDecoder.suffix(2) == [.convTranspose(1, kernel: [3], padding: .same), .flatten])
    }

    @Test func simultaneousNetworkSharesTheBottleneck() throws {
        let networks = try AutoencoderArchitecture.networks(for: [.init(name: "A", shape: [20]), .init(name: "B", shape: [10])], mode: .simultaneous)
        #expect(networks.count == 1)
        let model: GraphModel<Float> = try networks[0].spec.build(seed: 1)
        #expect(model.inputNames == ["A", "B"] && model.outputNames == ["decoder_A", "decoder_B"])
        #expect(model.namedParameters().first { $0.0 == "bottleneck.0.weight" }?.1.shape == [50, 12 * 16 + 12 * 6])
        let outputs = try model([Variable(Tensor<Float>(zeros: [2, 20])), Variable(Tensor<Float>(zeros: [2, 10]))])
        #expect(outputs.map(\.shape) == [[2, 20], [2, 10]])
    }

    @Test func optionsFromAlgorithmJSONAndLimits() throws {
        let options = try JSONDecoder().decode(AutoencoderArchitecture.Options.self, from: Data(#"{"n_components": 5, "early_stopping": false, "unknown": 1}"#.utf8))
        #expect(options.components == 5 && options.batchSize == 128)
        #expect(options.score == .chi2 && options.inputScale == AutoencoderPreset.hepml.options.inputScale && options.earlyStoppingRounds == 20)
        // A named preset supplies the values of the keys that are not given.
        let upstream = try JSONDecoder().decode(AutoencoderArchitecture.Options.self, from: Data(#"{"preset": "upstream", "score": "chi2"}"#.utf8))
        var expected = AutoencoderPreset.upstream.options
        expected.score = .chi2
        #expect(upstream == expected && upstream.earlyStoppingRounds == 3 && upstream.inputScale == .unitSum)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(AutoencoderArchitecture.Options.self, from: Data(#"{"preset": "keras"}"#.utf8)) }
        // Stored with a model, every option is written and reads back unchanged.
        #expect(try JSONDecoder().decode(AutoencoderArchitecture.Options.self, from: JSONEncoder().encode(expected)) == expected)
        // The score is computed after training: it is not part of what a run directory is trained with.
        #expect(expected.trainingOptions == AutoencoderPreset.upstream.options)
        #expect(try AutoencoderArchitecture(branches: [.init(name: "A", shape: [10])], options: options).trainingPlan.patience == nil)
        #expect(throws: DQMError.self) { try AutoencoderArchitecture(branches: [.init(name: "A", shape: [4])]) }
        #expect(throws: DQMError.self) { try AutoencoderArchitecture(branches: [.init(name: "A", shape: [4, 4, 4])]) }
    }

    /// TensorFlow's Adam adds ε̂ = 1e-7 to the uncorrected √v: for a gradient of 1e-6 (typical of
    /// unit-sum histograms) the first step is lr·√0.001·g/(√0.001·g + ε̂) ≈ 0.2403·lr, where
    /// PyTorch's form (the engine's `Adam`, ε = 1e-8) steps 0.990·lr; for a large gradient both
    /// step lr. The values are worked out by hand from the two update rules.
    @Test func kerasEpsilonPlacementMatchesTensorFlowsAdam() throws {
        func firstStep(_ make: ([Variable<Float>]) -> Optimizer) throws -> [Float] {
            let parameter = Variable(try Tensor<Float>(shape: [2], scalars: [1, -2]), requiresGrad: true)
            parameter.grad = try Tensor<Float>(shape: [2], scalars: [1e-6, 0.5])
            let optimizer = make([parameter])
            optimizer.step()
            return parameter.value.scalars
        }
        let keras = try firstStep { Adam($0, learningRate: 1e-3, epsilon: 1e-7, epsilonPlacement: .keras) }
        let root = Float(0.001).squareRoot()
        #expect(abs(keras[0] - (1 - 1e-3 * root * 1e-6 / (root * 1e-6 + 1e-7))) < 1e-7)
        #expect(abs((1 - keras[0]) / 1e-3 - 0.2403) < 1e-3)
        #expect(abs(keras[1] - (-2 - 1e-3)) < 1e-6)
        let torch = try firstStep { Adam($0, learningRate: 1e-3) }
        #expect(abs((1 - torch[0]) / 1e-3 - 0.990) < 1e-3)
        // Later steps: the bias correction folds into the step size, the moments are Adam's.
        let parameter = Variable(try Tensor<Float>(shape: [1], scalars: [0]), requiresGrad: true)
        let optimizer = Adam([parameter], learningRate: 1e-2, epsilon: 1e-7, epsilonPlacement: .keras)
        var m = 0.0, v = 0.0, w = 0.0
        for (t, g) in [0.3, -0.1, 0.2].enumerated() {
            parameter.grad = try Tensor<Float>(shape: [1], scalars: [Float(g)])
            optimizer.step()
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            let step = Double(t + 1)
            w -= 1e-2 * (1 - pow(0.999, step)).squareRoot() / (1 - pow(0.9, step)) * m / (v.squareRoot() + 1e-7)
        }
        #expect(abs(Double(parameter.value.scalars[0]) - w) < 1e-6)
        #expect(optimizer.state.steps == 3)
    }

    /// χ² divides each bin's squared error by the training runs' mean squared residual of that
    /// bin (floored at 1 % of the mean over bins), then averages over bins; SSE is upstream's sum.
    @Test func reconstructionScores() {
        let inputs: [[Double]] = [[0.5, 0.5, 0], [0.6, 0.4, 0], [0.4, 0.5, 0.1]]
        let reconstructions: [[Double]] = [[0.5, 0.5, 0], [0.5, 0.5, 0], [0.5, 0.5, 0]]
        #expect(ReconstructionScore.sse.scores(inputs: inputs, reconstructions: reconstructions, trainingRows: [0, 1]).map { ($0 * 1e6).rounded() } == [0, 20_000, 20_000])
        // Training residual variances: bins 0 and 1 → 0.01/2, bin 2 → 0, floored at 1 % of the mean (0.01/3).
        let variances = ReconstructionScore.residualVariances(inputs: inputs, reconstructions: reconstructions, rows: [0, 1])
        #expect(variances.map { ($0 * 1e6).rounded() } == [5000, 5000, 33])
        let chi2 = ReconstructionScore.chi2.scores(inputs: inputs, reconstructions: reconstructions, trainingRows: [0, 1])
        #expect(abs(chi2[1] - (0.01 / 0.005 + 0.01 / 0.005) / 3) < 1e-9)
        // Entries where no good run has any weigh by the floor: the third run is far off.
        #expect(abs(chi2[2] - (0.01 / 0.005 + 0 + 0.01 / (0.01 / 300)) / 3) < 1e-6)
        #expect(AutoencoderInputScale.unitSum.factor(trainingInputs: [[0.25, 0.75]]) == 1)
        // The mean of the training runs is [0.375, 0.625]: its largest bin becomes 1.
        #expect(AutoencoderInputScale.unitPeak.factor(trainingInputs: [[0.25, 0.75], [0.5, 0.5]]) == 1.6)
        #expect(AutoencoderInputScale.unitPeak.factor(trainingInputs: [[0, 0]]) == 1)
    }
}
