import Foundation

/// ADC units per transverse MIP (MIP_T) of a CALQ charge.
public let adcPerMIPT: Double = 35

/// How a module's charges are scaled into network inputs, or how decoded fractions are scaled
/// back to absolute charges.
public enum ChargeScaling: String, Sendable, CaseIterable {
    /// Divide by the most significant power of two of the module sum, as the ECON-T shifter
    /// does; the scaled sum lies in [1, 2).
    case sumPowerOfTwo
    /// Divide by the largest TC charge (`--rescale-input-to-max` / `--rescale-output-to-max`).
    case maximum
}

/// `2^floor(log2 x)` computed exactly from the binary exponent; zero for x ≤ 0.
@inline(__always)
func powerOfTwoFloor(_ x: Double) -> Double {
    guard x > 0, x.isFinite else { return 0 }
    return Double(sign: .plus, exponent: x.exponent, significand: 1)
}

/// Normalized network inputs together with the per-module scales needed to undo them.
public struct NormalizedModules: Sendable {
    /// `rows × 48` normalized charges in CALQ order.
    public var values: [Double]
    /// Largest TC charge per module, in MIP_T (Ecoder `maxdata`).
    public var maxChargeMIPT: [Double]
    /// Power of two of the module sum per module, in MIP_T (Ecoder `sumdata`).
    public var sumScaleMIPT: [Double]
    public let scaling: ChargeScaling

    public var rows: Int { maxChargeMIPT.count }

    /// Scales every module by its own normalization; modules without charge stay zero.
    public init(_ modules: ModuleCharges, scaling: ChargeScaling = .sumPowerOfTwo) {
        let rows = modules.rows
        var values = modules.values
        var maxima = [Double](repeating: 0, count: rows)
        var sums = [Double](repeating: 0, count: rows)
        values.withUnsafeMutableBufferPointer { buffer in
            for row in 0..<rows {
                let cells = UnsafeMutableBufferPointer(rebasing: buffer[row * triggerCellCount ..< (row + 1) * triggerCellCount])
                var total = 0.0, largest = 0.0
                for charge in cells {
                    total += charge
                    largest = max(largest, charge)
                }
                let sumScale = powerOfTwoFloor(total)
                let divisor = scaling == .sumPowerOfTwo ? sumScale : largest
                if divisor > 0 {
                    for cell in cells.indices { cells[cell] /= divisor }
                }
                maxima[row] = largest / adcPerMIPT
                sums[row] = sumScale / adcPerMIPT
            }
        }
        self.values = values
        self.maxChargeMIPT = maxima
        self.sumScaleMIPT = sums
        self.scaling = scaling
    }

    /// The inputs back in absolute charge (MIP_T, CALQ order): normalized value × the module's
    /// scale. Ecoder's `input_calQ`.
    public func inputChargesMIPT(fromNormalized normalized: [Double]) -> [Double] {
        var restored = normalized
        for row in 0..<min(rows, normalized.count / triggerCellCount) {
            let scale = scaling == .sumPowerOfTwo ? sumScaleMIPT[row] : maxChargeMIPT[row]
            for cell in 0..<triggerCellCount { restored[row * triggerCellCount + cell] *= scale }
        }
        return restored
    }

    /// Decoded fractions (`rows × 48`, CALQ order) back to absolute charge in MIP_T (Ecoder
    /// `unnormalize`). With `.sumPowerOfTwo` the output is divided by the power of two of its own
    /// sum and multiplied by the input's; with `.maximum` its largest TC is set to the input's
    /// largest charge. A module decoded as all zeros stays zero.
    public func outputChargesMIPT(fromDecoded decoded: [Double], scaling outputScaling: ChargeScaling = .sumPowerOfTwo) -> [Double] {
        var restored = decoded
        for row in 0..<min(rows, decoded.count / triggerCellCount) {
            let range = row * triggerCellCount ..< (row + 1) * triggerCellCount
            let reference: Double
            let target: Double
            switch outputScaling {
            case .sumPowerOfTwo:
                reference = powerOfTwoFloor(decoded[range].reduce(0, +))
                target = sumScaleMIPT[row]
            case .maximum:
                reference = decoded[range].max() ?? 0
                target = maxChargeMIPT[row]
            }
            let factor = reference > 0 ? target / reference : 0
            for index in range { restored[index] *= factor }
        }
        return restored
    }
}
