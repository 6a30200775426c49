import HEPMLCore

/// Quantiles with linear interpolation between order statistics (numpy's default method,
/// `numpy.quantile(..., method="linear")`).
public enum Quantile {
    /// The `probability` quantile of ascending `values`; NaN when there are none.
    public static func ofSorted(_ values: [Double], _ probability: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let position = probability * Double(values.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = min(lower + 1, values.count - 1)
        let fraction = position - Double(lower)
        return values[lower] + (values[upper] - values[lower]) * fraction
    }
}

/// The median and a central band of a value `y` in bins of a variable `x` (a resolution or a
/// loss along occupancy, energy, η): what a ROOT `TProfile` shows with quantiles instead of
/// mean and error, and what scipy's `binned_statistic` computes per statistic.
public struct QuantileProfile: Sendable, Equatable {
    public struct Bin: Sendable, Equatable {
        public var center: Double
        public var count: Int
        /// NaN for an empty bin, as are `lower` and `upper`.
        public var median: Double
        /// The quantiles `band.lowerBound` and `band.upperBound` of the bin.
        public var lower: Double
        public var upper: Double
    }

    public var binning: Binning
    /// Quantile probabilities of the band; 16 %–84 % is the central 68 % that HEP plots draw.
    public var band: ClosedRange<Double>
    public var bins: [Bin]

    /// Pairs with `x` outside the bins or a NaN coordinate are left out. The last bin includes
    /// its upper edge, as in `binned_statistic`.
    public init(x: [Double], y: [Double], binning: Binning, band: ClosedRange<Double> = 0.16...0.84) throws(MetricsError) {
        guard x.count == y.count else { throw .lengthMismatch("profile x and y", x.count, y.count) }
        var grouped = [[Double]](repeating: [], count: binning.binCount)
        for (xValue, yValue) in zip(x, y) where !yValue.isNaN {
            if let index = binning.bin(of: xValue, includingUpperEdge: true) { grouped[index].append(yValue) }
        }
        let centers = binning.centers
        bins = grouped.indices.map { index in
            let values = grouped[index].sorted()
            return Bin(center: centers[index], count: values.count, median: Quantile.ofSorted(values, 0.5),
                       lower: Quantile.ofSorted(values, band.lowerBound), upper: Quantile.ofSorted(values, band.upperBound))
        }
        self.binning = binning
        self.band = band
    }
}
