import HEPMLCore
import HEPMLMetrics
import Testing

@Suite struct ROCTests {
    @Test("AUC counts correctly ordered (positive, negative) pairs")
    func aucCountsOrderedPairs() throws {
        // Positives score 0.9 and 0.7; negatives 0.8, 0.6, 0.5: 5 of the 6 pairs are ordered.
        let curve = try ROCCurve(scores: [0.9, 0.8, 0.7, 0.6, 0.5], isPositive: [true, false, true, false, false])
        #expect(abs(curve.auc - 5.0 / 6.0) < 1e-12)
        #expect(curve.thresholds == [.infinity, 0.9, 0.8, 0.7, 0.6, 0.5])
        #expect(curve.truePositiveCounts == [0, 1, 1, 2, 2, 2] && curve.falsePositiveCounts == [0, 0, 1, 1, 2, 3])
        #expect(curve.falsePositiveRates.first == 0 && curve.truePositiveRates.last == 1 && curve.falsePositiveRates.last == 1)
        #expect(try ROCCurve(scores: [3, 2, 1, 0], isPositive: [true, true, false, false]).auc == 1)
        #expect(try ROCCurve(scores: [3, 2, 1, 0], isPositive: [false, false, true, true]).auc == 0)
    }

    @Test("A tied positive–negative pair counts one half")
    func tiesCountHalf() throws {
        #expect(try ROCCurve(scores: [1, 1], isPositive: [true, false]).auc == 0.5)
        // Positives {0.8, 0.5}, negatives {0.5, 0.2}: pairs 1 + 1 + ½ + 1 of 4.
        let tied = try ROCCurve(scores: [0.5, 0.8, 0.2, 0.5], isPositive: [false, true, false, true])
        #expect(tied.auc == 0.875)
        #expect(tied.falsePositiveRates == [0, 0, 0.5, 1] && tied.truePositiveRates == [0, 0.5, 1, 1])
        #expect(tied.thresholds == [.infinity, 0.8, 0.5, 0.2])
    }

    @Test("One class, no entries or unpaired arrays are errors, never a crash")
    func degenerateInputs() throws {
        #expect(throws: MetricsError.missingClass(positives: 0, negatives: 2)) { try ROCCurve(scores: [1, 2], isPositive: [false, false]) }
        #expect(throws: MetricsError.missingClass(positives: 0, negatives: 0)) { try ROCCurve(scores: [], isPositive: []) }
        // Only the positive has a finite score.
        #expect(throws: MetricsError.missingClass(positives: 1, negatives: 0)) { try ROCCurve(scores: [1, .nan], isPositive: [true, false]) }
        #expect(throws: MetricsError.lengthMismatch("ROC scores and labels", 2, 1)) { try ROCCurve(scores: [1, 2], isPositive: [true]) }
        #expect(throws: MetricsError.self) { try ROCBootstrap(scores: [1, 2], isPositive: [true, true], seed: 1) }
    }

    @Test("Non-finite scores are left out")
    func nonFiniteScoresLeftOut() throws {
        let with = try ROCCurve(scores: [0.9, .nan, 0.7, .infinity, 0.5], isPositive: [true, true, false, false, false])
        let without = try ROCCurve(scores: [0.9, 0.7, 0.5], isPositive: [true, false, false])
        #expect(with == without && with.positiveCount == 1 && with.negativeCount == 2)
    }

    @Test("Interpolation on a grid follows the curve and takes the top of vertical steps")
    func interpolationFollowsTheCurve() throws {
        let curve = try ROCCurve(scores: [3, 2, 1], isPositive: [false, true, false])
        // Points (0,0) (0.5,0) (0.5,1) (1,1).
        #expect(curve.truePositiveRates(onGrid: [0, 0.25, 0.5, 0.75, 1]) == [0, 0, 1, 1, 1])
        let diagonal = try ROCCurve(scores: [1, 1], isPositive: [true, false])
        #expect(diagonal.truePositiveRates(onGrid: [0, 0.25, 1]) == [0, 0.25, 1])
    }

    @Test("Area of given points closes nothing itself")
    func areaOfPoints() {
        #expect(ROCCurve.area(falsePositiveRates: [0, 0.5, 1], truePositiveRates: [0, 1, 1]) == 0.75)
        #expect(ROCCurve.area(falsePositiveRates: [0.3], truePositiveRates: [0.4]) == 0)
        #expect(ROCCurve.area(falsePositiveRates: [], truePositiveRates: []) == 0)
    }

    @Test("The bootstrap is reproducible from its seed and bands the nominal curve")
    func bootstrapIsSeeded() throws {
        let scores: [Double] = (0..<40).map { Double(($0 * 37) % 41) } + [.nan]
        let labels: [Bool] = (0..<41).map { $0 % 4 == 0 }
        let first = try ROCBootstrap(scores: scores, isPositive: labels, seed: 7)
        let again = try ROCBootstrap(scores: scores, isPositive: labels, seed: 7)
        let other = try ROCBootstrap(scores: scores, isPositive: labels, seed: 8)
        #expect(first == again)
        #expect(first.aucUncertainty != other.aucUncertainty)
        #expect(first.aucUncertainty > 0 && first.aucUncertainty < 0.5)
        #expect(first.nominal == (try ROCCurve(scores: Array(scores.prefix(40)), isPositive: Array(labels.prefix(40)))))
        #expect(first.resampleCount == ROCBootstrap.defaultResamples)
        #expect(first.grid.count == ROCBootstrap.defaultGridPoints && first.grid.first == 0 && first.grid.last == 1)
        #expect(first.grid == Binning.uniformEdges(count: 200, lower: 0, upper: 1))
        #expect(first.meanTruePositiveRates.count == first.grid.count && first.meanTruePositiveRates.last == 1)
        #expect(first.truePositiveRateUncertainties.last == 0)
        #expect(first.truePositiveRateUncertainties.contains { $0 > 0 })
    }

    @Test("A sample that is mostly one class still yields resamples with both")
    func bootstrapRedrawsSingleClassResamples() throws {
        let scores = (0..<12).map(Double.init)
        let labels = (0..<12).map { $0 == 11 }
        let bootstrap = try ROCBootstrap(scores: scores, isPositive: labels, seed: 3, resamples: 30)
        #expect(bootstrap.resampleCount == 30)
        #expect(bootstrap.nominal.auc == 1)
    }
}
