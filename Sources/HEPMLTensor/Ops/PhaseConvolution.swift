import CVectorKernels
import HEPMLCore

/// Strided convolutions — and so the strided transposed convolutions of decoders, their adjoints —
/// on the direct kernels of `CVectorKernels`, split by stride phase.
///
/// With stride s and padding p on an axis, kernel tap k of small position i reads large position
/// s·i + k − p. The taps k = φ + s·t of one phase φ (0 ≤ φ < s) read s·(i + t) + φ − p: a stride-1
/// convolution of the phase grid G_φ[j] = large[s·j + φ − p] (zero outside the large grid,
/// j < small + taps − 1, which is exactly the zero-padded grid the direct kernels read) with the
/// sub-kernel W_φ[t] = W[φ + s·t]. The convolution is the sum of its phases; its adjoint, the
/// transposed convolution's forward pass, writes each phase's input gradient to that phase's own
/// large positions, which no other phase touches. im2col would instead build a column matrix as
/// large as kernel volume / stride volume times the output (9× for the HCAL decoder's 3×3×2
/// kernels at stride 2×2×2) and scatter it back in lines as short as the depth axis.
enum PhaseConvolution {
    /// One stride phase: φ per axis and its stride-1 problem (large = the phase grid, kernel = its taps).
    struct Phase {
        var offset: [Int]
        var geometry: ConvolutionGeometry
    }

    /// Float, a CPU with the direct kernels, a stride above 1, and phases whose patches average
    /// at least `minimumPhasePatch` values (smaller ones, such as the DQM autoencoder's strided
    /// 12-channel 3-tap layers, stay on im2col, which batches them into one product).
    static func handles<T: TensorScalar>(_ g: ConvolutionGeometry, _: T.Type) -> Bool {
        T.self == Float.self && DirectConvolution.instructions != .baseline && g.stride.contains { $0 > 1 }
            && g.patchSize >= minimumPhasePatch * g.stride.reduce(1, *)
    }

    static let minimumPhasePatch = 32

    /// The phases that have taps on every axis, largest patch first (so that the worker pool,
    /// claiming phases dynamically, ends with the small ones).
    static func phases(_ g: ConvolutionGeometry) -> [Phase] {
        var phases: [Phase] = []
        for a in 0..<g.stride[0] { for b in 0..<g.stride[1] { for c in 0..<g.stride[2] {
            let offset = [a, b, c]
            let taps = (0..<3).map { axis -> Int in
                let reach = g.kernel[axis] - offset[axis]
                return reach > 0 ? (reach + g.stride[axis] - 1) / g.stride[axis] : 0
            }
            guard taps.allSatisfy({ $0 > 0 }) else { continue }
            let grid = (0..<3).map { g.small[$0] + taps[$0] - 1 }
            phases.append(Phase(offset: offset, geometry: ConvolutionGeometry(batch: g.batch, largeChannels: g.largeChannels, smallChannels: g.smallChannels,
                                                                             large: grid, small: g.small, kernel: taps, stride: [1, 1, 1], padBefore: [0, 0, 0])))
        } } }
        return phases.sorted { $0.geometry.kernelVolume > $1.geometry.kernelVolume }
    }

    /// Per axis, the large position of each phase-grid index, or −1 where it lies in the padding.
    static func largePositions(_ g: ConvolutionGeometry, _ phase: Phase) -> [[Int]] {
        (0..<3).map { axis in
            (0..<phase.geometry.large[axis]).map { j in
                let y = g.stride[axis] * j + phase.offset[axis] - g.padBefore[axis]
                return y >= 0 && y < g.large[axis] ? y : -1
            }
        }
    }

    /// Whether the phases together reach every large position (otherwise the input gradient
    /// starts from zeros: positions no tap reads get none).
    static func coversLarge(_ g: ConvolutionGeometry, _ phases: [Phase]) -> Bool {
        (0..<3).allSatisfy { axis in
            var reached = [Bool](repeating: false, count: g.large[axis])
            for phase in phases { for y in largePositions(g, phase)[axis] where y >= 0 { reached[y] = true } }
            return !reached.contains(false)
        }
    }

