/// Operations that move elements without arithmetic: reshape, flatten, concatenate, slice,
/// transpose and permute. Their backward functions move the gradient back the same way.
extension Variable {
    @_specialize(where T == Float)
    public func reshaped(_ newShape: [Int]) throws -> Variable {
        let oldShape = shape
        let out = try value.reshaped(newShape)
        return Variable(out, operation: "reshape", inputs: [self]) { g in
            self.accumulate(Tensor(validShape: oldShape, scalars: g.scalars))
        }
    }

    /// Keeps the leading (batch) axis and flattens the rest.
    @_specialize(where T == Float)
    public func flattened() throws -> Variable {
        guard let batch = shape.first else {
            throw ShapeError(operation: "flatten", "needs at least one axis", shapes: [shape])
        }
        return try reshaped([batch, value.count / max(batch, 1)])
    }

    /// Joins variables along `axis`; all other axes must agree.
    @_specialize(where T == Float)
    public static func concatenate(_ parts: [Variable], axis: Int) throws -> Variable {
        guard let first = parts.first else {
            throw ShapeError(operation: "concatenate", "no inputs", shapes: [])
        }
        let rank = first.shape.count
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0, a < rank else { throw ShapeError(operation: "concatenate", "axis \(axis) out of range", shapes: parts.map(\.shape)) }
        for part in parts {
            var x = part.shape, y = first.shape
            guard x.count == rank else { throw ShapeError(operation: "concatenate", "ranks differ", shapes: parts.map(\.shape)) }
            x[a] = 0; y[a] = 0
            guard x == y else { throw ShapeError(operation: "concatenate", "shapes differ off axis \(a)", shapes: parts.map(\.shape)) }
        }
        let outer = first.shape[..<a].reduce(1, *), inner = first.shape[(a + 1)...].reduce(1, *)
        let sizes = parts.map { $0.shape[a] }
        let total = sizes.reduce(0, +)
        var outShape = first.shape
        outShape[a] = total
        var out = [T](); out.reserveCapacity(outer * total * inner)
        for i in 0..<outer {
            for (part, size) in zip(parts, sizes) {
                let base = i * size * inner
                out.append(contentsOf: part.value.scalars[base..<(base + size * inner)])
            }
        }
        return Variable(Tensor(validShape: outShape, scalars: out), operation: "concatenate", inputs: parts) { g in
            var offset = 0
            for (part, size) in zip(parts, sizes) {
                defer { offset += size }
                guard part.requiresGrad else { continue }
                var dx = [T](); dx.reserveCapacity(outer * size * inner)
                for i in 0..<outer {
                    let base = (i * total + offset) * inner
                    dx.append(contentsOf: g.scalars[base..<(base + size * inner)])
                }
                part.accumulate(Tensor(validShape: part.shape, scalars: dx))
            }
        }
    }

    /// Elements `range` along `axis`.
    @_specialize(where T == Float)
    public func slice(axis: Int, _ range: Range<Int>) throws -> Variable {
        let shape = self.shape
        let a = axis < 0 ? axis + shape.count : axis
        guard a >= 0, a < shape.count, range.lowerBound >= 0, range.upperBound <= shape[a] else {
            throw ShapeError(operation: "slice(axis: \(axis), \(range))", "range outside axis", shapes: [shape])
        }
        let outer = shape[..<a].reduce(1, *), size = shape[a], inner = shape[(a + 1)...].reduce(1, *)
        var out = [T](); out.reserveCapacity(outer * range.count * inner)
        for i in 0..<outer {
            let base = (i * size + range.lowerBound) * inner
            out.append(contentsOf: value.scalars[base..<(base + range.count * inner)])
        }
        var outShape = shape
        outShape[a] = range.count
        return Variable(Tensor(validShape: outShape, scalars: out), operation: "slice", inputs: [self]) { g in
            var dx = [T](repeating: 0, count: outer * size * inner)
            for i in 0..<outer {
                let base = (i * size + range.lowerBound) * inner
                for j in 0..<(range.count * inner) { dx[base + j] = g.scalars[i * range.count * inner + j] }
            }
            self.accumulate(Tensor(validShape: shape, scalars: dx))
        }
    }

