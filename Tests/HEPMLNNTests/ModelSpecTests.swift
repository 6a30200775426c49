import Foundation
import HEPMLCore
import HEPMLNN
import HEPMLTensor
import Testing

@Suite struct ModelSpecTests {
    /// An LDMX-style classifier with a side input: image features joined with a mass.
    static let twoInputs = ModelSpec(
        name: "image-and-mass",
        inputs: [.init("image", shape: [2, 6, 6]), .init("mass", shape: [1])],
        blocks: [
            .init("features", inputs: ["image"], layers: [.conv(3, kernel: [3, 3], padding: .same), .relu, .maxPool([2, 2]), .flatten]),
            .init("head", inputs: ["features", "mass"], layers: [.dense(4), .activation(.leakyRelu(slope: 0.5)), .dense(2)]),
        ],
        outputs: ["head"])

    @Test func inferredShapesAgreeWithTheEngine() throws {
        let summary = try Self.twoInputs.summary()
        #expect(summary.shapes["features"] == [27])
        #expect(summary.shapes["head"] == [2])
        #expect(summary.layers.first { $0.block == "head" && $0.index == 0 }?.inputShape == [28])
        let model: GraphModel<Float> = try Self.twoInputs.build(seed: 3)
        model.setTraining(false)
        let outputs = try model([Variable(Tensor<Float>(zeros: [5, 2, 6, 6])), Variable(Tensor<Float>(zeros: [5, 1]))])
        #expect(outputs.map(\.shape) == [[5, 2]])
    }

    @Test func countsParametersAndOperations() throws {
        let summary = try Self.twoInputs.summary()
        // conv 3·2·9 + 3, dense 28·4 + 4, dense 4·2 + 2
        #expect(summary.parameters == 57 + 116 + 10)
        let model: GraphModel<Float> = try Self.twoInputs.build(seed: 3)
        #expect(model.parameterCount == summary.parameters)
        // conv: 36 outputs · 2 channels · 9; dense 28·4; dense 4·2
        #expect(summary.multiplyAdds == 3 * 36 * 2 * 9 + 28 * 4 + 4 * 2)
        // TensorFlow: conv 2·9·2 per output + bias, pool 4 per output, matmuls 2·in per output + bias.
        #expect(summary.tensorflowFLOPs(in: ["features"]) == (2 * 9 * 2 * 108 + 108) + 4 * 27)
        #expect(summary.tensorflowFLOPs(in: ["head"]) == (2 * 28 * 4 + 4) + (2 * 4 * 2 + 2))
        let transposed = ModelSpec.sequential("t", input: [1, 4, 4], layers: [.convTranspose(2, kernel: [3, 3])])
        #expect(try transposed.summary().tensorflowFLOPs(in: ["layers"]) == nil)
    }

    @Test func referenceModelsCountTheirMultiplyAdds() throws {
        // Conv 1·12·3 per output over 98, conv 12·12·3 over 96, dense 1152·50, 50·50, 50·3, 3·1200,
        // transposed 12·12·3 and 12·1·3 per input position over 100.
        let expected = 98 * 12 * 3 + 96 * 12 * 12 * 3 + 1152 * 50 + 50 * 50 + 50 * 3 + 3 * 1200 + 100 * 12 * 12 * 3 + 100 * 12 * 3
        #expect(try ReferenceModel(.dqmAE, seed: 1).model.summary.multiplyAdds == expected)
    }

    @Test func roundTripsThroughJSONAndRebuildsTheSameNetwork() throws {
        let spec = ModelSpec(
            name: "everything",
            inputs: [.init("sequence", shape: [5, 3])],
            blocks: [
                .init("recurrent", inputs: ["sequence"], layers: [.recurrent(.lstm, hidden: 4, layers: 2, returnSequences: false),
                                                                  .dense(6, quantizer: .bits(bits: 8, integer: 2)), .batchNorm,
                                                                  .dropout(probability: 0.25), .quantize(.relu(bits: 6, integer: 1)),
                                                                  .reshape([2, 3]), .upsample(scale: [2], mode: .nearest),
                                                                  .averagePool([2], ceilMode: true), .flatten]),
            ],
            outputs: ["recurrent"], metadata: ["purpose": "test"])
        let decoded = try ModelSpec(json: try spec.jsonData(), file: "model.json")
        #expect(decoded == spec)
        let a: GraphModel<Float> = try spec.build(seed: 9)
        let b: GraphModel<Float> = try decoded.build(seed: 9)
        let left = a.stateDictionary(), right = b.stateDictionary()
        #expect(left.map(\.0) == right.map(\.0))
        #expect(zip(left, right).allSatisfy { $0.1.scalars == $1.1.scalars })
        #expect(left.map(\.0).contains("recurrent.0.weight_hh_l1"))
    }

