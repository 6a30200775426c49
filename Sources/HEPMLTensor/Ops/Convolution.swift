import CVectorKernels
import HEPMLCore

/// How a convolution pads its input.
public enum Padding: Sendable, Equatable, Codable {
    /// No padding: out = ⌊(in − k)/s⌋ + 1.
    case valid
    /// TensorFlow/Keras `same`: out = ⌈in/s⌉, padding split with the extra element after.
    case same
    /// PyTorch-style symmetric padding, one value per spatial axis.
    case explicit([Int])

    /// Keras `same` padding of a convolution on one axis (output ⌈n/s⌉), the odd element after.
    /// Exporters (ONNX) call this too, so exported graphs pad exactly as the engine trains.
    public static func sameConvolution(input n: Int, kernel k: Int, stride s: Int) -> (before: Int, after: Int) {
        let total = Swift.max(((n + s - 1) / s - 1) * s + k - n, 0)
        return (total / 2, total - total / 2)
    }

    /// Keras `same` for a transposed convolution (output n·s): what is cropped from the full
    /// (n−1)·s + k output on one axis, the odd element after.
    public static func sameTransposedConvolution(kernel k: Int, stride s: Int) -> (before: Int, after: Int) {
        let total = Swift.max(k - s, 0)
        return (total / 2, total - total / 2)
    }
}

/// The index arithmetic shared by convolution and transposed convolution, in 3-D form (1-D and
/// 2-D problems use size-1 leading axes). A convolution maps the "large" grid (its input) to
/// the "small" grid (its output); a transposed convolution is the adjoint map, small to large,
/// so the same three kernels serve both with their roles exchanged.
struct ConvolutionGeometry: Sendable {
    var batch: Int
    var largeChannels: Int
    var smallChannels: Int
    var large: [Int]
    var small: [Int]
    var kernel: [Int]
    var stride: [Int]
    var padBefore: [Int]

    var largeSpatial: Int { large.reduce(1, *) }
    var smallSpatial: Int { small.reduce(1, *) }
    var kernelVolume: Int { kernel.reduce(1, *) }
    /// Rows of the column matrix: one per (large channel, kernel offset).
    var patchSize: Int { largeChannels * kernelVolume }

    /// Left-pads a spatial list with 1s (or `fill`) to three axes.
    static func lift(_ values: [Int], fill: Int = 1) -> [Int] {
        [Int](repeating: fill, count: 3 - values.count) + values
    }

    /// Padding before each spatial axis and the output size for a forward convolution.
    static func resolve(_ padding: Padding, input: [Int], kernel: [Int], stride: [Int], operation: String, shapes: [[Int]]) throws -> (before: [Int], output: [Int]) {
        var before = [Int](), output = [Int]()
        for axis in 0..<input.count {
            let n = input[axis], k = kernel[axis], s = stride[axis]
            var total: Int
            switch padding {
            case .valid: total = 0
            case .same:
                let amounts = Padding.sameConvolution(input: n, kernel: k, stride: s)
                total = amounts.before + amounts.after
            case .explicit(let values):
                guard values.count == input.count, values.allSatisfy({ $0 >= 0 }) else {
                    throw ShapeError(operation: operation, "explicit padding needs \(input.count) non-negative values, got \(values)", shapes: shapes)
                }
                total = 2 * values[axis]
            }
            let pb: Int
            if case .explicit(let values) = padding { pb = values[axis] } else { pb = total / 2 }
            let size = (n + total - k) / s + 1
            guard n + total >= k, size >= 1 else {
                throw ShapeError(operation: operation, "kernel \(k) larger than padded input \(n + total) on spatial axis \(axis)", shapes: shapes)
            }
            before.append(pb)
            output.append(size)
        }
        return (before, output)
    }
}

enum ConvolutionKernels {
    /// Column buffers are capped at this many elements; larger batches run in sub-batches.
    static let columnBudget = 1 << 21

