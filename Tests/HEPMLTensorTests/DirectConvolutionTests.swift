import CVectorKernels
import HEPMLCore
import Testing
@testable import HEPMLTensor

/// Float convolutions with unit stride and long patches run on the direct kernels (AVX-512 or
/// AVX2) where the CPU has them; Double always runs im2col + dgemm. Each case runs both precisions
/// on the same values, with each instruction set the CPU has, and compares the output and all
/// three gradients.
@Suite struct DirectConvolutionTests {
    struct Case {
        var input: [Int], weight: [Int], padding: Padding, negativeSlope: Double?, transposed: Bool = false
    }

    /// Every case has a patch of at least `DirectConvolution.minimumPatchSize` values.
    static let cases: [Case] = [
        // The LDMX ConvNet's two layers (3 → 32 and 32 → 64 channels, 5×5, pad 2).
        Case(input: [3, 3, 20, 20], weight: [32, 3, 5, 5], padding: .explicit([2, 2]), negativeSlope: 0),
        Case(input: [2, 32, 10, 10], weight: [64, 32, 5, 5], padding: .explicit([2, 2]), negativeSlope: 0),
        // Channel counts that are not whole vectors, more than four vectors (two channel groups),
        // rows wider than a tile, a kernel row longer than a weight-gradient tile.
        Case(input: [2, 5, 7, 30], weight: [70, 5, 3, 7], padding: .same, negativeSlope: nil),
        Case(input: [3, 24, 9], weight: [33, 24, 3], padding: .valid, negativeSlope: 0),
        // Padding wider than the kernel reaches: output pixels that see only padding.
        Case(input: [2, 8, 6, 6], weight: [17, 8, 3, 3], padding: .explicit([4, 3]), negativeSlope: nil),
        Case(input: [2, 4, 4, 5, 6], weight: [18, 4, 2, 3, 3], padding: .same, negativeSlope: 0),
        // The HCAL encoder's one-tap-wide 3×3×1 kernel (weight-gradient tiles across kernel rows
        // and channels) on a batch of one (output channels split into blocks over the threads).
        Case(input: [1, 32, 8, 9, 5], weight: [40, 32, 3, 3, 1], padding: .explicit([1, 1, 0]), negativeSlope: nil),
        // The same with the HCAL model's LeakyReLU fused (inference with batch norm folded).
        Case(input: [1, 32, 8, 9, 5], weight: [40, 32, 3, 3, 1], padding: .explicit([1, 1, 0]), negativeSlope: 0.5),
        // A transposed convolution: its forward pass is the input gradient of a convolution.
        Case(input: [2, 40, 6, 7], weight: [40, 12, 3, 3], padding: .same, negativeSlope: nil, transposed: true),
    ]

