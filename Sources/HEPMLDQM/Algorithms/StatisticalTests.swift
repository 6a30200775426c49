import Foundation
import HEPMLMetrics

/// Kolmogorov–Smirnov distances between a run's histogram and a reference.
public enum KolmogorovSmirnov {
    /// The upstream flavour (AutoDQM's `ks.py`, AutoDQM_ML's StatisticalTester): scipy's
    /// `ks_2samp` applied to the two arrays of bin contents as if they were samples. It ignores
    /// where in the histogram a bin is; kept because existing thresholds were tuned on it. Pass
    /// both histograms normalized (or scaled to the same total) as upstream does.
    public static func binContentStatistic(_ target: [Double], _ reference: [Double]) -> Double {
        let first = target.filter(\.isFinite).sorted()
        let second = reference.filter(\.isFinite).sorted()
        guard !first.isEmpty, !second.isEmpty else { return 0 }
        var i = 0
        var j = 0
        var distance = 0.0
        while i < first.count && j < second.count {
            let value = min(first[i], second[j])
            while i < first.count && first[i] == value { i += 1 }
            while j < second.count && second[j] == value { j += 1 }
            distance = max(distance, abs(Double(i) / Double(first.count) - Double(j) / Double(second.count)))
        }
        return distance
    }

    /// The proper histogram KS distance: the largest difference between the normalized
    /// cumulative distributions along the axis (2D: along the row-major flattening). Negative
    /// contents count as 0, as AutoDQM clips them before any test.
    public static func cumulativeStatistic(_ data: [Double], _ reference: [Double]) throws -> Double {
        guard data.count == reference.count else {
            throw DQMError.invalidHistogram("KS needs equal binning, got \(data.count) and \(reference.count) bins")
        }
        let dataTotal = data.reduce(0) { $0 + clipped($1) }
        let referenceTotal = reference.reduce(0) { $0 + clipped($1) }
        guard dataTotal > 0, referenceTotal > 0 else { return dataTotal == referenceTotal ? 0 : 1 }
        var dataCumulative = 0.0
        var referenceCumulative = 0.0
        var distance = 0.0
        for bin in data.indices {
            dataCumulative += clipped(data[bin]) / dataTotal
            referenceCumulative += clipped(reference[bin]) / referenceTotal
            distance = max(distance, abs(dataCumulative - referenceCumulative))
        }
        return distance
    }
}

@inline(__always)
private func clipped(_ value: Double) -> Double { value.isFinite && value > 0 ? value : 0 }

/// AutoDQM's beta-binomial pull test of a data histogram against one or several reference runs.
public enum BetaBinomialTest {
    public struct Result: Sendable, Equatable {
        /// Per-bin signed pulls (AutoDQM's significance of each bin's deviation).
        public var pulls: [Double]
        /// Σ pull² / bins used.
        public var chi2: Double
        /// The most significant pull after correcting for the number of bins tried (signed).
        public var maxPull: Double
        public var binsUsed: Int
        public var dataEntries: Double
        /// How many of the given references were usable (same binning, not empty).
        public var referencesUsed: Int

        /// AutoDQM's outlier decision with its default cuts.
        public func isOutlier(chi2Cut: Double = 10, pullCut: Double = 10, minimumEntries: Double = 1) -> Bool {
            dataEntries >= minimumEntries && (chi2 > chi2Cut || abs(maxPull) > pullCut)
        }
    }