    /// Batch chunks (claimed dynamically by the worker pool) and the samples per column matrix.
    /// Several chunks per thread keep both cores busy when one of them is slowed down by another
    /// process; each still holds enough samples for an efficient product.
    static func chunking(_ g: ConvolutionGeometry) -> (chunks: Int, subBatch: Int) {
        let work = g.batch * g.smallChannels * g.patchSize * g.smallSpatial
        let chunks = work < 1 << 17 || Parallel.threadCount == 1 ? 1 : min(4 * Parallel.threadCount, max(g.batch / 8, Parallel.threadCount), g.batch)
        let perChunk = (g.batch + chunks - 1) / chunks
        let subBatch = max(1, min(perChunk, columnBudget / max(g.patchSize * g.smallSpatial, 1)))
        return (chunks, subBatch)
    }

    /// One line of a patch row: small positions `position + (0..<width)` of column-matrix row
    /// `row`; those at `low..<high` read the large grid at `source + w·stride` (w from 0), the
    /// others hang over the padding (all of them when `source` is −1). An `interleaved` line
    /// stands for two: rows `row` and `row + 1` (kernel offsets 0 and 1 along the line) of a
    /// kernel that is 2 wide with stride 2 and tiles the line exactly, which read or write the
    /// even and the odd large positions; walking them together keeps the accesses contiguous (and
    /// vectorizable) where each alone would be a stride-2 gather or scatter.
    struct PatchLine {
        var row: Int32, position: Int32, source: Int32, low: Int32, high: Int32, interleaved: Bool
    }

    /// The lines of every patch row of the first large channel (kernel offset) and small (d, h)
    /// line, built once per call; the other channels' lines are these shifted by whole channels
    /// (`im2col` and `col2im` add the shift), so a wide layer does not pay for a table per channel.
    /// Walking whole lines instead of single elements turns im2col into short contiguous copies.
    static func patchLines(_ g: ConvolutionGeometry) -> [PatchLine] {
        let (D, H, W) = (g.large[0], g.large[1], g.large[2])
        let (Do, Ho, Wo) = (g.small[0], g.small[1], g.small[2])
        var lines: [PatchLine] = []
        lines.reserveCapacity(g.kernelVolume * Do * Ho)
        // Kernel offsets 0 and 1 along the line each cover every small position of it (the
        // decoder's depth upsampling): one interleaved line instead of two strided ones.
        let interleaved = g.kernel[2] == 2 && g.stride[2] == 2 && g.padBefore[2] == 0 && W == 2 * Wo
        var row = 0
        for kd in 0..<g.kernel[0] { for kh in 0..<g.kernel[1] { for kw in 0..<g.kernel[2] {
            if interleaved && kw == 1 { row += 1; continue }
            // iw = ow·stride + shift must lie in 0..<W.
            let shift = kw - g.padBefore[2], sw = g.stride[2]
            let low = shift >= 0 ? 0 : min(Wo, (-shift + sw - 1) / sw)
            let high = W - shift <= 0 ? low : max(low, min(Wo, (W - shift + sw - 1) / sw))
            var position = 0
            for od in 0..<Do {
                let id = od * g.stride[0] - g.padBefore[0] + kd
                for oh in 0..<Ho {
                    let ih = oh * g.stride[1] - g.padBefore[1] + kh
                    let inside = id >= 0 && id < D && ih >= 0 && ih < H
                    lines.append(PatchLine(row: Int32(row), position: Int32(position), source: inside ? Int32((id * H + ih) * W + shift) : -1,
                                           low: Int32(inside ? low : 0), high: Int32(inside ? high : 0), interleaved: interleaved))
                    position += Wo
                }
            }
            row += 1
        } } }
        return lines
    }

