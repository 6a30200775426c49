/// A confidence interval for a binomial probability (an efficiency, a pass rate) from k
/// successes in n trials.
public struct BinomialInterval: Sendable, Equatable {
    public var successes: Int
    public var trials: Int
    /// The probability that the interval covers the true value.
    public var coverage: Double
    public var lower: Double
    public var upper: Double

    /// k / n.
    public var estimate: Double { Double(successes) / Double(trials) }

    /// ±1σ of a normal distribution, erf(1/√2): ROOT's `TEfficiency` default.
    public static let oneSigmaCoverage = 0.6826894921370859

    /// The Clopper–Pearson ("exact") central interval: each tail outside it has probability at
    /// most (1 − coverage)/2, found from the beta quantiles
    /// lower = B⁻¹((1 − coverage)/2; k, n − k + 1) (0 when k = 0) and
    /// upper = B⁻¹((1 + coverage)/2; k + 1, n − k) (1 when k = n),
    /// as ROOT's `TEfficiency::ClopperPearson` and statsmodels' `proportion_confint(method="beta")`.
    /// It never undercovers, at the price of being wider than needed for small n.
    public static func clopperPearson(successes: Int, trials: Int, coverage: Double = oneSigmaCoverage) throws(MetricsError) -> BinomialInterval {
        guard trials > 0, successes >= 0, successes <= trials else {
            throw .invalidArgument("a binomial interval needs 0 ≤ successes ≤ trials and trials > 0; got \(successes) of \(trials)")
        }
        guard coverage > 0, coverage < 1 else { throw .invalidArgument("coverage must lie strictly between 0 and 1; got \(coverage)") }
        let k = Double(successes), n = Double(trials)
        let tail = (1 - coverage) / 2
        let lower = successes == 0 ? 0 : Distributions.betaQuantile(tail, k, n - k + 1)
        let upper = successes == trials ? 1 : Distributions.betaQuantile(1 - tail, k + 1, n - k)
        return BinomialInterval(successes: successes, trials: trials, coverage: coverage, lower: lower, upper: upper)
    }
}
