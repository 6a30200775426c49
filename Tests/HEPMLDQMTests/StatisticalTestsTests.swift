import Testing
@testable import HEPMLDQM

private func close(_ a: Double, _ b: Double, relative: Double = 1e-9, absolute: Double = 1e-12) -> Bool {
    abs(a - b) <= max(absolute, relative * max(abs(a), abs(b)))
}

// Expected values below were computed with scipy 1.17 (scipy.stats.ks_2samp, betabinom.pmf,
// chi2.isf/sf/interval, gamma.ppf) and numpy, following the formulas of the AutoDQM spec
// (§3.1–3.3) written directly in terms of those scipy primitives, not with this module.
@Suite struct KolmogorovSmirnovTests {
    @Test func binContentFlavourIsTwoSampleKSOnValues() {
        // scipy.stats.ks_2samp([0.1,0.4,0.2,0.3,0.0], [0.25,0.25,0.3,0.2,0.0,0.0]).statistic
        let d = KolmogorovSmirnov.binContentStatistic([0.1, 0.4, 0.2, 0.3, 0.0], [0.25, 0.25, 0.3, 0.2, 0.0, 0.0])
        #expect(close(d, 0.23333333333333334))
        // Order of bins does not matter to this flavour, which is why it is not the proper test.
        #expect(KolmogorovSmirnov.binContentStatistic([1, 2, 3], [3, 2, 1]) == 0)
    }

    @Test func cumulativeFlavourComparesShapes() throws {
        // By hand: CDFs (0.1, 0.4, 0.9, 1) and (0.2, 0.4, 0.6, 1): largest gap 0.3 at bin 3.
        #expect(close(try KolmogorovSmirnov.cumulativeStatistic([1, 3, 5, 1], [2, 2, 2, 4]), 0.3))
        #expect(try KolmogorovSmirnov.cumulativeStatistic([1, 2, 3], [3, 2, 1]) > 0.3)
        #expect(try KolmogorovSmirnov.cumulativeStatistic([2, 4, 6], [1, 2, 3]) == 0)
        #expect(throws: DQMError.self) { try KolmogorovSmirnov.cumulativeStatistic([1], [1, 2]) }
    }
}

@Suite struct BetaBinomialTests {
    @Test func twoReferencesMatchIndependentComputation() throws {
        let data: [Double] = [10, 25, 40, 0, 5, 20, 0]
        let references: [[Double]] = [[12, 30, 35, 0, 2, 21, 0], [8, 22, 45, 1, 3, 18, 0]]
        let result = try #require(BetaBinomialTest.evaluate(data: data, references: references))
        let expectedPulls = [-0.11665362007823342, -0.2085868655179759, -0.3662126288205122, -0.01253346950798635, 0.561254469550002, 0.03273992226811025, 0]
        for (pull, expected) in zip(result.pulls, expectedPulls) { #expect(close(pull, expected, relative: 1e-7)) }
        #expect(result.binsUsed == 6)
        #expect(close(result.chi2, 0.08457730116824748, relative: 1e-7))
        #expect(close(result.maxPull, 0.00742508391616399, relative: 1e-6))
        #expect(result.referencesUsed == 2)
        #expect(!result.isOutlier())
    }

    @Test func strongDeviationIsFlagged() throws {
        let result = try #require(BetaBinomialTest.evaluate(data: [100, 5, 300, 50], references: [[100, 100, 100, 100]]))
        let expectedPulls = [-0.5315930431194615, -11.156400406372322, 11.941702040142983, -5.001110617639817]
        for (pull, expected) in zip(result.pulls, expectedPulls) { #expect(close(pull, expected, relative: 1e-7)) }
        #expect(close(result.chi2, 73.09080405405558, relative: 1e-7))
        #expect(close(result.maxPull, 11.825856780472705, relative: 1e-7))
        #expect(result.isOutlier())
    }

    @Test func unusableReferencesAreDropped() {
        #expect(BetaBinomialTest.evaluate(data: [1, 2], references: [[0, 0], [1, 2, 3]]) == nil)
        let result = BetaBinomialTest.evaluate(data: [1, 2], references: [[0, 0], [1, 2]])
        #expect(result?.referencesUsed == 1)
    }
}

@Suite struct PoissonPullTests {
    @Test func matchesIndependentComputation() throws {
        let data: [Double] = [100, 50, 0, 30, 80, 20]
        let reference: [Double] = [90, 60, 5, 35, 70, 25]
        let result = try PoissonPullTest.evaluate(data: data, reference: reference, xBins: 2, yBins: 3)
        let expected = [0.8454381604080501, -0.8549930626475976, -1.5824165338182978, -0.5427463620749383, 0.9206837470405754, -0.6724079823874753]
        for (pull, value) in zip(result.pulls, expected) { #expect(close(pull, value, relative: 1e-8)) }
        #expect(close(result.chi2, 0.9240309295233052, relative: 1e-8))
        #expect(close(result.maxPull, 1.5824165338182978, relative: 1e-8))
        let row = try PoissonPullTest.evaluate(data: data, reference: reference, xBins: 2, yBins: 3, normalization: .row)
        #expect(close(row.chi2, 0.8760249309326285, relative: 1e-8))
        #expect(!result.isOutlier())
    }

    @Test func rejectsMismatchedShapes() {
        #expect(throws: DQMError.self) { try PoissonPullTest.evaluate(data: [1, 2, 3], reference: [1, 2, 3], xBins: 2, yBins: 2) }
    }
}
