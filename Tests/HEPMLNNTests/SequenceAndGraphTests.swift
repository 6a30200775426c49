import Foundation
import HEPMLCore
import HEPMLTensor
import Testing
@testable import HEPMLNN

@Suite struct SequenceAndGraphTests {
    /// A scalar objective that weights every output element differently.
    func objective(_ y: Variable<Double>) throws -> Variable<Double> {
        let w = try Tensor(shape: y.shape, scalars: (0..<y.value.count).map { 0.3 + Double($0 % 5) * 0.2 })
        return try (y * Variable(w)).sum()
    }

    @Test(arguments: [Recurrent<Double>.Cell.rnn, .lstm, .gru])
    func recurrentGradientsOverSeveralSteps(cell: Recurrent<Double>.Cell) throws {
        var g = SeededGenerator(seed: 70)
        let layer = Recurrent<Double>(cell, inputSize: 3, hiddenSize: 4, layers: 2, returnSequences: true, generator: &g)
        let x = random([2, 4, 3], seed: 71)
        try GradientCheck.check([x]) { try objective(layer($0[0])) }
        try GradientCheck.checkParameters(layer.parameters) { try objective(layer(Variable(x))) }
        #expect(layer.namedParameters().map(\.0).prefix(4) == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"])
        #expect(layer.parameters[0].shape == [cell == .lstm ? 16 : (cell == .gru ? 12 : 4), 3])
        let lastOnly = Recurrent<Double>(cell, inputSize: 3, hiddenSize: 4, returnSequences: false, generator: &g)
        #expect(try lastOnly(Variable(x)).shape == [2, 4])
    }

    @Test func lstmMatchesHandComputedStep() throws {
        // One unit, one step, all weights zero except biases: i = f = o = σ(b), g = tanh(b).
        var g = SeededGenerator(seed: 72)
        let layer = Recurrent<Double>(.lstm, inputSize: 1, hiddenSize: 1, generator: &g)
        for p in layer.parameters { p.value.scalars = p.value.scalars.map { _ in 0 } }
        layer.parameters[2].value.scalars = [0.5, 0.5, 0.5, 0.5]
        let y = try layer(Variable(try Tensor(shape: [1, 1, 1], scalars: [3]))).value.scalars[0]
        let s = 1 / (1 + Foundation.exp(-0.5)), c = s * Foundation.tanh(0.5)
        #expect(abs(y - s * Foundation.tanh(c)) < 1e-12)
    }

    @Test func graphConvolutionAndAttentionPooling() throws {
        var g = SeededGenerator(seed: 73)
        let edges = [(0, 1), (1, 2), (2, 3), (3, 0), (0, 2)]
        let x = random([2, 4, 3], seed: 74)
        for normalization in [GraphAdjacency.Normalization.sum, .mean, .symmetric] {
            let conv = try GraphConvolution<Double>(3, 2, nodeCount: 4, edges: edges, normalization: normalization, generator: &g)
            try GradientCheck.check([x]) { try objective(conv($0[0])) }
            try GradientCheck.checkParameters(conv.parameters) { try objective(conv(Variable(x))) }
        }
        let pooling = AttentionPooling<Double>(features: 3, generator: &g)
        try GradientCheck.check([x]) { try objective(pooling($0[0])) }
        try GradientCheck.checkParameters(pooling.parameters) { try objective(pooling(Variable(x))) }
        #expect(try pooling(Variable(x)).shape == [2, 3])
    }
}
