import Foundation
import HEPMLCore
import HEPMLTensor
import Testing
@testable import HEPMLNN

@Suite struct SliceAndUnpoolingTests {
    @Test("Slice keeps a range of a sample axis")
    func slice() throws {
        let x = Variable(try Tensor<Float>(shape: [2, 3, 4], scalars: (0..<24).map(Float.init)))
        let y = try Slice<Float>(axis: 1, 1..<3)(x)
        #expect(y.shape == [2, 3, 2])
        #expect(y.value.scalars == [1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22])
        #expect(throws: ShapeError.self) { try Slice<Float>(axis: 2, 0..<1)(x) }
        #expect(throws: ShapeError.self) { try Slice<Float>(axis: 0, 2..<5)(x) }
    }

    @Test("MaxUnpool places values where its paired pooling found them; gradients through overlapping windows")
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
        // Through the pair, the gradient reaches each window's maximum (a Double copy, away from ties).
        let pooling = Pool<Double>(.max, kernel: [2, 3], stride: [2, 2], ceilMode: true, keepsIndices: true)
        let pair = Sequential<Double>([pooling, Activation(.tanh), MaxUnpool(pooling)])
        let input = try Tensor<Double>(shape: [1, 2, 5, 7], scalars: (0..<70).map { Double(($0 * 37) % 70) / 70 })
        try GradientCheck.check([input]) { let y = try pair($0[0]); return try (y * y).sum() }
        // An average pooling keeps no indices.
        #expect(!Pool<Float>(.average, kernel: [2], keepsIndices: true).keepsIndices)
    }
}
