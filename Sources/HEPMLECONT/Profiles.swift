import HEPMLCore

/// The evaluation binning of the study (Ecoder `eval_dict`); profiles along these are
/// HEPMLMetrics' `QuantileProfile`s (Ecoder `plot_profile`: median and 16–84 % band).
public enum EvaluationBinning {
    /// Occupancy (TCs above 1 MIP_T): 12 bins on [0, 24).
    public static let occupancy = Binning(count: 12, lower: 0, upper: 24)
    /// log10 of the largest TC charge in MIP_T: 20 bins on [0, 2.5).
    public static let logMaxCharge = Binning(count: 20, lower: 0, upper: 2.5)
    /// Occupancy slices [0,2), [2,5), [5,10), [10,15), [15,∞) for per-slice profiles.
    public static let occupancySlices: [Double] = [0, 2, 5, 10, 15]
    /// Max-charge slices (MIP_T) [0,2), [2,5), [5,10), [10,50), [50,∞).
    public static let maxChargeSlices: [Double] = [0, 2, 5, 10, 50]

    /// Index of the slice holding `value` given slice lower bounds (the last one is open-ended); nil below the first.
    public static func slice(of value: Double, lowerBounds: [Double]) -> Int? {
        lowerBounds.lastIndex { value >= $0 }
    }
}