    /// The test as AutoDQM's `beta_binomial.py` defines it. Contents are rounded to counts and
    /// negative bins set to 0. References with a different bin count or no entries are dropped;
    /// nil when none remains.
    ///
    /// - Parameter tolerance: relative systematic tolerance on the reference (AutoDQM: 0.01).
    public static func evaluate(data: [Double], references: [[Double]], tolerance: Double = 0.01) -> Result? {
        let counts = data.map { clipped($0).rounded() }
        let usable = references.map { $0.map { clipped($0).rounded() } }.filter { $0.count == counts.count && $0.reduce(0, +) > 0 }
        guard !usable.isEmpty else { return nil }
        let dataTotal = counts.reduce(0, +)
        let referenceTotals = usable.map { $0.reduce(0, +) }
        var pulls = [Double](repeating: 0, count: counts.count)
        var binsUsed = 0
        for bin in counts.indices {
            var probabilitySum = 0.0
            var weightedFraction = 0.0
            var referenceSum = 0.0
            for (reference, referenceTotal) in zip(usable, referenceTotals) {
                let relative = relativeProbability(count: counts[bin], dataTotal: dataTotal, reference: reference[bin], referenceTotal: referenceTotal, tolerance: tolerance)
                probabilitySum += relative
                weightedFraction += reference[bin] / referenceTotal * relative
                referenceSum += reference[bin]
            }
            if referenceSum + counts[bin] != 0 { binsUsed += 1 }
            let probability = probabilitySum / Double(usable.count)
            let expected = probabilitySum > 0 ? dataTotal * weightedFraction / probabilitySum : 0
            let pull = Distributions.twoSidedSignificance(probability)
            pulls[bin] = counts[bin] < expected ? -pull : counts[bin] > expected ? pull : 0
        }
        guard binsUsed > 0 else {
            return Result(pulls: pulls, chi2: 0, maxPull: 0, binsUsed: 0, dataEntries: dataTotal, referencesUsed: usable.count)
        }
        let chi2 = pulls.reduce(0) { $0 + $1 * $1 } / Double(binsUsed)
        let largest = normalizedMaxPull(pulls.max() ?? 0, binsUsed: binsUsed)
        let smallest = normalizedMaxPull(pulls.min() ?? 0, binsUsed: binsUsed)
        return Result(pulls: pulls, chi2: chi2, maxPull: abs(smallest) > largest ? smallest : largest, binsUsed: binsUsed, dataEntries: dataTotal, referencesUsed: usable.count)
    }

    /// AutoDQM's `maxPullNorm`: the pull's significance after a trials factor of `binsUsed`.
    static func normalizedMaxPull(_ pull: Double, binsUsed: Int) -> Double {
        let probability = Distributions.twoSidedNormalTail(min(abs(pull), 37))
        let trials = Double(binsUsed)
        let corrected = trials * probability < 0.01 ? trials * probability : 1 - pow(1 - probability, trials)
        let significance = Distributions.twoSidedSignificance(max(corrected, 1e-300))
        return pull < 0 ? -significance : significance
    }

    /// P(observed count) / P(most probable count) under the beta-binomial with the reference as
    /// prior, floored at 1e-300 (about 37σ).
    private static func relativeProbability(count: Double, dataTotal: Double, reference: Double, referenceTotal: Double, tolerance: Double) -> Double {
        let scale = 1 / (1 + pow(reference * tolerance * tolerance, 2)).squareRoot()
        let scaledReference = (scale * reference).rounded()
        let scaledTotal = (scale * referenceTotal).rounded()
        let alpha = scaledReference + 1
        let beta = scaledTotal - scaledReference + 1
        let mean = dataTotal * reference / referenceTotal
        let above = min(mean.rounded(.up), dataTotal)
        let below = max(mean.rounded(.down), 0)
        let peak = max(betaBinomialProbability(above, dataTotal, alpha, beta), betaBinomialProbability(below, dataTotal, alpha, beta))
        guard peak > 0 else { return 1e-300 }
        return max(min(betaBinomialProbability(count, dataTotal, alpha, beta) / peak, 1), 1e-300)
    }

    private static func betaBinomialProbability(_ k: Double, _ n: Double, _ alpha: Double, _ beta: Double) -> Double {
        guard k >= 0, k <= n, alpha > 0, beta > 0 else { return 0 }
        let numerator: Double = lgamma(n + 1) + lgamma(k + alpha) + lgamma(n - k + beta) + lgamma(alpha + beta)
        let denominator: Double = lgamma(k + 1) + lgamma(n - k + 1) + lgamma(n + alpha + beta) + lgamma(alpha) + lgamma(beta)
        return exp(numerator - denominator)
    }
}

