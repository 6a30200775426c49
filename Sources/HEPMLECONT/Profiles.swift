import Foundation

/// The evaluation binning of the study (Ecoder `eval_dict`).
public enum EvaluationBinning {
    /// Occupancy (TCs above 1 MIP_T): 12 bins on [0, 24).
    public static let occupancyEdges: [Double] = uniformEdges(count: 12, lower: 0, upper: 24)
    /// log10 of the largest TC charge in MIP_T: 20 bins on [0, 2.5).
    public static let logMaxChargeEdges: [Double] = uniformEdges(count: 20, lower: 0, upper: 2.5)
    /// Occupancy slices [0,2), [2,5), [5,10), [10,15), [15,∞) for per-slice profiles.
    public static let occupancySlices: [Double] = [0, 2, 5, 10, 15]
    /// Max-charge slices (MIP_T) [0,2), [2,5), [5,10), [10,50), [50,∞).
    public static let maxChargeSlices: [Double] = [0, 2, 5, 10, 50]

    public static func uniformEdges(count: Int, lower: Double, upper: Double) -> [Double] {
        (0...count).map { lower + (upper - lower) * Double($0) / Double(count) }
    }

    /// Index of the slice holding `value` given slice lower bounds (the last one is open-ended); nil below the first.
    public static func slice(of value: Double, lowerBounds: [Double]) -> Int? {
        lowerBounds.lastIndex { value >= $0 }
    }
}

/// Median and central 68 % band of `y` in bins of `x` (Ecoder `plot_profile`).
public struct Profile: Sendable, Equatable {
    public struct Bin: Sendable, Equatable {
        public var center: Double
        public var count: Int
        public var median: Double
        /// 16 % and 84 % quantiles (NaN for empty bins).
        public var lower68: Double
        public var upper68: Double
    }

    public var bins: [Bin]

    /// Bins are `[edge_k, edge_k+1)` with the last one closed on the right, as scipy's
    /// `binned_statistic`; points outside the edges or with NaN are ignored. Sentinel metric
    /// values (empty modules) should be removed by the caller.
    public init(x: [Double], y: [Double], edges: [Double]) {
        let binCount = max(0, edges.count - 1)
        var grouped = Array(repeating: [Double](), count: binCount)
        for (xValue, yValue) in zip(x, y) where !xValue.isNaN && !yValue.isNaN {
            guard binCount > 0, xValue >= edges[0], xValue <= edges[binCount] else { continue }
            var bin = (edges.firstIndex { $0 > xValue } ?? edges.count) - 1
            bin = min(bin, binCount - 1)
            grouped[bin].append(yValue)
        }
        bins = (0..<binCount).map { index in
            let values = grouped[index].sorted()
            return Bin(center: 0.5 * (edges[index] + edges[index + 1]), count: values.count,
                       median: Quantile.sorted(values, 0.5), lower68: Quantile.sorted(values, 0.16), upper68: Quantile.sorted(values, 0.84))
        }
    }

    /// Ecoder's sidecar text: "center median loErr hiErr" per bin (errors as distances from the median).
    public var text: String {
        bins.map { bin in
            "\(bin.center) \(bin.median) \(bin.median - bin.lower68) \(bin.upper68 - bin.median)"
        }.joined(separator: "\n") + "\n"
    }
}
