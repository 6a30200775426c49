import Foundation
import HEPMLCore

/// A hyperparameter grid (`hepml batch sweep --grid grid.json`):
///
///     {"parameters": [
///        {"name": "lr", "log_range": [1e-4, 1e-2, 3]},   // start, stop, count: geometric, both ends included
///        {"name": "latent", "values": [2, 4, 8]},          // a list (numbers or strings)
///        {"name": "epochs", "range": [10, 40, 10]}],       // start, stop, step: stop included when reached
///      "sample": {"count": 4, "seed": 1}}                  // optional: a seeded random subset of the points
///
/// The points are the Cartesian product in the order the parameters are listed (the last varies
/// fastest); a sample keeps grid order.
public struct SweepGrid: Codable, Equatable, Sendable {
    public var parameters: [Parameter]
    public var sample: Sample?

    public struct Parameter: Codable, Equatable, Sendable {
        public var name: String
        public var values: [SweepValue]?
        public var range: [Double]?
        public var logRange: [Double]?

        enum CodingKeys: String, CodingKey {
            case name, values, range
            case logRange = "log_range"
        }

        public init(name: String, values: [SweepValue]? = nil, range: [Double]? = nil, logRange: [Double]? = nil) {
            self.name = name
            self.values = values
            self.range = range
            self.logRange = logRange
        }
    }

    public struct Sample: Codable, Equatable, Sendable {
        public var count: Int
        public var seed: UInt64
        public init(count: Int, seed: UInt64) {
            self.count = count
            self.seed = seed
        }
    }

    /// The most points a grid may expand to (far above any batch system's array size limit).
    public static let maximumPoints = 100_000

    public init(parameters: [Parameter], sample: Sample? = nil) {
        self.parameters = parameters
        self.sample = sample
    }

    public init(json: Data, file: String) throws {
        do {
            self = try JSONDecoder().decode(SweepGrid.self, from: json)
        } catch {
            throw FileFormatError(file: file, reason: "not a sweep grid: \(error)")
        }
    }

    /// The values of one parameter, from whichever of `values`, `range`, `log_range` it gives.
    public static func values(of parameter: Parameter) throws -> [SweepValue] {
        let given = [parameter.values != nil, parameter.range != nil, parameter.logRange != nil].filter { $0 }.count
        guard given == 1 else { throw BatchError("grid parameter '\(parameter.name)' needs exactly one of values, range, log_range") }
        if let values = parameter.values {
            guard !values.isEmpty else { throw BatchError("grid parameter '\(parameter.name)' has no values") }
            return values
        }
        if let range = parameter.range {
            guard range.count == 3, range.allSatisfy(\.isFinite), range[2] != 0, (range[1] - range[0]) / range[2] >= 0 else {
                throw BatchError("range of '\(parameter.name)' must be [start, stop, step] with a step towards stop")
            }
            let steps = Int(((range[1] - range[0]) / range[2] + 1e-9).rounded(.down))
            guard steps < maximumPoints else { throw BatchError("range of '\(parameter.name)' has more than \(maximumPoints) values") }
            return (0...steps).map { .number(range[0] + Double($0) * range[2]) }
        }
        guard let logRange = parameter.logRange, logRange.count == 3, logRange[0] > 0, logRange[1] > 0,
              logRange.allSatisfy(\.isFinite), logRange[2] >= 1, logRange[2] < Double(maximumPoints), logRange[2] == logRange[2].rounded()
        else { throw BatchError("log_range of '\(parameter.name)' must be [start > 0, stop > 0, count ≥ 1]") }
        let count = Int(logRange[2])
        guard count > 1 else { return [.number(logRange[0])] }
        let ratio = log(logRange[1] / logRange[0]) / Double(count - 1)
        return (0..<count).map { index in
            index == count - 1 ? .number(logRange[1]) : .number(roundedToSignificantDigits(logRange[0] * exp(ratio * Double(index))))
        }
    }

    /// Geometric values such as 1e-4·10^(1/2) are kept to 12 significant digits so that their
    /// command-line text stays short and stable.
    private static func roundedToSignificantDigits(_ value: Double) -> Double {
        Double(String(format: "%.12g", value)) ?? value
    }

    /// Every point of the grid (or of its sample), in grid order.
    public func points() throws -> [SweepPoint] {
        guard !parameters.isEmpty else { throw BatchError("the grid has no parameters") }
        var seen = Set<String>()
        for parameter in parameters {
            guard parameter.name.first.map({ !$0.isNumber }) ?? false,
                  parameter.name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                throw BatchError("grid parameter name '\(parameter.name)' must be letters, digits and _ (it is used as {\(parameter.name)})")
            }
            guard !(["N", "run_dir"] + SweepCollection.reservedColumnNames).contains(parameter.name) else {
                throw BatchError("grid parameter name '\(parameter.name)' is reserved (a placeholder or a column of the sweep table)")
            }
            guard seen.insert(parameter.name).inserted else { throw BatchError("grid parameter '\(parameter.name)' is listed twice") }
        }
        let axes = try parameters.map { try Self.values(of: $0) }
        let total = axes.reduce(1) { product, axis in product > Self.maximumPoints ? product : product * axis.count }
        guard total <= Self.maximumPoints else { throw BatchError("the grid has more than \(Self.maximumPoints) points; sample a subset") }
        var points: [SweepPoint] = []
        points.reserveCapacity(total)
        for flat in 0..<total {
            var rest = flat
            var values: [String: SweepValue] = [:]
            for (parameter, axis) in zip(parameters, axes).reversed() {
                values[parameter.name] = axis[rest % axis.count]
                rest /= axis.count
            }
            points.append(SweepPoint(values: values))
        }
        guard let sample else { return points }
        guard sample.count >= 1 else { throw BatchError("sample count must be at least 1") }
        guard sample.count < points.count else { return points }
        var generator = SeededGenerator(seed: sample.seed)
        let chosen = generator.permutation(points.count).prefix(sample.count).sorted()
        return chosen.map { points[$0] }
    }
}

/// A grid value: a number (written as an integer when it is one) or text.
public enum SweepValue: Codable, Equatable, Hashable, Sendable {
    case number(Double)
    case text(String)

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else {
            self = .text(try container.decode(String.self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let value): try container.encode(value)
        case .text(let value): try container.encode(value)
        }
    }

    /// The text that replaces the placeholder: `8`, not `8.0`; `0.001`; strings verbatim.
    public var argument: String {
        switch self {
        case .number(let value):
            if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
            return String(value)
        case .text(let value): return value
        }
    }

    public var number: Double? {
        if case .number(let value) = self { return value }
        return nil
    }
}

/// The parameter values of one sweep task.
public struct SweepPoint: Codable, Equatable, Sendable {
    public var values: [String: SweepValue]
    public init(values: [String: SweepValue]) { self.values = values }
}
