import CVectorKernels
import Foundation
import HEPMLCore
import Testing
@testable import HEPMLTensor

/// Seeded random Double tensors for gradient checks.
func random(_ shape: [Int], seed: UInt64, scale: Double = 1) -> Tensor<Double> {
    var generator = SeededGenerator(seed: seed)
    return Initializer.uniform(low: -scale, high: scale).tensor(shape, generator: &generator)
}

@Suite struct ElementwiseGradientTests {
    @Test func arithmeticWithBroadcasting() throws {
        let a = random([3, 4], seed: 1), b = random([4], seed: 2), c = random([3, 1], seed: 3)
        try GradientCheck.check([a, b, c]) { v in try (v[0] + v[1]) * v[2] - v[1] }
        try GradientCheck.check([a, random([4], seed: 4, scale: 1) + 3]) { v in try v[0] / v[1] }
        try GradientCheck.check([a]) { v in (v[0] * 2.5 + 1).squared() }
    }

    @Test func activations() throws {
        // Offset away from the kinks of ReLU-like functions so differences stay one-sided.
        var x = random([2, 5], seed: 5)
        x.scalars = x.scalars.map { $0 + ($0 >= 0 ? 0.05 : -0.05) }
        try GradientCheck.check([x]) { $0[0].relu() }
        try GradientCheck.check([x]) { $0[0].leakyRelu(slope: 0.2) }
        try GradientCheck.check([x]) { $0[0].elu(alpha: 1.5) }
        try GradientCheck.check([x]) { $0[0].tanh() }
        try GradientCheck.check([x]) { $0[0].sigmoid() }
        try GradientCheck.check([x]) { $0[0].softplus() }
        try GradientCheck.check([x]) { $0[0].gelu() }
        try GradientCheck.check([x]) { try $0[0].softmax() }
        try GradientCheck.check([x]) { try $0[0].logSoftmax(axis: 0) }
    }

    @Test func matmulLinearAndReductions() throws {
        try GradientCheck.check([random([3, 4], seed: 6), random([4, 2], seed: 7)]) { try Variable.matmul($0[0], $0[1]) }
        try GradientCheck.check([random([2, 3, 4], seed: 8), random([5, 4], seed: 9), random([5], seed: 10)]) {
            try Variable.linear($0[0], weight: $0[1], bias: $0[2])
        }
        try GradientCheck.check([random([2, 3, 4], seed: 11)]) { try $0[0].sum(axis: 1) }
        try GradientCheck.check([random([2, 3, 4], seed: 12)]) { try $0[0].mean(axis: -1, keepingAxis: true) }
        try GradientCheck.check([random([2, 3], seed: 13)]) { $0[0].mean() }
    }

    @Test func shapeOperations() throws {
        let x = random([2, 3, 4], seed: 14), y = random([2, 2, 4], seed: 15)
        try GradientCheck.check([x, y]) { try Variable.concatenate([$0[0], $0[1]], axis: 1) }
        try GradientCheck.check([x]) { try $0[0].slice(axis: 2, 1..<3) }
        try GradientCheck.check([x]) { try $0[0].permuted([2, 0, 1]) }
        try GradientCheck.check([x]) { try $0[0].transposed(0, 1).flattened() }
        try GradientCheck.check([x]) { try $0[0].reshaped([4, 6]) }
    }

    @Test func customOperation() throws {
        // x³ defined from closures, as workflow code does for its own losses.
        try GradientCheck.check([random([5], seed: 16)]) { v in
            try Variable.custom("cube", inputs: [v[0]], forward: { xs in
                Tensor(validShape: xs[0].shape, scalars: xs[0].scalars.map { $0 * $0 * $0 })
            }, backward: { g, xs, _ in
                [Tensor(validShape: g.shape, scalars: zip(g.scalars, xs[0].scalars).map { $0 * 3 * $1 * $1 })]
            })
        }
    }
}

@Suite struct ForwardValueTests {
    @Test func broadcastShapes() throws {
        #expect(Broadcasting.shape([3, 1, 5], [4, 1]) == [3, 4, 5])
        #expect(Broadcasting.shape([2, 3], [4]) == nil)
        let a = try Tensor<Float>(shape: [2, 2], scalars: [1, 2, 3, 4])
        let b = try Tensor<Float>(shape: [2, 1], scalars: [10, 20])
        #expect(try (a + b).scalars == [11, 12, 23, 24])
    }

    @Test func shapeErrorNamesBothShapes() throws {
        let x = Variable(Tensor<Float>(zeros: [2, 3])), w = Variable(Tensor<Float>(zeros: [4, 5]))
        #expect(throws: ShapeError.self) { try Variable.linear(x, weight: w, bias: nil) }
        do {
            _ = try Variable.linear(x, weight: w, bias: nil)
        } catch let error as ShapeError {
            #expect(error.description.contains("[2, 3]") && error.description.contains("[4, 5]"))
        }
    }

