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
        // Training keeps the normalized input for the backward pass; inference stores only the
        // output (the backward pass, rarely taken there, recomputes it).
        var normalized: [T] = training ? Kernels.overwritten(xs.count) : [], out: [T] = Kernels.overwritten(xs.count)
        let gamma = scale.value.scalars, beta = shift.value.scalars
        // Per-channel constants as one contiguous block of pointers, so the elementwise pass
        // below reads them without array bounds checks (the [N, C] case vectorizes over C).
        let constants = mean + invStd + gamma + beta
        func normalize(into normalized: UnsafeMutablePointer<T>?, out: UnsafeMutablePointer<T>?) {
            xs.withUnsafeBufferPointer { xs in
                constants.withUnsafeBufferPointer { constants in
                    guard let xs = xs.baseAddress, let mu = constants.baseAddress else { return }
                    let k = mu + channels, g = k + channels, b = g + channels
                    if spatial == 1, let normalized, let out {
                        overSamples { samples in
                            for s in samples {
                                let row = s * channels
                                for c in 0..<channels {
                                    let value = (xs[row + c] - mu[c]) * k[c]
                                    normalized[row + c] = value
                                    out[row + c] = g[c] * value + b[c]
                                }
                            }
                        }
                        return
                    }
                    overPlanes { planes in
                        for plane in planes {
                            let c = plane % channels, base = plane * spatial, center = mu[c], factor = k[c], weight = g[c], offset = b[c]
                            if let normalized, let out {
                                for i in 0..<spatial { let j = base + i; normalized[j] = (xs[j] - center) * factor; out[j] = weight * normalized[j] + offset }
                            } else if let out {
                                for i in 0..<spatial { let j = base + i; out[j] = weight * ((xs[j] - center) * factor) + offset }
                            } else if let normalized {
                                for i in 0..<spatial { let j = base + i; normalized[j] = (xs[j] - center) * factor }
                            }
                        }
                    }
                }
            }
        }
        out.withUnsafeMutableBufferPointer { out in
            if training {
                normalized.withUnsafeMutableBufferPointer { normalize(into: $0.baseAddress, out: out.baseAddress) }
            } else {
                normalize(into: nil, out: out.baseAddress)
            }
        }
        return Variable(Tensor(validShape: x.shape, scalars: out), operation: "batchNorm", inputs: [x, scale, shift]) { g in
            var normalizedInput = normalized
            if normalizedInput.isEmpty {
                normalizedInput = Kernels.overwritten(xs.count)
                normalizedInput.withUnsafeMutableBufferPointer { normalize(into: $0.baseAddress, out: nil) }
            }
            var dGamma = [T](repeating: 0, count: channels), dBeta = [T](repeating: 0, count: channels)
            var dx: [T] = Kernels.overwritten(xs.count)
            g.scalars.withUnsafeBufferPointer { gs in
                normalizedInput.withUnsafeBufferPointer { normalized in
                    dGamma.withUnsafeMutableBufferPointer { sumGX in
                        dBeta.withUnsafeMutableBufferPointer { sumG in
                            dx.withUnsafeMutableBufferPointer { dx in
                                let gs = gs.baseAddress.unsafelyUnwrapped, normalized = normalized.baseAddress.unsafelyUnwrapped
                                let sumGX = sumGX.baseAddress.unsafelyUnwrapped, sumG = sumG.baseAddress.unsafelyUnwrapped, dx = dx.baseAddress.unsafelyUnwrapped
                                overChannels { block in
                                    if spatial == 1 {
                                        for s in 0..<n {
                                            let row = s * channels
                                            for c in block { sumG[c] += gs[row + c]; sumGX[c] += gs[row + c] * normalized[row + c] }
                                        }
                                        return
                                    }
                                    for s in 0..<n { for c in block {
                                        let gradientPlane = gs + (s * channels + c) * spatial, normalizedPlane = normalized + (s * channels + c) * spatial
                                        sumG[c] += Kernels.laneSum(spatial) { gradientPlane[$0] }
                                        sumGX[c] += Kernels.laneSum(spatial) { gradientPlane[$0] * normalizedPlane[$0] }
                                    } }
                                }
                                if spatial == 1 && training {
                                    // [N, C] training: per-channel factors once, then rows that vectorize over C.
                                    let total = T(count)
                                    let factors = (0..<channels).map { gamma[$0] * invStd[$0] }
                                    let meanG = (0..<channels).map { sumG[$0] / total }
                                    let scaledGX = (0..<channels).map { sumGX[$0] / total }
                                    factors.withUnsafeBufferPointer { factors in
                                        meanG.withUnsafeBufferPointer { meanG in
                                            scaledGX.withUnsafeBufferPointer { scaledGX in
                                                let k = factors.baseAddress.unsafelyUnwrapped, mg = meanG.baseAddress.unsafelyUnwrapped
                                                let sgx = scaledGX.baseAddress.unsafelyUnwrapped
                                                overSamples { samples in
                                                    for s in samples {
                                                        let row = s * channels
                                                        for c in 0..<channels { dx[row + c] = k[c] * (gs[row + c] - mg[c] - normalized[row + c] * sgx[c]) }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                    return
                                }
                                overPlanes { planes in
                                    for plane in planes {
                                        let c = plane % channels, base = plane * spatial, k = gamma[c] * invStd[c]
                                        if training {
                                            // Training: statistics depend on x, adding the two mean-gradient terms.
                                            let meanG = sumG[c] / T(count), meanGX = sumGX[c] / T(count)
                                            for i in 0..<spatial { let j = base + i; dx[j] = k * (gs[j] - meanG - normalized[j] * meanGX) }
                                        } else {
                                            for i in 0..<spatial { let j = base + i; dx[j] = k * gs[j] }
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
