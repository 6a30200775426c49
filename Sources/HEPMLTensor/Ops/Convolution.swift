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
    /// `transposedForward` asks for one line per kernel offset (`interleaving: false`): it pairs
    /// the two taps itself, per tile of lines.
    static func patchLines(_ g: ConvolutionGeometry, interleaving: Bool = true) -> [PatchLine] {
        let (D, H, W) = (g.large[0], g.large[1], g.large[2])
        let (Do, Ho, Wo) = (g.small[0], g.small[1], g.small[2])
        var lines: [PatchLine] = []
        lines.reserveCapacity(g.kernelVolume * Do * Ho)
        // Kernel offsets 0 and 1 along the line each cover every small position of it (the
        // decoder's depth upsampling): one interleaved line instead of two strided ones.
        let interleaved = interleaving && g.kernel[2] == 2 && g.stride[2] == 2 && g.padBefore[2] == 0 && W == 2 * Wo
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

    /// small[n, o, :] = W[o, :]·patches(large[n]) + bias[o], through a ReLU (`negativeSlope` 0) or
    /// LeakyReLU (`negativeSlope` a) when one is given, fused into the pass that reorders the
    /// product (`activate`). With `keep` (and within the
    /// budget) also returns the form of the large grid the weight gradient reads, which
    /// `backward` takes as `kept`: every sub-batch's column matrix, stored at sample offset·P·S
    /// (`backward` walks the batch in the same sub-batches), or the padded samples of the direct
    /// kernels, which serve the geometries `DirectConvolution.handles`.
    @_specialize(where T == Float)
    static func forward<T: TensorScalar>(large: [T], weight: [T], bias: [T]? = nil, negativeSlope: T? = nil, _ g: ConvolutionGeometry,
                                         keep: Bool = false) -> (output: [T], kept: [T]?) {
        if DirectConvolution.handles(g, T.self) {
            return DirectConvolution.forward(large: large, weight: weight, bias: bias, negativeSlope: negativeSlope, g, keepInput: keep, chunks: chunking(g).chunks)
        }
        let O = g.smallChannels, P = g.patchSize, S = g.smallSpatial, L = g.largeChannels * g.largeSpatial
        var out: [T] = Kernels.overwritten(g.batch * O * S)
        let (chunks, subBatch) = chunking(g)
        var saved: [T] = keep && g.batch * P * S <= savedColumnBudget ? Kernels.overwritten(g.batch * P * S) : []
        let biases = bias ?? [T](repeating: 0, count: O)
        let lines = patchLines(g), width = g.small[2], sw = g.stride[2]
        // (Kept columns must be where `backward` reads them: per sample when it takes one at a time.)
        if g.batch < 2 * Parallel.threadCount && g.batch * O * P * S >= 1 << 17 && (saved.isEmpty || subBatch == 1) {
            forwardByLineRanges(large: large, weight: weight, biases: biases, negativeSlope: negativeSlope, g, lines: lines, saved: &saved, out: &out)
            return (out, saved.isEmpty ? nil : saved)
        }
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
                            if inPlace && bias == nil && negativeSlope == nil { continue }
                            // Back to [sample, channel, position] order, adding the bias on the way.
                            for s in 0..<count {
                                for oc in 0..<O {
                                    let target = o + ((start &+ s) &* O &+ oc) &* S
                                    if inPlace {
                                        activateInPlace(target, shift: b[oc], negativeSlope: negativeSlope, count: S)
                                    } else {
                                        activate(from: product + (oc &* ld &+ s &* S), shift: b[oc], negativeSlope: negativeSlope, into: target, count: S)
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

    /// `forward` for a batch with fewer than two samples per thread (batch-1 inference, which
    /// would run as one chunk on one core; the side split's batch of 2): each sample's small-grid
    /// lines are split into ranges, about two per thread, and a range runs a tile of lines at a time (gathering the tile's patches
    /// from the patch-line table restricted to them, multiplying, activating into its own
    /// output positions), so the product stays in cache. Columns to keep go to `saved` at the
    /// positions the one-chunk path gives them.
    @_specialize(where T == Float)
    static func forwardByLineRanges<T: TensorScalar>(large: [T], weight: [T], biases: [T], negativeSlope: T?, _ g: ConvolutionGeometry,
                                                     lines: [PatchLine], saved: inout [T], out: inout [T]) {
        let O = g.smallChannels, P = g.patchSize, S = g.smallSpatial, L = g.largeChannels * g.largeSpatial, V = g.kernelVolume
        let (Wo, lineCount) = (g.small[2], g.small[0] * g.small[1])
        let ranges = min(lineCount, (2 * Parallel.threadCount + g.batch - 1) / g.batch)
        let tileLines = max(1, columnTileBudget / max(max(O, P) * Wo, 1)), sw = g.stride[2]
        lines.withUnsafeBufferPointer { lp in
        saved.withUnsafeMutableBufferPointer { sp in
        biases.withUnsafeBufferPointer { bp in
        large.withUnsafeBufferPointer { xp in
        weight.withUnsafeBufferPointer { wp in
        out.withUnsafeMutableBufferPointer { op in
            let x = xp.baseAddress.unsafelyUnwrapped, w = wp.baseAddress.unsafelyUnwrapped, o = op.baseAddress.unsafelyUnwrapped
            Kernels.forEachChunk(g.batch * ranges, chunks: g.batch * ranges) { unit, _ in
                let n = unit / ranges, part = unit % ranges
                let firstLine = part * lineCount / ranges, endLine = (part + 1) * lineCount / ranges
                guard firstLine < endLine else { return }
                let capacity = min(tileLines, endLine - firstLine) * Wo
                let scratch = UnsafeMutablePointer<T>.allocate(capacity: sp.isEmpty ? P * capacity : 0)
                let product = UnsafeMutablePointer<T>.allocate(capacity: O * capacity)
                defer { scratch.deallocate(); product.deallocate() }
                var tileTable: [PatchLine] = []
                tileTable.reserveCapacity(V * tileLines)
                for tileStart in stride(from: firstLine, to: endLine, by: tileLines) {
                    let tileEnd = min(endLine, tileStart + tileLines), columns = (tileEnd - tileStart) * Wo
                    // The tile's lines, positions counted from its first column.
                    tileTable.removeAll(keepingCapacity: true)
                    for row in 0..<(lp.count / lineCount) {  // V, or V/2 with interleaved lines
                        for index in tileStart..<tileEnd {
                            var line = lp[row * lineCount + index]
                            line.position = Int32((index - tileStart) * Wo)
                            tileTable.append(line)
                        }
                    }
                    let (cols, ld) = sp.isEmpty ? (scratch, columns) : (sp.baseAddress.unsafelyUnwrapped + n * P * S + tileStart * Wo, S)
                    tileTable.withUnsafeBufferPointer { table in
                        im2col(x + n * L, count: 1, sampleSize: L, cols, ld: ld, table, g, width: Wo, smallSpatial: S, stride: sw)
                    }
                    T.gemm(transposeA: false, transposeB: false, m: O, n: columns, k: P, alpha: 1, a: w, lda: P, b: cols, ldb: ld, beta: 0, c: product, ldc: columns)
                    for oc in 0..<O {
                        activate(from: product + oc * columns, shift: bp[oc], negativeSlope: negativeSlope, into: o + (n * O + oc) * S + tileStart * Wo, count: columns)
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

    /// target[i] = activation(source[i] + shift) for `count` values of a separate source (in place:
    /// `activateInPlace`): the identity, ReLU (`negativeSlope` 0, as `relu()` computes it) or
    /// LeakyReLU (as `leakyRelu`).
    @inline(__always)
    static func activate<T: TensorScalar>(from source: UnsafePointer<T>, shift: T, negativeSlope: T?, into target: UnsafeMutablePointer<T>, count: Int) {
        switch negativeSlope {
        case nil: for i in 0..<count { target[i] = source[i] + shift }
        case 0: for i in 0..<count { target[i] = Swift.max(source[i] + shift, 0) }
        case let slope?: for i in 0..<count { let value = source[i] + shift; target[i] = value > 0 ? value : slope * value }
        }
    }

    /// `activate` in place, through one pointer: a second, aliasing one would make the compiler's
    /// overlap check fall back to scalar code.
    @inline(__always)
    static func activateInPlace<T: TensorScalar>(_ target: UnsafeMutablePointer<T>, shift: T, negativeSlope: T?, count: Int) {
        switch negativeSlope {
        case nil: for i in 0..<count { target[i] += shift }
        case 0: for i in 0..<count { target[i] = Swift.max(target[i] + shift, 0) }
        case let slope?: for i in 0..<count { let value = target[i] + shift; target[i] = value > 0 ? value : slope * value }
        }
    }

    /// The output gradient of an activated (`activate`) output: it passes where the output is
    /// positive and is scaled by the negative slope elsewhere (for slopes ≥ 0 the output and
    /// the pre-activation have the same sign).
    @inline(__always)
    static func gradientThroughActivation<T: TensorScalar>(_ gradient: UnsafePointer<T>, output: UnsafePointer<T>, negativeSlope: T,
                                                           into target: UnsafeMutablePointer<T>, count: Int) {
        // Both loads unconditional, so the select vectorizes.
        for i in 0..<count {
            let value = gradient[i]
            target[i] = output[i] > 0 ? value : negativeSlope * value
        }
    }

    /// Gradients of `forward`: with respect to the large grid (`needLarge`), the weight (`large`
    /// given) and the bias (`needBias`). `activatedOutput` is the output of a forward with
    /// `negativeSlope`: the gradient is masked by `gradientThroughActivation` while it is
    /// gathered. Weight and bias gradients are summed per chunk, then across chunks.
    @_specialize(where T == Float)
    static func backward<T: TensorScalar>(large: [T]?, weight: [T], smallGradient: [T], needLarge: Bool, needBias: Bool = false,
                                          activatedOutput: [T]? = nil, negativeSlope: T = 0,
                                          _ g: ConvolutionGeometry, kept: [T]? = nil) -> (large: [T]?, weight: [T]?, bias: [T]?) {
        if DirectConvolution.handles(g, T.self) {
            return DirectConvolution.backward(large: large, kept: kept, weight: weight, smallGradient: smallGradient, needLarge: needLarge, needBias: needBias,
                                              activatedOutput: activatedOutput, negativeSlope: negativeSlope, g, chunks: chunking(g).chunks)
        }
        let O = g.smallChannels, P = g.patchSize, S = g.smallSpatial, L = g.largeChannels * g.largeSpatial
        let (chunks, subBatch) = chunking(g)
        var dLarge: [T] = needLarge ? Kernels.overwritten(g.batch * L) : []
        let needWeight = large != nil
        // Per chunk: the weight gradient [O·P] (if needed) followed by the bias gradient [O] (if needed).
        let partialSize = (needWeight ? O * P : 0) + (needBias ? O : 0)
        var partials = [[T]](repeating: [], count: chunks)
        let xs = large ?? []
        let mask = activatedOutput ?? []
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
                                                gradientThroughActivation(source, output: y + offset, negativeSlope: negativeSlope, into: target, count: S)
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

extension ConvolutionKernels {
    /// Elements of the column or product tile that the tiled paths (`forwardByLineRanges`,
    /// `transposedForward`) hold at a time (256 KiB in Float, so it stays in a Zen core's L2).
    static let columnTileBudget = 1 << 16

    /// The output of a transposed convolution (the large grid): the adjoint product of
    /// `backward` (column matrix, then col2im), then bias and activation (`activate`).
    ///
    /// The one-product path writes one sample's whole column matrix (2.25× the output for the
    /// HCAL decoder's 3×3×2 stride-2 kernels, 53 MB) through memory and runs a batch of one on a
    /// single core. When a sample's column matrix exceeds a tile, or the batch has fewer than two
    /// samples per thread, the work runs instead in units that own disjoint outputs: a sample, a
    /// block of its large channels (a channel's column rows are its kernel offsets; blocks only
    /// when the batch alone gives fewer than two units per thread) and, where kernel ≤ stride on the outermost
    /// axis (so consecutive small rows scatter into disjoint large rows: 1×1×1 output layers),
    /// a range of small rows. A unit computes its rows of the column matrix a tile of small-grid
    /// lines at a time, so the tile stays in cache, scatters each tile into its own output
    /// (col2im), then activates that output. The sums agree with the one-product path's to
    /// rounding. (`threads` lets tests take either path on any machine.)
    @_specialize(where T == Float)
    static func transposedForward<T: TensorScalar>(small: [T], weight: [T], bias: [T]?, negativeSlope: T?, _ g: ConvolutionGeometry,
                                                   threads: Int = Parallel.threadCount) -> [T]? {
        let C = g.largeChannels, LS = g.largeSpatial, V = g.kernelVolume, O = g.smallChannels, P = g.patchSize, S = g.smallSpatial
        let shifts = bias ?? []
        let enoughWork = g.batch * O * P * S >= 1 << 17, fewSamples = g.batch < 2 * threads && enoughWork
        let blocks = fewSamples ? min(C, (2 * threads + g.batch - 1) / g.batch) : 1
        let (Do, Ho, Wo) = (g.small[0], g.small[1], g.small[2]), (D, largePlane) = (g.large[0], g.large[1] * g.large[2])
        let parts = enoughWork && g.kernel[0] <= g.stride[0] && g.batch * blocks < 2 * threads
            ? min(Do, (2 * threads + g.batch * blocks - 1) / (g.batch * blocks)) : 1
        guard P * S > columnTileBudget || fewSamples || parts > 1 else {
            guard var out = backward(large: nil, weight: weight, smallGradient: small, needLarge: true, g).large else { return nil }
            guard bias != nil || negativeSlope != nil else { return out }
            shifts.withUnsafeBufferPointer { bp in
                out.withUnsafeMutableBufferPointer { op in
                    let o = op.baseAddress.unsafelyUnwrapped
                    Kernels.forEachChunk(g.batch * C, minimumChunk: max(1, Kernels.parallelThreshold / max(LS, 1))) { planes in
                        for plane in planes {
                            activateInPlace(o + plane &* LS, shift: bp.isEmpty ? 0 : bp[plane % C], negativeSlope: negativeSlope, count: LS)
                        }
                    }
                }
            }
            return out
        }
        let channelsPerBlock = (C + blocks - 1) / blocks
        let tileLines = max(1, columnTileBudget / max(channelsPerBlock * V * Wo, 1))
        let lines = patchLines(g, interleaving: false), sw = g.stride[2], (s0, pad0) = (g.stride[0], g.padBefore[0])
        let pairedTaps = g.kernel[2] == 2 && sw == 2
        var out: [T] = Kernels.overwritten(g.batch * C * LS)
        lines.withUnsafeBufferPointer { lp in
        shifts.withUnsafeBufferPointer { bp in
        small.withUnsafeBufferPointer { xp in
        weight.withUnsafeBufferPointer { wp in
        out.withUnsafeMutableBufferPointer { op in
            let x = xp.baseAddress.unsafelyUnwrapped, w = wp.baseAddress.unsafelyUnwrapped, o = op.baseAddress.unsafelyUnwrapped
            let table = lp.baseAddress.unsafelyUnwrapped
            Kernels.forEachChunk(g.batch * blocks * parts, chunks: g.batch * blocks * parts) { unit, _ in
                let n = unit / (blocks * parts), block = unit / parts % blocks, part = unit % parts
                let first = block * channelsPerBlock, last = min(C, first + channelsPerBlock)
                // Small rows [firstRow, endRow) scatter into large rows [firstDepth, endDepth),
                // which the part owns with any rows between parts that no small row reaches.
                let firstRow = part * Do / parts, endRow = (part + 1) * Do / parts
                let firstDepth = part == 0 ? 0 : min(D, max(0, firstRow * s0 - pad0))
                let endDepth = part == parts - 1 ? D : min(D, max(0, endRow * s0 - pad0))
                guard first < last, firstRow < endRow else { return }
                let rows = (last - first) * V, lineCount = Do * Ho
                let planes = o + (n * C + first) * LS, owned = (endDepth - firstDepth) * largePlane
                for channel in 0..<(last - first) { (planes + channel * LS + firstDepth * largePlane).update(repeating: 0, count: owned) }
                let tile = UnsafeMutablePointer<T>.allocate(capacity: rows * min(tileLines, (endRow - firstRow) * Ho) * Wo)
                defer { tile.deallocate() }
                for firstLine in stride(from: firstRow * Ho, to: endRow * Ho, by: tileLines) {
                    let tileEnd = min(endRow * Ho, firstLine + tileLines), columns = (tileEnd - firstLine) * Wo
                    let input = x + n * O * S + firstLine * Wo
                    if rows == 1 {
                        // One output row (a 1×1×1 layer to one channel): a weighted sum of input
                        // rows, which sgemm would run after copying (packing) the whole input.
                        tile.update(repeating: 0, count: columns)
                        for o in 0..<O {
                            let factor = w[o &* P &+ first], source = input + o &* S
                            for c in 0..<columns { tile[c] += factor * source[c] }
                        }
                    } else {
                        T.gemm(transposeA: true, transposeB: false, m: rows, n: columns, k: O, alpha: 1, a: w + first * V, lda: P,
                               b: input, ldb: S, beta: 0, c: tile, ldc: columns)
                    }
                    var row = 0
                    while row < rows {
                        let target = planes + (row / V) &* LS, offset = row % V
                        // Two taps of a 2-wide, stride-2 kernel row fill alternate outputs of
                        // the same line: one contiguous pass instead of two stride-2 scatters.
                        let paired = pairedTaps && offset % 2 == 0
                        for index in firstLine..<tileEnd {
                            let line = table[offset &* lineCount &+ index]
                            let low = Int(line.low), high = Int(line.high)
                            let input = tile + (row &* columns &+ (index &- firstLine) &* Wo), output = target + Int(line.source)
                            if paired {
                                let partner = table[(offset &+ 1) &* lineCount &+ index]
                                if partner.low == line.low && partner.high == line.high && partner.source == line.source &+ 1 {
                                    let second = input + columns
                                    for w in low..<high {
                                        output[2 &* w] += input[w]
                                        output[2 &* w &+ 1] += second[w]
                                    }
                                    continue
                                }
                                let second = input + columns, secondOutput = target + Int(partner.source)
                                for w in Int(partner.low)..<Int(partner.high) { secondOutput[2 &* w] += second[w] }
                            }
                            guard low < high else { continue }
                            if sw == 1 {
                                for w in low..<high { output[w] += input[w] }
                            } else {
                                for w in low..<high { output[w &* sw] += input[w] }
                            }
                        }
                        row += paired ? 2 : 1
                    }
                }
                guard bias != nil || negativeSlope != nil else { return }
                for channel in first..<last {
                    let region = o + (n * C + channel) * LS + firstDepth * largePlane
                    activateInPlace(region, shift: bp.isEmpty ? 0 : bp[channel], negativeSlope: negativeSlope, count: owned)
                }
            }
        }
        }
        }
        }
        }
        return out
    }
}

extension Variable {
    /// N-dimensional convolution (1, 2 or 3 spatial axes, from the input rank) with weight
    /// [out, in, k...] and optional bias [out]. With `negativeSlope` it returns
    /// relu(convolution) (slope 0) or leakyRelu(convolution, slope) (slope > 0) with the
    /// activation fused into the convolution's own passes (two fewer passes over the output);
    /// the value and gradients are those of `.relu()` or `.leakyRelu(slope:)` applied afterwards.
    @_specialize(where T == Float)
    public static func convolution(_ x: Variable, weight: Variable, bias: Variable?, stride: [Int]? = nil, padding: Padding = .valid,
                                   negativeSlope: T? = nil) throws -> Variable {
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
        try validateFusedSlope(negativeSlope, operation: op, shapes: [x.shape, weight.shape])
        let spatial = Array(x.shape.dropFirst(2)), kernel = Array(weight.shape.dropFirst(2))
        let (before, output) = try ConvolutionGeometry.resolve(padding, input: spatial, kernel: kernel, stride: stride, operation: op, shapes: [x.shape, weight.shape])
        let g = ConvolutionGeometry(batch: x.shape[0], largeChannels: x.shape[1], smallChannels: weight.shape[0],
                                    large: ConvolutionGeometry.lift(spatial), small: ConvolutionGeometry.lift(output),
                                    kernel: ConvolutionGeometry.lift(kernel), stride: ConvolutionGeometry.lift(stride),
                                    padBefore: ConvolutionGeometry.lift(before, fill: 0))
        let (out, kept) = ConvolutionKernels.forward(large: x.value.scalars, weight: weight.value.scalars, bias: bias?.value.scalars,
                                                     negativeSlope: negativeSlope, g, keep: weight.requiresGrad)
        let outShape = [x.shape[0], weight.shape[0]] + output
        let inputs = [x, weight] + (bias.map { [$0] } ?? [])
        return Variable(Tensor(validShape: outShape, scalars: out), operation: fusedName(op, negativeSlope), inputs: inputs) { grad in
            let (dx, dw, db) = ConvolutionKernels.backward(large: weight.requiresGrad ? x.value.scalars : nil, weight: weight.value.scalars,
                                                           smallGradient: grad.scalars, needLarge: x.requiresGrad, needBias: bias?.requiresGrad ?? false,
                                                           activatedOutput: negativeSlope == nil ? nil : out, negativeSlope: negativeSlope ?? 0, g, kept: kept)
            if let dx { x.accumulate(Tensor(validShape: x.shape, scalars: dx)) }
            if let dw { weight.accumulate(Tensor(validShape: weight.shape, scalars: dw)) }
            if let bias, let db { bias.accumulate(Tensor(validShape: bias.shape, scalars: db)) }
        }
    }

    /// Transposed convolution with weight [in, out, k...] (PyTorch layout). Output size per axis:
    /// `valid` → (in−1)·s + k; `same` → in·s (Keras); `explicit(p)` → (in−1)·s − 2p + k + outputPadding.
    /// `negativeSlope` fuses a ReLU or LeakyReLU as in `convolution`.
    @_specialize(where T == Float)
    public static func transposedConvolution(_ x: Variable, weight: Variable, bias: Variable?, stride: [Int]? = nil, padding: Padding = .valid, outputPadding: [Int]? = nil,
                                             negativeSlope: T? = nil) throws -> Variable {
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
        try validateFusedSlope(negativeSlope, operation: op, shapes: [x.shape, weight.shape])
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
        guard let out = ConvolutionKernels.transposedForward(small: x.value.scalars, weight: weight.value.scalars, bias: bias?.value.scalars,
                                                             negativeSlope: negativeSlope, g) else {
            throw ShapeError(operation: op, "no output", shapes: [x.shape])
        }
        let outShape = [x.shape[0], weight.shape[1]] + output
        let inputs = [x, weight] + (bias.map { [$0] } ?? [])
        return Variable(Tensor(validShape: outShape, scalars: out), operation: fusedName(op, negativeSlope), inputs: inputs) { outputGradient in
            var grad = outputGradient
            if let negativeSlope {
                var masked: [T] = Kernels.overwritten(out.count)
                outputGradient.scalars.withUnsafeBufferPointer { gp in
                    out.withUnsafeBufferPointer { yp in
                        masked.withUnsafeMutableBufferPointer { mp in
                            ConvolutionKernels.gradientThroughActivation(gp.baseAddress.unsafelyUnwrapped, output: yp.baseAddress.unsafelyUnwrapped,
                                                                         negativeSlope: negativeSlope, into: mp.baseAddress.unsafelyUnwrapped, count: out.count)
                        }
                    }
                }
                grad = Tensor(validShape: outShape, scalars: masked)
            }
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

    /// A fused activation's slope must keep the output's sign (the gradient mask reads it).
    static func validateFusedSlope(_ negativeSlope: T?, operation: String, shapes: [[Int]]) throws {
        if let negativeSlope, !(negativeSlope >= 0) {
            throw ShapeError(operation: operation, "a fused activation needs a negative slope ≥ 0, got \(negativeSlope)", shapes: shapes)
        }
    }

    static func fusedName(_ operation: String, _ negativeSlope: T?) -> String {
        switch negativeSlope {
        case nil: operation
        case 0: operation + "+relu"
        case let slope?: operation + "+leakyRelu(\(slope))"
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
