/// Broadcasting follows NumPy/PyTorch: shapes are aligned at their last axis, missing leading
/// axes count as 1, and each axis pair must be equal or contain a 1, which is stretched.
/// Gradients of a broadcast operand are summed back over the stretched axes.
public enum Broadcasting {
    /// The broadcast result shape, or nil when the shapes are incompatible.
    public static func shape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let x = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let y = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            guard x == y || x == 1 || y == 1 else { return nil }
            result[i] = x == 1 ? y : x
        }
        return result
    }

    /// Element strides of `shape` viewed inside `target` (0 on stretched axes).
    static func strides(of shape: [Int], in target: [Int]) -> [Int] {
        var strides = [Int](repeating: 0, count: target.count)
        var running = 1
        let offset = target.count - shape.count
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i + offset] = shape[i] == 1 ? 0 : running
            running *= shape[i]
        }
        return strides
    }

    /// Sums `gradient` (shaped `target`) down to `shape`, the shape of a broadcast operand.
    @_specialize(where T == Float)
    static func reduce<T: TensorScalar>(_ gradient: Tensor<T>, to shape: [Int]) -> Tensor<T> {
        if gradient.shape == shape { return gradient }
        var result = [T](repeating: 0, count: Tensor<T>.count(of: shape))
        let target = gradient.shape
        let strides = strides(of: shape, in: target)
        // Fast path: operand broadcast along leading axes only (a bias); sum whole rows.
        let inner = result.count
        let trimmed = Array(shape.drop(while: { $0 == 1 }))
        if inner > 0, Array(target.suffix(trimmed.count)) == trimmed {
            let rows = gradient.count / inner
            gradient.scalars.withUnsafeBufferPointer { g in
                result.withUnsafeMutableBufferPointer { r in
                    var source = g.baseAddress.unsafelyUnwrapped
                    let sums = r.baseAddress.unsafelyUnwrapped
                    for _ in 0..<rows {
                        for j in 0..<inner { sums[j] += source[j] }
                        source += inner
                    }
                }
            }
            return Tensor(validShape: shape, scalars: result)
        }
        gradient.scalars.withUnsafeBufferPointer { g in
            result.withUnsafeMutableBufferPointer { r in
                forEachIndex(target, strides) { linear, mapped in r[mapped] += g[linear] }
            }
        }
        return Tensor(validShape: shape, scalars: result)
    }

    /// Visits every element of `shape` in row-major order with its linear index and the offset
    /// given by `strides`.
    @inline(__always)
    static func forEachIndex(_ shape: [Int], _ strides: [Int], _ body: (Int, Int) -> Void) {
        let total = shape.reduce(1, *)
        guard total > 0 else { return }
        let rank = shape.count
        if rank == 0 { body(0, 0); return }
        var index = [Int](repeating: 0, count: rank)
        var offset = 0
        let lastSize = shape[rank - 1]
        let lastStride = strides[rank - 1]
        var linear = 0
        while linear < total {
            var o = offset
            for _ in 0..<lastSize {
                body(linear, o)
                linear += 1
                o += lastStride
            }
            // Advance the outer axes like an odometer.
            var axis = rank - 2
            while axis >= 0 {
                index[axis] += 1
                offset += strides[axis]
                if index[axis] < shape[axis] { break }
                offset -= strides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }
}