/// AutoDQM's Poisson pull-value test for 2D histograms (`pullvals.py`).
public enum PoissonPullTest {
    /// How the data is scaled to the reference before comparing.
    public enum Normalization: String, Sendable, CaseIterable {
        /// One factor for the whole histogram.
        case all
        /// One factor per y index (sums over x), as AutoDQM's `row`.
        case row
        /// One factor per x index (sums over y), as AutoDQM's `col`.
        case column
    }

    public struct Result: Sendable, Equatable {
        /// Per-bin pulls, row-major like the input.
        public var pulls: [Double]
        /// Σ pull² over all bins / number of bins.
        public var chi2: Double
        /// max |pull|.
        public var maxPull: Double
        public var dataEntries: Double

        /// AutoDQM's outlier decision with its default cuts.
        public func isOutlier(chi2Cut: Double = 500, pullCut: Double = 20, minimumEntries: Double = 10_000) -> Bool {
            dataEntries >= minimumEntries && (chi2 > chi2Cut || maxPull > pullCut)
        }
    }

    /// Compares row-major `[nx][ny]` data with a reference of the same shape.
    public static func evaluate(data: [Double], reference: [Double], xBins: Int, yBins: Int, normalization: Normalization = .all) throws -> Result {
        guard xBins > 0, yBins > 0, data.count == xBins * yBins, reference.count == data.count else {
            throw DQMError.invalidHistogram("pull-value test needs two \(xBins)×\(yBins) histograms")
        }
        let raw = data.map(clipped)
        let referenceCounts = reference.map(clipped)
        let dataEntries = raw.reduce(0, +)
        var scaled = raw
        switch normalization {
        case .all:
            if dataEntries > 0 {
                let factor = referenceCounts.reduce(0, +) / dataEntries
                scaled = raw.map { $0 * factor }
            }
        case .row, .column:
            // Group index g of bin (ix, iy): iy for `row`, ix for `column`.
            let groupCount = normalization == .row ? yBins : xBins
            func group(_ index: Int) -> Int { normalization == .row ? index % yBins : index / yBins }
            var dataSums = [Double](repeating: 0, count: groupCount)
            var referenceSums = [Double](repeating: 0, count: groupCount)
            for index in raw.indices {
                dataSums[group(index)] += raw[index]
                referenceSums[group(index)] += referenceCounts[index]
            }
            for index in raw.indices {
                let g = group(index)
                scaled[index] = raw[index] * (dataSums[g] > 0 ? referenceSums[g] / dataSums[g] : 1)
            }
        }
        var pulls = [Double](repeating: 0, count: raw.count)
        var chi2 = 0.0
        var maxPull = 0.0
        for index in scaled.indices {
            let d = scaled[index]
            let r = referenceCounts[index]
            let dataErrors = autoDQMPoissonErrors(d)
            let referenceErrors = autoDQMPoissonErrors(r)
            let errorSquared = d >= r
                ? dataErrors.low * dataErrors.low + referenceErrors.high * referenceErrors.high
                : dataErrors.high * dataErrors.high + referenceErrors.low * referenceErrors.low
            let pull = errorSquared > 0 ? (d - r) / errorSquared.squareRoot() : 0
            pulls[index] = pull
            chi2 += pull * pull
            maxPull = max(maxPull, abs(pull))
        }
        return Result(pulls: pulls, chi2: chi2 / Double(pulls.count), maxPull: maxPull, dataEntries: dataEntries)
    }

    /// AutoDQM's error bars `|chi2.interval(0.6827, 2n) / 2 − 1 − n|` (low from the lower
    /// quantile, high from the upper), 0 for n = 0 where scipy's NaN is zeroed. These are not the
    /// exact Garwood interval; they are reproduced so pulls match AutoDQM's.
    static func autoDQMPoissonErrors(_ n: Double) -> (low: Double, high: Double) {
        guard n > 0 else { return (0, 0) }
        let coverage = 0.6827
        let lower = Distributions.gammaQuantile(n, (1 - coverage) / 2)
        let upper = Distributions.gammaQuantile(n, (1 + coverage) / 2)
        return (abs(lower - 1 - n), abs(upper - 1 - n))
    }
}
