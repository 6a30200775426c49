import Foundation

/// How values map onto an axis (or onto a colour bar).
public enum AxisScale: Equatable, Sendable {
    case linear
    case log
}

/// Tick positions and labels for one axis, computed before any drawing so layout can size
/// margins from the real label texts.
public struct TickSet: Equatable, Sendable {
    public struct Major: Equatable, Sendable {
        public var value: Double
        /// Label markup (`10^{3}` style superscripts), see `TextMarkup`.
        public var label: String
    }

    public var majors: [Major]
    public var minors: [Double]
    /// A common factor taken out of every label ("×10^{4}"), drawn once at the axis end.
    public var offsetLabel: String?
}

/// Automatic ticks: "nice" steps of 1, 2, 2.5 or 5 × 10^k on linear axes, decades with 2…9
/// minors on log axes, falling back to linear-style ticks when a log axis spans less than a decade
/// (where decades alone would leave the axis unlabelled).
enum TickGenerator {
    static let minusSign = "\u{2212}"

    static func ticks(for range: ClosedRange<Double>, scale: AxisScale, targetCount: Int) -> TickSet {
        switch scale {
        case .linear:
            return linear(range, targetCount: targetCount)
        case .log:
            return logarithmic(range, targetCount: targetCount)
        }
    }

    /// The step among {1, 2, 2.5, 5} × 10^k closest above `roughStep`, and its mantissa.
    static func niceStep(_ roughStep: Double) -> (step: Double, mantissa: Double) {
        guard roughStep.isFinite, roughStep > 0 else { return (1, 1) }
        let exponent = floor(log10(roughStep))
        let power = pow(10, exponent)
        let fraction = roughStep / power
        for mantissa in [1, 2, 2.5, 5] where fraction <= mantissa * (1 + 1e-9) {
            return (mantissa * power, mantissa)
        }
        return (10 * power, 1)
    }

    static func linear(_ range: ClosedRange<Double>, targetCount: Int) -> TickSet {
        let span = range.upperBound - range.lowerBound
        guard span > 0, span.isFinite else {
            return TickSet(majors: [.init(value: range.lowerBound, label: format(range.lowerBound, decimals: 2))], minors: [], offsetLabel: nil)
        }
        let (step, mantissa) = niceStep(span / Double(max(targetCount, 2)))
        let majorValues = multiples(of: step, in: range)
        let minorStep = step / (mantissa == 2 ? 4 : 5)
        let minors = multiples(of: minorStep, in: range).filter { value in
            !majorValues.contains { abs($0 - value) < minorStep * 1e-6 }
        }
        let largest = majorValues.map(abs).max() ?? 0
        var offsetExponent = 0
        if largest >= 1e4 || (largest > 0 && largest < 1e-2) {
            offsetExponent = Int(floor(log10(largest)))
        }
        let factor = pow(10, Double(offsetExponent))
        let scaledStep = step / factor
        var decimals = max(0, -Int(floor(log10(scaledStep) + 1e-9)))
        if mantissa == 2.5 && scaledStep < 10 { decimals += 1 }
        let majors = majorValues.map { TickSet.Major(value: $0, label: format($0 / factor, decimals: decimals)) }
        let offset = offsetExponent == 0 ? nil : "×10^{\(signed(offsetExponent))}"
        return TickSet(majors: majors, minors: minors, offsetLabel: offset)
    }

    static func logarithmic(_ range: ClosedRange<Double>, targetCount: Int) -> TickSet {
        guard range.lowerBound > 0, range.upperBound > range.lowerBound else {
            return linear(range, targetCount: targetCount)
        }
        let lowDecade = Int(floor(log10(range.lowerBound) + 1e-9))
        let highDecade = Int(ceil(log10(range.upperBound) - 1e-9))
        let decadesInside = (lowDecade...highDecade).filter { contains(range, pow(10, Double($0))) }
        if decadesInside.count < 2 {
            // Less than a decade: label "nice" values so the axis still reads.
            var set = linear(range, targetCount: targetCount)
            set.majors = set.majors.filter { $0.value > 0 }
            set.minors = set.minors.filter { $0 > 0 }
            return set
        }
        let stride = max(1, Int(ceil(Double(decadesInside.count) / Double(max(targetCount, 2) + 2))))
        let labelled = decadesInside.filter { ($0 - lowDecade) % stride == 0 }
        let majors = labelled.map { TickSet.Major(value: pow(10, Double($0)), label: "10^{\(signed($0))}") }
        var minors: [Double] = []
        if stride == 1 {
            for decade in lowDecade...highDecade {
                for digit in 2...9 {
                    let value = Double(digit) * pow(10, Double(decade))
                    if contains(range, value) { minors.append(value) }
                }
            }
        } else {
            minors = decadesInside.filter { !labelled.contains($0) }.map { pow(10, Double($0)) }
        }
        return TickSet(majors: majors, minors: minors, offsetLabel: nil)
    }

    private static func contains(_ range: ClosedRange<Double>, _ value: Double) -> Bool {
        let tolerance = (range.upperBound - range.lowerBound) * 1e-9
        return value >= range.lowerBound - tolerance && value <= range.upperBound + tolerance
    }

    /// Integer multiples of `step` inside `range`, computed from integers so 0.1-steps do not drift.
    private static func multiples(of step: Double, in range: ClosedRange<Double>) -> [Double] {
        let first = ceil(range.lowerBound / step - 1e-9)
        let last = floor(range.upperBound / step + 1e-9)
        guard abs(first) < 1e15, abs(last) < 1e15, last >= first, last - first <= 1000 else { return [] }
        return (Int(first)...Int(last)).map { Double($0) * step }
    }

    static func signed(_ value: Int) -> String {
        value < 0 ? minusSign + String(-value) : String(value)
    }

    /// Fixed-point text with a typographic minus and no "-0".
    static func format(_ value: Double, decimals: Int) -> String {
        let text = String(format: "%.\(decimals)f", abs(value))
        let isZero = text.allSatisfy { $0 == "0" || $0 == "." }
        return (value < 0 && !isZero ? minusSign : "") + text
    }
}