    /// W_φ [O, C, taps...] from W [O, C, kernel...].
    static func phaseWeight<T: TensorScalar>(_ weight: [T], _ g: ConvolutionGeometry, _ phase: Phase) -> [T] {
        let taps = phase.geometry.kernel, V = g.kernelVolume
        var sub = [T](repeating: 0, count: g.smallChannels * g.largeChannels * phase.geometry.kernelVolume)
        var index = 0
        for row in 0..<(g.smallChannels * g.largeChannels) {
            for t0 in 0..<taps[0] { for t1 in 0..<taps[1] { for t2 in 0..<taps[2] {
                let k0 = phase.offset[0] + g.stride[0] * t0, k1 = phase.offset[1] + g.stride[1] * t1, k2 = phase.offset[2] + g.stride[2] * t2
                sub[index] = weight[row * V + (k0 * g.kernel[1] + k1) * g.kernel[2] + k2]
                index += 1
            } } }
        }
        return sub
    }

    /// Walks the innermost-axis lines of one sample's phase grid in grid order: `body` gets each
    /// line's offset in the grid and, where the line lies inside the large grid, the large offset
    /// of its grid index `low`. Along the line, grid indices low..<high (contiguous) read the
    /// large positions first, first + stride, …; the others lie in the padding.
    @inline(__always)
    static func forEachLine(_ g: ConvolutionGeometry, _ positions: [[Int]], _ body: (_ grid: Int, _ large: Int?, _ low: Int, _ high: Int) -> Void) {
        let inner = positions[2]
        let low = inner.firstIndex { $0 >= 0 } ?? inner.count, high = max(low, (inner.lastIndex { $0 >= 0 } ?? -1) + 1)
        let first = low < high ? inner[low] : 0
        let (H, W) = (g.large[1], g.large[2])
        var grid = 0
        for c in 0..<g.largeChannels {
            for y0 in positions[0] { for y1 in positions[1] {
                body(grid, y0 >= 0 && y1 >= 0 ? c * g.largeSpatial + (y0 * H + y1) * W + first : nil, low, high)
                grid += inner.count
            } }
        }
    }

    /// Copies the phase grid of every channel of one large sample into `grid` (zero in the padding).
    static func gather<T: TensorScalar>(_ large: UnsafePointer<T>, _ g: ConvolutionGeometry, _ positions: [[Int]], into grid: UnsafeMutablePointer<T>) {
        let length = positions[2].count, step = g.stride[2]
        forEachLine(g, positions) { gridOffset, largeOffset, low, high in
            let target = grid + gridOffset
            guard let largeOffset else { target.update(repeating: 0, count: length); return }
            let line = large + largeOffset
            for j in 0..<low { target[j] = 0 }
            for j in low..<high { target[j] = line[(j &- low) &* step] }
            for j in high..<length { target[j] = 0 }
        }
    }

    /// Writes a phase grid of every channel back to its large positions of one sample (the
    /// adjoint of `gather`; padding positions are dropped).
    static func scatter<T: TensorScalar>(_ grid: UnsafePointer<T>, _ g: ConvolutionGeometry, _ positions: [[Int]], into large: UnsafeMutablePointer<T>) {
        let step = g.stride[2]
        forEachLine(g, positions) { gridOffset, largeOffset, low, high in
            guard let largeOffset else { return }
            let line = large + largeOffset, source = grid + gridOffset
            for j in low..<high { line[(j &- low) &* step] = source[j] }
        }
    }

