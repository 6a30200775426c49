import Foundation
import HEPMLMetrics
import Testing

func close(_ a: Double, _ b: Double, relative: Double = 1e-9, absolute: Double = 1e-12) -> Bool {
    abs(a - b) <= max(absolute, relative * max(abs(a), abs(b)))
}

// Expected values from scipy 1.17 (scipy.stats.norm/chi2/gamma/beta), not from this module.
@Suite struct DistributionTests {
    @Test("Two-sided significance of a p-value: sqrt(chi2.isf(p, 1))")
    func twoSidedSignificance() {
        #expect(close(Distributions.twoSidedSignificance(0.5), 0.6744897501960815))
        #expect(close(Distributions.twoSidedSignificance(1e-3), 3.290526731491895))
        #expect(close(Distributions.twoSidedSignificance(1e-30), 11.52388357738025))
        #expect(close(Distributions.twoSidedSignificance(1e-300), 37.065787880772135))
        #expect(Distributions.twoSidedSignificance(1) == 0)
    }

    @Test("Gamma quantile: gamma.ppf(q, a)")
    func gammaQuantile() {
        #expect(close(Distributions.gammaQuantile(0.5, 0.1), 0.00789538704671561))
        #expect(close(Distributions.gammaQuantile(5, 0.15865), 2.8402756839659458))
        #expect(close(Distributions.gammaQuantile(5, 0.84135), 7.162814991806341))
        #expect(close(Distributions.gammaQuantile(123.4, 0.5), 123.06682721422095))
        #expect(close(Distributions.gammaQuantile(20000, 0.84135), 20141.423263281053))
    }

    @Test("Regularized incomplete beta: beta.cdf(x, a, b)")
    func regularizedBeta() {
        #expect(close(Distributions.regularizedBeta(0.3, 2.5, 4.0), 0.3521975859067672, relative: 1e-12))
        #expect(close(Distributions.regularizedBeta(0.9, 0.5, 0.5), 0.7951672353008665, relative: 1e-12))
        #expect(close(Distributions.regularizedBeta(0.001, 3, 1000), 0.08057759036020444, relative: 1e-11))
        #expect(Distributions.regularizedBeta(0, 2, 3) == 0 && Distributions.regularizedBeta(1, 2, 3) == 1)
        #expect(Distributions.regularizedBeta(0.5, 0, 3).isNaN && Distributions.regularizedBeta(0.5, 2, .infinity).isNaN)
        #expect(Distributions.betaQuantile(0.5, -1, 3).isNaN && Distributions.betaQuantile(1.5, 1, 3).isNaN)
    }
}

@Suite struct BinomialIntervalTests {
    @Test("Clopper–Pearson against scipy.stats.beta.ppf", arguments: [
        // (k, n, coverage, lower, upper): lower = beta.ppf((1-c)/2, k, n-k+1), upper = beta.ppf((1+c)/2, k+1, n-k).
        (0, 10, 0.6827, 0.0, 0.1681519408858844),
        (0, 10, 0.95, 0.0, 0.3084971078187607),
        (3, 10, 0.6827, 0.14166978253195195, 0.5082658513353708),
        (3, 10, 0.95, 0.0667395111777345, 0.6524528500599973),
        (10, 10, 0.95, 0.6915028921812392, 1.0),
        (1, 1000, 0.95, 2.5317487491294065e-05, 0.005558924279826672),
        (500, 1000, 0.6827, 0.48369667807789907, 0.5163033219221009),
        (99990, 100000, 0.95, 0.9998161041546233, 0.999952045104861),
        (7, 20, 0.9, 0.1773109175744491, 0.5580345113154888),
    ])
    func clopperPearson(k: Int, n: Int, coverage: Double, lower: Double, upper: Double) throws {
        let interval = try BinomialInterval.clopperPearson(successes: k, trials: n, coverage: coverage)
        #expect(close(interval.lower, lower, relative: 1e-10), "lower \(interval.lower)")
        #expect(close(interval.upper, upper, relative: 1e-10), "upper \(interval.upper)")
        #expect(interval.estimate == Double(k) / Double(n))
    }

    @Test("k = 0 has the closed form 1 − ((1 − coverage)/2)^(1/n)")
    func noSuccesses() throws {
        for n in [1, 2, 10, 1000] {
            let interval = try BinomialInterval.clopperPearson(successes: 0, trials: n)
            let expected = 1 - pow((1 - BinomialInterval.oneSigmaCoverage) / 2, 1 / Double(n))
            #expect(interval.lower == 0 && close(interval.upper, expected, relative: 1e-12))
        }
    }

    @Test("Impossible counts and coverages are errors")
    func invalidArguments() {
        #expect(throws: MetricsError.self) { try BinomialInterval.clopperPearson(successes: 1, trials: 0) }
        #expect(throws: MetricsError.self) { try BinomialInterval.clopperPearson(successes: 4, trials: 3) }
        #expect(throws: MetricsError.self) { try BinomialInterval.clopperPearson(successes: -1, trials: 3) }
        #expect(throws: MetricsError.self) { try BinomialInterval.clopperPearson(successes: 1, trials: 3, coverage: 1) }
        #expect(throws: MetricsError.self) { try BinomialInterval.clopperPearson(successes: 1, trials: 3, coverage: .nan) }
    }
}
