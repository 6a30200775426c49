import HEPMLCore
import HEPMLMetrics

/// Per-module comparison of an input module with an algorithm's reconstruction, both 48 charges
/// in CALQ order.
///
/// Conventions kept from Ecoder so that numbers compare: a module whose input has no charge scores
/// `emptyInputValue` (−1) and one whose reconstruction has no charge `emptyOutputValue` (−0.5).
/// Unlike Ecoder these sentinels are never averaged in: `MetricSummary` counts them separately.
public enum ModuleMetric: String, Sendable, CaseIterable {
    /// Earth mover's distance between the unit-normalized charges on the TC centres (exact optimal transport).
    case emd = "EMD"
    /// Distance between the charge-weighted centroids.
    case dMean
    /// Absolute difference of the charge-weighted spreads.
    case dRMS
    /// 1 when the reconstruction is all zeros, else 0.
    case zeroFraction = "zero_frac"
    /// Sum of squared differences over the product of the norms, on absolute charges.
    case ssd = "SSD"

    public static let emptyInputValue = -1.0
    public static let emptyOutputValue = -0.5

    /// The metrics `--full` asks for; EMD alone otherwise.
    public static func selection(full: Bool) -> [ModuleMetric] { full ? allCases : [.emd] }

    /// The metric of one module; `solver` is scratch space for the EMD.
    public func value(input: UnsafeBufferPointer<Double>, output: UnsafeBufferPointer<Double>, solver: inout TransportSolver) -> Double {
        if self == .zeroFraction { return output.allSatisfy { $0 == 0 } ? 1 : 0 }
        let inputSum = input.reduce(0, +), outputSum = output.reduce(0, +)
        if inputSum == 0 { return Self.emptyInputValue }
        if outputSum == 0 { return Self.emptyOutputValue }
        switch self {
        case .emd:
            var x = [Double](repeating: 0, count: triggerCellCount), y = x
            for cell in 0..<triggerCellCount {
                x[cell] = input[cell] / inputSum
                y[cell] = output[cell] / outputSum
            }
            return x.withUnsafeBufferPointer { xs in
                y.withUnsafeBufferPointer { ys in
                    HexGeometry.distances.withUnsafeBufferPointer { costs in
                        solver.minimumCost(supply: xs, demand: ys, costs: costs, costStride: triggerCellCount)
                    }
                }
            }
        case .dMean:
            var dx = 0.0, dy = 0.0
            for cell in 0..<triggerCellCount {
                let difference = input[cell] / inputSum - output[cell] / outputSum
                dx += HexGeometry.centres[cell].x * difference
                dy += HexGeometry.centres[cell].y * difference
            }
            return (dx * dx + dy * dy).squareRoot()
        case .dRMS:
            return abs(Self.weightedSpread(input, total: inputSum) - Self.weightedSpread(output, total: outputSum))
        case .ssd:
            var squaredDifference = 0.0, inputNorm = 0.0, outputNorm = 0.0
            for cell in 0..<triggerCellCount {
                squaredDifference += (input[cell] - output[cell]) * (input[cell] - output[cell])
                inputNorm += input[cell] * input[cell]
                outputNorm += output[cell] * output[cell]
            }
            return squaredDifference / (inputNorm * outputNorm).squareRoot()
        case .zeroFraction:
            return 0
        }
    }

    /// Ecoder's `get_rms`: spread around the centroid in units of the wafer's coordinate spread,
    /// with squared weights (kept as upstream defines it).
    private static func weightedSpread(_ charges: UnsafeBufferPointer<Double>, total: Double) -> Double {
        var meanX = 0.0, meanY = 0.0
        for cell in 0..<triggerCellCount {
            meanX += HexGeometry.centres[cell].x * charges[cell] / total
            meanY += HexGeometry.centres[cell].y * charges[cell] / total
        }
        var sum = 0.0
        for cell in 0..<triggerCellCount {
            let weight = charges[cell] / total
            let sx = (HexGeometry.centres[cell].x - meanX) / HexGeometry.sigma.x
            let sy = (HexGeometry.centres[cell].y - meanY) / HexGeometry.sigma.y
            sum += (sx * sx + sy * sy) * weight * weight
        }
        return sum.squareRoot()
    }

    /// The metric for every module of two `rows × 48` buffers, in parallel over modules.
    public func values(input: [Double], output: [Double]) -> [Double] {
        let rows = min(input.count, output.count) / triggerCellCount
        var results = [Double](repeating: 0, count: rows)
        input.withUnsafeBufferPointer { inputs in
            output.withUnsafeBufferPointer { outputs in
                results.withUnsafeMutableBufferPointer { resultBuffer in
                    let destination = resultBuffer
                    Parallel.forEachChunk(rows, minimumChunk: 64) { range in
                        var solver = TransportSolver()
                        for row in range {
                            let cells = row * triggerCellCount ..< (row + 1) * triggerCellCount
                            destination[row] = value(input: UnsafeBufferPointer(rebasing: inputs[cells]),
                                                     output: UnsafeBufferPointer(rebasing: outputs[cells]), solver: &solver)
                        }
                    }
                }
            }
        }
        return results
    }
}

/// Distribution summary of one metric over modules, with the empty-module sentinels split out.
public struct MetricSummary: Sendable, Equatable {
    /// Modules with a real value.
    public var count: Int
    public var mean: Double
    /// Population standard deviation (numpy's default, as Ecoder reports).
    public var standardDeviation: Double
    public var median: Double
    /// 16 % and 84 % quantiles: the central 68 % band.
    public var lower68: Double
    public var upper68: Double
    /// Modules whose input was empty (value −1) or whose reconstruction was empty (−0.5).
    public var emptyInputCount: Int
    public var emptyOutputCount: Int

    public init(values: [Double]) {
        let valid = values.filter { $0 != ModuleMetric.emptyInputValue && $0 != ModuleMetric.emptyOutputValue }.sorted()
        emptyInputCount = values.count(where: { $0 == ModuleMetric.emptyInputValue })
        emptyOutputCount = values.count(where: { $0 == ModuleMetric.emptyOutputValue })
        count = valid.count
        mean = valid.isEmpty ? .nan : valid.reduce(0, +) / Double(valid.count)
        let mean = self.mean
        standardDeviation = valid.isEmpty ? .nan : (valid.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(valid.count)).squareRoot()
        median = Quantile.ofSorted(valid, 0.5)
        lower68 = Quantile.ofSorted(valid, 0.16)
        upper68 = Quantile.ofSorted(valid, 0.84)
    }
}
