import HEPMLCore

/// A receiver operating characteristic of anomaly scores: bad runs are positives, higher scores
/// are more anomalous.
public struct ROCCurve: Sendable, Equatable {
    /// Ascending from 0 to 1; one point per distinct score threshold plus the origin.
    public var falsePositiveRates: [Double]
    public var truePositiveRates: [Double]
    /// The score threshold (flag if `score ≥ threshold`) of each point; +∞ at the origin.
    public var thresholds: [Double]
    /// Trapezoidal area (ties between a good and a bad run count one half, as in scikit-learn).
    public var auc: Double

    /// The curve for `scores` with `isAnomalous` truth; nil unless both classes are present.
    /// Non-finite scores (a histogram missing from a run) are left out.
    public init?(scores: [Double], isAnomalous: [Bool]) {
        let pairs = zip(scores, isAnomalous).filter { $0.0.isFinite }.sorted { $0.0 > $1.0 }
        let positives = pairs.filter(\.1).count
        let negatives = pairs.count - positives
        guard positives > 0, negatives > 0 else { return nil }
        var fpr = [0.0], tpr = [0.0], thresholds = [Double.infinity]
        var truePositives = 0, falsePositives = 0
        var index = 0
        while index < pairs.count {
            let threshold = pairs[index].0
            while index < pairs.count && pairs[index].0 == threshold {
                if pairs[index].1 { truePositives += 1 } else { falsePositives += 1 }
                index += 1
            }
            fpr.append(Double(falsePositives) / Double(negatives))
            tpr.append(Double(truePositives) / Double(positives))
            thresholds.append(threshold)
        }
        falsePositiveRates = fpr
        truePositiveRates = tpr
        self.thresholds = thresholds
        auc = trapezoidArea(x: fpr, y: tpr)
    }

    /// The smallest false-positive rate at which at least `target` of the bad runs are flagged.
    public func falsePositiveRate(atTruePositiveRate target: Double) -> Double {
        for (fpr, tpr) in zip(falsePositiveRates, truePositiveRates) where tpr >= target - 1e-12 { return fpr }
        return 1
    }

    /// The true-positive rate linearly interpolated at each of `grid` (ascending false-positive
    /// rates), taking the top of the curve where it rises vertically.
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

/// Per-histogram assessment of one algorithm: the ROC with a seeded bootstrap uncertainty and the
/// false-positive rates at AutoDQM_ML's fixed efficiencies.
public struct ROCAssessment: Sendable, Equatable {
    public var curve: ROCCurve
    /// Standard deviation of the AUC over the nominal sample and the bootstrap resamples.
    public var aucUncertainty: Double
    /// The false-positive-rate grid of the averaged curve.
    public var grid: [Double]
    /// Mean and standard deviation of the interpolated true-positive rate over the resamples.
    public var meanTruePositiveRates: [Double]
    public var truePositiveRateUncertainties: [Double]
    /// False-positive rate on the nominal curve at each of `efficiencyTargets`.
    public var falsePositiveRatesAtTargets: [Double]

    /// AutoDQM_ML's efficiency table columns: TPR = 50 %, 90 %, 99 %.
    public static let efficiencyTargets = [0.5, 0.9, 0.99]
    public static let defaultResamples = 100

    /// Assesses `scores` against labels (unknown runs are ignored); nil unless both good and bad
    /// runs have finite scores. Resamples drawn with a single class are redrawn.
    public init?(scores: [Double], labels: [RunLabel], seed: UInt64, resamples: Int = defaultResamples, gridPoints: Int = 201) {
        let labelled = zip(scores, labels).filter { $0.1 != .unknown && $0.0.isFinite }
        let values = labelled.map(\.0)
        let anomalous = labelled.map { $0.1 == .bad }
        guard let nominal = ROCCurve(scores: values, isAnomalous: anomalous) else { return nil }
        let grid = (0..<max(2, gridPoints)).map { Double($0) / Double(max(2, gridPoints) - 1) }
        var aucs = [nominal.auc]
        var curves = [nominal.truePositiveRates(onGrid: grid)]
        var generator = SeededGenerator(seed: seed, stream: 2)
        var attempts = 0
        while curves.count < resamples + 1 && attempts < 20 * max(1, resamples) {
            attempts += 1
            var sampleScores: [Double] = [], sampleTruth: [Bool] = []
            for _ in values.indices {
                let pick = Int(generator.next() % UInt64(values.count))
                sampleScores.append(values[pick])
                sampleTruth.append(anomalous[pick])
            }
            guard let curve = ROCCurve(scores: sampleScores, isAnomalous: sampleTruth) else { continue }
            aucs.append(curve.auc)
            curves.append(curve.truePositiveRates(onGrid: grid))
        }
        curve = nominal
        aucUncertainty = standardDeviation(aucs)
        self.grid = grid
        meanTruePositiveRates = grid.indices.map { i in curves.reduce(0) { $0 + $1[i] } / Double(curves.count) }
        truePositiveRateUncertainties = grid.indices.map { i in standardDeviation(curves.map { $0[i] }) }
        falsePositiveRatesAtTargets = Self.efficiencyTargets.map { nominal.falsePositiveRate(atTruePositiveRate: $0) }
    }
}

func trapezoidArea(x: [Double], y: [Double]) -> Double {
    var area = 0.0
    for i in 1..<max(1, x.count) { area += (x[i] - x[i - 1]) * (y[i] + y[i - 1]) / 2 }
    return area
}

/// Population standard deviation (numpy's default), the convention of the upstream uncertainty.
func standardDeviation(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let mean = values.reduce(0, +) / Double(values.count)
    return (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)).squareRoot()
}