    @Test func softmaxRowsSumToOne() throws {
        let x = Variable(try Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 1000, 1000, 1000]))
        let y = try x.softmax().value.scalars
        #expect(abs(y[0] + y[1] + y[2] - 1) < 1e-6)
        #expect(abs(y[3] - 1.0 / 3) < 1e-6)
    }

    @Test func convolutionMatchesDirectSum() throws {
        // 1-D valid convolution, checked against the definition.
        let x = try Tensor<Float>(shape: [1, 1, 5], scalars: [1, 2, 3, 4, 5])
        let w = try Tensor<Float>(shape: [1, 1, 3], scalars: [1, 0, -1])
        let y = try Variable.convolution(Variable(x), weight: Variable(w), bias: nil)
        #expect(y.value.scalars == [-2, -2, -2])
        let same = try Variable.convolution(Variable(x), weight: Variable(w), bias: nil, stride: [2], padding: .same)
        #expect(same.shape == [1, 1, 3])
        // TF same with stride 2 on length 5: total pad 2, before 1 → windows at -1, 1, 3.
        #expect(same.value.scalars == [-2, -2, 4])
    }

    @Test func transposedConvolutionSizes() throws {
        let x = Variable(Tensor<Float>(repeating: 1, shape: [2, 8, 4, 4]))
        let w = Variable(Tensor<Float>(repeating: 1, shape: [8, 1, 3, 3]))
        #expect(try Variable.transposedConvolution(x, weight: w, bias: nil, stride: [2, 2], padding: .same).shape == [2, 1, 8, 8])
        #expect(try Variable.transposedConvolution(x, weight: w, bias: nil, stride: [2, 2], padding: .explicit([1, 1]), outputPadding: [1, 1]).shape == [2, 1, 8, 8])
        #expect(try Variable.transposedConvolution(x, weight: w, bias: nil).shape == [2, 1, 6, 6])
    }

    @Test func initializersAreSeeded() {
        var g1 = SeededGenerator(seed: 9), g2 = SeededGenerator(seed: 9)
        let a: Tensor<Float> = Initializer.glorotUniform.tensor([20, 30], generator: &g1)
        let b: Tensor<Float> = Initializer.glorotUniform.tensor([20, 30], generator: &g2)
        #expect(a == b)
        let limit = Float((6.0 / 50).squareRoot())
        #expect(a.scalars.allSatisfy { abs($0) <= limit })
    }
}

@Suite struct ScalarFunctionTests {
    @Test func floatTanhApproximation() {
        let x = (-20000...20000).map { Float(Double($0) * 0.001) } + [100, -100]
        var y = [Float](repeating: 0, count: x.count)
        Float.hyperbolicTangent(x, into: &y, count: x.count)
        let worst = zip(x, y).map { abs(Double($1) - Foundation.tanh(Double($0))) }.max() ?? 0
        #expect(worst < 1e-6)
        #expect(y.suffix(2) == [1, -1])
    }

    /// Every instruction set computes the same bits, special values included.
    @Test func floatTanhIsTheSameOnEveryInstructionSet() {
        let x: [Float] = (0..<1000).map { Float($0 - 500) * 0.0213 } + [0, -0.0, 0.0003, -0.0003, 1e-30, 8.99, 9, 9.01, -50,
                                                                    .infinity, -.infinity, .nan, .leastNonzeroMagnitude]
        func tanh(_ instructions: HEPMLVectorInstructions) -> [UInt32] {
            var y = [Float](repeating: 0, count: x.count)
            hepml_tanh(instructions, x, &y, Int64(x.count))
            return y.map(\.bitPattern)
        }
        let baseline = tanh(.baseline)
        for instructions in [HEPMLVectorInstructions.AVX2, .AVX512] where instructions.rawValue <= VectorInstructions.usable.rawValue {
            #expect(tanh(instructions) == baseline, "\(instructions)")
        }
        #expect(Float(bitPattern: baseline[baseline.count - 2]).isNaN)
    }
}

@Suite struct ProductTests {
    /// Products large enough to be split over threads (by rows of C when it is tall, by columns
    /// when it is wide), for every transpose combination, against the definition.
    @Test func splitProductsMatchTheDefinition() throws {
        for (m, n, k) in [(300, 40, 50), (40, 300, 50)] {
            let a = random([m * k], seed: 130).scalars, b = random([k * n], seed: 131).scalars
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    var c = [Double](repeating: 1, count: m * n)
                    a.withUnsafeBufferPointer { pa in
                        b.withUnsafeBufferPointer { pb in
                            c.withUnsafeMutableBufferPointer { pc in
                                Kernels.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                             pa.baseAddress.unsafelyUnwrapped, pb.baseAddress.unsafelyUnwrapped, pc.baseAddress.unsafelyUnwrapped, accumulate: true)
                            }
                        }
                    }
                    var worst = 0.0
                    for i in 0..<m {
                        for j in 0..<n {
                            var sum = 1.0
                            for p in 0..<k {
                                sum += (transposeA ? a[p * m + i] : a[i * k + p]) * (transposeB ? b[j * k + p] : b[p * n + j])
                            }
                            worst = max(worst, abs(sum - c[i * n + j]))
                        }
                    }
                    #expect(worst < 1e-10, "m \(m) n \(n) transposes \(transposeA) \(transposeB)")
                }
            }
        }
    }
}
