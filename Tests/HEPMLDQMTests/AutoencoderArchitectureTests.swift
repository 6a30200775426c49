import Foundation
import Testing
@testable import HEPMLDQM

@Suite struct AutoencoderArchitectureTests {
    @Test func individualNetworkMatchesUpstreamLayerList() throws {
        let networks = try AutoencoderArchitecture.networks(for: [.init(name: "A", shape: [20]), .init(name: "B", shape: [6, 8])], mode: .individual)
        #expect(networks.count == 2)
        #expect(networks[0].layers == [
            .input(name: "input_A", shape: [20, 1]),
            .convolution(name: "encoder_0_A", dimensions: 1, filters: 12, kernel: 3, padding: .valid, activation: .relu),
            .convolution(name: "encoder_1_A", dimensions: 1, filters: 12, kernel: 3, padding: .valid, activation: .relu),
            .flatten(name: "flatten_A"),
            .dense(name: "hidden_0", units: 50, activation: .relu),
            .dense(name: "hidden_1", units: 50, activation: .relu),
            .dense(name: "latent_representation", units: 3, activation: .linear),
            .dense(name: "decoder_input_A", units: 240, activation: .relu),
            .reshape(name: "reshape_A", shape: [20, 12]),
            .transposedConvolution(name: "decoder_0_A", dimensions: 1, filters: 12, kernel: 3, padding: .same, activation: .relu),
            .transposedConvolution(name: "output_A", dimensions: 1, filters: 1, kernel: 3, padding: .same, activation: .relu),
        ])
        #expect(networks[1].layers.contains(.convolution(name: "encoder_0_B", dimensions: 2, filters: 12, kernel: 3, padding: .valid, activation: .relu)))
        let plan = networks[0].trainingPlan
        #expect(plan == .init(learningRate: 0.001, batchSize: 128, maximumEpochs: 1000, patience: 3, restoresBestWeights: true, validationRole: .heldOut))
    }

    @Test func simultaneousNetworkSharesTheBottleneck() throws {
        let networks = try AutoencoderArchitecture.networks(for: [.init(name: "A", shape: [20]), .init(name: "B", shape: [10])], mode: .simultaneous)
        #expect(networks.count == 1)
        let layers = networks[0].layers
        #expect(layers.contains(.concatenate(name: "concatenate", inputs: ["flatten_A", "flatten_B"])))
        #expect(layers.filter { if case .dense(name: "latent_representation", _, _) = $0 { return true } else { return false } }.count == 1)
        #expect(layers.last == .transposedConvolution(name: "output_B", dimensions: 1, filters: 1, kernel: 3, padding: .same, activation: .relu))
    }

    @Test func optionsFromAlgorithmJSONAndLimits() throws {
        let options = try JSONDecoder().decode(AutoencoderArchitecture.Options.self, from: Data(#"{"n_components": 5, "early_stopping": false, "unknown": 1}"#.utf8))
        #expect(options.components == 5 && options.batchSize == 128)
        #expect(try AutoencoderArchitecture(branches: [.init(name: "A", shape: [10])], options: options).trainingPlan.patience == nil)
        #expect(throws: DQMError.self) { try AutoencoderArchitecture(branches: [.init(name: "A", shape: [4])]) }
        #expect(throws: DQMError.self) { try AutoencoderArchitecture(branches: [.init(name: "A", shape: [4, 4, 4])]) }
    }
}