    func run<T: TensorScalar>(_ c: Case, _ x: Tensor<T>, _ w: Tensor<T>, _ b: Tensor<T>, _ upstream: Tensor<T>) throws -> [Tensor<T>] {
        let (xv, wv, bv) = (Variable(x, requiresGrad: true), Variable(w, requiresGrad: true), Variable(b, requiresGrad: true))
        let y = c.transposed
            ? try Variable.transposedConvolution(xv, weight: wv, bias: bv, padding: c.padding, negativeSlope: c.negativeSlope.map { T($0) })
            : try Variable.convolution(xv, weight: wv, bias: bv, padding: c.padding, negativeSlope: c.negativeSlope.map { T($0) })
        try (y * Variable(upstream)).sum().backward()
        return [y.value, try #require(xv.grad), try #require(wv.grad), try #require(bv.grad)]
    }

    @Test(.enabled(if: VectorInstructions.usable.rawValue >= HEPMLVectorInstructions.AVX2.rawValue,
                   "this CPU lacks AVX2, or HEPML_VECTOR_INSTRUCTIONS caps it"))
    func avx2FloatMatchesDouble() throws {
        try floatMatchesDouble(on: .AVX2)
    }

    @Test(.enabled(if: VectorInstructions.usable.rawValue >= HEPMLVectorInstructions.AVX512.rawValue,
                   "this CPU lacks AVX-512, or HEPML_VECTOR_INSTRUCTIONS caps it"))
    func avx512FloatMatchesDouble() throws {
        try floatMatchesDouble(on: .AVX512)
    }

    private func floatMatchesDouble(on instructions: HEPMLVectorInstructions) throws {
        try DirectConvolution.$instructionLimit.withValue(instructions) {
            #expect(DirectConvolution.instructions == instructions)
            for (index, c) in Self.cases.enumerated() {
                #expect(c.weight[1] * c.weight.dropFirst(2).reduce(1, *) >= DirectConvolution.minimumPatchSize, "case \(index)")
                let seed = UInt64(200 + 4 * index)
                let x = random(c.input, seed: seed), w = random(c.weight, seed: seed + 1)
                let outChannels = c.transposed ? c.weight[1] : c.weight[0]
                let b = random([outChannels], seed: seed + 2)
                let reference = try run(c, x, w, b, Tensor<Double>(zeros: [1]))  // for the output shape
                let upstream = random(reference[0].shape, seed: seed + 3)
                let exact = try run(c, x, w, b, upstream)
                let single = try run(c, x.converted(to: Float.self), w.converted(to: Float.self), b.converted(to: Float.self),
                                     upstream.converted(to: Float.self))
                for (name, (a, e)) in zip(["output", "input gradient", "weight gradient", "bias gradient"], zip(single, exact)) {
                    #expect(a.shape == e.shape, "case \(index) \(name)")
                    let scale = max(1, e.scalars.map(abs).max() ?? 0)
                    let error = zip(a.scalars, e.scalars).map { abs(Double($0) - $1) }.max() ?? 0
                    #expect(error < 1e-5 * scale, "case \(index) \(name): max error \(error) at scale \(scale)")
                }
            }
        }
    }

    /// Seeded random geometries (rank, channels, kernel, size, padding, fused ReLU or LeakyReLU,
    /// transposed)
    /// beyond the hand-picked cases.
    @Test func randomGeometriesMatchDouble() throws {
        var generator = SeededGenerator(seed: 99)
        func draw(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(generator.next() % UInt64(range.count)) }
        let instructionSets = [HEPMLVectorInstructions.AVX2, .AVX512].filter { $0.rawValue <= VectorInstructions.usable.rawValue }
        var checked = 0
        for trial in 0..<120 {
            let rank = draw(1...3)
            let (inputChannels, outputChannels) = (draw(1...40), draw(1...80))
            let kernel = (0..<rank).map { _ in draw(1...(rank == 3 ? 3 : 7)) }
            guard inputChannels * kernel.reduce(1, *) >= DirectConvolution.minimumPatchSize else { continue }
            let size = kernel.map { $0 + draw(0...12) }
            let padding: Padding = [.same, .valid, .explicit(kernel.map { draw(0...($0 + 1)) })][draw(0...2)]
            let transposed = draw(0...3) == 0, negativeSlope = [nil, 0, 0.5][draw(0...2)]
            let c = Case(input: [draw(1...5), transposed ? outputChannels : inputChannels] + size,
                         weight: [outputChannels, inputChannels] + kernel, padding: padding, negativeSlope: negativeSlope, transposed: transposed)
            let seed = UInt64(1000 + 4 * trial)
            let x = random(c.input, seed: seed), w = random(c.weight, seed: seed + 1)
            let b = random([transposed ? inputChannels : outputChannels], seed: seed + 2)
            // Explicit padding can leave no output; those draws are skipped.
            guard let probe = try? run(c, x, w, b, Tensor<Double>(zeros: [1])) else { continue }
            let upstream = random(probe[0].shape, seed: seed + 3)
            let exact = try run(c, x, w, b, upstream)
            for instructions in instructionSets {
                let single = try DirectConvolution.$instructionLimit.withValue(instructions) {
                    try run(c, x.converted(to: Float.self), w.converted(to: Float.self), b.converted(to: Float.self), upstream.converted(to: Float.self))
                }
                for (a, e) in zip(single, exact) {
                    let scale = max(1, e.scalars.map(abs).max() ?? 0)
                    let error = zip(a.scalars, e.scalars).map { abs(Double($0) - $1) }.max() ?? 0
                    #expect(a.shape == e.shape && error < 2e-5 * scale, "trial \(trial): \(c.input) \(c.weight) \(padding) on \(instructions): \(error)")
                }
            }
            checked += 1
        }
        #expect(checked > 50)
    }

    @Test func unitStrideLongPatchesTakeTheDirectPath() throws {
        let ldmx = ConvolutionGeometry(batch: 1, largeChannels: 32, smallChannels: 64, large: [1, 10, 10], small: [1, 10, 10],
                                       kernel: [1, 5, 5], stride: [1, 1, 1], padBefore: [0, 2, 2])
        #expect(DirectConvolution.handles(ldmx, Float.self) == (VectorInstructions.usable != .baseline))
        #expect(!DirectConvolution.handles(ldmx, Double.self))
        var strided = ldmx
        strided.stride = [1, 2, 2]
        #expect(!DirectConvolution.handles(strided, Float.self))
        var short = ldmx
        short.largeChannels = 1
        short.kernel = [1, 1, 3]
        #expect(!DirectConvolution.handles(short, Float.self))
    }
}
