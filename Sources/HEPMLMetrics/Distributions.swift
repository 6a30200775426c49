import Foundation

/// Distribution functions that statistical tests and intervals need (scipy's `norm`, `chi2`,
/// `gamma` and `beta` for the cases used), in Float64 with relative accuracy near 1e-12 over
/// the ranges that occur: the AutoDQM tests (normal and gamma quantiles) and Clopper–Pearson
/// intervals (beta quantiles).
public enum Distributions {
    /// x with P(Z > x) = p for a standard normal Z, for 0 < p < 1 (Acklam's rational start and
    /// one Halley step on `erfc`, which keeps full precision down to p ≈ 1e-300).
    public static func normalUpperQuantile(_ p: Double) -> Double {
        guard p > 0 else { return .infinity }
        guard p < 1 else { return -.infinity }
        let lowerTail = min(p, 1 - p)
        var x = acklamLowerQuantile(lowerTail)
        // Halley refinement of Φ(x) = lowerTail.
        let error = 0.5 * erfc(-x / 2.0.squareRoot()) - lowerTail
        let u = error * (2 * Double.pi).squareRoot() * exp(x * x / 2)
        x -= u / (1 + x * u / 2)
        // Φ⁻¹(lowerTail) is negative; the upper quantile of p is its mirror when p is the small side.
        return p <= 0.5 ? -x : x
    }

