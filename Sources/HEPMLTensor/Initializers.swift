import Foundation
import HEPMLCore

/// Seeded weight initializers. Fan-in/fan-out follow PyTorch: for a weight [out, in, k...],
/// fanIn = in·∏k and fanOut = out·∏k.
public enum Initializer: Sendable, Equatable, Codable {
    case zeros
    case constant(Double)
    case uniform(low: Double, high: Double)
    case normal(mean: Double, standardDeviation: Double)
    /// Glorot/Xavier uniform: U(±√(6/(fanIn+fanOut))) (Keras' default kernel initializer).
    case glorotUniform
    case glorotNormal
    /// He/Kaiming uniform: U(±√(6/fanIn)), for ReLU layers.
    case heUniform
    case heNormal
    /// PyTorch's default for Linear/Conv weights and biases: U(±1/√fanIn).
    case fanInUniform(fanIn: Int)

    public static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        guard shape.count >= 2 else { return (shape.first ?? 1, shape.first ?? 1) }
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    public func tensor<T: TensorScalar>(_ shape: [Int], generator: inout SeededGenerator) -> Tensor<T> {
        let count = Tensor<T>.count(of: shape)
        let (fanIn, fanOut) = Self.fans(shape)
        func uniform(_ limit: Double) -> [T] { (0..<count).map { _ in T((generator.nextUniform() * 2 - 1) * limit) } }
        func normal(_ sd: Double) -> [T] { (0..<count).map { _ in T(generator.nextNormal() * sd) } }
        let scalars: [T]
        switch self {
        case .zeros: scalars = [T](repeating: 0, count: count)
        case .constant(let v): scalars = [T](repeating: T(v), count: count)
        case .uniform(let low, let high): scalars = (0..<count).map { _ in T(low + (high - low) * generator.nextUniform()) }
        case .normal(let mean, let sd): scalars = (0..<count).map { _ in T(mean + sd * generator.nextNormal()) }
        case .glorotUniform: scalars = uniform((6 / Double(max(fanIn + fanOut, 1))).squareRoot())
        case .glorotNormal: scalars = normal((2 / Double(max(fanIn + fanOut, 1))).squareRoot())
        case .heUniform: scalars = uniform((6 / Double(max(fanIn, 1))).squareRoot())
        case .heNormal: scalars = normal((2 / Double(max(fanIn, 1))).squareRoot())
        case .fanInUniform(let fan): scalars = uniform(1 / Double(max(fan, 1)).squareRoot())
        }
        return Tensor(validShape: shape, scalars: scalars)
    }
}
