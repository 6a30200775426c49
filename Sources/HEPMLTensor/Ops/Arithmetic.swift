/// Elementwise arithmetic with broadcasting (see `Broadcasting`), on tensors and variables.
extension Tensor {
    /// Applies `f` elementwise over the broadcast of `a` and `b`.
    @_specialize(where T == Float)
    public static func broadcast(_ a: Tensor, _ b: Tensor, operation: String, _ f: (T, T) -> T) throws -> Tensor {
        if a.shape == b.shape {
            return Tensor(validShape: a.shape, scalars: Kernels.zip(a.scalars, b.scalars, f))
        }
        guard let shape = Broadcasting.shape(a.shape, b.shape) else {
            throw ShapeError(operation: operation, "shapes cannot be broadcast", shapes: [a.shape, b.shape])
        }
        let total = Tensor.count(of: shape)
        var out = [T](repeating: 0, count: total)
        let aStrides = Broadcasting.strides(of: a.shape, in: shape)
        let bStrides = Broadcasting.strides(of: b.shape, in: shape)
        a.scalars.withUnsafeBufferPointer { pa in
            b.scalars.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { o in
                    if shape == a.shape, b.count > 0, total % b.count == 0, Array(a.shape.suffix(b.shape.count)) == b.shape {
                        // b repeats along leading axes (bias-like).
                        let inner = b.count
                        for row in 0..<(total / inner) {
                            let base = row * inner
                            for j in 0..<inner { o[base + j] = f(pa[base + j], pb[j]) }
                        }
                    } else if shape == b.shape, a.count == 1 {
                        for i in 0..<total { o[i] = f(pa[0], pb[i]) }
                    } else if shape == a.shape, b.count == 1 {
                        for i in 0..<total { o[i] = f(pa[i], pb[0]) }
                    } else {
                        // General case: walk both operands with their broadcast strides.
                        var bOffsets = [Int](repeating: 0, count: total)
                        Broadcasting.forEachIndex(shape, bStrides) { linear, offset in bOffsets[linear] = offset }
                        Broadcasting.forEachIndex(shape, aStrides) { linear, offset in
                            o[linear] = f(pa[offset], pb[bOffsets[linear]])
                        }
                    }
                }
            }
        }
        return Tensor(validShape: shape, scalars: out)
    }

    @_specialize(where T == Float)
    public static func + (a: Tensor, b: Tensor) throws -> Tensor { try broadcast(a, b, operation: "add") { $0 + $1 } }
    @_specialize(where T == Float)
    public static func - (a: Tensor, b: Tensor) throws -> Tensor { try broadcast(a, b, operation: "subtract") { $0 - $1 } }
    @_specialize(where T == Float)
    public static func * (a: Tensor, b: Tensor) throws -> Tensor { try broadcast(a, b, operation: "multiply") { $0 * $1 } }
    @_specialize(where T == Float)
    public static func / (a: Tensor, b: Tensor) throws -> Tensor { try broadcast(a, b, operation: "divide") { $0 / $1 } }

    @_specialize(where T == Float)
    public static func * (a: Tensor, s: T) -> Tensor { Tensor(validShape: a.shape, scalars: Kernels.map(a.scalars) { $0 * s }) }
    @_specialize(where T == Float)
    public static func + (a: Tensor, s: T) -> Tensor { Tensor(validShape: a.shape, scalars: Kernels.map(a.scalars) { $0 + s }) }
    public static prefix func - (a: Tensor) -> Tensor { a * -1 }
}

extension Variable {
    @_specialize(where T == Float)
    public static func + (a: Variable, b: Variable) throws -> Variable {
        let out = try a.value + b.value
        return Variable(out, operation: "add", inputs: [a, b]) { g in
            if a.requiresGrad { a.accumulate(Broadcasting.reduce(g, to: a.shape)) }
            if b.requiresGrad { b.accumulate(Broadcasting.reduce(g, to: b.shape)) }
        }
    }

    @_specialize(where T == Float)
    public static func - (a: Variable, b: Variable) throws -> Variable {
        let out = try a.value - b.value
        return Variable(out, operation: "subtract", inputs: [a, b]) { g in
            if a.requiresGrad { a.accumulate(Broadcasting.reduce(g, to: a.shape)) }
            if b.requiresGrad { b.accumulate(Broadcasting.reduce(-g, to: b.shape)) }
        }
    }

    @_specialize(where T == Float)
    public static func * (a: Variable, b: Variable) throws -> Variable {
        let out = try a.value * b.value
        return Variable(out, operation: "multiply", inputs: [a, b]) { g in
            if a.requiresGrad { a.accumulate(Broadcasting.reduce(try g * b.value, to: a.shape)) }
            if b.requiresGrad { b.accumulate(Broadcasting.reduce(try g * a.value, to: b.shape)) }
        }
    }

    @_specialize(where T == Float)
    public static func / (a: Variable, b: Variable) throws -> Variable {
        let out = try a.value / b.value
        return Variable(out, operation: "divide", inputs: [a, b]) { g in
            if a.requiresGrad { a.accumulate(Broadcasting.reduce(try g / b.value, to: a.shape)) }
            if b.requiresGrad {
                // d(a/b)/db = -out/b
                let local = try -(out / b.value)
                b.accumulate(Broadcasting.reduce(try g * local, to: b.shape))
            }
        }
    }

    @_specialize(where T == Float)
    public static func * (a: Variable, s: T) -> Variable {
        Variable(a.value * s, operation: "scale", inputs: [a]) { g in a.accumulate(g * s) }
    }

    @_specialize(where T == Float)
    public static func + (a: Variable, s: T) -> Variable {
        Variable(a.value + s, operation: "shift", inputs: [a]) { g in a.accumulate(g) }
    }

    public static prefix func - (a: Variable) -> Variable { a * -1 }

    /// Elementwise square, common in losses.
    @_specialize(where T == Float)
    public func squared() -> Variable {
        let x = value
        let out = Tensor(validShape: x.shape, scalars: Kernels.map(x.scalars) { $0 * $0 })
        return Variable(out, operation: "square", inputs: [self]) { g in
            self.accumulate(Tensor(validShape: x.shape, scalars: Kernels.zip(g.scalars, x.scalars) { 2 * $0 * $1 }))
        }
    }
}
