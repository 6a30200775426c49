import HEPMLTensor

/// Fixed-point quantizers with QKeras semantics (econt-ecoder spec §5), applied to weights,
/// biases or activations with straight-through gradients.
public enum Quantizer: Sendable, Equatable, Codable {
    /// `quantized_bits(bits, integer, symmetric=0, keep_negative, alpha)`: with u = bits −
    /// keep_negative, m = 2^u, mᵢ = 2^integer, xq = α·mᵢ·clip(round(x·m/mᵢ), −m·keep_negative, m−1)/m.
    /// For u = 0 it is the binary sign(x) with sign(0) = 1. Gradient: 1 everywhere.
    case bits(bits: Int, integer: Int, keepNegative: Bool = true, alpha: Double = 1)
    /// `quantized_relu(bits, integer)`: m = 2^bits, xq = mᵢ·clip(round(x·m/mᵢ)/m, 0, 1 − 1/m).
    /// Gradient: 1 for 0 < x < mᵢ − LSB, 0 elsewhere.
    case relu(bits: Int, integer: Int)

    /// The integer form of a power-of-two quantizer, q(x) = clip(round(x·2^f), low, high) / 2^f:
    /// what exporters write as explicit Mul/Round/Clip/Div arithmetic and hardware implements.
    /// nil for the forms that are not one (binary sign, α ≠ 1).
    public var fixedPoint: (fractionalBits: Int, lowCode: Int, highCode: Int)? {
        switch self {
        case .bits(let bits, let integer, let keepNegative, let alpha):
            let u = bits - (keepNegative ? 1 : 0)
            guard u > 0, u < 62, alpha == 1 else { return nil }
            return (u - integer, keepNegative ? -(1 << u) : 0, (1 << u) - 1)
        case .relu(let bits, let integer):
            guard bits > 0, bits < 62 else { return nil }
            return (bits - integer, 0, (1 << bits) - 1)
        }
    }

    /// Step between representable values.
    public var leastSignificantBit: Double {
        switch self {
        case .bits(let bits, let integer, let keepNegative, _): return pow2(integer - bits + (keepNegative ? 1 : 0))
        case .relu(let bits, let integer): return pow2(integer - bits)
        }
    }

    private func pow2(_ e: Int) -> Double { e >= 0 ? Double(1 << min(e, 62)) : 1 / Double(1 << min(-e, 62)) }

    /// The quantized value of `x`. `rounded(.toNearestOrEven)` is tf.round's half-to-even.
    @_specialize(where T == Float)
    public func quantize<T: TensorScalar>(_ x: T) -> T {
        switch self {
        case .bits(let bits, let integer, let keepNegative, let alpha):
            let u = bits - (keepNegative ? 1 : 0)
            if u <= 0 { return x >= 0 ? 1 : -1 }
            let m = T(pow2(u)), mi = T(pow2(integer))
            let low: T = keepNegative ? -m : 0
            let level = min(max((x * m / mi).rounded(.toNearestOrEven), low), m - 1)
            return T(alpha) * mi * level / m
        case .relu(let bits, let integer):
            let m = T(pow2(bits)), mi = T(pow2(integer))
            return mi * min(max((x * m / mi).rounded(.toNearestOrEven) / m, 0), 1 - 1 / m)
        }
    }

    /// Straight-through derivative of `quantize` at `x`.
    @_specialize(where T == Float)
    public func passThrough<T: TensorScalar>(_ x: T) -> T {
        switch self {
        case .bits: return 1
        case .relu(let bits, let integer):
            let limit = T(pow2(integer)) * (1 - 1 / T(pow2(bits)))
            return x > 0 && x < limit ? 1 : 0
        }
    }

    @_specialize(where T == Float)
    public func callAsFunction<T: TensorScalar>(_ x: Variable<T>) throws -> Variable<T> {
        try Variable.custom("quantize", inputs: [x], forward: { xs in
            try Tensor(shape: xs[0].shape, scalars: xs[0].scalars.map { quantize($0) })
        }, backward: { g, xs, _ in
            [try Tensor(shape: g.shape, scalars: zip(g.scalars, xs[0].scalars).map { $0 * passThrough($1) })]
        })
    }
}