    /// small = Σ_φ conv_φ(G_φ) (+ bias, clamped at 0 with `rectify`), samples split over threads
    /// as `ConvolutionKernels.chunking` says, the phases summed in order inside each sample.
    @_specialize(where T == Float)
    static func forward<T: TensorScalar>(large: [T], weight: [T], bias: [T]?, rectify: Bool, _ g: ConvolutionGeometry, chunks: Int) -> [T] {
        let phases = phases(g), instructions = DirectConvolution.instructions
        let O = g.smallChannels, S = g.smallSpatial, L = g.largeChannels * g.largeSpatial
        let positions = phases.map { largePositions(g, $0) }
        let rows = phases.map { DirectConvolution.rowsByPosition(phaseWeight(weight, g, $0), $0.geometry) }
        var geometries = phases.map { DirectConvolution.forwardGeometry($0.geometry) }
        let gridSize = phases.map { g.largeChannels * $0.geometry.largeSpatial }.max() ?? 0
        var out: [T] = Kernels.overwritten(g.batch * O * S)
        large.withUnsafeBufferPointer { xp in
        out.withUnsafeMutableBufferPointer { op in
            let x = xp.baseAddress.unsafelyUnwrapped, o = op.baseAddress.unsafelyUnwrapped
            Kernels.forEachChunk(g.batch, chunks: chunks) { _, samples in
                let grid = UnsafeMutablePointer<T>.allocate(capacity: gridSize), term = UnsafeMutablePointer<T>.allocate(capacity: O * S)
                defer { grid.deallocate(); term.deallocate() }
                for n in samples {
                    let target = o + n * O * S
                    for p in phases.indices {
                        gather(x + n * L, g, positions[p], into: grid)
                        rows[p].withUnsafeBufferPointer { w in
                            hepml_direct_convolution_forward(instructions, &geometries[p], DirectConvolution.floats(UnsafePointer(grid)),
                                                             DirectConvolution.floats(w.baseAddress.unsafelyUnwrapped), nil, false,
                                                             DirectConvolution.floats(p == 0 ? target : term))
                        }
                        if p > 0 { for i in 0..<(O * S) { target[i] += term[i] } }
                    }
                    for oc in 0..<O {
                        let plane = target + oc * S, shift = bias?[oc] ?? 0
                        if rectify {
                            for i in 0..<S { plane[i] = Swift.max(plane[i] + shift, 0) }
                        } else if bias != nil {
                            for i in 0..<S { plane[i] += shift }
                        }
                    }
                }
            }
        }
        }
        return out
    }

