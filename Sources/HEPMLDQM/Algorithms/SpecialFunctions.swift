import Foundation

/// The few distribution functions the AutoDQM tests need (scipy's `chi2.sf/isf/interval` for
/// the cases used), in Float64 with relative accuracy near 1e-12 over the ranges that occur.
enum Distributions {
    /// x with P(Z > x) = p for a standard normal Z, for 0 < p < 1 (Acklam's rational start and
    /// one Halley step on `erfc`, which keeps full precision down to p ≈ 1e-300).
    static func normalUpperQuantile(_ p: Double) -> Double {
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
    static func twoSidedNormalTail(_ x: Double) -> Double {
        erfc(abs(x) / 2.0.squareRoot())
    }

    /// AutoDQM's `Sigmas(p)` = `sqrt(chi2.isf(p, 1))`: the |z| whose two-sided tail is p.
    static func sigmas(_ p: Double) -> Double {
        guard p < 1 else { return 0 }
        return normalUpperQuantile(p / 2)
    }

    /// Regularized lower incomplete gamma P(a, x) (series below a + 1, continued fraction above).
    static func regularizedGammaP(_ a: Double, _ x: Double) -> Double {
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
    static func gammaQuantile(_ a: Double, _ p: Double) -> Double {
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
}