    /// Reorders axes: output axis i is input axis `order[i]`.
    @_specialize(where T == Float)
    public func permuted(_ order: [Int]) throws -> Variable {
        let shape = self.shape
        guard order.count == shape.count, Set(order) == Set(0..<shape.count) else {
            throw ShapeError(operation: "permute(\(order))", "order must be a permutation of the axes", shapes: [shape])
        }
        let out = Self.permute(value, order)
        var inverse = [Int](repeating: 0, count: order.count)
        for (i, o) in order.enumerated() { inverse[o] = i }
        return Variable(out, operation: "permute", inputs: [self]) { g in
            self.accumulate(Self.permute(g, inverse))
        }
    }

    /// Swaps two axes.
    @_specialize(where T == Float)
    public func transposed(_ axis0: Int = -2, _ axis1: Int = -1) throws -> Variable {
        let rank = shape.count
        let a = axis0 < 0 ? axis0 + rank : axis0, b = axis1 < 0 ? axis1 + rank : axis1
        guard a >= 0, a < rank, b >= 0, b < rank else {
            throw ShapeError(operation: "transpose(\(axis0), \(axis1))", "axis out of range", shapes: [shape])
        }
        var order = Array(0..<rank)
        order.swapAt(a, b)
        return try permuted(order)
    }

    @_specialize(where T == Float)
    static func permute(_ x: Tensor<T>, _ order: [Int]) -> Tensor<T> {
        let shape = x.shape
        var inputStrides = [Int](repeating: 1, count: shape.count)
        for i in stride(from: shape.count - 2, through: 0, by: -1) { inputStrides[i] = inputStrides[i + 1] * shape[i + 1] }
        let outShape = order.map { shape[$0] }
        let strides = order.map { inputStrides[$0] }
        var out = [T](repeating: 0, count: x.count)
        x.scalars.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { o in
                Broadcasting.forEachIndex(outShape, strides) { linear, offset in o[linear] = p[offset] }
            }
        }
        return Tensor(validShape: outShape, scalars: out)
    }
}

extension Variable {
    /// Elements `indices` (in that order, repeats allowed) of `axis`; the backward pass adds
    /// each gradient back to the element it came from.
    @_specialize(where T == Float)
    public func gathering(axis: Int, indices: [Int]) throws -> Variable {
        let shape = self.shape
        let a = axis < 0 ? axis + shape.count : axis
        guard a >= 0, a < shape.count, indices.allSatisfy({ $0 >= 0 && $0 < shape[a] }) else {
            throw ShapeError(operation: "gather(axis: \(axis))", "axis or index out of range", shapes: [shape, [indices.count]])
        }
        let outer = shape[..<a].reduce(1, *), size = shape[a], inner = shape[(a + 1)...].reduce(1, *)
        var out = [T](repeating: 0, count: outer * indices.count * inner)
        value.scalars.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<outer {
                    for (j, index) in indices.enumerated() {
                        let source = (i * size + index) * inner, target = (i * indices.count + j) * inner
                        for l in 0..<inner { o[target + l] = x[source + l] }
                    }
                }
            }
        }
        var outShape = shape
        outShape[a] = indices.count
        return Variable(Tensor(validShape: outShape, scalars: out), operation: "gather", inputs: [self]) { g in
            var dx = [T](repeating: 0, count: outer * size * inner)
            g.scalars.withUnsafeBufferPointer { gp in
                dx.withUnsafeMutableBufferPointer { d in
                    for i in 0..<outer {
                        for (j, index) in indices.enumerated() {
                            let source = (i * size + index) * inner, target = (i * indices.count + j) * inner
                            for l in 0..<inner { d[source + l] += gp[target + l] }
                        }
                    }
                }
            }
            self.accumulate(Tensor(validShape: shape, scalars: dx))
        }
    }
}