    /// Gradients of `forward` (the same contract as `ConvolutionKernels.backward`). The phases run
    /// in parallel (claimed dynamically), each over every sample in order: a phase owns its large
    /// positions and its weight entries, so no two threads write the same value and the sums do
    /// not depend on the thread count. A batch of one still keeps every core busy.
    @_specialize(where T == Float)
    static func backward<T: TensorScalar>(large: [T]?, weight: [T], smallGradient: [T], needLarge: Bool, needBias: Bool,
                                          rectifiedOutput: [T]?, _ g: ConvolutionGeometry) -> (large: [T]?, weight: [T]?, bias: [T]?) {
        let phases = phases(g), instructions = DirectConvolution.instructions
        let O = g.smallChannels, C = g.largeChannels, S = g.smallSpatial, L = C * g.largeSpatial
        let needWeight = large != nil
        let gradient = rectifiedOutput.map { Kernels.zip(smallGradient, $0) { value, output in output > 0 ? value : 0 } } ?? smallGradient
        var dLarge: [T] = needLarge ? (coversLarge(g, phases) ? Kernels.overwritten(g.batch * L) : [T](repeating: 0, count: g.batch * L)) : []
        var dWeight = [T](repeating: 0, count: needWeight ? O * g.patchSize : 0)
        let ldO = DirectConvolution.vectorWidth(O)
        let inputs = large ?? []
        // The gradient pixel-major ([n][pixel][ldO], padded lanes zero), as the weight-gradient
        // kernel reads it, transposed once for all phases.
        var pixelMajor = [T](repeating: 0, count: needWeight ? g.batch * S * ldO : 0)
        if needWeight {
            pixelMajor.withUnsafeMutableBufferPointer { pm in
                gradient.withUnsafeBufferPointer { gp in
                    let target = pm.baseAddress.unsafelyUnwrapped, source = gp.baseAddress.unsafelyUnwrapped
                    Kernels.forEachChunk(g.batch, chunks: Parallel.threadCount) { _, samples in
                        for n in samples {
                            for oc in 0..<O {
                                for i in 0..<S { target[(n * S + i) * ldO + oc] = source[(n * O + oc) * S + i] }
                            }
                        }
                    }
                }
            }
        }
        gradient.withUnsafeBufferPointer { gp in
        pixelMajor.withUnsafeBufferPointer { pp in
        inputs.withUnsafeBufferPointer { xp in
        dLarge.withUnsafeMutableBufferPointer { dp in
        dWeight.withUnsafeMutableBufferPointer { wp in
            let dy = gp.baseAddress.unsafelyUnwrapped
            Kernels.forEachChunk(phases.count, chunks: phases.count) { _, range in
                for p in range {
                    let phase = phases[p], positions = largePositions(g, phase)
                    var forwardShape = DirectConvolution.forwardGeometry(phase.geometry)
                    var gradientShape = DirectConvolution.inputGradientGeometry(phase.geometry)
                    let K = phase.geometry.patchSize, gridSize = C * phase.geometry.largeSpatial
                    let paddedGradientSize = O * DirectConvolution.volume(gradientShape.padded)
                    let gradientOffset = phase.geometry.kernel.map { $0 - 1 }
                    let sub = phaseWeight(weight, g, phase)
                    let flipped = needLarge ? DirectConvolution.flippedRowsByPosition(sub, phase.geometry) : []
                    let grid = UnsafeMutablePointer<T>.allocate(capacity: gridSize)
                    let paddedGradient = UnsafeMutablePointer<T>.allocate(capacity: needLarge ? paddedGradientSize : 0)
                    var sums = [T](repeating: 0, count: needWeight ? K * ldO : 0)
                    defer { grid.deallocate(); paddedGradient.deallocate() }
                    for n in 0..<g.batch {
                        let source = dy + n * O * S
                        if needLarge, let d = dp.baseAddress {
                            DirectConvolution.pad(source, extent: g.small, channels: O, into: paddedGradient, padded: gradientShape.padded, offset: gradientOffset)
                            flipped.withUnsafeBufferPointer { w in
                                hepml_direct_convolution_forward(instructions, &gradientShape, DirectConvolution.floats(UnsafePointer(paddedGradient)),
                                                                 DirectConvolution.floats(w.baseAddress.unsafelyUnwrapped), nil, false, DirectConvolution.floats(grid))
                            }
                            scatter(grid, g, positions, into: d + n * L)
                        }
                        if needWeight, let x = xp.baseAddress, let pixels = pp.baseAddress {
                            gather(x + n * L, g, positions, into: grid)
                            sums.withUnsafeMutableBufferPointer { s in
                                hepml_direct_convolution_weight_gradient(instructions, &forwardShape, DirectConvolution.floats(UnsafePointer(grid)),
                                                                         DirectConvolution.floats(pixels + n * S * ldO),
                                                                         DirectConvolution.floats(s.baseAddress.unsafelyUnwrapped))
                            }
                        }
                    }
                    if needWeight, let dw = wp.baseAddress {
                        // Rows (c, t...) of O values back to W[o, c, φ + s·t].
                        let taps = phase.geometry.kernel
                        var k = 0
                        for c in 0..<C {
                            for t0 in 0..<taps[0] { for t1 in 0..<taps[1] { for t2 in 0..<taps[2] {
                                let k0 = phase.offset[0] + g.stride[0] * t0, k1 = phase.offset[1] + g.stride[1] * t1, k2 = phase.offset[2] + g.stride[2] * t2
                                let position = (k0 * g.kernel[1] + k1) * g.kernel[2] + k2
                                for oc in 0..<O { dw[(oc * C + c) * g.kernelVolume + position] = sums[k * ldO + oc] }
                                k += 1
                            } } }
                        }
                    }
                }
            }
        }
        }
        }
        }
        }
        let dBias = needBias ? Variable<T>.channelSums(gradient, channels: O, spatial: S) : nil
        return (needLarge ? dLarge : nil, needWeight ? dWeight : nil, dBias)
    }
}
