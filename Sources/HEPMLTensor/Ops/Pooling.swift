/// Max and average pooling over 1–3 spatial axes (no padding; in PyTorch's default floor mode
/// windows that do not fit are dropped, in its `ceil_mode` they are kept, clipped to the input),
/// max-unpooling, and nearest/linear upsampling.

/// Where each max-pooled value came from: flat positions within its (sample, channel) plane,
/// PyTorch's convention, plus the pooled input shape that `maxUnpool` restores.
public struct PoolIndices: Sendable, Equatable {
    public var inputShape: [Int]
    public var positions: [Int]
}

extension Variable {
    /// Window geometry of a pooling call, lifted to 3 spatial axes; `clipped` when a window
    /// reaches past the input (ceil mode).
    @_specialize(where T == Float)
    private func poolGeometry(_ name: String, kernel: [Int], stride: [Int]?, ceilMode: Bool) throws
        -> (large: [Int], small: [Int], kernel: [Int], stride: [Int], outShape: [Int], clipped: Bool) {
        let spatialRank = shape.count - 2
        let stride = stride ?? kernel
        guard (1...3).contains(spatialRank), kernel.count == spatialRank, stride.count == spatialRank,
              kernel.allSatisfy({ $0 >= 1 }), stride.allSatisfy({ $0 >= 1 }) else {
            throw ShapeError(operation: name, "kernel \(kernel) and stride \(stride) must give one positive value per spatial axis", shapes: [shape])
        }
        let spatial = Array(shape.dropFirst(2))
        guard zip(spatial, kernel).allSatisfy({ $0 >= $1 }) else {
            throw ShapeError(operation: name, "kernel \(kernel) larger than input", shapes: [shape])
        }
        var output = [Int](), clipped = false
        for (n, (k, s)) in zip(spatial, zip(kernel, stride)) {
            var size = (n - k) / s + 1
            // PyTorch's ceil mode: one more window when the input has a remainder, unless that
            // window would start past the input.
            if ceilMode, (n - k) % s != 0, size * s < n {
                size += 1
                clipped = true
            }
            output.append(size)
        }
        return (ConvolutionGeometry.lift(spatial), ConvolutionGeometry.lift(output), ConvolutionGeometry.lift(kernel),
                ConvolutionGeometry.lift(stride), Array(shape.prefix(2)) + output, clipped)
    }

    /// Visits every window: plane index, output position within the plane, and the list of input
    /// positions within the plane (clipped to the input).
    @inline(__always)
    @_specialize(where T == Float)
    private static func forEachWindow(planes: Int, _ large: [Int], _ small: [Int], _ kernel: [Int], _ stride: [Int], _ body: (Int, Int, [Int]) -> Void) {
        var window = [Int](); window.reserveCapacity(kernel.reduce(1, *))
        for plane in 0..<planes {
            var position = 0
            for od in 0..<small[0] { for oh in 0..<small[1] { for ow in 0..<small[2] {
                window.removeAll(keepingCapacity: true)
                let (d, h, w) = (od * stride[0], oh * stride[1], ow * stride[2])
                for kd in 0..<min(kernel[0], large[0] - d) { for kh in 0..<min(kernel[1], large[1] - h) { for kw in 0..<min(kernel[2], large[2] - w) {
                    window.append(((d + kd) * large[1] + h + kh) * large[2] + w + kw)
                } } }
                body(plane, position, window)
                position += 1
            } } }
        }
    }

    @_specialize(where T == Float)
    public func maxPool(kernel: [Int], stride: [Int]? = nil, ceilMode: Bool = false) throws -> Variable {
        try maxPoolWithIndices(kernel: kernel, stride: stride, ceilMode: ceilMode).output
    }

