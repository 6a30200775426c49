import Foundation
import HEPMLCore
import HEPMLTensor
import Testing
@testable import HEPMLNN

func random(_ shape: [Int], seed: UInt64, low: Double = -1, high: Double = 1) -> Tensor<Double> {
    var generator = SeededGenerator(seed: seed)
    return Initializer.uniform(low: low, high: high).tensor(shape, generator: &generator)
}

@Suite struct LossGradientTests {
    @Test func reconstructionLossesWithWeights() throws {
        let target = random([3, 4], seed: 2)
        var mask = Tensor<Double>(repeating: 1, shape: [3, 4])
        mask.scalars[1] = 0; mask.scalars[6] = 0
        try GradientCheck.check([random([3, 4], seed: 1)]) { try Loss.meanSquaredError($0[0], target) }
        try GradientCheck.check([random([3, 4], seed: 1)]) { try Loss.meanSquaredError($0[0], target, weights: mask) }
        try GradientCheck.check([random([3, 4], seed: 1)]) { try Loss.meanAbsoluteError($0[0], target, weights: random([4], seed: 3, low: 0.5, high: 2)) }
        try GradientCheck.check([random([3, 4], seed: 1, low: -3, high: 3)]) {
            try Loss.binaryCrossEntropy(logits: $0[0], random([3, 4], seed: 4, low: 0, high: 1), weights: mask)
        }
    }

    @Test func maskedMeanIgnoresInactiveElements() throws {
        let prediction = Variable(try Tensor<Double>(shape: [2, 2], scalars: [1, 100, 3, 4]))
        let target = try Tensor<Double>(shape: [2, 2], scalars: [0, 0, 0, 0])
        let mask = try Tensor<Double>(shape: [2, 2], scalars: [1, 0, 1, 1])
        #expect(try Loss.meanSquaredError(prediction, target, weights: mask).value.scalar == (1.0 + 9 + 16) / 3)
    }

    @Test func classificationAndKL() throws {
        let labels = try Tensor<Double>(shape: [3], scalars: [2, 0, 1])
        try GradientCheck.check([random([3, 4], seed: 5, low: -3, high: 3)]) { try Loss.crossEntropy(logits: $0[0], labels: labels) }
        try GradientCheck.check([random([4, 3], seed: 6), random([4, 3], seed: 7)]) { try Loss.gaussianKL(mean: $0[0], logVariance: $0[1]) }
        // Uniform logits over 4 classes give log 4.
        let uniform = Variable(Tensor<Double>(zeros: [3, 4]))
        #expect(abs((try Loss.crossEntropy(logits: uniform, labels: labels).value.scalar ?? 0) - log(4.0)) < 1e-12)
        // A standard-normal latent has zero KL.
        #expect(try Loss.gaussianKL(mean: Variable(Tensor<Double>(zeros: [2, 3])), logVariance: Variable(Tensor<Double>(zeros: [2, 3]))).value.scalar == 0)
        #expect(throws: ShapeError.self) { try Loss.crossEntropy(logits: uniform, labels: try Tensor(shape: [3], scalars: [0, 4, 1])) }
    }
}

@Suite struct QuantizerTests {
    @Test func quantizedBitsMatchesQKerasFormula() {
        // quantized_bits(5, 1): u = 4, m = 16, m_i = 2, LSB 1/8, range [-2, 1.875].
        let q = Quantizer.bits(bits: 5, integer: 1)
        #expect(q.leastSignificantBit == 0.125)
        #expect(q.quantize(0.3) == 0.25)        // 2.4 LSB → 2
        #expect(q.quantize(0.3125) == 0.25)     // 2.5 LSB → 2 (half to even)
        #expect(q.quantize(0.4375) == 0.5)      // 3.5 LSB → 4 (half to even)
        #expect(q.quantize(5.0) == 1.875)       // clipped at m − 1
        #expect(q.quantize(-5.0) == -2)         // clipped at −m
        #expect(q.quantize(-0.0625) == 0)       // −0.5 LSB → 0
        // Input quantizer of the Ecoder: quantized_bits(10, 3), LSB 1/64.
        let input = Quantizer.bits(bits: 10, integer: 3)
        #expect(input.quantize(1.0 / 128) == 0)
        #expect(input.quantize(3.0 / 128) == 1.0 / 32)
        #expect(input.quantize(100.0) == 8 - 1.0 / 64)
        // ASIC weights: quantized_bits(6, 0), range [−1, 31/32].
        #expect(Quantizer.bits(bits: 6, integer: 0).quantize(1.0) == 31.0 / 32)
        // Unsigned: quantized_bits(4, 1, keep_negative=0): m = 16, LSB 1/8, negatives clip to 0.
        #expect(Quantizer.bits(bits: 4, integer: 1, keepNegative: false).quantize(-1.0) == 0)
        #expect(Quantizer.bits(bits: 4, integer: 1, keepNegative: false).quantize(9.0) == 1.875)
        // u = 0 is the binary sign with sign(0) = 1.
        #expect(Quantizer.bits(bits: 1, integer: 0).quantize(0.0) == 1)
        #expect(Quantizer.bits(bits: 1, integer: 0).quantize(-0.3) == -1)
    }

    @Test func quantizedReluMatchesQKerasFormula() {
        // quantized_relu(3, 1): m = 8, m_i = 2, LSB 1/4, range [0, 1.75].
        let q = Quantizer.relu(bits: 3, integer: 1)
        #expect(q.leastSignificantBit == 0.25)
        #expect(q.quantize(0.375) == 0.5)       // 1.5 LSB → 2
        #expect(q.quantize(0.125) == 0)         // 0.5 LSB → 0
        #expect(q.quantize(10.0) == 1.75)
        #expect(q.quantize(-1.0) == 0)
        // Accumulator quantizer quantized_relu(11, 3): LSB 1/256.
        #expect(Quantizer.relu(bits: 11, integer: 3).quantize(0.01) == 3.0 / 256)
        #expect(Quantizer.relu(bits: 11, integer: 3).quantize(9.0) == 8 - 1.0 / 256)
    }

    @Test func straightThroughGradients() throws {
        let x = Variable(try Tensor<Double>(shape: [4], scalars: [-0.5, 0.3, 1.0, 1.8]), requiresGrad: true)
        try Quantizer.relu(bits: 3, integer: 1)(x).sum().backward()
        #expect(x.grad?.scalars == [0, 1, 1, 0])
        let w = Variable(try Tensor<Double>(shape: [3], scalars: [-7, 0.3, 7]), requiresGrad: true)
        try Quantizer.bits(bits: 5, integer: 1)(w).sum().backward()
        #expect(w.grad?.scalars == [1, 1, 1])
    }
}
