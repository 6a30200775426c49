import HEPMLCore

/// A tensor that a layer owns and updates outside gradient descent (batch-norm running
/// statistics); a reference type so that the layer and the operation share it.
public final class Buffer<T: TensorScalar> {
    public var value: Tensor<T>
    public init(_ value: Tensor<T>) { self.value = value }
}

/// Running mean and variance of a batch-norm layer, updated in training mode and used in
/// inference mode (PyTorch semantics: the unbiased batch variance enters the running estimate).
public struct BatchNormStatistics<T: TensorScalar> {
    public let mean: Buffer<T>
    public let variance: Buffer<T>

    public init(channels: Int) {
        mean = Buffer(Tensor(zeros: [channels]))
        variance = Buffer(Tensor(repeating: 1, shape: [channels]))
    }
}

extension Variable {
    /// Batch normalization over axis 1 of [N, C, ...]: per-channel statistics over batch and
    /// spatial axes in training mode (updating `statistics` with `momentum`), the running
    /// statistics in inference mode; then y = scale·x̂ + shift.
    @_specialize(where T == Float)
    public static func batchNorm(_ x: Variable, scale: Variable, shift: Variable, statistics: BatchNormStatistics<T>,
                                 training: Bool, momentum: T = 0.1, epsilon: T = 1e-5) throws -> Variable {
        guard x.shape.count >= 2, scale.shape == [x.shape[1]], shift.shape == [x.shape[1]], statistics.mean.value.shape == [x.shape[1]], statistics.variance.value.shape == [x.shape[1]] else {
            throw ShapeError(operation: "batchNorm", "expected [N, C, ...] input with [C] scale, shift and statistics", shapes: [x.shape, scale.shape])
        }
        let n = x.shape[0], channels = x.shape[1], spatial = x.value.count / max(n * channels, 1)
        let count = n * spatial
        var mean = [T](repeating: 0, count: channels), invStd = [T](repeating: 0, count: channels)
        let xs = x.value.scalars
        @inline(__always) func index(_ s: Int, _ c: Int, _ i: Int) -> Int { (s * channels + c) * spatial + i }
        if training {
            guard count > 1 else {
                throw ShapeError(operation: "batchNorm", "training needs more than one value per channel", shapes: [x.shape])
            }
            for c in 0..<channels {
                var total: T = 0
                for s in 0..<n { for i in 0..<spatial { total += xs[index(s, c, i)] } }
                let mu = total / T(count)
                var squares: T = 0
                for s in 0..<n { for i in 0..<spatial { let d = xs[index(s, c, i)] - mu; squares += d * d } }
                let variance = squares / T(count)
                mean[c] = mu
                invStd[c] = 1 / (variance + epsilon).squareRoot()
                statistics.mean.value.scalars[c] = (1 - momentum) * statistics.mean.value.scalars[c] + momentum * mu
                statistics.variance.value.scalars[c] = (1 - momentum) * statistics.variance.value.scalars[c] + momentum * squares / T(count - 1)
            }
        } else {
            for c in 0..<channels {
                mean[c] = statistics.mean.value.scalars[c]
                invStd[c] = 1 / (statistics.variance.value.scalars[c] + epsilon).squareRoot()
            }
        }
        var out: [T] = Kernels.overwritten(xs.count)
        let gamma = scale.value.scalars, beta = shift.value.scalars
        xs.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                for s in 0..<n { for c in 0..<channels {
                    let base = index(s, c, 0), center = mean[c], factor = invStd[c], weight = gamma[c], offset = beta[c]
                    let source = xp.baseAddress.unsafelyUnwrapped + base, target = op.baseAddress.unsafelyUnwrapped + base
                    for i in 0..<spatial { target[i] = weight * ((source[i] - center) * factor) + offset }
                } }
            }
        }
        return Variable(Tensor(validShape: x.shape, scalars: out), operation: "batchNorm", inputs: [x, scale, shift]) { [mean, invStd] g in
            // The normalized input, recomputed here so that inference never stores it.
            var normalized: [T] = Kernels.overwritten(xs.count)
            for s in 0..<n { for c in 0..<channels { for i in 0..<spatial { let j = index(s, c, i); normalized[j] = (xs[j] - mean[c]) * invStd[c] } } }
            var dGamma = [T](repeating: 0, count: channels), dBeta = [T](repeating: 0, count: channels)
            var dx = [T](repeating: 0, count: xs.count)
            for c in 0..<channels {
                var sumG: T = 0, sumGX: T = 0
                for s in 0..<n { for i in 0..<spatial { let j = index(s, c, i); sumG += g.scalars[j]; sumGX += g.scalars[j] * normalized[j] } }
                dGamma[c] = sumGX
                dBeta[c] = sumG
                let k = gamma[c] * invStd[c]
                for s in 0..<n { for i in 0..<spatial {
                    let j = index(s, c, i)
                    // Training: statistics depend on x, adding the two mean-gradient terms.
                    dx[j] = training ? k * (g.scalars[j] - sumG / T(count) - normalized[j] * sumGX / T(count)) : k * g.scalars[j]
                } }
            }
            x.accumulate(Tensor(validShape: x.shape, scalars: dx))
            scale.accumulate(Tensor(validShape: scale.shape, scalars: dGamma))
            shift.accumulate(Tensor(validShape: shift.shape, scalars: dBeta))
        }
    }

    /// Inverted dropout: zeroes each element with probability `p` and scales survivors by 1/(1−p),
    /// so inference needs no rescaling. Pass the layer's own seeded generator.
    @_specialize(where T == Float)
    public func dropout(_ p: Double, generator: inout SeededGenerator) -> Variable {
        guard p > 0 else { return self }
        let keep = T(1 / (1 - p))
        var mask = [T](repeating: 0, count: value.count)
        for i in 0..<mask.count where generator.nextUniform() >= p { mask[i] = keep }
        let out = Tensor(validShape: shape, scalars: Kernels.zip(value.scalars, mask) { $0 * $1 })
        return Variable(out, operation: "dropout", inputs: [self]) { g in
            self.accumulate(Tensor(validShape: g.shape, scalars: Kernels.zip(g.scalars, mask) { $0 * $1 }))
        }
    }
}
