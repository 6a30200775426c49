import Foundation
import HEPMLCore
import HEPMLTensor
import Testing
@testable import HEPMLNN

@Suite struct LayoutAndUnpoolingTests {
    @Test("Permute: channels last ↔ first is a permutation and its inverse; one channel moves no element")
    func permute() throws {
        let x = Variable(try Tensor<Float>(shape: [2, 4, 4, 3], scalars: (0..<96).map(Float.init)), requiresGrad: true)
        let first = try Permute<Float>([2, 0, 1])(x)
        #expect(first.shape == [2, 3, 4, 4])
        // Sample 1, channel 2, row 3, column 1 is (1, 3, 1, 2) channels last.
        #expect(first.value.scalars[((1 * 3 + 2) * 4 + 3) * 4 + 1] == Float(((1 * 4 + 3) * 4 + 1) * 3 + 2))
        let back = try Permute<Float>([1, 2, 0])(first)
        #expect(back.value == x.value)
        try back.sum().backward()
        #expect(x.grad?.scalars == [Float](repeating: 1, count: 96))
        let single = Variable(try Tensor<Float>(shape: [2, 3, 4, 1], scalars: (0..<24).map(Float.init)))
        #expect(try Permute<Float>([2, 0, 1])(single).value == (try single.permuted([0, 3, 1, 2])).value)
        #expect(throws: ShapeError.self) { try Permute<Float>([0, 0, 1])(single) }
        #expect(throws: ShapeError.self) { try Permute<Float>([1, 0])(single) }
    }

    @Test("Slice keeps a range of a sample axis")
    func slice() throws {
        let x = Variable(try Tensor<Float>(shape: [2, 3, 4], scalars: (0..<24).map(Float.init)))
        let y = try Slice<Float>(axis: 1, 1..<3)(x)
        #expect(y.shape == [2, 3, 2])
        #expect(y.value.scalars == [1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22])
        #expect(throws: ShapeError.self) { try Slice<Float>(axis: 2, 0..<1)(x) }
        #expect(throws: ShapeError.self) { try Slice<Float>(axis: 0, 2..<5)(x) }
    }

    @Test("MaxUnpool places values where its paired pooling found them, with the unpooling op's gradient")
    func maxUnpool() throws {
        var generator = SeededGenerator(seed: 3)
        let x = Variable(try Tensor<Float>(shape: [2, 3, 5, 7], scalars: (0..<210).map { _ in Float(generator.nextUniform()) }))
        let pool = Pool<Float>(.max, kernel: [2, 3], stride: [2, 2], ceilMode: true, keepsIndices: true)
        let unpool = MaxUnpool(pool)
        #expect(throws: ShapeError.self) { try unpool(Variable(Tensor(zeros: [2, 3, 3, 3]))) }
        let model = Sequential<Float>([pool, unpool])
        let (pooled, indices) = try x.maxPoolWithIndices(kernel: [2, 3], stride: [2, 2], ceilMode: true)
        #expect(try model(x).value == (try pooled.maxUnpool(indices)).value)
        #expect(model.describe().children.map(\.kind) == ["MaxPool2d", "MaxUnpool2d"])
        // An average pooling keeps no indices.
        #expect(!Pool<Float>(.average, kernel: [2], keepsIndices: true).keepsIndices)
    }

    @Test("A quantizer's fixed-point view gives its values; binary sign has none")
    func fixedPointView() throws {
        let quantizers: [Quantizer] = [.bits(bits: 6, integer: 2), .bits(bits: 5, integer: 1, keepNegative: false), .bits(bits: 8, integer: 3, alpha: 0.75),
                                       .bits(bits: 4, integer: 5), .relu(bits: 5, integer: 1), .relu(bits: 9, integer: 1)]
        for quantizer in quantizers {
            let fixed = try #require(quantizer.fixedPoint)
            let scale = Float(sign: .plus, exponent: fixed.fractionalBits, significand: 1)
            for step in -500...500 {
                let x = Float(step) / 37
                let code = min(max((x * scale).rounded(.toNearestOrEven), Float(fixed.lowCode)), Float(fixed.highCode))
                #expect(code / scale * Float(fixed.alpha) == quantizer.quantize(x), "\(quantizer) at \(x)")
            }
        }
        #expect(Quantizer.bits(bits: 6, integer: 2).fixedPoint == .init(fractionalBits: 3, lowCode: -32, highCode: 31, alpha: 1))
        #expect(Quantizer.relu(bits: 9, integer: 1).fixedPoint == .init(fractionalBits: 8, lowCode: 0, highCode: 511, alpha: 1))
        #expect(Quantizer.bits(bits: 1, integer: 0).fixedPoint == nil)
    }
}
