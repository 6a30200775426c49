import Foundation

/// Pointwise activations and the (log-)softmax. Each backward uses the saved input or output,
/// whichever gives the cheaper derivative.
extension Variable {
    /// Shared shape of a pointwise op: forward y = f(x), backward dx = g·d(x, y).
    @inline(__always)
    @_specialize(where T == Float)
    func pointwise(_ name: String, cost: Int = 1, _ f: (T) -> T, derivative: @escaping (T, T) -> T) -> Variable {
        let x = value
        let y = Tensor(validShape: x.shape, scalars: Kernels.map(x.scalars, cost: cost, f))
        return Variable(y, operation: name, inputs: [self]) { g in
            self.accumulate(Tensor(validShape: x.shape, scalars: Kernels.zip3(g.scalars, x.scalars, y.scalars, cost: cost) { g, x, y in g * derivative(x, y) }))
        }
    }

    @_specialize(where T == Float)
    public func relu() -> Variable {
        pointwise("relu", { $0 > 0 ? $0 : 0 }, derivative: { x, _ in x > 0 ? 1 : 0 })
    }

    @_specialize(where T == Float)
    public func leakyRelu(slope: T = 0.01) -> Variable {
        pointwise("leakyRelu", { $0 > 0 ? $0 : slope * $0 }, derivative: { x, _ in x > 0 ? 1 : slope })
    }

    /// ELU: x for x > 0, α(eˣ − 1) otherwise.
    @_specialize(where T == Float)
    public func elu(alpha: T = 1) -> Variable {
        pointwise("elu", cost: 8, { $0 > 0 ? $0 : alpha * T.expm1($0) }, derivative: { x, y in x > 0 ? 1 : y + alpha })
    }

    @_specialize(where T == Float)
    public func tanh() -> Variable {
        pointwise("tanh", cost: 8, { T.hyperbolicTangent($0) }, derivative: { _, y in 1 - y * y })
    }

    @_specialize(where T == Float)
    public func sigmoid() -> Variable {
        pointwise("sigmoid", cost: 8, { x in
            // Evaluated on the side where the exponential cannot overflow.
            if x >= 0 { return 1 / (1 + T.exponential(-x)) }
            let e = T.exponential(x)
            return e / (1 + e)
        }, derivative: { _, y in y * (1 - y) })
    }

    /// softplus(x) = log(1 + eˣ), computed stably as max(x, 0) + log1p(e^−|x|).
    @_specialize(where T == Float)
    public func softplus() -> Variable {
        pointwise("softplus", cost: 8, { x in Swift.max(x, 0) + T.log1p(T.exponential(-Swift.abs(x))) }, derivative: { x, _ in
            x >= 0 ? 1 / (1 + T.exponential(-x)) : T.exponential(x) / (1 + T.exponential(x))
        })
    }

    /// GELU with the exact Gaussian CDF: x·Φ(x) (PyTorch's default, not the tanh approximation).
    @_specialize(where T == Float)
    public func gelu() -> Variable {
        let invSqrt2 = 1 / T(2).squareRoot()
        let invSqrt2Pi = 1 / T(2 * Double.pi).squareRoot()
        return pointwise("gelu", cost: 10, { x in x * (1 + T.errorFunction(x * invSqrt2)) / 2 }, derivative: { x, _ in
            (1 + T.errorFunction(x * invSqrt2)) / 2 + x * invSqrt2Pi * T.exponential(-x * x / 2)
        })
    }

    /// Softmax along `axis` (default: last).
    @_specialize(where T == Float)
    public func softmax(axis: Int = -1) throws -> Variable {
        let (outer, size, inner) = try axisLayout(axis, "softmax")
        let y = Tensor(validShape: shape, scalars: Self.softmaxRows(value.scalars, outer, size, inner, log: false))
        return Variable(y, operation: "softmax", inputs: [self]) { g in
            // dx = y ⊙ (g − Σ g⊙y)
            var dx = [T](repeating: 0, count: y.count)
            Self.forEachLine(outer, size, inner) { index in
                var dot: T = 0
                for j in 0..<size { dot += g.scalars[index(j)] * y.scalars[index(j)] }
                for j in 0..<size { dx[index(j)] = y.scalars[index(j)] * (g.scalars[index(j)] - dot) }
            }
            self.accumulate(Tensor(validShape: y.shape, scalars: dx))
        }
    }

    /// log-softmax along `axis` (default: last), stable for large logits.
    @_specialize(where T == Float)
    public func logSoftmax(axis: Int = -1) throws -> Variable {
        let (outer, size, inner) = try axisLayout(axis, "logSoftmax")
        let y = Tensor(validShape: shape, scalars: Self.softmaxRows(value.scalars, outer, size, inner, log: true))
        return Variable(y, operation: "logSoftmax", inputs: [self]) { g in
            // dx = g − softmax · Σ g
            var dx = [T](repeating: 0, count: y.count)
            Self.forEachLine(outer, size, inner) { index in
                var total: T = 0
                for j in 0..<size { total += g.scalars[index(j)] }
                for j in 0..<size { dx[index(j)] = g.scalars[index(j)] - T.exponential(y.scalars[index(j)]) * total }
            }
            self.accumulate(Tensor(validShape: y.shape, scalars: dx))
        }
    }

    @_specialize(where T == Float)
    func axisLayout(_ axis: Int, _ name: String) throws -> (Int, Int, Int) {
        let a = axis < 0 ? axis + shape.count : axis
        guard a >= 0, a < shape.count else { throw ShapeError(operation: name, "axis \(axis) out of range", shapes: [shape]) }
        return (shape[..<a].reduce(1, *), shape[a], shape[(a + 1)...].reduce(1, *))
    }

    /// Calls `body` once per line along the reduced axis with a function from position to index.
    @inline(__always)
    @_specialize(where T == Float)
    static func forEachLine(_ outer: Int, _ size: Int, _ inner: Int, _ body: ((Int) -> Int) -> Void) {
        for i in 0..<outer {
            for l in 0..<inner {
                let base = i * size * inner + l
                body { base + $0 * inner }
            }
        }
    }

    @_specialize(where T == Float)
    static func softmaxRows(_ x: [T], _ outer: Int, _ size: Int, _ inner: Int, log: Bool) -> [T] {
        var y = [T](repeating: 0, count: x.count)
        forEachLine(outer, size, inner) { index in
            var maximum = -T.infinity
            for j in 0..<size { maximum = Swift.max(maximum, x[index(j)]) }
            var total: T = 0
            for j in 0..<size {
                let e = T.exponential(x[index(j)] - maximum)
                y[index(j)] = e
                total += e
            }
            if log {
                let logTotal = T.logarithm(total)
                for j in 0..<size { y[index(j)] = x[index(j)] - maximum - logTotal }
            } else {
                for j in 0..<size { y[index(j)] /= total }
            }
        }
        return y
    }
}
