/// Finite-difference gradient checking in Double: compares every analytic gradient of a scalar
/// function of several inputs with central differences.
public enum GradientCheck {
    public struct Mismatch: Error, CustomStringConvertible {
        public var input: Int
        public var element: Int
        public var analytic: Double
        public var numeric: Double
        public var description: String { "input \(input) element \(element): analytic \(analytic) vs numeric \(numeric)" }
    }

    /// Builds the graph with `function` on fresh leaves, back-propagates, and returns the largest
    /// relative error |a − n| / max(1, |a|, |n|); throws `Mismatch` past `tolerance`.
    @discardableResult
    public static func check(_ inputs: [Tensor<Double>], step: Double = 1e-6, tolerance: Double = 1e-6,
                             _ function: ([Variable<Double>]) throws -> Variable<Double>) throws -> Double {
        let leaves = inputs.map { Variable($0, requiresGrad: true) }
        let output = try function(leaves)
        // A weighted sum makes every output element matter for non-scalar outputs.
        let weights = Tensor<Double>(validShape: output.shape, scalars: (0..<output.value.count).map { 0.5 + Double($0 % 7) * 0.25 })
        try output.backward(seed: weights)
        func objective(_ values: [Tensor<Double>]) throws -> Double {
            let y = try function(values.map { Variable($0) })
            return zip(y.value.scalars, weights.scalars).reduce(0) { $0 + $1.0 * $1.1 }
        }
        var worst = 0.0
        for (index, input) in inputs.enumerated() {
            let analytic = leaves[index].grad?.scalars ?? [Double](repeating: 0, count: input.count)
            for element in 0..<input.count {
                var plus = inputs, minus = inputs
                plus[index].scalars[element] += step
                minus[index].scalars[element] -= step
                let numeric = (try objective(plus) - objective(minus)) / (2 * step)
                let error = abs(analytic[element] - numeric) / max(1, abs(analytic[element]), abs(numeric))
                worst = max(worst, error)
                if error > tolerance {
                    throw Mismatch(input: index, element: element, analytic: analytic[element], numeric: numeric)
                }
            }
        }
        return worst
    }
}

extension GradientCheck {
    /// Checks the gradients of existing parameters (e.g. a module's) by perturbing their values
    /// in place; `objective` rebuilds the graph from them and returns a scalar.
    @discardableResult
    public static func checkParameters(_ parameters: [Variable<Double>], step: Double = 1e-6, tolerance: Double = 1e-6,
                                       _ objective: () throws -> Variable<Double>) throws -> Double {
        for p in parameters { p.zeroGrad() }
        try objective().backward()
        let analytic = parameters.map { $0.grad?.scalars ?? [Double](repeating: 0, count: $0.value.count) }
        var worst = 0.0
        for (index, parameter) in parameters.enumerated() {
            for element in 0..<parameter.value.count {
                let original = parameter.value.scalars[element]
                parameter.value.scalars[element] = original + step
                let plus = try objective().value.scalars[0]
                parameter.value.scalars[element] = original - step
                let minus = try objective().value.scalars[0]
                parameter.value.scalars[element] = original
                let numeric = (plus - minus) / (2 * step)
                let error = abs(analytic[index][element] - numeric) / max(1, abs(analytic[index][element]), abs(numeric))
                worst = max(worst, error)
                if error > tolerance {
                    throw Mismatch(input: index, element: element, analytic: analytic[index][element], numeric: numeric)
                }
            }
        }
        return worst
    }
}
