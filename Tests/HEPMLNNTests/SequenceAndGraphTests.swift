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

    /// The group graph (every two nodes of a group joined) aggregates as DGL's norm "both" over
    /// those edges: Σ over the other members / (n − 1), 0 for a node alone; over any leading axes.
    @Test func groupGraphConvolutionAndPoolingOverSteps() throws {
        var g = SeededGenerator(seed: 75)
        let groupOfNode = [0, 0, 1, 0, 2, 1]
        let groups = try NodeGroups(groupOfNode: groupOfNode)
        #expect(groups.edgeCount == 3 * 2 + 2 * 1 && groups.coefficients[4] == 0)
        let x = random([2, 3, 6, 2], seed: 76)
        let aggregated = try Variable(x).aggregate(within: groups).value.scalars
        for row in 0..<6 {
            for node in 0..<6 {
                let others = (0..<6).filter { $0 != node && groupOfNode[$0] == groupOfNode[node] }
                for k in 0..<2 {
                    let expected = others.isEmpty ? 0 : others.reduce(0.0) { $0 + x.scalars[(row * 6 + $1) * 2 + k] } / Double(others.count)
                    #expect(abs(aggregated[(row * 6 + node) * 2 + k] - expected) < 1e-12)
                }
            }
        }
        let conv = GroupGraphConvolution<Double>(2, 3, groups: groups, generator: &g)
        #expect(conv.parameterCount == 2 * 3 + 3)
        try GradientCheck.check([x]) { try objective(conv($0[0])) }
        try GradientCheck.checkParameters(conv.parameters) { try objective(conv(Variable(x))) }
        // Pooling [N, T, V, F] equals pooling each step's [V, F] on its own.
        let pooling = AttentionPooling<Double>(features: 2, generator: &g)
        let pooled = try pooling(Variable(x))
        #expect(pooled.shape == [2, 3, 2])
        let perStep = try pooling(Variable(x.reshaped([6, 6, 2]))).value.scalars
        #expect(zip(pooled.value.scalars, perStep).allSatisfy { abs($0 - $1) < 1e-12 })
        try GradientCheck.check([x]) { try objective(pooling($0[0])) }
    }

    @Test func gatherResidualAndWildcardReshape() throws {
        var g = SeededGenerator(seed: 77)
        let x = random([2, 3, 4], seed: 78)
        let gather = Gather<Double>(axis: 1, indices: [3, 0, 3])
        #expect(try gather(Variable(x)).value.scalars[0..<3] == [x.scalars[3], x.scalars[0], x.scalars[3]])
        try GradientCheck.check([x]) { try objective(gather($0[0])) }
        let residual = Residual<Double>(Sequential([Linear<Double>(4, 4, generator: &g), Activation(.tanh)]))
        try GradientCheck.check([x]) { try objective(residual($0[0])) }
        #expect(throws: ShapeError.self) { try Residual<Double>(Sequential([Linear<Double>(4, 2, generator: &g)]))(Variable(x)) }
        #expect(try Reshape<Double>([-1, 2])(Variable(x)).shape == [2, 6, 2])
        #expect(throws: ShapeError.self) { try Reshape<Double>([-1, 5])(Variable(x)) }
    }

    /// Inference gives μ; training samples around it with the seeded generator; every pass leaves
    /// β·KL with KL = −½ Σ(1 + log σ² − μ² − σ²) as the auxiliary loss, differentiable.
    @Test func variationalBottleneck() throws {
        var g = SeededGenerator(seed: 79)
        let vae = VariationalBottleneck<Double>(features: 3, klWeight: 0.5, seed: 1, generator: &g)
        let x = random([4, 3], seed: 80)
        vae.setTraining(false)
        let mean = try vae.mean(Variable(x)).value.scalars, logVariance = try vae.logVariance(Variable(x)).value.scalars
        #expect(try vae(Variable(x)).value.scalars == mean)
        let kl = -0.5 * zip(mean, logVariance).reduce(0.0) { $0 + 1 + $1.1 - $1.0 * $1.0 - Foundation.exp($1.1) }
        #expect(abs(try #require(vae.auxiliaryLosses().first).value.scalars[0] - 0.5 * kl) < 1e-12)
        try GradientCheck.checkParameters(vae.parameters) {
            let y = try objective(vae(Variable(x)))
            return try vae.auxiliaryLosses().reduce(y) { try $0 + $1 }
        }
        vae.setTraining(true)
        vae.beginEpoch(0)
        let first = try vae(Variable(x)).value.scalars
        #expect(first != mean)
        vae.beginEpoch(0)
        #expect(try vae(Variable(x)).value.scalars == first, "an epoch's draws depend on the seed and epoch alone")
    }
}
