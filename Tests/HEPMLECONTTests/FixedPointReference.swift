/// An independent reference for the engine's QKeras quantizers: the fixed-point form
/// `q(x) = clip(round(x · 2^f), low, high) / 2^f` with round-half-to-even, which every quantizer
/// of the study reduces to (power-of-two scales only), written from the QKeras formulas.
struct FixedPointQuantizer: Sendable, Equatable, Codable {
    /// Number of fractional bits f (LSB = 2^−f).
    let fractionalBits: Int
    /// Smallest and largest integer code.
    let lowCode: Int
    let highCode: Int

    init(fractionalBits: Int, lowCode: Int, highCode: Int) {
        self.fractionalBits = fractionalBits
        self.lowCode = lowCode
        self.highCode = highCode
    }

    /// QKeras `quantized_bits(bits, integer, keep_negative, alpha=1)`:
    /// LSB 2^(integer − bits + keep_negative), range [−2^integer, 2^integer − LSB] when signed.
    /// Requires at least one magnitude bit (QKeras' binary sign mode is unused by the study).
    static func bits(_ bits: Int, integer: Int, keepNegative: Bool = true) -> FixedPointQuantizer {
        let magnitudeBits = bits - (keepNegative ? 1 : 0)
        precondition(magnitudeBits > 0 && magnitudeBits < 31, "quantized_bits needs 1…30 magnitude bits")
        let codes = 1 << magnitudeBits
        return FixedPointQuantizer(fractionalBits: magnitudeBits - integer, lowCode: keepNegative ? -codes : 0, highCode: codes - 1)
    }

    /// QKeras `quantized_relu(bits, integer)`: LSB 2^(integer − bits), range [0, 2^integer − LSB].
    static func relu(_ bits: Int, integer: Int) -> FixedPointQuantizer {
        precondition(bits > 0 && bits < 31, "quantized_relu needs 1…30 bits")
        return FixedPointQuantizer(fractionalBits: bits - integer, lowCode: 0, highCode: (1 << bits) - 1)
    }

    var scale: Float { Float(sign: .plus, exponent: fractionalBits, significand: 1) }
    var leastSignificantBit: Double { Double(sign: .plus, exponent: -fractionalBits, significand: 1) }
    var lowest: Double { Double(lowCode) * leastSignificantBit }
    var highest: Double { Double(highCode) * leastSignificantBit }

    /// Quantizes one value (exact: the scale is a power of two).
    @inline(__always)
    func callAsFunction(_ x: Float) -> Float {
        let code = min(max((x * scale).rounded(.toNearestOrEven), Float(lowCode)), Float(highCode))
        return code / scale
    }

    /// Quantizes a buffer in place.
    func apply(_ values: UnsafeMutableBufferPointer<Float>) {
        for index in values.indices { values[index] = self(values[index]) }
    }
}