    /// Gathers the patches of `count` consecutive samples (`sampleSize` elements apart from `x`)
    /// into the column matrix `cols` (`ld` = count · smallSpatial columns). Samples are the inner
    /// loop so that each line is decoded once per sub-batch: tiny images (8×8) have lines of only
    /// a few elements. (Index arithmetic wraps instead of trapping: the bounds were settled by
    /// `patchLines`, and overflow checks would keep these short loops from vectorizing.)
    @inline(__always)
    static func im2col<T: TensorScalar>(_ x: UnsafePointer<T>, count: Int, sampleSize: Int, _ cols: UnsafeMutablePointer<T>, ld: Int,
                                        _ lines: UnsafeBufferPointer<PatchLine>, _ g: ConvolutionGeometry, width: Int, smallSpatial S: Int, stride sw: Int) {
        for channel in 0..<g.largeChannels {
            let rowShift = channel &* g.kernelVolume, sourceShift = channel &* g.largeSpatial
            for line in lines {
                let low = Int(line.low), high = Int(line.high)
                var out = cols + ((Int(line.row) &+ rowShift) &* ld &+ Int(line.position)), source = x + (Int(line.source) &+ sourceShift)
                if line.interleaved {
                    // Full lines (or none, over the padding): even positions to `row`, odd to `row + 1`.
                    for _ in 0..<count {
                        let odd = out + ld
                        if low < high {
                            if T.self == Float.self {
                                // The compiler leaves this loop scalar; the C kernel shuffles eight pairs at a time.
                                hepml_deinterleave(VectorInstructions.usable, UnsafeRawPointer(source).assumingMemoryBound(to: Float.self),
                                                   UnsafeMutableRawPointer(out).assumingMemoryBound(to: Float.self),
                                                   UnsafeMutableRawPointer(odd).assumingMemoryBound(to: Float.self), Int64(width))
                            } else {
                                for w in 0..<width { out[w] = source[2 &* w]; odd[w] = source[2 &* w &+ 1] }
                            }
                        } else {
                            for w in 0..<width { out[w] = 0; odd[w] = 0 }
                        }
                        out += S
                        source += sampleSize
                    }
                    continue
                }
                // Padding runs are a few elements; a zero loop would become a memset call per line
                // and sample. When they fit, four plain stores at each end (made before the copy,
                // which overwrites what they cover inside the line) clear them instead.
                let fixedStores = width >= 4 && low <= 4 && width - high <= 4
                for _ in 0..<count {
                    if fixedStores {
                        if low > 0 { out[0] = 0; out[1] = 0; out[2] = 0; out[3] = 0 }
                        if high < width { out[width &- 4] = 0; out[width &- 3] = 0; out[width &- 2] = 0; out[width &- 1] = 0 }
                    } else {
                        for w in 0..<low { out[w] = 0 }
                        for w in high..<width { out[w] = 0 }
                    }
                    if sw == 1 {
                        for w in low..<high { out[w] = source[w] }
                    } else {
                        for w in low..<high { out[w] = source[w &* sw] }
                    }
                    out += S
                    source += sampleSize
                }
            }
        }
    }

    /// Adds a column matrix back onto the large grids of `count` samples (the adjoint of `im2col`).
    @inline(__always)
    static func col2im<T: TensorScalar>(_ cols: UnsafePointer<T>, ld: Int, _ x: UnsafeMutablePointer<T>, count: Int, sampleSize: Int,
                                        _ lines: UnsafeBufferPointer<PatchLine>, _ g: ConvolutionGeometry, smallSpatial S: Int, stride sw: Int) {
        for channel in 0..<g.largeChannels {
            let rowShift = channel &* g.kernelVolume, sourceShift = channel &* g.largeSpatial
            for line in lines {
                let low = Int(line.low), high = Int(line.high)
                guard low < high else { continue }
                var input = cols + ((Int(line.row) &+ rowShift) &* ld &+ Int(line.position)), target = x + (Int(line.source) &+ sourceShift)
                for _ in 0..<count {
                    if line.interleaved {
                        let odd = input + ld
                        for w in 0..<high { target[2 &* w] += input[w]; target[2 &* w &+ 1] += odd[w] }
                    } else if sw == 1 {
                        for w in low..<high { target[w] += input[w] }
                    } else {
                        for w in low..<high { target[w &* sw] += input[w] }
                    }
                    input += S
                    target += sampleSize
                }
            }
        }
    }

