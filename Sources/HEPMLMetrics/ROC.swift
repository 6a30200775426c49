import HEPMLCore

/// A receiver operating characteristic of scores: higher scores mean "more positive" (signal,
/// anomalous), and a threshold `t` calls positive every score `≥ t`.
public struct ROCCurve: Sendable, Equatable {
    /// Ascending from 0 to 1: the origin, then one point per distinct score from the highest down.
    public let falsePositiveRates: [Double]
    public let truePositiveRates: [Double]
    /// The threshold of each point: the score itself, +∞ at the origin (nothing called positive).
    public let thresholds: [Double]
    /// Positives and negatives at or above each threshold, for confusion matrices and intervals.
    public let truePositiveCounts: [Int]
    public let falsePositiveCounts: [Int]
    public let positiveCount: Int
    public let negativeCount: Int
    /// Trapezoidal area under the points; a tie between a positive and a negative counts one
    /// half, so this equals scikit-learn's `roc_auc_score` and the Mann–Whitney statistic.
    public let auc: Double

    /// The curve of `scores` with truth `isPositive`. Non-finite scores (a quantity missing for
    /// that entry) are left out; throws unless the arrays pair up and both classes remain.
    public init(scores: [Double], isPositive: [Bool]) throws(MetricsError) {
        guard scores.count == isPositive.count else { throw .lengthMismatch("ROC scores and labels", scores.count, isPositive.count) }
        let order = scores.indices.filter { scores[$0].isFinite }.sorted { scores[$0] > scores[$1] }
        let positives = order.count(where: { isPositive[$0] })
        let negatives = order.count - positives
        guard positives > 0, negatives > 0 else { throw .missingClass(positives: positives, negatives: negatives) }
        var fpr = [0.0], tpr = [0.0], thresholds = [Double.infinity], tpCounts = [0], fpCounts = [0]
        var truePositives = 0, falsePositives = 0
        var position = 0
        while position < order.count {
            let threshold = scores[order[position]]
            // Every entry with this score is called positive together: a tie moves the curve
            // diagonally, which is where the one-half of a tied pair comes from.
            while position < order.count && scores[order[position]] == threshold {
                if isPositive[order[position]] { truePositives += 1 } else { falsePositives += 1 }
                position += 1
            }
            fpr.append(Double(falsePositives) / Double(negatives))
            tpr.append(Double(truePositives) / Double(positives))
            thresholds.append(threshold)
            tpCounts.append(truePositives)
            fpCounts.append(falsePositives)
        }
        falsePositiveRates = fpr
        truePositiveRates = tpr
        self.thresholds = thresholds
        truePositiveCounts = tpCounts
        falsePositiveCounts = fpCounts
        positiveCount = positives
        negativeCount = negatives
        auc = Self.area(falsePositiveRates: fpr, truePositiveRates: tpr)
    }

    /// Trapezoidal area under any ROC given by its points in order of ascending false-positive
    /// rate (also curves not built from scores, such as DQM's run-level RF-ROC).
    public static func area(falsePositiveRates x: [Double], truePositiveRates y: [Double]) -> Double {
        var area = 0.0
        for i in 1..<max(1, min(x.count, y.count)) { area += (x[i] - x[i - 1]) * (y[i] + y[i - 1]) / 2 }
        return area
    }

    /// The true-positive rate linearly interpolated at each of `grid` (ascending false-positive
    /// rates), taking the top of the curve where it rises vertically: the curve read as a
    /// function, as `numpy.interp` on scikit-learn's `roc_curve` output does.
    public func truePositiveRates(onGrid grid: [Double]) -> [Double] {
        var i = 0
        return grid.map { x in
            while i + 1 < falsePositiveRates.count && falsePositiveRates[i + 1] <= x { i += 1 }
            let (x0, y0) = (falsePositiveRates[i], truePositiveRates[i])
            guard x0 < x, i + 1 < falsePositiveRates.count else { return y0 }
            let (x1, y1) = (falsePositiveRates[i + 1], truePositiveRates[i + 1])
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
        }
    }
}

/// A ROC with its seeded bootstrap uncertainty: the AUC spread and a band of true-positive
/// rates on a fixed false-positive-rate grid, from resamples drawn with replacement.
public struct ROCBootstrap: Sendable, Equatable {
    /// The curve of all (finite-score) entries.
    public let nominal: ROCCurve
    /// Population standard deviation (numpy's default) of the AUC over the nominal sample and
    /// the resamples, the convention of AutoDQM_ML's uncertainty.
    public let aucUncertainty: Double
    /// `gridPoints` false-positive rates, `Binning.uniformEdges` over [0, 1] (`numpy.linspace`).
    public let grid: [Double]
    /// Mean and population standard deviation of the interpolated true-positive rate on `grid`
    /// over the nominal sample and the resamples.
    public let meanTruePositiveRates: [Double]
    public let truePositiveRateUncertainties: [Double]
    /// Resamples that entered the statistics (fewer than asked only if single-class draws kept
    /// recurring: see `init`).
    public let resampleCount: Int

    public static let defaultResamples = 100
    public static let defaultGridPoints = 201
    /// The generator stream of the resampling, fixed so that a seed gives the same bands as in
    /// earlier reports.
    static let generatorStream: UInt64 = 2

    /// Throws as `ROCCurve.init` does. A resample with a single class has no ROC and is redrawn
    /// (up to 20 draws per requested resample), rather than contributing a NaN.
    public init(scores: [Double], isPositive: [Bool], seed: UInt64, resamples: Int = defaultResamples,
                gridPoints: Int = defaultGridPoints) throws(MetricsError) {
        guard scores.count == isPositive.count else { throw .lengthMismatch("ROC scores and labels", scores.count, isPositive.count) }
        let kept = scores.indices.filter { scores[$0].isFinite }
        let values = kept.map { scores[$0] }
        let truth = kept.map { isPositive[$0] }
        let nominal = try ROCCurve(scores: values, isPositive: truth)
        let grid = Binning.uniformEdges(count: max(2, gridPoints) - 1, lower: 0, upper: 1)
        var aucs = [nominal.auc]
        var curves = [nominal.truePositiveRates(onGrid: grid)]
        var generator = SeededGenerator(seed: seed, stream: Self.generatorStream)
        var attempts = 0
        while curves.count < resamples + 1 && attempts < 20 * max(1, resamples) {
            attempts += 1
            var sampleScores: [Double] = [], sampleTruth: [Bool] = []
            sampleScores.reserveCapacity(values.count)
            sampleTruth.reserveCapacity(values.count)
            for _ in values.indices {
                let pick = Int(generator.next() % UInt64(values.count))
                sampleScores.append(values[pick])
                sampleTruth.append(truth[pick])
            }
            guard let curve = try? ROCCurve(scores: sampleScores, isPositive: sampleTruth) else { continue }
            aucs.append(curve.auc)
            curves.append(curve.truePositiveRates(onGrid: grid))
        }
        self.nominal = nominal
        aucUncertainty = populationStandardDeviation(aucs)
        self.grid = grid
        meanTruePositiveRates = grid.indices.map { i in curves.reduce(0) { $0 + $1[i] } / Double(curves.count) }
        truePositiveRateUncertainties = grid.indices.map { i in populationStandardDeviation(curves.map { $0[i] }) }
        resampleCount = curves.count - 1
    }
}

func populationStandardDeviation(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let mean = values.reduce(0, +) / Double(values.count)
    return (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)).squareRoot()
}
