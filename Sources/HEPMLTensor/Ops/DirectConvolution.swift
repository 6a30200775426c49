import CVectorKernels
import HEPMLCore

/// Stride-1 convolutions on the AVX-512 or AVX2 kernels of `CVectorKernels`, which read
/// zero-padded images directly instead of lowering to im2col + sgemm (see direct_convolution.c
/// for why). Each sample is padded once; the weight gradient reuses the forward pass's padded
/// samples; the input gradient is the forward kernel applied to the padded output gradient with
/// the kernel flipped and the channel roles exchanged.
enum DirectConvolution {
    /// Caps `VectorInstructions.usable` for the calls made inside `withValue` (tests run both sets).
    @TaskLocal static var instructionLimit: HEPMLVectorInstructions?

    static var instructions: HEPMLVectorInstructions {
        let usable = VectorInstructions.usable
        guard let limit = instructionLimit, limit.rawValue < usable.rawValue else { return usable }
        return limit
    }

    /// Whether `ConvolutionKernels` sends `g` here: Float, a CPU with AVX2 or AVX-512, unit
    /// strides, and patches long enough to amortize the scalar stores that write each output to
    /// its channel plane. Shorter patches run faster as one im2col product: the DQM autoencoder's
    /// 12-channel, 3-tap layers (patch 36) train 15 % faster that way.
    static func handles<T: TensorScalar>(_ g: ConvolutionGeometry, _: T.Type) -> Bool {
        T.self == Float.self && instructions != .baseline && g.stride.allSatisfy { $0 == 1 } && g.patchSize >= minimumPatchSize
    }

    static let minimumPatchSize = 64

    /// Rows of kernel weights are padded to whole 16-lane vectors.
    static func vectorWidth(_ channels: Int) -> Int { (channels + 15) / 16 * 16 }

    /// The forward kernel's view of `g`: the large grid padded to small + kernel − 1 per axis.
    static func forwardGeometry(_ g: ConvolutionGeometry) -> HEPMLDirectConvolution {
        let padded = (0..<3).map { g.small[$0] + g.kernel[$0] - 1 }
        return HEPMLDirectConvolution(inputChannels: Int64(g.largeChannels), padded: triple(padded), kernel: triple(g.kernel),
                                      output: triple(g.small), outputChannels: Int64(g.smallChannels),
                                      weightStride: Int64(vectorWidth(g.smallChannels)))
    }

    /// The input gradient as a forward convolution: the small grid, padded to large + kernel − 1,
    /// convolved with the flipped kernel, small channels in and large channels out.
    static func inputGradientGeometry(_ g: ConvolutionGeometry) -> HEPMLDirectConvolution {
        let padded = (0..<3).map { g.large[$0] + g.kernel[$0] - 1 }
        return HEPMLDirectConvolution(inputChannels: Int64(g.smallChannels), padded: triple(padded), kernel: triple(g.kernel),
                                      output: triple(g.large), outputChannels: Int64(g.largeChannels),
                                      weightStride: Int64(vectorWidth(g.largeChannels)))
    }

    static func triple(_ values: [Int]) -> (Int64, Int64, Int64) { (Int64(values[0]), Int64(values[1]), Int64(values[2])) }

    static func volume(_ grid: (Int64, Int64, Int64)) -> Int { Int(grid.0 * grid.1 * grid.2) }

    /// Copies `channels` grids of `source` extent into zeroed grids of `target` extent, shifted by
    /// `offset` per axis (negative offsets crop the source's start).
    static func pad<T: TensorScalar>(_ source: UnsafePointer<T>, extent: [Int], channels: Int, into target: UnsafeMutablePointer<T>,
                       padded: (Int64, Int64, Int64), offset: [Int]) {
        let (pd, ph, pw) = (Int(padded.0), Int(padded.1), Int(padded.2))
        target.update(repeating: 0, count: channels * pd * ph * pw)
        let firstW = max(0, -offset[2]), lastW = min(extent[2], pw - offset[2])
        guard firstW < lastW else { return }
        for c in 0..<channels {
            for d in 0..<extent[0] {
                let td = d + offset[0]
                guard td >= 0, td < pd else { continue }
                for h in 0..<extent[1] {
                    let th = h + offset[1]
                    guard th >= 0, th < ph else { continue }
                    let from = source + ((c * extent[0] + d) * extent[1] + h) * extent[2]
                    let to = target + ((c * pd + td) * ph + th) * pw + offset[2]
                    for w in firstW..<lastW { to[w] = from[w] }
                }
            }
        }
    }