    /// Max pooling that also returns the argmax positions for `maxUnpool`.
    @_specialize(where T == Float)
    /// Takes `plane[index]` as the window's maximum if it exceeds `value` (the first maximum
    /// wins), as selects rather than a branch: on noisy data the comparison is unpredictable,
    /// and mispredictions made the branching scan several times slower than its loads.
    @inline(__always)
    static func select(_ plane: UnsafePointer<T>, _ index: Int, _ value: inout T, _ position: inout Int) {
        let candidate = plane[index], better = candidate > value
        value = better ? candidate : value
        position = better ? index : position
    }

    public func maxPoolWithIndices(kernel: [Int], stride: [Int]? = nil, ceilMode: Bool = false) throws -> (output: Variable, indices: PoolIndices) {
        let (large, small, k, s, outShape, clipped) = try poolGeometry("maxPool", kernel: kernel, stride: stride, ceilMode: ceilMode)
        let planes = shape[0] * shape[1]
        let inPlane = large.reduce(1, *), outPlane = small.reduce(1, *)
        var out: [T] = Kernels.overwritten(planes * outPlane)
        var positions = [Int](repeating: 0, count: planes * outPlane)
        // Planes are independent: split them over cores, and scan each window with direct index
        // arithmetic on local sizes (this is the hot loop of pooled ConvNets; wrapping arithmetic
        // because every index was bounded by `poolGeometry`).
        let (D, H, W) = (large[0], large[1], large[2]), (Do, Ho, Wo) = (small[0], small[1], small[2])
        let (kd, kh, kw) = (k[0], k[1], k[2]), (sd, sh, sw) = (s[0], s[1], s[2])
        value.scalars.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                positions.withUnsafeMutableBufferPointer { pp in
                    let x = xp.baseAddress.unsafelyUnwrapped, o = op.baseAddress.unsafelyUnwrapped, best = pp.baseAddress.unsafelyUnwrapped
                    Kernels.chunked(planes, cost: inPlane) { range in
                        for plane in range {
                            let xPlane = x + plane &* inPlane
                            var position = plane &* outPlane
                            if kd == 1 && kh == 2 && kw == 2 && !clipped {
                                // The common 2×2 window, unrolled: first maximum wins, as below.
                                for od in 0..<Do { for oh in 0..<Ho { for ow in 0..<Wo {
                                    let corner = (od &* sd &* H &+ oh &* sh) &* W &+ ow &* sw
                                    var bestIndex = corner
                                    var bestValue = xPlane[corner]
                                    Self.select(xPlane, corner &+ 1, &bestValue, &bestIndex)
                                    Self.select(xPlane, corner &+ W, &bestValue, &bestIndex)
                                    Self.select(xPlane, corner &+ W &+ 1, &bestValue, &bestIndex)
                                    o[position] = bestValue
                                    best[position] = bestIndex
                                    position &+= 1
                                } } }
                                continue
                            }
                            if kd == 2 && kh == 2 && kw == 2 && !clipped {
                                // The 2×2×2 window, unrolled in the order of the loops below (first maximum wins).
                                let plane = H &* W
                                let offsets = (1, W, W &+ 1, plane, plane &+ 1, plane &+ W, plane &+ W &+ 1)
                                for od in 0..<Do { for oh in 0..<Ho { for ow in 0..<Wo {
                                    let corner = (od &* sd &* H &+ oh &* sh) &* W &+ ow &* sw
                                    var bestIndex = corner
                                    var bestValue = xPlane[corner]
                                    Self.select(xPlane, corner &+ offsets.0, &bestValue, &bestIndex); Self.select(xPlane, corner &+ offsets.1, &bestValue, &bestIndex)
                                    Self.select(xPlane, corner &+ offsets.2, &bestValue, &bestIndex); Self.select(xPlane, corner &+ offsets.3, &bestValue, &bestIndex)
                                    Self.select(xPlane, corner &+ offsets.4, &bestValue, &bestIndex); Self.select(xPlane, corner &+ offsets.5, &bestValue, &bestIndex)
                                    Self.select(xPlane, corner &+ offsets.6, &bestValue, &bestIndex)
                                    o[position] = bestValue
                                    best[position] = bestIndex
                                    position &+= 1
                                } } }
                                continue
                            }
                            for od in 0..<Do { for oh in 0..<Ho { for ow in 0..<Wo {
                                let corner = (od &* sd &* H &+ oh &* sh) &* W &+ ow &* sw
                                var bestIndex = corner
                                var bestValue = xPlane[corner]
                                // Windows are clipped to the input (ceil mode); the corner is always inside.
                                for dz in 0..<Swift.min(kd, D &- od &* sd) { for dy in 0..<Swift.min(kh, H &- oh &* sh) {
                                    let row = corner &+ (dz &* H &+ dy) &* W
                                    for dx in 0..<Swift.min(kw, W &- ow &* sw) { Self.select(xPlane, row &+ dx, &bestValue, &bestIndex) }
                                } }
                                o[position] = bestValue
                                best[position] = bestIndex
                                position &+= 1
                            } } }
                        }
                    }
                }
            }
        }
        let inputShape = shape
        let result = Variable(Tensor(validShape: outShape, scalars: out), operation: "maxPool", inputs: [self]) { g in
            // Each plane is cleared just before its scatter, on the thread that owns it.
            var dx: [T] = Kernels.overwritten(planes * inPlane)
            dx.withUnsafeMutableBufferPointer { dp in
                g.scalars.withUnsafeBufferPointer { gp in
                    positions.withUnsafeBufferPointer { pp in
                        let d = dp.baseAddress.unsafelyUnwrapped, gr = gp.baseAddress.unsafelyUnwrapped, best = pp.baseAddress.unsafelyUnwrapped
                        Kernels.chunked(planes, cost: inPlane) { range in
                            for plane in range {
                                let target = d + plane &* inPlane, base = plane &* outPlane
                                target.update(repeating: 0, count: inPlane)
                                for j in 0..<outPlane { target[best[base &+ j]] += gr[base &+ j] }
                            }
                        }
                    }
                }
            }
            self.accumulate(Tensor(validShape: inputShape, scalars: dx))
        }
        return (result, PoolIndices(inputShape: inputShape, positions: positions))
    }

    /// Average pooling; a window clipped by ceil mode averages the values it covers (PyTorch's
    /// divisor without padding).
    @_specialize(where T == Float)
    public func avgPool(kernel: [Int], stride: [Int]? = nil, ceilMode: Bool = false) throws -> Variable {
        let (large, small, k, s, outShape, _) = try poolGeometry("avgPool", kernel: kernel, stride: stride, ceilMode: ceilMode)
        let planes = shape[0] * shape[1]
        let inPlane = large.reduce(1, *), outPlane = small.reduce(1, *)
        var out = [T](repeating: 0, count: planes * outPlane)
        let x = value.scalars
        Self.forEachWindow(planes: planes, large, small, k, s) { plane, position, window in
            var total: T = 0
            for p in window { total += x[plane * inPlane + p] }
            out[plane * outPlane + position] = total / T(window.count)
        }
        let inputShape = shape
        return Variable(Tensor(validShape: outShape, scalars: out), operation: "avgPool", inputs: [self]) { g in
            var dx = [T](repeating: 0, count: planes * inPlane)
            Self.forEachWindow(planes: planes, large, small, k, s) { plane, position, window in
                let share = g.scalars[plane * outPlane + position] / T(window.count)
                for p in window { dx[plane * inPlane + p] += share }
            }
            self.accumulate(Tensor(validShape: inputShape, scalars: dx))
        }
    }

    /// Places each value at its recorded argmax position in a zero tensor of the pooled input's shape.
    @_specialize(where T == Float)
    public func maxUnpool(_ indices: PoolIndices) throws -> Variable {
        let outShape = indices.inputShape
        guard outShape.count == shape.count, outShape.prefix(2) == shape.prefix(2), indices.positions.count == value.count else {
            throw ShapeError(operation: "maxUnpool", "input does not match the pooling that produced the indices", shapes: [shape, outShape])
        }
        let planes = shape[0] * shape[1]
        let inPlane = value.count / max(planes, 1), outPlane = Tensor<T>.count(of: outShape) / max(planes, 1)
        guard indices.positions.allSatisfy({ $0 >= 0 && $0 < outPlane }) else {
            throw ShapeError(operation: "maxUnpool", "index outside the output plane", shapes: [shape, outShape])
        }
        var out = [T](repeating: 0, count: planes * outPlane)
        // Overlapping windows can share a maximum: the later value wins, and only it receives
        // that output's gradient.
        var writer = [Int](repeating: -1, count: planes * outPlane)
        for i in 0..<value.count {
            let target = (i / inPlane) * outPlane + indices.positions[i]
            out[target] = value.scalars[i]
            writer[target] = i
        }
        let inputShape = shape
        return Variable(Tensor(validShape: outShape, scalars: out), operation: "maxUnpool", inputs: [self]) { g in
            var dx = [T](repeating: 0, count: planes * inPlane)
            for i in 0..<dx.count {
                let target = (i / inPlane) * outPlane + indices.positions[i]
                if writer[target] == i { dx[i] = g.scalars[target] }
            }
            self.accumulate(Tensor(validShape: inputShape, scalars: dx))
        }
    }
}

