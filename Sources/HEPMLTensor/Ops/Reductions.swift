/// Sum and mean, over everything or along one axis.
extension Variable {
    /// Sum of all elements as a rank-0 tensor.
    @_specialize(where T == Float)
    public func sum() -> Variable {
        let x = value
        var total: T = 0
        x.scalars.withUnsafeBufferPointer { p in for v in p { total += v } }
        return Variable(Tensor(scalar: total), operation: "sum", inputs: [self]) { g in
            self.accumulate(Tensor(repeating: g.scalars[0], shape: x.shape))
        }
    }

    @_specialize(where T == Float)
    public func mean() -> Variable {
        sum() * (1 / T(max(value.count, 1)))
    }

    /// Sum along `axis` (negative counts from the end); `keepingAxis` leaves it with size 1.
    @_specialize(where T == Float)
    public func sum(axis: Int, keepingAxis: Bool = false) throws -> Variable {
        let shape = self.shape
        let a = axis < 0 ? axis + shape.count : axis
        guard a >= 0, a < shape.count else {
            throw ShapeError(operation: "sum(axis: \(axis))", "axis out of range", shapes: [shape])
        }
        let outer = shape[..<a].reduce(1, *), size = shape[a], inner = shape[(a + 1)...].reduce(1, *)
        var out = [T](repeating: 0, count: outer * inner)
        value.scalars.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<outer {
                    for j in 0..<size {
                        let base = (i * size + j) * inner
                        for l in 0..<inner { o[i * inner + l] += x[base + l] }
                    }
                }
            }
        }
        var outShape = shape
        if keepingAxis { outShape[a] = 1 } else { outShape.remove(at: a) }
        return Variable(Tensor(validShape: outShape, scalars: out), operation: "sum(axis:)", inputs: [self]) { g in
            var dx = [T](repeating: 0, count: outer * size * inner)
            g.scalars.withUnsafeBufferPointer { gp in
                dx.withUnsafeMutableBufferPointer { d in
                    for i in 0..<outer {
                        for j in 0..<size {
                            let base = (i * size + j) * inner
                            for l in 0..<inner { d[base + l] = gp[i * inner + l] }
                        }
                    }
                }
            }
            self.accumulate(Tensor(validShape: shape, scalars: dx))
        }
    }

    @_specialize(where T == Float)
    public func mean(axis: Int, keepingAxis: Bool = false) throws -> Variable {
        let a = axis < 0 ? axis + shape.count : axis
        let size = (a >= 0 && a < shape.count) ? shape[a] : 1
        return try sum(axis: axis, keepingAxis: keepingAxis) * (1 / T(max(size, 1)))
    }
}