    /// Column matrices up to this many elements are kept from the forward pass for the weight
    /// gradient instead of being rebuilt (64 MiB in Float).
    static let savedColumnBudget = 1 << 24

    /// small[n, o, :] = W[o, :]·patches(large[n]) + bias[o], or its positive part with `rectify`
    /// (a ReLU fused into the pass that reorders the product). With `keep` (and within the
    /// budget) also returns the form of the large grid the weight gradient reads, which
    /// `backward` takes as `kept`: every sub-batch's column matrix, stored at sample offset·P·S
    /// (`backward` walks the batch in the same sub-batches), or the padded samples of the direct
    /// kernels, which serve the geometries `DirectConvolution.handles`.
    @_specialize(where T == Float)
    static func forward<T: TensorScalar>(large: [T], weight: [T], bias: [T]? = nil, rectify: Bool = false, _ g: ConvolutionGeometry,
                                         keep: Bool = false) -> (output: [T], kept: [T]?) {
        if DirectConvolution.handles(g, T.self) {
            return DirectConvolution.forward(large: large, weight: weight, bias: bias, rectify: rectify, g, keepInput: keep, chunks: chunking(g).chunks)
        }
        let O = g.smallChannels, P = g.patchSize, S = g.smallSpatial, L = g.largeChannels * g.largeSpatial
        var out: [T] = Kernels.overwritten(g.batch * O * S)
        let (chunks, subBatch) = chunking(g)
        var saved: [T] = keep && g.batch * P * S <= savedColumnBudget ? Kernels.overwritten(g.batch * P * S) : []
        let biases = bias ?? [T](repeating: 0, count: O)
        let lines = patchLines(g), width = g.small[2], sw = g.stride[2]
        lines.withUnsafeBufferPointer { lp in
        saved.withUnsafeMutableBufferPointer { sp in
        biases.withUnsafeBufferPointer { bp in
        large.withUnsafeBufferPointer { xp in
            weight.withUnsafeBufferPointer { wp in
                out.withUnsafeMutableBufferPointer { op in
                    let x = xp.baseAddress.unsafelyUnwrapped, w = wp.baseAddress.unsafelyUnwrapped, o = op.baseAddress.unsafelyUnwrapped
                    let b = bp.baseAddress.unsafelyUnwrapped
                    Kernels.forEachChunk(g.batch, chunks: chunks) { _, samples in
                        let scratch = UnsafeMutablePointer<T>.allocate(capacity: sp.isEmpty ? P * subBatch * S : 0)
                        // The product of one sample is already in [channel, position] order: it is
                        // written straight into the output (large layers run one sample at a time).
                        let product = UnsafeMutablePointer<T>.allocate(capacity: subBatch > 1 ? O * subBatch * S : 0)
                        defer { scratch.deallocate(); product.deallocate() }
                        for start in stride(from: samples.lowerBound, to: samples.upperBound, by: subBatch) {
                            let count = min(subBatch, samples.upperBound - start)
                            let ld = count * S, inPlace = count == 1
                            // An empty array's buffer may still have a base address; test the count.
                            let cols = sp.isEmpty ? scratch : sp.baseAddress.unsafelyUnwrapped + start * P * S
                            im2col(x + start * L, count: count, sampleSize: L, cols, ld: ld, lp, g, width: width, smallSpatial: S, stride: sw)
                            T.gemm(transposeA: false, transposeB: false, m: O, n: ld, k: P, alpha: 1, a: w, lda: P, b: cols, ldb: ld, beta: 0,
                                   c: inPlace ? o + start &* O &* S : product, ldc: ld)
                            if inPlace && bias == nil && !rectify { continue }
                            // Back to [sample, channel, position] order, adding the bias on the way.
                            for s in 0..<count {
                                for oc in 0..<O {
                                    // (In place through one pointer: a second one would make the
                                    // compiler's overlap check fall back to scalar code.)
                                    let target = o + ((start &+ s) &* O &+ oc) &* S, source = product + (oc &* ld &+ s &* S), shift = b[oc]
                                    switch (inPlace, rectify) {
                                    case (true, true): for i in 0..<S { target[i] = Swift.max(target[i] + shift, 0) }
                                    case (true, false): for i in 0..<S { target[i] += shift }
                                    case (false, true): for i in 0..<S { target[i] = Swift.max(source[i] + shift, 0) }
                                    case (false, false): for i in 0..<S { target[i] = source[i] + shift }
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
        return (out, saved.isEmpty ? nil : saved)
    }

    /// Gradients of `forward`: with respect to the large grid (`needLarge`), the weight (`large`
    /// given) and the bias (`needBias`). `rectifiedOutput` is the output of a `rectify` forward:
    /// the gradient passes only where it is positive, a mask applied while the gradient is
    /// gathered. Weight and bias gradients are summed per chunk, then across chunks.
    @_specialize(where T == Float)
    static func backward<T: TensorScalar>(large: [T]?, weight: [T], smallGradient: [T], needLarge: Bool, needBias: Bool = false, rectifiedOutput: [T]? = nil,
                                          _ g: ConvolutionGeometry, kept: [T]? = nil) -> (large: [T]?, weight: [T]?, bias: [T]?) {
        if DirectConvolution.handles(g, T.self) {
            return DirectConvolution.backward(large: large, kept: kept, weight: weight, smallGradient: smallGradient, needLarge: needLarge, needBias: needBias,
                                              rectifiedOutput: rectifiedOutput, g, chunks: chunking(g).chunks)
        }
        let O = g.smallChannels, P = g.patchSize, S = g.smallSpatial, L = g.largeChannels * g.largeSpatial
        let (chunks, subBatch) = chunking(g)
        var dLarge: [T] = needLarge ? Kernels.overwritten(g.batch * L) : []
        let needWeight = large != nil
        // Per chunk: the weight gradient [O·P] (if needed) followed by the bias gradient [O] (if needed).
        let partialSize = (needWeight ? O * P : 0) + (needBias ? O : 0)
        var partials = [[T]](repeating: [], count: chunks)
        let xs = large ?? []
        let mask = rectifiedOutput ?? []
        let savedColumns = kept ?? []
        let lines = patchLines(g), width = g.small[2], sw = g.stride[2]
        lines.withUnsafeBufferPointer { lp in
        savedColumns.withUnsafeBufferPointer { saved in
        mask.withUnsafeBufferPointer { mp in
        partials.withUnsafeMutableBufferPointer { partials in
            xs.withUnsafeBufferPointer { xp in
                weight.withUnsafeBufferPointer { wp in
                    smallGradient.withUnsafeBufferPointer { gp in
                        dLarge.withUnsafeMutableBufferPointer { dp in
                            let w = wp.baseAddress.unsafelyUnwrapped, gr = gp.baseAddress.unsafelyUnwrapped
                            Kernels.forEachChunk(g.batch, chunks: chunks) { chunk, samples in
                                let cols = UnsafeMutablePointer<T>.allocate(capacity: P * subBatch * S)
                                let gathered = UnsafeMutablePointer<T>.allocate(capacity: subBatch > 1 || !mask.isEmpty ? O * subBatch * S : 0)
                                defer { cols.deallocate(); gathered.deallocate() }
                                // The weight part is written by the first sub-batch's product (beta 0).
                                var partial: [T] = Kernels.overwritten(partialSize)
                                if needBias { partial.withUnsafeMutableBufferPointer { ($0.baseAddress.unsafelyUnwrapped + (needWeight ? O * P : 0)).update(repeating: 0, count: O) } }
                                for start in stride(from: samples.lowerBound, to: samples.upperBound, by: subBatch) {
                                    let beta: T = start == samples.lowerBound ? 0 : 1
                                    let count = min(subBatch, samples.upperBound - start)
                                    let ld = count * S
                                    // One sample's gradient without a mask is already the [O, S] matrix the products read.
                                    let unmasked = mp.isEmpty
                                    let rows = count == 1 && unmasked ? gr + start &* O &* S : UnsafePointer(gathered)
                                    for s in 0..<count where !(count == 1 && unmasked) {
                                        for oc in 0..<O {
                                            let offset = ((start &+ s) &* O &+ oc) &* S
                                            let target = gathered + (oc &* ld &+ s &* S), source = gr + offset
                                            if let y = mp.baseAddress, !mp.isEmpty {
                                                // Both loads unconditional, so the select vectorizes.
                                                let output = y + offset
                                                for i in 0..<S {
                                                    let value = source[i]
                                                    target[i] = output[i] > 0 ? value : 0
                                                }
                                            } else {
                                                for i in 0..<S { target[i] = source[i] }
                                            }
                                        }
                                    }
                                    if needBias {
                                        partial.withUnsafeMutableBufferPointer { sums in
                                            let biasSums = sums.baseAddress.unsafelyUnwrapped + (needWeight ? O * P : 0)
                                            for oc in 0..<O {
                                                let row = rows + oc &* ld
                                                var total: T = 0
                                                for i in 0..<ld { total += row[i] }
                                                biasSums[oc] += total
                                            }
                                        }
                                    }
                                    if needWeight, let x = xp.baseAddress {
                                        var patches = UnsafePointer(cols)
                                        if !saved.isEmpty {
                                            patches = saved.baseAddress.unsafelyUnwrapped + start * P * S
                                        } else {
                                            im2col(x + start * L, count: count, sampleSize: L, cols, ld: ld, lp, g, width: width, smallSpatial: S, stride: sw)
                                        }
                                        partial.withUnsafeMutableBufferPointer { d in
                                            T.gemm(transposeA: false, transposeB: true, m: O, n: P, k: ld, alpha: 1, a: rows, lda: ld, b: patches, ldb: ld, beta: beta, c: d.baseAddress.unsafelyUnwrapped, ldc: P)
                                        }
                                    }
                                    if needLarge, let d = dp.baseAddress {
                                        T.gemm(transposeA: true, transposeB: false, m: P, n: ld, k: O, alpha: 1, a: w, lda: P, b: rows, ldb: ld, beta: 0, c: cols, ldc: ld)
                                        (d + start * L).update(repeating: 0, count: count * L)
                                        col2im(cols, ld: ld, d + start * L, count: count, sampleSize: L, lp, g, smallSpatial: S, stride: sw)
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
        }
        let total = Kernels.sumOfPartials(partials)
        return (needLarge ? dLarge : nil, needWeight ? Array(total.prefix(O * P)) : nil, needBias ? Array(total.suffix(O)) : nil)
    }
}

extension Variable {
    /// N-dimensional convolution (1, 2 or 3 spatial axes, from the input rank) with weight
    /// [out, in, k...] and optional bias [out]. `rectified: true` returns relu(convolution)
    /// with the ReLU fused into the convolution's own passes (two fewer passes over the output
    /// in training); the value and gradients are those of `.relu()` applied afterwards.
    @_specialize(where T == Float)
    public static func convolution(_ x: Variable, weight: Variable, bias: Variable?, stride: [Int]? = nil, padding: Padding = .valid,
                                   rectified: Bool = false) throws -> Variable {
        let spatialRank = x.shape.count - 2
        let op = "conv\(spatialRank)d"
        guard (1...3).contains(spatialRank), weight.shape.count == spatialRank + 2, x.shape[1] == weight.shape[1] else {
            throw ShapeError(operation: op, "expected input [N, C, spatial...] and weight [out, C, kernel...] with matching C", shapes: [x.shape, weight.shape])
        }
        let stride = stride ?? [Int](repeating: 1, count: spatialRank)
        guard stride.count == spatialRank, stride.allSatisfy({ $0 >= 1 }) else {
            throw ShapeError(operation: op, "stride \(stride) must have \(spatialRank) positive values", shapes: [x.shape, weight.shape])
        }
        if let bias, bias.shape != [weight.shape[0]] {
            throw ShapeError(operation: op, "bias must be [out]", shapes: [bias.shape, weight.shape])
        }
        let spatial = Array(x.shape.dropFirst(2)), kernel = Array(weight.shape.dropFirst(2))
        let (before, output) = try ConvolutionGeometry.resolve(padding, input: spatial, kernel: kernel, stride: stride, operation: op, shapes: [x.shape, weight.shape])
        let g = ConvolutionGeometry(batch: x.shape[0], largeChannels: x.shape[1], smallChannels: weight.shape[0],
                                    large: ConvolutionGeometry.lift(spatial), small: ConvolutionGeometry.lift(output),
                                    kernel: ConvolutionGeometry.lift(kernel), stride: ConvolutionGeometry.lift(stride),
                                    padBefore: ConvolutionGeometry.lift(before, fill: 0))
        let (out, kept) = ConvolutionKernels.forward(large: x.value.scalars, weight: weight.value.scalars, bias: bias?.value.scalars,
                                                     rectify: rectified, g, keep: weight.requiresGrad)
        let outShape = [x.shape[0], weight.shape[0]] + output
        let inputs = [x, weight] + (bias.map { [$0] } ?? [])
        return Variable(Tensor(validShape: outShape, scalars: out), operation: rectified ? op + "+relu" : op, inputs: inputs) { grad in
            let (dx, dw, db) = ConvolutionKernels.backward(large: weight.requiresGrad ? x.value.scalars : nil, weight: weight.value.scalars,
                                                           smallGradient: grad.scalars, needLarge: x.requiresGrad, needBias: bias?.requiresGrad ?? false,
                                                           rectifiedOutput: rectified ? out : nil, g, kept: kept)
            if let dx { x.accumulate(Tensor(validShape: x.shape, scalars: dx)) }
            if let dw { weight.accumulate(Tensor(validShape: weight.shape, scalars: dw)) }
            if let bias, let db { bias.accumulate(Tensor(validShape: bias.shape, scalars: db)) }
        }
    }

    /// Transposed convolution with weight [in, out, k...] (PyTorch layout). Output size per axis:
    /// `valid` → (in−1)·s + k; `same` → in·s (Keras); `explicit(p)` → (in−1)·s − 2p + k + outputPadding.
    @_specialize(where T == Float)
    public static func transposedConvolution(_ x: Variable, weight: Variable, bias: Variable?, stride: [Int]? = nil, padding: Padding = .valid, outputPadding: [Int]? = nil) throws -> Variable {
        let spatialRank = x.shape.count - 2
        let op = "convTranspose\(spatialRank)d"
        guard (1...3).contains(spatialRank), weight.shape.count == spatialRank + 2, x.shape[1] == weight.shape[0] else {
            throw ShapeError(operation: op, "expected input [N, C, spatial...] and weight [C, out, kernel...] with matching C", shapes: [x.shape, weight.shape])
        }
        let stride = stride ?? [Int](repeating: 1, count: spatialRank)
        let outputPadding = outputPadding ?? [Int](repeating: 0, count: spatialRank)
        guard stride.count == spatialRank, stride.allSatisfy({ $0 >= 1 }), outputPadding.count == spatialRank,
              zip(outputPadding, stride).allSatisfy({ $0 >= 0 && $0 < $1 }) else {
            throw ShapeError(operation: op, "stride \(stride) / output padding \(outputPadding) invalid for \(spatialRank) axes", shapes: [x.shape, weight.shape])
        }
        if let bias, bias.shape != [weight.shape[1]] {
            throw ShapeError(operation: op, "bias must be [out]", shapes: [bias.shape, weight.shape])
        }
        let spatial = Array(x.shape.dropFirst(2)), kernel = Array(weight.shape.dropFirst(2))
        var before = [Int](), output = [Int]()
        for axis in 0..<spatialRank {
            let n = spatial[axis], k = kernel[axis], s = stride[axis]
            switch padding {
            case .valid:
                before.append(0); output.append((n - 1) * s + k + outputPadding[axis])
            case .same:
                before.append(Padding.sameTransposedConvolution(kernel: k, stride: s).before); output.append(n * s)
            case .explicit(let values):
                guard values.count == spatialRank, values[axis] >= 0 else {
                    throw ShapeError(operation: op, "explicit padding needs \(spatialRank) non-negative values", shapes: [x.shape, weight.shape])
                }
                before.append(values[axis]); output.append((n - 1) * s - 2 * values[axis] + k + outputPadding[axis])
            }
            guard output[axis] >= 1 else {
                throw ShapeError(operation: op, "output size \(output[axis]) impossible on spatial axis \(axis)", shapes: [x.shape, weight.shape])
            }
        }
        let g = ConvolutionGeometry(batch: x.shape[0], largeChannels: weight.shape[1], smallChannels: weight.shape[0],
                                    large: ConvolutionGeometry.lift(output), small: ConvolutionGeometry.lift(spatial),
                                    kernel: ConvolutionGeometry.lift(kernel), stride: ConvolutionGeometry.lift(stride),
                                    padBefore: ConvolutionGeometry.lift(before, fill: 0))
        guard var out = ConvolutionKernels.backward(large: nil, weight: weight.value.scalars, smallGradient: x.value.scalars, needLarge: true, g).large else {
            throw ShapeError(operation: op, "no output", shapes: [x.shape])
        }
        if let bias { addChannelBias(&out, bias.value.scalars, spatial: g.largeSpatial) }
        let outShape = [x.shape[0], weight.shape[1]] + output
        let inputs = [x, weight] + (bias.map { [$0] } ?? [])
        return Variable(Tensor(validShape: outShape, scalars: out), operation: op, inputs: inputs) { grad in
            // What the input gradient's pass keeps of `grad` is what the weight gradient reads.
            var kept: [T]?
            if x.requiresGrad {
                let (dx, keptGradient) = ConvolutionKernels.forward(large: grad.scalars, weight: weight.value.scalars, g, keep: weight.requiresGrad)
                x.accumulate(Tensor(validShape: x.shape, scalars: dx))
                kept = keptGradient
            }
            if weight.requiresGrad, let dw = ConvolutionKernels.backward(large: grad.scalars, weight: weight.value.scalars, smallGradient: x.value.scalars,
                                                                         needLarge: false, g, kept: kept).weight {
                weight.accumulate(Tensor(validShape: weight.shape, scalars: dw))
            }
            if let bias, bias.requiresGrad { bias.accumulate(Tensor(validShape: bias.shape, scalars: channelSums(grad.scalars, channels: g.largeChannels, spatial: g.largeSpatial))) }
        }
    }

    @_specialize(where T == Float)
    static func addChannelBias(_ out: inout [T], _ bias: [T], spatial: Int) {
        let channels = bias.count
        out.withUnsafeMutableBufferPointer { o in
            for base in stride(from: 0, to: o.count, by: channels * spatial) {
                for c in 0..<channels {
                    let b = bias[c], start = base + c * spatial
                    for i in start..<(start + spatial) { o[i] += b }
                }
            }
        }
    }

    @_specialize(where T == Float)
    static func channelSums(_ g: [T], channels: Int, spatial: Int) -> [T] {
        var sums = [T](repeating: 0, count: channels)
        g.withUnsafeBufferPointer { p in
            for base in stride(from: 0, to: p.count, by: channels * spatial) {
                for c in 0..<channels {
                    var s: T = 0
                    let start = base + c * spatial
                    for i in start..<(start + spatial) { s += p[i] }
                    sums[c] += s
                }
            }
        }
        return sums
    }
}
