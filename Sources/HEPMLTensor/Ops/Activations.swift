import Foundation
import HEPMLCore

/// Pointwise activations and the (log-)softmax. Each backward uses the saved input or output,
/// whichever gives the cheaper derivative.
/// The pointwise activations. Forward and backward switch once per tensor, outside the loop,
/// so every loop body is a concrete expression the compiler can vectorize.
enum PointwiseFunction<T: TensorScalar> {
    case relu, tanh, sigmoid, softplus, gelu, exp
    case leakyRelu(T)
    case elu(T)

    var name: String {
        switch self {
        case .relu: "relu"
        case .tanh: "tanh"
        case .sigmoid: "sigmoid"
        case .softplus: "softplus"
        case .gelu: "gelu"
        case .exp: "exp"
        case .leakyRelu: "leakyRelu"
        case .elu: "elu"
        }
    }

    @inline(__always)
    static func logistic(_ x: T) -> T {
        // Evaluated on the side where the exponential cannot overflow.
        if x >= 0 { return 1 / (1 + T.exponential(-x)) }
        let e = T.exponential(x)
        return e / (1 + e)
    }

    static var invSqrt2: T { 1 / T(2).squareRoot() }
    static var invSqrt2Pi: T { 1 / T(2 * Double.pi).squareRoot() }

    @_specialize(where T == Float)
    func forward(_ x: [T]) -> [T] {
        switch self {
        case .relu: return Self.loop(x) { p, o, range in for i in range { o[i] = p[i] > 0 ? p[i] : 0 } }
        case .leakyRelu(let slope): return Self.loop(x) { p, o, range in for i in range { let value = p[i]; o[i] = value > 0 ? value : slope * value } }
        case .elu(let alpha): return Kernels.map(x, cost: 8) { $0 > 0 ? $0 : alpha * T.expm1($0) }
        case .tanh: return Self.loop(x, cost: 8) { p, o, range in T.hyperbolicTangent(p + range.lowerBound, into: o + range.lowerBound, count: range.count) }
        case .sigmoid: return Kernels.map(x, cost: 8) { Self.logistic($0) }
        // softplus(x) = max(x, 0) + log1p(e^−|x|), stable for large |x|.
        case .softplus: return Kernels.map(x, cost: 8) { Swift.max($0, 0) + T.log1p(T.exponential(-Swift.abs($0))) }
        case .gelu:
            let c = Self.invSqrt2
            return Kernels.map(x, cost: 10) { x in x * (1 + T.errorFunction(x * c)) / 2 }
        case .exp: return Kernels.map(x, cost: 8) { T.exponential($0) }
        }
    }

    /// Runs `body` over the elements of `x` writing a new array, with the loop written in the
    /// closure itself so that it is compiled with the concrete function inlined (vectorized).
    @inline(__always)
    static func loop(_ x: [T], cost: Int = 1, _ body: (UnsafePointer<T>, UnsafeMutablePointer<T>, Range<Int>) -> Void) -> [T] {
        var y: [T] = Kernels.overwritten(x.count)
        y.withUnsafeMutableBufferPointer { o in
            x.withUnsafeBufferPointer { p in
                let input = p.baseAddress.unsafelyUnwrapped, output = o.baseAddress.unsafelyUnwrapped
                if x.count * cost < Kernels.parallelThreshold {
                    body(input, output, 0..<x.count)
                } else {
                    Kernels.forEachChunk(x.count, minimumChunk: Kernels.parallelThreshold / cost) { body(input, output, $0) }
                }
            }
        }
        return y
    }

    /// Two-input form of `loop` for backward functions.
    @inline(__always)
    static func loop(_ a: [T], _ b: [T], _ body: (UnsafePointer<T>, UnsafePointer<T>, UnsafeMutablePointer<T>, Range<Int>) -> Void) -> [T] {
        var y: [T] = Kernels.overwritten(a.count)
        y.withUnsafeMutableBufferPointer { o in
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    let x1 = pa.baseAddress.unsafelyUnwrapped, x2 = pb.baseAddress.unsafelyUnwrapped, output = o.baseAddress.unsafelyUnwrapped
                    if a.count < Kernels.parallelThreshold {
                        body(x1, x2, output, 0..<a.count)
                    } else {
                        Kernels.forEachChunk(a.count, minimumChunk: Kernels.parallelThreshold) { body(x1, x2, output, $0) }
                    }
                }
            }
        }
        return y
    }

    /// dx = g · f′, using whichever of x and y = f(x) gives the cheaper derivative.
    @_specialize(where T == Float)
    func backward(_ g: [T], _ x: [T], _ y: [T]) -> [T] {
        switch self {
        // Both loads unconditional, so the select vectorizes.
        case .relu: return Self.loop(g, y) { g, y, o, range in for i in range { let value = g[i]; o[i] = y[i] > 0 ? value : 0 } }
        case .leakyRelu(let slope): return Self.loop(g, x) { g, x, o, range in for i in range { let value = g[i]; o[i] = x[i] > 0 ? value : slope * value } }
        case .elu(let alpha): return Kernels.zip3(g, x, y) { g, x, y in x > 0 ? g : g * (y + alpha) }
        case .tanh: return Self.loop(g, y) { g, y, o, range in for i in range { o[i] = g[i] * (1 - y[i] * y[i]) } }
        case .sigmoid: return Kernels.zip(g, y) { $0 * $1 * (1 - $1) }
        case .softplus: return Kernels.zip(g, x, cost: 8) { $0 * Self.logistic($1) }
        case .gelu:
            let c = Self.invSqrt2, d = Self.invSqrt2Pi
            return Kernels.zip(g, x, cost: 10) { g, x in g * ((1 + T.errorFunction(x * c)) / 2 + x * d * T.exponential(-x * x / 2)) }
        case .exp: return Kernels.zip(g, y) { $0 * $1 }
        }
    }
}

extension Variable {
    @_specialize(where T == Float)
    func pointwise(_ function: PointwiseFunction<T>) -> Variable {
        let x = value
        let y = Tensor(validShape: x.shape, scalars: function.forward(x.scalars))
        return Variable(y, operation: function.name, inputs: [self]) { g in
            self.accumulate(Tensor(validShape: x.shape, scalars: function.backward(g.scalars, x.scalars, y.scalars)))
        }
    }

    public func relu() -> Variable { pointwise(.relu) }
    public func leakyRelu(slope: T = 0.01) -> Variable { pointwise(.leakyRelu(slope)) }
    /// ELU: x for x > 0, α(eˣ − 1) otherwise.
    public func elu(alpha: T = 1) -> Variable { pointwise(.elu(alpha)) }
    public func tanh() -> Variable { pointwise(.tanh) }
    public func sigmoid() -> Variable { pointwise(.sigmoid) }
    /// softplus(x) = log(1 + eˣ).
    public func softplus() -> Variable { pointwise(.softplus) }
    /// GELU with the exact Gaussian CDF, x·Φ(x) (PyTorch's default, not the tanh approximation).
    public func gelu() -> Variable { pointwise(.gelu) }
    /// e^x (a VAE's standard deviation from its log-variance).
    public func exp() -> Variable { pointwise(.exp) }

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