    /// Weights [O, C, k...] as kernel-position rows of O values, zero-padded to whole vectors.
    static func rowsByPosition<T: TensorScalar>(_ weight: [T], _ g: ConvolutionGeometry) -> [T] {
        let O = g.smallChannels, K = g.patchSize, ldw = vectorWidth(O)
        var rows = [T](repeating: 0, count: K * ldw)
        for o in 0..<O {
            for k in 0..<K { rows[k * ldw + o] = weight[o * K + k] }
        }
        return rows
    }

    /// Weights [O, C, k...] flipped in every spatial axis as rows (o, k′) of C values: the kernel
    /// of the input gradient.
    static func flippedRowsByPosition<T: TensorScalar>(_ weight: [T], _ g: ConvolutionGeometry) -> [T] {
        let O = g.smallChannels, C = g.largeChannels, V = g.kernelVolume, ldw = vectorWidth(C)
        var rows = [T](repeating: 0, count: O * V * ldw)
        for o in 0..<O {
            for c in 0..<C {
                for k in 0..<V { rows[(o * V + (V - 1 - k)) * ldw + c] = weight[(o * C + c) * V + k] }
            }
        }
        return rows
    }

    /// Reinterprets a buffer of `T` (which `handles` guarantees to be Float) for the C kernels.
    @inline(__always)
    static func floats<T>(_ p: UnsafePointer<T>) -> UnsafePointer<Float> { UnsafeRawPointer(p).assumingMemoryBound(to: Float.self) }
    @inline(__always)
    static func floats<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float> { UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self) }

    /// How a batch with fewer samples than threads (batch-1 inference) splits each sample's
    /// output channels: `count` blocks of `channels` (a multiple of 16, an AVX2 tile's width, so
    /// each block still runs whole tiles), about two per thread; one block when the batch alone
    /// keeps every thread busy.
    static func channelBlocks(_ g: ConvolutionGeometry) -> (count: Int, channels: Int) {
        let vectors = (g.smallChannels + 15) / 16
        guard g.batch < Parallel.threadCount else { return (1, vectors * 16) }
        let wanted = min(vectors, (Parallel.threadCount + g.batch - 1) / g.batch * 2)
        let channels = (vectors + wanted - 1) / wanted * 16
        return ((g.smallChannels + channels - 1) / channels, channels)
    }

    /// The forward convolution; with `keepInput`, also every padded sample, which `backward`
    /// reads for the weight gradient.
    @_specialize(where T == Float)
    static func forward<T: TensorScalar>(large: [T], weight: [T], bias: [T]?, negativeSlope: T?, _ g: ConvolutionGeometry,
                                         keepInput: Bool, chunks: Int) -> (output: [T], kept: [T]?) {
        var geometry = forwardGeometry(g)
        let instructions = Self.instructions
        let O = g.smallChannels, S = g.smallSpatial, L = g.largeChannels * g.largeSpatial
        let paddedSize = g.largeChannels * volume(geometry.padded)
        var out: [T] = Kernels.overwritten(g.batch * O * S)
        var kept: [T] = keepInput ? Kernels.overwritten(g.batch * paddedSize) : []
        let rows = rowsByPosition(weight, g)
        let biases = bias ?? []
        rows.withUnsafeBufferPointer { wp in
        biases.withUnsafeBufferPointer { bp in
        large.withUnsafeBufferPointer { xp in
        kept.withUnsafeMutableBufferPointer { kp in
        out.withUnsafeMutableBufferPointer { op in
            let x = xp.baseAddress.unsafelyUnwrapped, o = op.baseAddress.unsafelyUnwrapped
            let w = floats(wp.baseAddress.unsafelyUnwrapped), b = bp.isEmpty ? nil : bp.baseAddress.map { floats($0) }
            // `handles` guarantees Float; 1 leaves values as they are.
            let slope = negativeSlope.map { Float($0) } ?? 1
            let (blocks, channelBlock) = channelBlocks(g)
            if blocks > 1 {
                // Fewer samples than threads (batch-1 inference): pad every sample once, then
                // split each sample's output channels into blocks over the threads.
                let padded = keepInput ? kp.baseAddress.unsafelyUnwrapped : UnsafeMutablePointer<T>.allocate(capacity: g.batch * paddedSize)
                defer { if !keepInput { padded.deallocate() } }
                for n in 0..<g.batch {
                    pad(x + n * L, extent: g.large, channels: g.largeChannels, into: padded + n * paddedSize, padded: geometry.padded, offset: g.padBefore)
                }
                Kernels.forEachChunk(g.batch * blocks, chunks: g.batch * blocks) { unit, _ in
                    let n = unit / blocks, first = unit % blocks * channelBlock
                    var block = geometry
                    block.outputChannels = Int64(min(channelBlock, O - first))
                    hepml_direct_convolution_forward(instructions, &block, floats(padded + n * paddedSize), w + first, b.map { $0 + first }, slope,
                                                     floats(o + n * O * S + first * S))
                }
                return
            }
            Kernels.forEachChunk(g.batch, chunks: chunks) { _, samples in
                let scratch = UnsafeMutablePointer<T>.allocate(capacity: keepInput ? 0 : paddedSize)
                defer { scratch.deallocate() }
                for n in samples {
                    let padded = keepInput ? kp.baseAddress.unsafelyUnwrapped + n * paddedSize : scratch
                    pad(x + n * L, extent: g.large, channels: g.largeChannels, into: padded, padded: geometry.padded, offset: g.padBefore)
                    hepml_direct_convolution_forward(instructions, &geometry, floats(padded), w, b, slope, floats(o + n * O * S))
                }
            }
        }
        }
        }
        }
        }
        return (out, keepInput ? kept : nil)
    }

    /// Gradients of `forward` with respect to the large grid (`needLarge`), the weight (`large`
    /// given; read from its padded samples `kept` when the forward pass kept them) and the bias
    /// (`needBias`); `activatedOutput` masks the gradient as in `ConvolutionKernels.backward`.
    @_specialize(where T == Float)
    static func backward<T: TensorScalar>(large: [T]?, kept: [T]?, weight: [T], smallGradient: [T], needLarge: Bool, needBias: Bool,
                                          activatedOutput: [T]?, negativeSlope: T, _ g: ConvolutionGeometry, chunks: Int) -> (large: [T]?, weight: [T]?, bias: [T]?) {
        var forwardShape = forwardGeometry(g), gradientShape = inputGradientGeometry(g)
        let instructions = Self.instructions
        let O = g.smallChannels, S = g.smallSpatial, K = g.patchSize, L = g.largeChannels * g.largeSpatial
        let ldw = vectorWidth(O), paddedSize = g.largeChannels * volume(forwardShape.padded)
        let paddedGradientSize = O * volume(gradientShape.padded)
        let gradientOffset = (0..<3).map { g.kernel[$0] - 1 - g.padBefore[$0] }
        let needWeight = large != nil
        let flipped = needLarge ? flippedRowsByPosition(weight, g) : []
        var dLarge: [T] = needLarge ? Kernels.overwritten(g.batch * L) : []
        // Per chunk: the weight gradient as [K][ldw] rows, then the bias gradient [O].
        var partials = [[T]](repeating: [], count: max(1, min(chunks, g.batch)))
        let inputs = large ?? [], paddedInputs = kept ?? [], mask = activatedOutput ?? []
        flipped.withUnsafeBufferPointer { fp in
        inputs.withUnsafeBufferPointer { xp in
        paddedInputs.withUnsafeBufferPointer { kp in
        mask.withUnsafeBufferPointer { mp in
        smallGradient.withUnsafeBufferPointer { gp in
        dLarge.withUnsafeMutableBufferPointer { dp in
        partials.withUnsafeMutableBufferPointer { partials in
            let dy = gp.baseAddress.unsafelyUnwrapped
            Kernels.forEachChunk(g.batch, chunks: partials.count) { chunk, samples in
                var partial = [T](repeating: 0, count: (needWeight ? K * ldw : 0) + (needBias ? O : 0))
                let gathered = UnsafeMutablePointer<T>.allocate(capacity: O * S)
                // Padded lanes of the pixel-major gradient stay zero.
                let pixelMajor = UnsafeMutablePointer<T>.allocate(capacity: needWeight ? S * ldw : 0)
                pixelMajor.initialize(repeating: 0, count: needWeight ? S * ldw : 0)
                let paddedInput = UnsafeMutablePointer<T>.allocate(capacity: needWeight && kp.isEmpty ? paddedSize : 0)
                let paddedGradient = UnsafeMutablePointer<T>.allocate(capacity: needLarge ? paddedGradientSize : 0)
                let gradientSums = UnsafeMutablePointer<T>.allocate(capacity: needBias ? O * S : 0)
                gradientSums.initialize(repeating: 0, count: needBias ? O * S : 0)
                defer { gathered.deallocate(); pixelMajor.deallocate(); paddedInput.deallocate(); paddedGradient.deallocate(); gradientSums.deallocate() }
                partial.withUnsafeMutableBufferPointer { sums in
                    let weightSums = sums.baseAddress.unsafelyUnwrapped, biasSums = weightSums + (needWeight ? K * ldw : 0)
                    for n in samples {
                        let source = dy + n * O * S
                        if let y = mp.baseAddress, !mp.isEmpty {
                            ConvolutionKernels.gradientThroughActivation(source, output: y + n * O * S, negativeSlope: negativeSlope, into: gathered, count: O * S)
                        } else {
                            gathered.update(from: source, count: O * S)
                        }
                        if needBias {
                            // Summed position by position over the chunk's samples (a loop that
                            // vectorizes), then over positions once at the end.
                            for i in 0..<(O * S) { gradientSums[i] += gathered[i] }
                        }
                        if needWeight {
                            for o in 0..<O {
                                for p in 0..<S { pixelMajor[p * ldw + o] = gathered[o * S + p] }
                            }
                            var input = UnsafePointer(paddedInput)
                            if let saved = kp.baseAddress, !kp.isEmpty {
                                input = saved + n * paddedSize
                            } else if let x = xp.baseAddress {
                                pad(x + n * L, extent: g.large, channels: g.largeChannels, into: paddedInput, padded: forwardShape.padded, offset: g.padBefore)
                            }
                            hepml_direct_convolution_weight_gradient(instructions, &forwardShape, floats(input), floats(pixelMajor), floats(weightSums))
                        }
                        if needLarge, let d = dp.baseAddress {
                            pad(gathered, extent: g.small, channels: O, into: paddedGradient, padded: gradientShape.padded, offset: gradientOffset)
                            hepml_direct_convolution_forward(instructions, &gradientShape, floats(paddedGradient), floats(fp.baseAddress.unsafelyUnwrapped),
                                                             nil, 1, floats(d + n * L))
                        }
                    }
                    if needBias {
                        for o in 0..<O {
                            var total: T = 0
                            for p in 0..<S { total += gradientSums[o * S + p] }
                            biasSums[o] = total
                        }
                    }
                }
                partials[chunk] = partial
            }
        }
        }
        }
        }
        }
        }
        }
        let total = Kernels.sumOfPartials(partials)
        var dWeight: [T]?
        if needWeight {
            var rows: [T] = Kernels.overwritten(O * K)
            for o in 0..<O {
                for k in 0..<K { rows[o * K + k] = total[k * ldw + o] }
            }
            dWeight = rows
        }
        return (needLarge ? dLarge : nil, dWeight, needBias ? Array(total.suffix(O)) : nil)
    }
}