public enum UpsamplingMode: String, Sendable, Codable {
    case nearest
    /// Linear, bilinear or trilinear with PyTorch's `align_corners=False` sampling.
    case linear
}

extension Variable {
    /// Upsamples every spatial axis by an integer factor; multi-axis linear upsampling is the
    /// composition of 1-D interpolations, which equals bi/trilinear interpolation.
    @_specialize(where T == Float)
    public func upsample(scale: [Int], mode: UpsamplingMode = .nearest) throws -> Variable {
        let spatialRank = shape.count - 2
        guard (1...3).contains(spatialRank), scale.count == spatialRank, scale.allSatisfy({ $0 >= 1 }) else {
            throw ShapeError(operation: "upsample", "scale \(scale) must give one factor ≥ 1 per spatial axis", shapes: [shape])
        }
        var result = self
        for (axis, factor) in scale.enumerated() where factor > 1 {
            result = result.interpolate(axis: axis + 2, factor: factor, mode: mode)
        }
        return result
    }

    /// 1-D resampling along `axis`: each output element is a weighted sum of ≤ 2 inputs.
    @_specialize(where T == Float)
    private func interpolate(axis: Int, factor: Int, mode: UpsamplingMode) -> Variable {
        let n = shape[axis], m = n * factor
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        var taps = [(Int, Int, T)]()  // (i0, i1, weight of i1)
        for j in 0..<m {
            switch mode {
            case .nearest:
                taps.append((j / factor, j / factor, 0))
            case .linear:
                let source = max((T(j) + 0.5) / T(factor) - 0.5, 0)
                let i0 = min(Int(source), n - 1)
                let i1 = min(i0 + 1, n - 1)
                taps.append((i0, i1, source - T(i0)))
            }
        }
        var outShape = shape
        outShape[axis] = m
        var out = [T](repeating: 0, count: outer * m * inner)
        let x = value.scalars
        for o in 0..<outer {
            for (j, (i0, i1, w)) in taps.enumerated() {
                for l in 0..<inner {
                    out[(o * m + j) * inner + l] = x[(o * n + i0) * inner + l] * (1 - w) + x[(o * n + i1) * inner + l] * w
                }
            }
        }
        let inputShape = shape
        return Variable(Tensor(validShape: outShape, scalars: out), operation: "upsample", inputs: [self]) { g in
            var dx = [T](repeating: 0, count: outer * n * inner)
            for o in 0..<outer {
                for (j, (i0, i1, w)) in taps.enumerated() {
                    for l in 0..<inner {
                        let gv = g.scalars[(o * m + j) * inner + l]
                        dx[(o * n + i0) * inner + l] += gv * (1 - w)
                        dx[(o * n + i1) * inner + l] += gv * w
                    }
                }
            }
            self.accumulate(Tensor(validShape: inputShape, scalars: dx))
        }
    }
}
