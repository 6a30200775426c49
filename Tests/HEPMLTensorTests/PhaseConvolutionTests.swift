import CVectorKernels
import HEPMLCore
import Testing
@testable import HEPMLTensor

/// Strided Float convolutions with long enough patches run phase by phase on the direct kernels
/// (`PhaseConvolution`); Double always runs im2col + dgemm. Each case runs both precisions on the
/// same values with each instruction set the CPU has and compares the output and all three
/// gradients, for convolutions and transposed convolutions.
@Suite struct PhaseConvolutionTests {
    struct Case {
        var input: [Int], weight: [Int], stride: [Int], padding: Padding, outputPadding: [Int]? = nil
        var rectified = false, transposed = false
    }

    static let cases: [Case] = [
        // The HCAL HE decoder's levels: 3×3×2 at stride 2×2×2 (one output padding on ieta), and
        // 3×3×1 at stride 2×2×1.
        Case(input: [2, 32, 4, 5, 5], weight: [32, 32, 3, 3, 2], stride: [2, 2, 2], padding: .explicit([1, 1, 0]), outputPadding: [1, 0, 0],
             transposed: true),
        Case(input: [1, 32, 4, 5, 5], weight: [32, 32, 3, 3, 1], stride: [2, 2, 1], padding: .explicit([1, 1, 0]), outputPadding: [0, 0, 0],
             transposed: true),
        // The same layers' adjoint as a strided convolution with bias and fused ReLU.
        Case(input: [3, 32, 9, 9, 6], weight: [32, 32, 3, 3, 2], stride: [2, 2, 2], padding: .explicit([1, 1, 0]), rectified: true),
        // A kernel shorter than the stride (phases without taps: large positions no tap reads),
        // channels that are not whole vectors, a 2-D problem.
        Case(input: [2, 80, 11, 9], weight: [21, 80, 1, 3], stride: [3, 2], padding: .valid),
        Case(input: [2, 21, 5, 4], weight: [21, 80, 1, 3], stride: [3, 2], padding: .valid, transposed: true),
        // Padding wider than the kernel reaches, a 1-D problem with a long kernel.
        Case(input: [2, 70, 13], weight: [9, 70, 5], stride: [2], padding: .explicit([6])),
        Case(input: [1, 16, 7], weight: [16, 35, 6], stride: [4], padding: .same, transposed: true),
    ]

    func run<T: TensorScalar>(_ c: Case, _ x: Tensor<T>, _ w: Tensor<T>, _ b: Tensor<T>, _ upstream: Tensor<T>) throws -> [Tensor<T>] {
        let (xv, wv, bv) = (Variable(x, requiresGrad: true), Variable(w, requiresGrad: true), Variable(b, requiresGrad: true))
        let y = c.transposed
            ? try Variable.transposedConvolution(xv, weight: wv, bias: bv, stride: c.stride, padding: c.padding, outputPadding: c.outputPadding)
            : try Variable.convolution(xv, weight: wv, bias: bv, stride: c.stride, padding: c.padding, rectified: c.rectified)
        try (y * Variable(upstream)).sum().backward()
        return [y.value, try #require(xv.grad), try #require(wv.grad), try #require(bv.grad)]
    }

    @Test(.enabled(if: VectorInstructions.usable.rawValue >= HEPMLVectorInstructions.AVX2.rawValue,
                   "this CPU lacks AVX2, or HEPML_VECTOR_INSTRUCTIONS caps it"))
    func casesMatchDouble() throws {
        let instructionSets = [HEPMLVectorInstructions.AVX2, .AVX512].filter { $0.rawValue <= VectorInstructions.usable.rawValue }
        for (index, c) in Self.cases.enumerated() {
            let seed = UInt64(500 + 4 * index)
            let x = random(c.input, seed: seed), w = random(c.weight, seed: seed + 1)
            let b = random([c.transposed ? c.weight[1] : c.weight[0]], seed: seed + 2)
            let probe = try run(c, x, w, b, Tensor<Double>(zeros: [1]))
            let upstream = random(probe[0].shape, seed: seed + 3)
            let exact = try run(c, x, w, b, upstream)
            for instructions in instructionSets {
                let single = try DirectConvolution.$instructionLimit.withValue(instructions) {
                    try run(c, x.converted(to: Float.self), w.converted(to: Float.self), b.converted(to: Float.self), upstream.converted(to: Float.self))
                }
                for (name, (a, e)) in zip(["output", "input gradient", "weight gradient", "bias gradient"], zip(single, exact)) {
                    let scale = max(1, e.scalars.map(abs).max() ?? 0)
                    let error = zip(a.scalars, e.scalars).map { abs(Double($0) - $1) }.max() ?? 0
                    #expect(a.shape == e.shape && error < 1e-5 * scale, "case \(index) \(name) on \(instructions): max error \(error) at scale \(scale)")
                }
            }
        }
    }

    @Test func longStridedPatchesTakeThePhasePath() throws {
        let decoder = ConvolutionGeometry(batch: 1, largeChannels: 32, smallChannels: 32, large: [64, 72, 40], small: [32, 36, 20],
                                          kernel: [3, 3, 2], stride: [2, 2, 2], padBefore: [1, 1, 0])
        #expect(PhaseConvolution.handles(decoder, Float.self) == (VectorInstructions.usable != .baseline))
        #expect(!PhaseConvolution.handles(decoder, Double.self))
        #expect(PhaseConvolution.phases(decoder).map(\.geometry.kernelVolume) == [4, 4, 2, 2, 2, 2, 1, 1])
        #expect(PhaseConvolution.coversLarge(decoder, PhaseConvolution.phases(decoder)))
        var unitStride = decoder
        unitStride.stride = [1, 1, 1]
        #expect(!PhaseConvolution.handles(unitStride, Float.self))
        // The DQM autoencoder's strided 12-channel 3-tap layers stay on im2col.
        let dqm = ConvolutionGeometry(batch: 1, largeChannels: 12, smallChannels: 12, large: [1, 1, 20], small: [1, 1, 10],
                                      kernel: [1, 1, 3], stride: [1, 1, 2], padBefore: [0, 0, 1])
        #expect(!PhaseConvolution.handles(dqm, Float.self))
    }
}
