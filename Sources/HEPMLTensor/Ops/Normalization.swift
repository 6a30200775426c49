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
    /// statistics in inference mode; then y = scale·x̂ + shift, followed by LeakyReLU(y) with
    /// `leakySlope` when one is given (a model's batch norm → LeakyReLU in one operation).
    ///
    /// The normalized input x̂ and the activation's sign are recomputed from x in the backward
    /// pass rather than stored, so the composition costs one elementwise pass forward (after the
    /// statistics) and two backward, with no intermediate tensor.
    @_specialize(where T == Float)
    public static func batchNorm(_ x: Variable, scale: Variable, shift: Variable, statistics: BatchNormStatistics<T>,
                                 training: Bool, momentum: T = 0.1, epsilon: T = 1e-5, leakySlope: T? = nil) throws -> Variable {
        guard x.shape.count >= 2, scale.shape == [x.shape[1]], shift.shape == [x.shape[1]], statistics.mean.value.shape == [x.shape[1]], statistics.variance.value.shape == [x.shape[1]] else {
            throw ShapeError(operation: "batchNorm", "expected [N, C, ...] input with [C] scale, shift and statistics", shapes: [x.shape, scale.shape])
        }
        let n = x.shape[0], channels = x.shape[1], spatial = x.value.count / max(n * channels, 1)
        let count = n * spatial
        var mean = [T](repeating: 0, count: channels), invStd = [T](repeating: 0, count: channels)
        let xs = x.value.scalars
        // Sums run sample-major over contiguous memory (rows of [N, C] are contiguous), split
        // over cores by channel blocks, each channel plane in `Kernels.laneSum`'s fixed order, so
        // results do not depend on the thread count; elementwise passes are split by samples.
        let parallel = xs.count >= Kernels.parallelThreshold
        func overChannels(_ body: (Range<Int>) -> Void) {
            if parallel { Kernels.forEachChunk(channels, chunks: Parallel.threadCount) { body($1) } } else { body(0..<channels) }
        }
        func overSamples(_ body: (Range<Int>) -> Void) {
            if parallel { Kernels.forEachChunk(n, chunks: Parallel.threadCount) { body($1) } } else { body(0..<n) }
        }
        /// Channel planes (sample, channel) of [N, C, spatial...], so that a batch of one is split too.
        func overPlanes(_ body: (Range<Int>) -> Void) {
            if parallel { Kernels.forEachChunk(n * channels, chunks: Parallel.threadCount) { body($1) } } else { body(0..<(n * channels)) }
        }
        if training {
            guard count > 1 else {
                throw ShapeError(operation: "batchNorm", "training needs more than one value per channel", shapes: [x.shape])
            }
            var squares = [T](repeating: 0, count: channels)
            xs.withUnsafeBufferPointer { xs in
                mean.withUnsafeMutableBufferPointer { mean in
                    squares.withUnsafeMutableBufferPointer { squares in
                        let xs = xs.baseAddress.unsafelyUnwrapped, mean = mean.baseAddress.unsafelyUnwrapped, squares = squares.baseAddress.unsafelyUnwrapped
                        overChannels { block in
                            if spatial == 1 {
                                // [N, C]: the channel loop is innermost over a contiguous row and vectorizes.
                                for s in 0..<n { let row = xs + s * channels; for c in block { mean[c] += row[c] } }
                                for c in block { mean[c] = mean[c] / T(count) }
                                for s in 0..<n { let row = xs + s * channels; for c in block { let d = row[c] - mean[c]; squares[c] += d * d } }
                                return
                            }
                            for s in 0..<n { for c in block {
                                let plane = xs + (s * channels + c) * spatial
                                mean[c] += Kernels.laneSum(spatial) { plane[$0] }
                            } }
                            for c in block { mean[c] = mean[c] / T(count) }
                            for s in 0..<n { for c in block {
                                let plane = xs + (s * channels + c) * spatial, mu = mean[c]
                                squares[c] += Kernels.laneSum(spatial) { let d = plane[$0] - mu; return d * d }
                            } }
                        }
                    }
                }
            }
            for c in 0..<channels {
                let variance = squares[c] / T(count)
                invStd[c] = 1 / (variance + epsilon).squareRoot()
                statistics.mean.value.scalars[c] = (1 - momentum) * statistics.mean.value.scalars[c] + momentum * mean[c]
                statistics.variance.value.scalars[c] = (1 - momentum) * statistics.variance.value.scalars[c] + momentum * squares[c] / T(count - 1)
            }
        } else {
            for c in 0..<channels {
                mean[c] = statistics.mean.value.scalars[c]
                invStd[c] = 1 / (statistics.variance.value.scalars[c] + epsilon).squareRoot()
            }
        }
        // Without an activation the slope is 1: z > 0 ? z : 1·z is z, bit for bit, so one loop
        // serves both forms.
        let slope = leakySlope ?? 1
        var out: [T] = Kernels.overwritten(xs.count)
        let gamma = scale.value.scalars, beta = shift.value.scalars
        // Per-channel constants as one contiguous block of pointers, so the elementwise passes
        // read them without array bounds checks (the [N, C] case vectorizes over C).
        let constants = mean + invStd + gamma + beta
        xs.withUnsafeBufferPointer { xs in
            constants.withUnsafeBufferPointer { constants in
                out.withUnsafeMutableBufferPointer { out in
                    let xs = xs.baseAddress.unsafelyUnwrapped, mu = constants.baseAddress.unsafelyUnwrapped, out = out.baseAddress.unsafelyUnwrapped
                    let k = mu + channels, g = k + channels, b = g + channels
                    if spatial == 1 {
                        overSamples { samples in
                            for s in samples {
                                let row = s * channels
                                for c in 0..<channels {
                                    let z = g[c] * ((xs[row + c] - mu[c]) * k[c]) + b[c]
                                    out[row + c] = z > 0 ? z : slope * z
                                }
                            }
                        }
                        return
                    }
                    overPlanes { planes in
                        for plane in planes {
                            let c = plane % channels, base = plane * spatial, center = mu[c], factor = k[c], weight = g[c], offset = b[c]
                            for j in base..<(base + spatial) {
                                let z = weight * ((xs[j] - center) * factor) + offset
                                out[j] = z > 0 ? z : slope * z
                            }
                        }
                    }
                }
            }
        }
        let operation = leakySlope == nil ? "batchNorm" : "batchNorm+leakyRelu"
        return Variable(Tensor(validShape: x.shape, scalars: out), operation: operation, inputs: [x, scale, shift]) { g in
            var dGamma = [T](repeating: 0, count: channels), dBeta = [T](repeating: 0, count: channels)
            var dx: [T] = Kernels.overwritten(xs.count)
            g.scalars.withUnsafeBufferPointer { gs in
                xs.withUnsafeBufferPointer { xs in
                    constants.withUnsafeBufferPointer { constants in
                        dGamma.withUnsafeMutableBufferPointer { sumGX in
                            dBeta.withUnsafeMutableBufferPointer { sumG in
                                dx.withUnsafeMutableBufferPointer { dx in
                                    let gs = gs.baseAddress.unsafelyUnwrapped, xs = xs.baseAddress.unsafelyUnwrapped
                                    let mu = constants.baseAddress.unsafelyUnwrapped, k = mu + channels, gm = k + channels, b = gm + channels
                                    let sumGX = sumGX.baseAddress.unsafelyUnwrapped, sumG = sumG.baseAddress.unsafelyUnwrapped, dx = dx.baseAddress.unsafelyUnwrapped
                                    /// The gradient at y (before the activation) and x̂ of an element x of a
                                    /// channel with the given constants.
                                    @inline(__always) func gradientAndNormalized(_ x: T, _ gradient: T, center: T, factor: T, weight: T, offset: T) -> (T, T) {
                                        let normalized = (x - center) * factor, z = weight * normalized + offset
                                        return (z > 0 ? gradient : slope * gradient, normalized)
                                    }
                                    overChannels { block in
                                        if spatial == 1 {
                                            for s in 0..<n {
                                                let row = s * channels
                                                for c in block {
                                                    let (gradient, normalized) = gradientAndNormalized(xs[row + c], gs[row + c], center: mu[c], factor: k[c], weight: gm[c], offset: b[c])
                                                    sumG[c] += gradient; sumGX[c] += gradient * normalized
                                                }
                                            }
                                            return
                                        }
                                        for s in 0..<n { for c in block {
                                            // Plane pointers, so that the lanes index without overflow checks (and vectorize).
                                            let base = (s * channels + c) * spatial, center = mu[c], factor = k[c], weight = gm[c], offset = b[c]
                                            let inputPlane = xs + base, gradientPlane = gs + base
                                            let (planeG, planeGX) = Kernels.laneSums(spatial) { i -> (T, T) in
                                                let (gradient, normalized) = gradientAndNormalized(inputPlane[i], gradientPlane[i], center: center, factor: factor, weight: weight, offset: offset)
                                                return (gradient, gradient * normalized)
                                            }
                                            sumG[c] += planeG; sumGX[c] += planeGX
                                        } }
                                    }
                                    // dx = γ/σ · (g − mean g − x̂ · mean g·x̂) in training, where the statistics
                                    // depend on x; γ/σ · g in inference.
                                    let total = T(count)
                                    let meanG = (0..<channels).map { training ? sumG[$0] / total : 0 }
                                    let meanGX = (0..<channels).map { training ? sumGX[$0] / total : 0 }
                                    meanG.withUnsafeBufferPointer { meanG in
                                        meanGX.withUnsafeBufferPointer { meanGX in
                                            let meanG = meanG.baseAddress.unsafelyUnwrapped, meanGX = meanGX.baseAddress.unsafelyUnwrapped
                                            if spatial == 1 {
                                                overSamples { samples in
                                                    for s in samples {
                                                        let row = s * channels
                                                        for c in 0..<channels {
                                                            let (gradient, normalized) = gradientAndNormalized(xs[row + c], gs[row + c], center: mu[c], factor: k[c], weight: gm[c], offset: b[c])
                                                            dx[row + c] = gm[c] * k[c] * (gradient - meanG[c] - normalized * meanGX[c])
                                                        }
                                                    }
                                                }
                                                return
                                            }
                                            overPlanes { planes in
                                                for plane in planes {
                                                    let c = plane % channels, base = plane * spatial, center = mu[c], factor = k[c], weight = gm[c], offset = b[c]
                                                    let inputFactor = weight * factor, planeMeanG = meanG[c], planeMeanGX = meanGX[c]
                                                    for j in base..<(base + spatial) {
                                                        let (gradient, normalized) = gradientAndNormalized(xs[j], gs[j], center: center, factor: factor, weight: weight, offset: offset)
                                                        dx[j] = inputFactor * (gradient - planeMeanG - normalized * planeMeanGX)
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
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