    private static func acklamLowerQuantile(_ p: Double) -> Double {
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        if p < 0.02425 {
            let q = (-2 * log(p)).squareRoot()
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        let q = p - 0.5
        let r = q * q
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    }

    /// scipy `chi2.sf(x * x, 1)`: the two-sided normal tail probability of |x|.
    public static func twoSidedNormalTail(_ x: Double) -> Double {
        erfc(abs(x) / 2.0.squareRoot())
    }

    /// The significance in standard deviations of a two-sided p-value: the |z| whose two-sided
    /// normal tail is p, `sqrt(chi2.isf(p, 1))` (AutoDQM's `Sigmas(p)`).
    public static func twoSidedSignificance(_ p: Double) -> Double {
        guard p < 1 else { return 0 }
        return normalUpperQuantile(p / 2)
    }

    /// Regularized lower incomplete gamma P(a, x) (series below a + 1, continued fraction above).
    public static func regularizedGammaP(_ a: Double, _ x: Double) -> Double {
        guard x > 0 else { return 0 }
        let logPrefactor = a * log(x) - x - lgamma(a)
        let iterationLimit = 200 + Int(40 * a.squareRoot())
        if x < a + 1 {
            var term = 1 / a
            var sum = term
            var denominator = a
            for _ in 0..<iterationLimit {
                denominator += 1
                term *= x / denominator
                sum += term
                if abs(term) < abs(sum) * 1e-16 { break }
            }
            return min(1, sum * exp(logPrefactor))
        }
        // Modified Lentz evaluation of the continued fraction for Q(a, x).
        let tiny = 1e-300
        var b = x + 1 - a
        var c = 1 / tiny
        var d = 1 / b
        var h = d
        for i in 1...iterationLimit {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return max(0, 1 - exp(logPrefactor) * h)
    }

    /// x with P(a, x) = p: scipy's `gamma.ppf(p, a)`, i.e. `chi2.ppf(p, 2a) / 2`. Newton steps on
    /// a Wilson–Hilferty start, kept inside a shrinking bracket so it always converges.
    public static func gammaQuantile(_ a: Double, _ p: Double) -> Double {
        guard a > 0, p > 0 else { return 0 }
        guard p < 1 else { return .infinity }
        let z = -normalUpperQuantile(p)
        let nu = 2 * a
        let wilsonHilferty = nu * pow(max(1e-3, 1 - 2 / (9 * nu) + z * (2 / (9 * nu)).squareRoot()), 3) / 2
        var x = wilsonHilferty > 0 ? wilsonHilferty : a
        var lower = 0.0
        var upper = Double.infinity
        for _ in 0..<200 {
            let residual = regularizedGammaP(a, x) - p
            if residual < 0 { lower = x } else { upper = x }
            let density = exp((a - 1) * log(x) - x - lgamma(a))
            var next = density > 0 ? x - residual / density : .nan
            if !(next > lower && next < upper) {
                next = upper.isFinite ? (lower + upper) / 2 : max(2 * x, x + 1)
            }
            if abs(next - x) <= 1e-13 * max(1, abs(x)) { return next }
            x = next
        }
        return x
    }

    /// The regularized incomplete beta function I_x(a, b) = P(X ≤ x) for X ~ Beta(a, b):
    /// scipy's `beta.cdf(x, a, b)`. NaN unless a and b are finite and positive.
    public static func regularizedBeta(_ x: Double, _ a: Double, _ b: Double) -> Double {
        guard a > 0, b > 0, a.isFinite, b.isFinite, !x.isNaN else { return .nan }
        return betaTails(x, a, b).lower
    }

    /// x with I_x(a, b) = p: scipy's `beta.ppf(p, a, b)`. Newton steps from Numerical Recipes'
    /// starting point, kept inside a shrinking bracket so they always converge; the residual is
    /// taken on the smaller tail, so both ends keep their relative precision.
    public static func betaQuantile(_ p: Double, _ a: Double, _ b: Double) -> Double {
        guard a > 0, b > 0, a.isFinite, b.isFinite, p >= 0, p <= 1 else { return .nan }
        guard p > 0 else { return 0 }
        guard p < 1 else { return 1 }
        let logNormalization = logBeta(a, b)
        var x = betaQuantileStart(p, a, b)
        var lower = 0.0
        var upper = 1.0
        for _ in 0..<300 {
            let tails = betaTails(x, a, b)
            // I_x − p, from whichever tail is small (1 − p is exact for p > 0.5).
            let residual = p <= 0.5 ? tails.lower - p : (1 - p) - tails.upper
            if residual == 0 { return x }
            if residual < 0 { lower = x } else { upper = x }
            let density = exp((a - 1) * log(x) + (b - 1) * log1p(-x) - logNormalization)
            var next = density > 0 && density.isFinite ? x - residual / density : .nan
            if !(next > lower && next < upper) { next = (lower + upper) / 2 }
            // A Newton step this small leaves an error of about its square.
            if abs(next - x) <= 1e-14 * next { return next }
            x = next
        }
        return x
    }

    private static func logBeta(_ a: Double, _ b: Double) -> Double {
        lgamma(a) + lgamma(b) - lgamma(a + b)
    }

    /// I_x(a, b) and 1 − I_x(a, b), the one of them the continued fraction converges fast for
    /// computed directly (below the mean for the lower tail, above it through the symmetry
    /// I_x(a, b) = 1 − I_{1−x}(b, a)).
    private static func betaTails(_ x: Double, _ a: Double, _ b: Double) -> (lower: Double, upper: Double) {
        guard x > 0 else { return (0, 1) }
        guard x < 1 else { return (1, 0) }
        let front = exp(a * log(x) + b * log1p(-x) - logBeta(a, b))
        if x < (a + 1) / (a + b + 2) {
            let lower = front * betaContinuedFraction(x, a, b) / a
            return (lower, 1 - lower)
        }
        let upper = front * betaContinuedFraction(1 - x, b, a) / b
        return (1 - upper, upper)
    }

    /// The continued fraction of I_x(a, b) (modified Lentz); it needs about √max(a, b) terms.
    private static func betaContinuedFraction(_ x: Double, _ a: Double, _ b: Double) -> Double {
        let tiny = 1e-300
        let iterationLimit = 200 + Int(10 * max(a, b).squareRoot())
        var c = 1.0
        var d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...iterationLimit {
            let m = Double(m)
            // Even step.
            var coefficient = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + coefficient * d
            if abs(d) < tiny { d = tiny }
            c = 1 + coefficient / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            // Odd step.
            coefficient = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + coefficient * d
            if abs(d) < tiny { d = tiny }
            c = 1 + coefficient / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return h
    }

    /// Numerical Recipes' (3rd ed., `Beta::invbetai`) first guess: a normal approximation for
    /// a, b ≥ 1, else the power-law behaviour of each tail.
    private static func betaQuantileStart(_ p: Double, _ a: Double, _ b: Double) -> Double {
        var x: Double
        if a >= 1 && b >= 1 {
            let t = (-2 * log(p < 0.5 ? p : 1 - p)).squareRoot()
            var z = (2.30753 + t * 0.27061) / (1 + t * (0.99229 + t * 0.04481)) - t
            if p < 0.5 { z = -z }
            let lambda = (z * z - 3) / 6
            let h = 2 / (1 / (2 * a - 1) + 1 / (2 * b - 1))
            let w = z * (lambda + h).squareRoot() / h - (1 / (2 * b - 1) - 1 / (2 * a - 1)) * (lambda + 5.0 / 6 - 2 / (3 * h))
            x = a / (a + b * exp(2 * w))
        } else {
            let lowerTail = exp(a * log(a / (a + b))) / a
            let upperTail = exp(b * log(b / (a + b))) / b
            let total = lowerTail + upperTail
            x = p < lowerTail / total ? pow(a * total * p, 1 / a) : 1 - pow(b * total * (1 - p), 1 / b)
        }
        return x > 0 && x < 1 ? x : 0.5
    }
}