    /// Keras' defaults unless the description asks for PyTorch's; the choice survives `model.json`
    /// and is absent from it when not made.
    @Test func denseInitialization() throws {
        let keras = ModelSpec.sequential("mlp", input: [50], layers: [.dense(30)])
        let pytorch = ModelSpec(name: keras.name, inputs: keras.inputs, blocks: keras.blocks, outputs: keras.outputs, denseInitialization: .pytorch)
        #expect(!String(decoding: try keras.jsonData(), as: UTF8.self).contains("denseInitialization"))
        #expect(try ModelSpec(json: try pytorch.jsonData(), file: "model.json") == pytorch)
        let glorot = Dictionary(try keras.build(seed: 2, as: Float.self).stateDictionary(), uniquingKeysWith: { a, _ in a })
        let torch = Dictionary(try pytorch.build(seed: 2, as: Float.self).stateDictionary(), uniquingKeysWith: { a, _ in a })
        let glorotLimit = Float(6.0 / 80).squareRoot(), torchLimit = 1 / Float(50).squareRoot()
        #expect(glorot["layers.0.bias"]?.scalars.allSatisfy { $0 == 0 } == true)
        #expect(glorot["layers.0.weight"]?.scalars.contains { abs($0) > torchLimit } == true)
        #expect(glorot["layers.0.weight"]?.scalars.allSatisfy { abs($0) <= glorotLimit } == true)
        #expect(torch["layers.0.weight"]?.scalars.allSatisfy { abs($0) <= torchLimit } == true)
        #expect(torch["layers.0.bias"]?.scalars.allSatisfy { abs($0) <= torchLimit && $0 != 0 } == true)
    }

    @Test func refusesInconsistentDescriptions() throws {
        var spec = Self.twoInputs
        spec.blocks[1].inputs = ["features", "energy"]
        #expect(throws: ShapeError.self) { try spec.validate() }
        spec = Self.twoInputs
        spec.blocks[0].layers.insert(.recurrent(.gru, hidden: 2, layers: 1, returnSequences: true), at: 0)
        #expect(throws: ShapeError.self) { try spec.summary() }
        #expect(throws: FileFormatError.self) { try ModelSpec(json: Data("{\"name\": 3}".utf8), file: "broken.json") }
    }

    @Test func trainsThroughASideInput() throws {
        let model: GraphModel<Float> = try Self.twoInputs.build(seed: 1)
        var g = SeededGenerator(seed: 2)
        let images = try Tensor<Float>(shape: [8, 2, 6, 6], scalars: (0..<(8 * 72)).map { _ in Float(g.nextUniform()) })
        let masses = try Tensor<Float>(shape: [8, 1], scalars: (0..<8).map { Float($0 % 2) })
        let labels = try Tensor<Float>(shape: [8], scalars: (0..<8).map { Float($0 % 2) })
        let data = try Dataset(inputs: images, sideInputs: [masses], targets: labels)
        var configuration = TrainingConfiguration(epochs: 30, batchSize: 4, seed: 1, learningRate: 0.05)
        configuration.quiet = true
        let history = try train(model, optimizer: Adam(model.parameters, learningRate: 0.05), training: data, configuration: configuration) { model, batch in
            try Loss.crossEntropy(logits: model(batch.modelInputs)[0], labels: batch.targets)
        }
        // The label is the mass: a model that reads its side input learns it.
        #expect((history.epochs.last?.trainLoss ?? 1) < 0.1)
    }
}
