import HEPMLMetrics
import Testing

@Suite struct WorkingPointTests {
    // Scores 0.9 … 0.4 with truth P P N P N N: points (FPR, TPR) = (0,0) (0,⅓) (0,⅔) (⅓,⅔) (⅓,1) (⅔,1) (1,1).
    let scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
    let truth = [true, true, false, true, false, false]

    @Test("Rates at a fixed efficiency or pass rate are read off the curve's points")
    func fixedRates() throws {
        let curve = try ROCCurve(scores: scores, isPositive: truth)
        #expect(curve.falsePositiveRate(atTruePositiveRate: 0.5) == 0)
        #expect(curve.workingPoint(atTruePositiveRate: 0.5).threshold == 0.8)
        #expect(abs(curve.falsePositiveRate(atTruePositiveRate: 0.9) - 1.0 / 3) < 1e-15)
        #expect(curve.workingPoint(atTruePositiveRate: 0.9).threshold == 0.6)
        #expect(curve.falsePositiveRate(atTruePositiveRate: 2.0 / 3) == 0)
        #expect(curve.falsePositiveRate(atTruePositiveRate: 1.5) == 1)
        #expect(curve.truePositiveRate(atFalsePositiveRate: 0) == 2.0 / 3)
        #expect(curve.truePositiveRate(atFalsePositiveRate: 0.2) == 2.0 / 3)
        #expect(curve.truePositiveRate(atFalsePositiveRate: 0.5) == 1)
        #expect(curve.truePositiveRate(atFalsePositiveRate: -1) == 0)
        #expect(curve.workingPoint(atFalsePositiveRate: 0.5).threshold == 0.6)
    }

    @Test("Youden's J and the fewest misclassifications, strictest threshold on ties")
    func optimalThresholds() throws {
        let curve = try ROCCurve(scores: scores, isPositive: truth)
        // J = ⅔ at thresholds 0.8 and 0.6; FP + FN = 1 at the same two.
        #expect(curve.youdenWorkingPoint.threshold == 0.8)
        #expect(curve.minimumErrorWorkingPoint.threshold == 0.8)
        // One positive among five: J is best at 0.8 (TPR 1, FPR ¼), but calling nothing positive
        // makes as few errors (one) as any threshold.
        let rare = try ROCCurve(scores: [0.9, 0.8, 0.7, 0.6, 0.5], isPositive: [false, true, false, false, false])
        #expect(rare.youdenWorkingPoint.threshold == 0.8)
        #expect(rare.minimumErrorWorkingPoint.threshold == .infinity)
        #expect(rare.minimumErrorWorkingPoint.confusion == ConfusionMatrix(truePositives: 0, falsePositives: 0, trueNegatives: 4, falseNegatives: 1))
    }

    @Test("Confusion matrix at a threshold and its rates")
    func confusionMatrix() throws {
        let curve = try ROCCurve(scores: scores + [.nan], isPositive: truth + [true])
        let matrix = try ConfusionMatrix(scores: scores + [.nan], isPositive: truth + [true], threshold: 0.6)
        #expect(matrix == ConfusionMatrix(truePositives: 3, falsePositives: 1, trueNegatives: 2, falseNegatives: 0))
        #expect(curve.workingPoint(at: 4).confusion == matrix)
        #expect(matrix.accuracy == 5.0 / 6 && matrix.precision == 0.75 && matrix.truePositiveRate == 1)
        #expect(matrix.falsePositiveRate == 1.0 / 3 && matrix.f1Score == 6.0 / 7 && matrix.rejection == 3)
        let clean = ConfusionMatrix(truePositives: 2, falsePositives: 0, trueNegatives: 5, falseNegatives: 1)
        #expect(clean.rejection == .infinity)
        let empty = ConfusionMatrix(truePositives: 0, falsePositives: 0, trueNegatives: 0, falseNegatives: 0)
        #expect(empty.accuracy.isNaN && empty.precision.isNaN && empty.f1Score.isNaN && empty.rejection.isNaN)
        #expect(throws: MetricsError.self) { try ConfusionMatrix(scores: [1], isPositive: [], threshold: 0) }
    }

    @Test("Efficiency and rejection intervals are Clopper–Pearson on the matrix's counts")
    func intervals() throws {
        let matrix = ConfusionMatrix(truePositives: 3, falsePositives: 0, trueNegatives: 10, falseNegatives: 0)
        let efficiency = try matrix.truePositiveRateInterval(coverage: 0.95)
        // scipy.stats.beta.ppf(0.025, 3, 1) = 0.025^(1/3).
        #expect(abs(efficiency.lower - 0.2924017738212866) < 1e-13 && efficiency.upper == 1)
        let rejection = try matrix.rejectionInterval(coverage: 0.95)
        #expect(abs(rejection.lowerBound - 1 / 0.3084971078187607) < 1e-11 && rejection.upperBound == .infinity)
        #expect(throws: MetricsError.self) { try ConfusionMatrix(truePositives: 0, falsePositives: 1, trueNegatives: 1, falseNegatives: 0).truePositiveRateInterval() }
    }
}
