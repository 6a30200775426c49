/// Counts of a binary decision against the truth and the rates quoted from them. A ratio whose
/// denominator is zero (no positives, nothing called positive, …) is NaN.
public struct ConfusionMatrix: Sendable, Equatable {
    public var truePositives: Int
    public var falsePositives: Int
    public var trueNegatives: Int
    public var falseNegatives: Int

    public init(truePositives: Int, falsePositives: Int, trueNegatives: Int, falseNegatives: Int) {
        self.truePositives = truePositives
        self.falsePositives = falsePositives
        self.trueNegatives = trueNegatives
        self.falseNegatives = falseNegatives
    }

    /// The decision "positive when `score ≥ threshold`"; non-finite scores are left out, as
    /// `ROCCurve` leaves them out, so the matrix at a curve threshold matches the curve.
    public init(scores: [Double], isPositive: [Bool], threshold: Double) throws(MetricsError) {
        guard scores.count == isPositive.count else { throw .lengthMismatch("confusion matrix scores and labels", scores.count, isPositive.count) }
        var counts = ConfusionMatrix(truePositives: 0, falsePositives: 0, trueNegatives: 0, falseNegatives: 0)
        for (score, positive) in zip(scores, isPositive) where score.isFinite {
            switch (score >= threshold, positive) {
            case (true, true): counts.truePositives += 1
            case (true, false): counts.falsePositives += 1
            case (false, false): counts.trueNegatives += 1
            case (false, true): counts.falseNegatives += 1
            }
        }
        self = counts
    }

    public var positives: Int { truePositives + falseNegatives }
    public var negatives: Int { falsePositives + trueNegatives }

    /// Fraction of all entries decided correctly.
    public var accuracy: Double { ratio(truePositives + trueNegatives, positives + negatives) }
    /// Precision, or purity: the fraction of true positives among those called positive.
    public var precision: Double { ratio(truePositives, truePositives + falsePositives) }
    /// Recall, or signal efficiency: the fraction of positives called positive.
    public var truePositiveRate: Double { ratio(truePositives, positives) }
    /// The background pass rate (mistag rate): the fraction of negatives called positive.
    public var falsePositiveRate: Double { ratio(falsePositives, negatives) }
    /// Harmonic mean of precision and recall, `2 TP / (2 TP + FP + FN)`.
    public var f1Score: Double { ratio(2 * truePositives, 2 * truePositives + falsePositives + falseNegatives) }
    /// Background rejection, 1 / pass rate: +∞ when no negative passes.
    public var rejection: Double { 1 / falsePositiveRate }

    /// Clopper–Pearson interval of the signal efficiency (true positives out of positives).
    public func truePositiveRateInterval(coverage: Double = BinomialInterval.oneSigmaCoverage) throws(MetricsError) -> BinomialInterval {
        try .clopperPearson(successes: truePositives, trials: positives, coverage: coverage)
    }

    /// Clopper–Pearson interval of the background pass rate (false positives out of negatives).
    public func falsePositiveRateInterval(coverage: Double = BinomialInterval.oneSigmaCoverage) throws(MetricsError) -> BinomialInterval {
        try .clopperPearson(successes: falsePositives, trials: negatives, coverage: coverage)
    }

    /// The rejection interval: the pass-rate interval inverted (its upper end is +∞ when no
    /// negative passes), with the same coverage because 1/x is monotonic.
    public func rejectionInterval(coverage: Double = BinomialInterval.oneSigmaCoverage) throws(MetricsError) -> ClosedRange<Double> {
        let passRate = try falsePositiveRateInterval(coverage: coverage)
        return (1 / passRate.upper)...(1 / passRate.lower)
    }

    private func ratio(_ numerator: Int, _ denominator: Int) -> Double {
        denominator > 0 ? Double(numerator) / Double(denominator) : .nan
    }
}

/// A threshold on a ROC and the decisions it makes on the curve's sample.
public struct WorkingPoint: Sendable, Equatable {
    /// Positive when `score ≥ threshold`; +∞ calls nothing positive.
    public var threshold: Double
    public var confusion: ConfusionMatrix
}

/// Working points read off the curve's own points, never interpolated between them: each is a
/// threshold that can be applied and whose rates the sample really has. (`truePositiveRates(onGrid:)`
/// is the interpolated reading, for averaging curves.) Ties between equally good points go to
/// the strictest threshold, the first point.
extension ROCCurve {
    /// The working point of point `index` of the arrays.
    public func workingPoint(at index: Int) -> WorkingPoint {
        let truePositives = truePositiveCounts[index], falsePositives = falsePositiveCounts[index]
        return WorkingPoint(threshold: thresholds[index], confusion: ConfusionMatrix(
            truePositives: truePositives, falsePositives: falsePositives,
            trueNegatives: negativeCount - falsePositives, falseNegatives: positiveCount - truePositives))
    }

    /// A rate k/n differs from the decimal target it was meant to reach (0.9 from 9/10) only by
    /// rounding; this much slack keeps such a point.
    static let rateTolerance = 1e-12

    /// The first point with a true-positive rate of at least `target`: the smallest
    /// false-positive rate at which that efficiency is reached (the last point above 1).
    public func workingPoint(atTruePositiveRate target: Double) -> WorkingPoint {
        workingPoint(at: indexReaching(truePositiveRate: target))
    }

    /// The last point with a false-positive rate of at most `target`: the largest true-positive
    /// rate that background pass rate allows (the origin below 0).
    public func workingPoint(atFalsePositiveRate target: Double) -> WorkingPoint {
        workingPoint(at: indexWithin(falsePositiveRate: target))
    }

    /// The false-positive rate of `workingPoint(atTruePositiveRate:)`.
    public func falsePositiveRate(atTruePositiveRate target: Double) -> Double {
        falsePositiveRates[indexReaching(truePositiveRate: target)]
    }

    /// The true-positive rate of `workingPoint(atFalsePositiveRate:)`.
    public func truePositiveRate(atFalsePositiveRate target: Double) -> Double {
        truePositiveRates[indexWithin(falsePositiveRate: target)]
    }

    /// The point of largest Youden's J = TPR − FPR, the threshold farthest above the diagonal.
    /// J is compared as the integer J · positives · negatives, so that equal J are equal (in
    /// Double, 1 − ⅓ exceeds ⅔).
    public var youdenWorkingPoint: WorkingPoint {
        workingPoint(at: firstIndexMinimizing { falsePositiveCounts[$0] * positiveCount - truePositiveCounts[$0] * negativeCount })
    }

    /// The point with the fewest misclassified entries (false positives + false negatives) of
    /// the curve's sample, i.e. the most accurate threshold at the sample's class mix.
    public var minimumErrorWorkingPoint: WorkingPoint {
        workingPoint(at: firstIndexMinimizing { falsePositiveCounts[$0] + positiveCount - truePositiveCounts[$0] })
    }

    private func indexReaching(truePositiveRate target: Double) -> Int {
        truePositiveRates.firstIndex { $0 >= target - Self.rateTolerance } ?? truePositiveRates.count - 1
    }

    private func indexWithin(falsePositiveRate target: Double) -> Int {
        falsePositiveRates.lastIndex { $0 <= target + Self.rateTolerance } ?? 0
    }

    private func firstIndexMinimizing(_ cost: (Int) -> Int) -> Int {
        var best = 0
        for index in thresholds.indices.dropFirst() where cost(index) < cost(best) { best = index }
        return best
    }
}
