import HEPMLCore
import Testing
@testable import HEPMLTensor

@Suite struct ConvolutionGradientTests {
    @Test func conv1dStridedAndPadded() throws {
        try GradientCheck.check([random([2, 3, 7], seed: 20), random([4, 3, 3], seed: 21), random([4], seed: 22)]) {
            try Variable.convolution($0[0], weight: $0[1], bias: $0[2], stride: [2], padding: .same)
        }
        try GradientCheck.check([random([2, 2, 6], seed: 23), random([3, 2, 2], seed: 24)]) {
            try Variable.convolution($0[0], weight: $0[1], bias: nil, stride: [1], padding: .explicit([2]))
        }
    }

    @Test func conv2dAndConv3d() throws {
        try GradientCheck.check([random([2, 2, 5, 6], seed: 25), random([3, 2, 3, 2], seed: 26), random([3], seed: 27)]) {
            try Variable.convolution($0[0], weight: $0[1], bias: $0[2], stride: [2, 1], padding: .explicit([1, 1]))
        }
        try GradientCheck.check([random([1, 2, 3, 4, 4], seed: 28), random([2, 2, 2, 3, 3], seed: 29), random([2], seed: 30)]) {
            try Variable.convolution($0[0], weight: $0[1], bias: $0[2], stride: [1, 2, 2], padding: .same)
        }
    }

    @Test func transposedConvolutions() throws {
        try GradientCheck.check([random([2, 3, 4], seed: 31), random([3, 2, 3], seed: 32), random([2], seed: 33)]) {
            try Variable.transposedConvolution($0[0], weight: $0[1], bias: $0[2], stride: [2], padding: .same)
        }
        try GradientCheck.check([random([1, 2, 3, 3], seed: 34), random([2, 3, 3, 3], seed: 35), random([3], seed: 36)]) {
            try Variable.transposedConvolution($0[0], weight: $0[1], bias: $0[2], stride: [2, 2], padding: .explicit([1, 1]), outputPadding: [1, 0])
        }
        try GradientCheck.check([random([1, 2, 2, 2, 3], seed: 37), random([2, 1, 2, 2, 2], seed: 38)]) {
            try Variable.transposedConvolution($0[0], weight: $0[1], bias: nil, stride: [2, 1, 2])
        }
    }

    /// The decoder's depth upsampling (kernel 2, stride 2 along the last axis) runs its two kernel
    /// offsets as one interleaved line in im2col and col2im; plain loops over the definition
    /// are the reference for the values, the gradient checks for the adjoint passes, and Float
    /// (whose im2col lines go through the C deinterleaving, 8 pairs at a time plus a tail of 3)
    /// must agree with Double.
    @Test func interleavedKernelOffsetsMatchPlainLoops() throws {
        let stride = [2, 2, 2], padding = [1, 1, 0], wide = 11
        let x = random([2, 3, 3, 4, wide], seed: 61), w = random([3, 2, 3, 3, 2], seed: 62)
        func transposed<T: TensorScalar>(_ x: Variable<T>, _ w: Variable<T>) throws -> Variable<T> {
            try Variable.transposedConvolution(x, weight: w, bias: nil, stride: stride, padding: .explicit(padding), outputPadding: [1, 0, 0])
        }
        func convolution<T: TensorScalar>(_ x: Variable<T>, _ w: Variable<T>) throws -> Variable<T> {
            try Variable.convolution(x, weight: w, bias: nil, stride: stride, padding: .explicit(padding))
        }
        let upsampled = try transposed(Variable(x), Variable(w))
        #expect(upsampled.shape == [2, 2, 6, 7, 2 * wide])
        // out[n, o, i·s − p + k] += x[n, c, i] · w[c, o, k]
        var expected = [Double](repeating: 0, count: upsampled.value.count)
        for n in 0..<2 { for c in 0..<3 { for o in 0..<2 { for i in 0..<3 { for j in 0..<4 { for l in 0..<wide {
            for a in 0..<3 { for b in 0..<3 { for e in 0..<2 {
                let (d, h, v) = (i * 2 - 1 + a, j * 2 - 1 + b, l * 2 + e)
                guard (0..<6).contains(d), (0..<7).contains(h) else { continue }
                expected[(((n * 2 + o) * 6 + d) * 7 + h) * 2 * wide + v] += x.scalars[(((n * 3 + c) * 3 + i) * 4 + j) * wide + l] * w.scalars[(((c * 2 + o) * 3 + a) * 3 + b) * 2 + e]
            } } }
        } } } } } }
        #expect(zip(upsampled.value.scalars, expected).allSatisfy { abs($0 - $1) < 1e-12 })
        // The forward convolution over the upsampled grid reads it back (im2col's interleaved line).
        let large = random([2, 2, 6, 7, 2 * wide], seed: 63), kernel = random([3, 2, 3, 3, 2], seed: 64)
        let reduced = try convolution(Variable(large), Variable(kernel))
        #expect(reduced.shape == [2, 3, 3, 4, wide])
        var reference = [Double](repeating: 0, count: reduced.value.count)
        for n in 0..<2 { for o in 0..<3 { for c in 0..<2 { for i in 0..<3 { for j in 0..<4 { for l in 0..<wide {
            for a in 0..<3 { for b in 0..<3 { for e in 0..<2 {
                let (d, h, v) = (i * 2 - 1 + a, j * 2 - 1 + b, l * 2 + e)
                guard (0..<6).contains(d), (0..<7).contains(h) else { continue }
                reference[(((n * 3 + o) * 3 + i) * 4 + j) * wide + l] += large.scalars[(((n * 2 + c) * 6 + d) * 7 + h) * 2 * wide + v] * kernel.scalars[(((o * 2 + c) * 3 + a) * 3 + b) * 2 + e]
            } } }
        } } } } } }
        #expect(zip(reduced.value.scalars, reference).allSatisfy { abs($0 - $1) < 1e-12 })
        try GradientCheck.check([x, w]) { try transposed($0[0], $0[1]) }
        try GradientCheck.check([large, kernel]) { try convolution($0[0], $0[1]) }
        // Float: the convolution's values, and the upsampling's gradients (its input gradient and
        // weight gradient read the upstream gradient through im2col).
        func gradients<T: TensorScalar>(_ x: Tensor<T>, _ w: Tensor<T>, _ upstream: Tensor<T>) throws -> [Tensor<T>] {
            let (xv, wv) = (Variable(x, requiresGrad: true), Variable(w, requiresGrad: true))
            try (try transposed(xv, wv) * Variable(upstream)).sum().backward()
            return [try #require(xv.grad), try #require(wv.grad)]
        }
        let upstream = random(upsampled.shape, seed: 65)
        let single = try gradients(x.converted(to: Float.self), w.converted(to: Float.self), upstream.converted(to: Float.self))
        let exact = try gradients(x, w, upstream)
        let singleReduced = try convolution(Variable(large.converted(to: Float.self)), Variable(kernel.converted(to: Float.self))).value
        for (a, e) in zip(single + [singleReduced], exact + [reduced.value]) {
            #expect(a.shape == e.shape && zip(a.scalars, e.scalars).allSatisfy { abs(Double($0) - $1) < 1e-4 })
        }
    }

    @Test func poolingAndUpsampling() throws {
        try GradientCheck.check([random([2, 2, 6], seed: 40)]) { try $0[0].maxPool(kernel: [2]) }
        try GradientCheck.check([random([1, 2, 4, 5], seed: 41)]) { try $0[0].maxPool(kernel: [2, 2], stride: [1, 2]) }
        try GradientCheck.check([random([1, 1, 4, 4, 4], seed: 42)]) { try $0[0].avgPool(kernel: [2, 2, 2]) }
        try GradientCheck.check([random([1, 2, 4, 4], seed: 43)]) { v in
            let (pooled, indices) = try v[0].maxPoolWithIndices(kernel: [2, 2])
            return try (pooled * 3).maxUnpool(indices)
        }
        try GradientCheck.check([random([1, 2, 3, 4], seed: 44)]) { try $0[0].upsample(scale: [2, 3], mode: .nearest) }
        try GradientCheck.check([random([1, 2, 3, 2, 2], seed: 45)]) { try $0[0].upsample(scale: [2, 2, 3], mode: .linear) }
    }

    /// PyTorch's ceil_mode: partial windows at the end of an axis are kept and clipped; an average
    /// divides by the values it covers. The HCAL spatial CNN pools depth 7 → 4 → 2 → 1 this way.
    @Test func ceilModePoolingKeepsClippedWindows() throws {
        try GradientCheck.check([random([1, 2, 5, 4, 7], seed: 140)]) { try $0[0].maxPool(kernel: [2, 2, 2], ceilMode: true) }
        try GradientCheck.check([random([2, 1, 5, 7], seed: 141)]) { try $0[0].avgPool(kernel: [2, 3], ceilMode: true) }
        try GradientCheck.check([random([1, 2, 7], seed: 142)]) { try $0[0].maxPool(kernel: [2], stride: [3], ceilMode: true) }
        // torch.nn.functional.{max,avg}_pool1d([[1, 5, 2, 8, 3]], 2, ceil_mode=True) = [5, 8, 3] and [3, 5, 3].
        let x = Variable(try Tensor<Double>(shape: [1, 1, 5], scalars: [1, 5, 2, 8, 3]))
        let (pooled, indices) = try x.maxPoolWithIndices(kernel: [2], ceilMode: true)
        #expect(pooled.value.scalars == [5, 8, 3])
        #expect(indices.positions == [1, 3, 4])
        #expect(try x.avgPool(kernel: [2], ceilMode: true).value.scalars == [3, 5, 3])
        #expect(try x.maxPool(kernel: [2]).shape == [1, 1, 2])
        // PyTorch's sizes: ceil((n − k)/s) + 1, less one when that last window would start past the
        // input (n = 5, k = 1, s = 3: starts 0, 3, 6 → 6 ≥ 5 is dropped).
        for (n, k, s, expected) in [(7, 2, 3, 3), (6, 2, 5, 2), (5, 1, 3, 2), (8, 2, 2, 4)] {
            #expect(try Variable(random([1, 1, n], seed: 143)).maxPool(kernel: [k], stride: [s], ceilMode: true).shape == [1, 1, expected], "n \(n) k \(k) s \(s)")
        }
        // HCAL's depth axis: 7 → 4 → 2 → 1, and unpooling restores the pre-pool size.
        var depth = Variable(random([1, 1, 2, 2, 7], seed: 145))
        var sizes: [Int] = []
        for _ in 0..<3 {
            let (next, index) = try depth.maxPoolWithIndices(kernel: [1, 1, 2], ceilMode: true)
            #expect(try next.maxUnpool(index).shape == depth.shape)
            depth = next
            sizes.append(depth.shape[4])
        }
        #expect(sizes == [4, 2, 1])
    }

    @Test func linearUpsamplingMatchesPyTorch() throws {
        // torch.nn.functional.interpolate([1, 2, 4], scale_factor=2, mode="linear") with align_corners=False.
        let x = Variable(try Tensor<Double>(shape: [1, 1, 3], scalars: [1, 2, 4]))
        let y = try x.upsample(scale: [2], mode: .linear).value.scalars
        let expected = [1.0, 1.25, 1.75, 2.5, 3.5, 4.0]
        for (a, b) in zip(y, expected) { #expect(abs(a - b) < 1e-12) }
    }

    @Test func batchNormTrainingAndInference() throws {
        let statistics = BatchNormStatistics<Double>(channels: 3)
        try GradientCheck.check([random([4, 3, 2], seed: 46), random([3], seed: 47), random([3], seed: 48)]) {
            try Variable.batchNorm($0[0], scale: $0[1], shift: $0[2], statistics: statistics, training: true)
        }
        // [N, C] has its own vectorized training passes.
        try GradientCheck.check([random([5, 3], seed: 45), random([3], seed: 47), random([3], seed: 48)]) {
            try Variable.batchNorm($0[0], scale: $0[1], shift: $0[2], statistics: statistics, training: true)
        }
        try GradientCheck.check([random([4, 3], seed: 49), random([3], seed: 50), random([3], seed: 51)]) {
            try Variable.batchNorm($0[0], scale: $0[1], shift: $0[2], statistics: statistics, training: false)
        }
        // Training output is normalized per channel.
        let fresh = BatchNormStatistics<Double>(channels: 2)
        let x = Variable(random([8, 2], seed: 52, scale: 5))
        let y = try Variable.batchNorm(x, scale: Variable(Tensor(repeating: 1, shape: [2])), shift: Variable(Tensor(zeros: [2])), statistics: fresh, training: true)
        let channel0 = stride(from: 0, to: 16, by: 2).map { y.value.scalars[$0] }
        #expect(abs(channel0.reduce(0, +)) < 1e-9)
        #expect(fresh.mean.value.scalars[0] != 0)
    }

    @Test func batchNormWithLeakyReLUGradients() throws {
        let statistics = BatchNormStatistics<Double>(channels: 3)
        for training in [true, false] {
            try GradientCheck.check([random([4, 3, 5], seed: 54), random([3], seed: 55), random([3], seed: 56)]) {
                try Variable.batchNorm($0[0], scale: $0[1], shift: $0[2], statistics: statistics, training: training, leakySlope: 0.3)
            }
            try GradientCheck.check([random([6, 3], seed: 57), random([3], seed: 58), random([3], seed: 59)]) {
                try Variable.batchNorm($0[0], scale: $0[1], shift: $0[2], statistics: statistics, training: training, leakySlope: 0.3)
            }
        }
    }

    /// The fused batch norm + LeakyReLU computes what the two operations compute one after the
    /// other, bit for bit, forward and backward; the sizes take the multi-threaded passes.
    @Test func batchNormWithLeakyReLUEqualsTheComposition() throws {
        var generator = SeededGenerator(seed: 60)
        func floats(_ shape: [Int], scale: Float = 1) -> Tensor<Float> {
            let count = shape.reduce(1, *)
            return Tensor(validShape: shape, scalars: (0..<count).map { _ in scale * Float(generator.nextNormal()) })
        }
        for shape in [[3, 4, 60, 50], [2, 5], [40_000, 3]] {
            let channels = shape[1]
            let input = floats(shape, scale: 3), weights = floats(shape), gamma = floats([channels]), beta = floats([channels])
            for training in [true, false] {
                func run(fused: Bool) throws -> [Tensor<Float>] {
                    let x = Variable(input, requiresGrad: true)
                    let scale = Variable(gamma, requiresGrad: true), shift = Variable(beta, requiresGrad: true)
                    let statistics = BatchNormStatistics<Float>(channels: channels)
                    let y = fused
                        ? try Variable.batchNorm(x, scale: scale, shift: shift, statistics: statistics, training: training, leakySlope: 0.5)
                        : try Variable.batchNorm(x, scale: scale, shift: shift, statistics: statistics, training: training).leakyRelu(slope: 0.5)
                    try (y * Variable(weights)).sum().backward()
                    return [y.value, x.grad, scale.grad, shift.grad, statistics.mean.value, statistics.variance.value].compactMap { $0 }
                }
                let fused = try run(fused: true), composed = try run(fused: false)
                #expect(fused.count == 6)
                #expect(fused == composed, "shape \(shape), training \(training)")
            }
        }
    }

    @Test func dropoutIsSeededAndScaled() throws {
        try GradientCheck.check([random([3, 4], seed: 53)]) { v in
            var generator = SeededGenerator(seed: 7)
            return v[0].dropout(0.5, generator: &generator)
        }
        var generator = SeededGenerator(seed: 1)
        let y = Variable(Tensor<Float>(repeating: 1, shape: [1000])).dropout(0.25, generator: &generator).value.scalars
        #expect(y.allSatisfy { $0 == 0 || abs($0 - 4.0 / 3) < 1e-6 })
        let kept = y.filter { $0 > 0 }.count
        #expect(kept > 700 && kept < 800)
    }
}

@Suite struct GraphGradientTests {
    @Test func aggregationForEveryNormalization() throws {
        let edges = [(0, 1), (1, 2), (2, 0), (3, 1)]
        for normalization in [GraphAdjacency.Normalization.sum, .mean, .symmetric] {
            let adjacency = try GraphAdjacency(nodeCount: 4, edges: edges, normalization: normalization)
            try GradientCheck.check([random([2, 4, 3], seed: 60)]) { try $0[0].aggregate(over: adjacency) }
        }
        // Symmetric normalization of a 2-node path: Â = [[1/2, 1/2], [1/2, 1/2]].
        let path = try GraphAdjacency(nodeCount: 2, edges: [(0, 1)], normalization: .symmetric)
        let y = try Variable(try Tensor<Double>(shape: [1, 2, 1], scalars: [2, 4])).aggregate(over: path)
        #expect(y.value.scalars == [3, 3])
        #expect(throws: ShapeError.self) { try GraphAdjacency(nodeCount: 2, edges: [(0, 2)], normalization: .sum) }
    }
}

@Suite struct WideConvolutionTests {
    /// Wider images with padding on one axis only, and values against the definition.
    @Test func wideRowsStridedAndPadded() throws {
        try GradientCheck.check([random([2, 2, 3, 10], seed: 80), random([2, 2, 3, 3], seed: 81), random([2], seed: 82)]) {
            try Variable.convolution($0[0], weight: $0[1], bias: $0[2], padding: .explicit([1, 2]))
        }
        try GradientCheck.check([random([1, 2, 3, 16], seed: 83), random([2, 2, 2, 3], seed: 84)]) {
            try Variable.convolution($0[0], weight: $0[1], bias: nil, stride: [1, 2], padding: .same)
        }
        try GradientCheck.check([random([1, 2, 2, 8], seed: 85), random([2, 1, 3, 3], seed: 86)]) {
            try Variable.transposedConvolution($0[0], weight: $0[1], bias: nil, stride: [1, 2], padding: .same)
        }
        let x = Variable(random([1, 1, 1, 12], seed: 87)), w = Variable(random([1, 1, 1, 3], seed: 88))
        let wide = try Variable.convolution(x, weight: w, bias: nil, stride: [1, 1], padding: .explicit([0, 1])).value.scalars
        var expected = [Double]()
        for o in 0..<12 {
            var sum = 0.0
            for k in 0..<3 where o - 1 + k >= 0 && o - 1 + k < 12 { sum += x.value.scalars[o - 1 + k] * w.value.scalars[k] }
            expected.append(sum)
        }
        for (a, b) in zip(wide, expected) { #expect(abs(a - b) < 1e-12) }
    }
}

@Suite struct ConvolutionValueTests {
    /// The definition, y[n,o,d,h,w] = b[o] + Σ x[n,c,d·s−p+kd, h·s−p+kh, w·s−p+kw]·W[o,c,kd,kh,kw],
    /// on 3-D grids; 1-D and 2-D problems are the same with size-1 leading axes.
    func direct(_ x: Tensor<Double>, _ w: Tensor<Double>, _ b: Tensor<Double>, stride: [Int], pad: [Int], out: [Int]) -> [Double] {
        let (n, c, o) = (x.shape[0], x.shape[1], w.shape[0])
        let size = Array(x.shape.dropFirst(2)), kernel = Array(w.shape.dropFirst(2))
        var y = [Double]()
        for s in 0..<n { for oc in 0..<o { for od in 0..<out[0] { for oh in 0..<out[1] { for ow in 0..<out[2] {
            var sum = b.scalars[oc]
            for ic in 0..<c { for kd in 0..<kernel[0] { for kh in 0..<kernel[1] { for kw in 0..<kernel[2] {
                let (id, ih, iw) = (od * stride[0] - pad[0] + kd, oh * stride[1] - pad[1] + kh, ow * stride[2] - pad[2] + kw)
                guard id >= 0, id < size[0], ih >= 0, ih < size[1], iw >= 0, iw < size[2] else { continue }
                sum += x.scalars[(((s * c + ic) * size[0] + id) * size[1] + ih) * size[2] + iw]
                    * w.scalars[(((oc * c + ic) * kernel[0] + kd) * kernel[1] + kh) * kernel[2] + kw]
            } } } }
            y.append(sum)
        } } } } }
        return y
    }

    @Test func stridedPaddedConvolutionsMatchTheDefinition() throws {
        // (input, kernel, stride, padding, expected output size)
        let cases: [([Int], [Int], [Int], [Int], [Int])] = [
            ([2, 3, 1, 7, 9], [4, 3, 1, 3, 3], [1, 2, 2], [0, 1, 1], [1, 4, 5]),
            ([1, 2, 4, 5, 6], [3, 2, 2, 3, 5], [2, 1, 3], [1, 2, 2], [3, 7, 2]),
            ([3, 1, 1, 20, 20], [2, 1, 1, 5, 5], [1, 1, 1], [0, 2, 2], [1, 20, 20]),
            ([2, 2, 1, 1, 11], [2, 2, 1, 1, 4], [1, 1, 3], [0, 0, 3], [1, 1, 5]),
            // Batches of one with enough work to split the lines over the threads (the HCAL
            // encoder's first 1 → 32 layer, with more lines than one tile; a strided one).
            ([1, 1, 40, 36, 10], [32, 1, 3, 3, 1], [1, 1, 1], [1, 1, 0], [40, 36, 10]),
            ([1, 2, 30, 40, 9], [20, 2, 3, 3, 2], [2, 2, 2], [1, 1, 0], [15, 20, 4]),
        ]
        for (index, (xShape, wShape, stride, pad, out)) in cases.enumerated() {
            let x = random(xShape, seed: 90 + UInt64(index)), w = random(wShape, seed: 95 + UInt64(index)), b = random([wShape[0]], seed: 99)
            let y = try Variable.convolution(Variable(x), weight: Variable(w), bias: Variable(b), stride: stride, padding: .explicit(pad))
            #expect(y.shape == [xShape[0], wShape[0]] + out)
            let expected = direct(x, w, b, stride: stride, pad: pad, out: out)
            #expect(zip(y.value.scalars, expected).allSatisfy { abs($0 - $1) < 1e-12 }, "case \(index)")
        }
    }

    /// A batch of one (its lines split over the threads) keeps its columns where the weight
    /// gradient reads them: its gradients equal those of a batch of two samples per thread (the
    /// chunked path) whose other samples get no output gradient.
    @Test(arguments: [9, 8]) func batchOfOneKeepsItsColumnsForTheWeightGradient(width: Int) throws {
        // Width 8 makes the 2-wide, stride-2 kernel rows tile the line: interleaved patch lines.
        let x = random([1, 2, 30, 40, width], seed: 130), w = random([20, 2, 3, 3, 2], seed: 131), b = random([20], seed: 132)
        let others = 2 * Parallel.threadCount - 1
        let pair = try Tensor(shape: [others + 1, 2, 30, 40, width], scalars: x.scalars + random([others, 2, 30, 40, width], seed: 133).scalars)
        func gradients(_ input: Tensor<Double>) throws -> [Tensor<Double>] {
            let (xv, wv, bv) = (Variable(input, requiresGrad: true), Variable(w, requiresGrad: true), Variable(b, requiresGrad: true))
            let y = try Variable.convolution(xv, weight: wv, bias: bv, stride: [2, 2, 2], padding: .explicit([1, 1, 0]))
            let upstream = random([1] + Array(y.shape.dropFirst()), seed: 134).scalars
            let seed = upstream + [Double](repeating: 0, count: y.value.count - upstream.count)
            try (y * Variable(try Tensor(shape: y.shape, scalars: seed))).sum().backward()
            return [try #require(wv.grad), try #require(bv.grad), Tensor(validShape: x.shape, scalars: Array(try #require(xv.grad).scalars.prefix(x.count)))]
        }
        for (one, two) in zip(try gradients(x), try gradients(pair)) {
            #expect(zip(one.scalars, two.scalars).allSatisfy { abs($0 - $1) < 1e-9 * max(1, abs($1)) })
        }
    }

    /// The fused ReLU and LeakyReLU give exactly relu(convolution) and leakyRelu(convolution)
    /// and their gradients.
    @Test func activatedConvolutionIsConvolutionThenActivation() throws {
        let x = random([2, 3, 5, 6], seed: 110), w = random([4, 3, 3, 3], seed: 111), b = random([4], seed: 112)
        for slope in [0.0, 0.5] {
            let fused = try Variable.convolution(Variable(x), weight: Variable(w), bias: Variable(b), stride: [1, 2], padding: .same, negativeSlope: slope)
            let separate = try Variable.convolution(Variable(x), weight: Variable(w), bias: Variable(b), stride: [1, 2], padding: .same).leakyRelu(slope: slope)
            #expect(fused.value == separate.value)
            try GradientCheck.check([x, w, b]) {
                try Variable.convolution($0[0], weight: $0[1], bias: $0[2], stride: [1, 2], padding: .same, negativeSlope: slope)
            }
        }
    }

    /// The same for a strided transposed convolution, and its channel-block path (a batch with
    /// fewer samples than threads) agrees with the one-chunk path to rounding.
    @Test func activatedTransposedConvolutionIsTransposedConvolutionThenActivation() throws {
        let x = random([2, 3, 4, 5], seed: 113), w = random([3, 4, 3, 2], seed: 114), b = random([4], seed: 115)
        let fused = try Variable.transposedConvolution(Variable(x), weight: Variable(w), bias: Variable(b), stride: [2, 2], padding: .explicit([1, 0]),
                                                       outputPadding: [1, 0], negativeSlope: 0.5)
        let separate = try Variable.transposedConvolution(Variable(x), weight: Variable(w), bias: Variable(b), stride: [2, 2], padding: .explicit([1, 0]),
                                                          outputPadding: [1, 0]).leakyRelu(slope: 0.5)
        #expect(fused.value == separate.value)
        try GradientCheck.check([x, w, b]) {
            try Variable.transposedConvolution($0[0], weight: $0[1], bias: $0[2], stride: [2, 2], padding: .explicit([1, 0]), outputPadding: [1, 0], negativeSlope: 0)
        }
        // The tiled paths of `transposedForward` against the one-product path (`backward`'s
        // input gradient, then bias and LeakyReLU): the HCAL decoder's 3×3×2 stride-2 kernels
        // on a small grid of more lines than one column tile holds, split into channel blocks
        // (3 threads) or not (1 thread, or a batch of 2 on 2 threads), taps paired along the
        // last axis (or not, where it is odd); its 1×1×1 output layer
        // split into ranges of rows; and a kernel shorter than its stride, whose rows that no
        // input reaches hold only the bias.
        func decoder(batch: Int, lastAxis: Int = 8) -> ConvolutionGeometry {
            ConvolutionGeometry(batch: batch, largeChannels: 32, smallChannels: 32, large: [32, 36, lastAxis], small: [16, 18, 4],
                                kernel: [3, 3, 2], stride: [2, 2, 2], padBefore: [1, 1, 0])
        }
        func pointwise(batch: Int, channels: Int, large: [Int], small: [Int], stride: Int) -> ConvolutionGeometry {
            ConvolutionGeometry(batch: batch, largeChannels: channels, smallChannels: 32, large: large, small: small,
                                kernel: [1, 1, 1], stride: [stride, 1, 1], padBefore: [0, 0, 0])
        }
        let cases: [(g: ConvolutionGeometry, threads: Int)] = [
            (decoder(batch: 1), 3), (decoder(batch: 1), 1), (decoder(batch: 2), 2),
            // An odd last axis: the last pair of taps has one output only.
            (decoder(batch: 1, lastAxis: 7), 2),
            (pointwise(batch: 1, channels: 1, large: [32, 36, 8], small: [32, 36, 8], stride: 1), 2),
            (pointwise(batch: 2, channels: 1, large: [14, 72, 8], small: [14, 72, 8], stride: 1), 2),
            (pointwise(batch: 1, channels: 3, large: [21, 36, 8], small: [10, 36, 8], stride: 2), 4),
        ]
        for (index, (g, threads)) in cases.enumerated() {
            let seed = UInt64(116 + 3 * index)
            let small = random([g.batch * g.smallChannels * g.smallSpatial], seed: seed).scalars.map(Float.init)
            let weight = random([g.smallChannels * g.patchSize], seed: seed + 1).scalars.map(Float.init)
            let bias = random([g.largeChannels], seed: seed + 2).scalars.map(Float.init)
            let product = try #require(ConvolutionKernels.backward(large: nil, weight: weight, smallGradient: small, needLarge: true, g).large)
            let expected = product.indices.map { i in
                let value = product[i] + bias[i / g.largeSpatial % g.largeChannels]
                return value > 0 ? value : 0.5 * value
            }
            let tiled = try #require(ConvolutionKernels.transposedForward(small: small, weight: weight, bias: bias, negativeSlope: 0.5, g, threads: threads))
            #expect(tiled.count == expected.count, "case \(index)")
            #expect(zip(tiled, expected).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) }, "case \(index)")
        }
    }

    /// 2×2 max pooling (its own unrolled loop) against the definition, with ties resolved to the
    /// first maximum in row-major window order (PyTorch's choice).
    @Test func twoByTwoMaxPoolingMatchesTheDefinition() throws {
        let x = random([2, 3, 6, 7], seed: 120).scalars.map { ($0 * 2).rounded() }  // ties are common
        let (pooled, indices) = try Variable(try Tensor(shape: [2, 3, 6, 7], scalars: x)).maxPoolWithIndices(kernel: [2, 2])
        var values = [Double](), positions = [Int]()
        for plane in 0..<6 { for oh in 0..<3 { for ow in 0..<3 {
            var best = -Double.infinity, position = 0
            for dy in 0..<2 { for dx in 0..<2 {
                let p = (2 * oh + dy) * 7 + 2 * ow + dx
                if x[plane * 42 + p] > best { best = x[plane * 42 + p]; position = p }
            } }
            values.append(best)
            positions.append(position)
        } } }
        #expect(pooled.value.scalars == values)
        #expect(indices.positions == positions)
    }

    /// The 2×2×2 window (its own unrolled loop: the HCAL encoder's first pooling) against the
    /// definition, ties to the first maximum in row-major window order, and its gradient.
    @Test func twoByTwoByTwoMaxPoolingMatchesTheDefinition() throws {
        let x = random([2, 2, 4, 6, 8], seed: 121).scalars.map { ($0 * 2).rounded() }
        let (pooled, indices) = try Variable(try Tensor(shape: [2, 2, 4, 6, 8], scalars: x)).maxPoolWithIndices(kernel: [2, 2, 2])
        var values = [Double](), positions = [Int]()
        for plane in 0..<4 { for od in 0..<2 { for oh in 0..<3 { for ow in 0..<4 {
            var best = -Double.infinity, position = 0
            for dz in 0..<2 { for dy in 0..<2 { for dx in 0..<2 {
                let p = ((2 * od + dz) * 6 + 2 * oh + dy) * 8 + 2 * ow + dx
                if x[plane * 192 + p] > best { best = x[plane * 192 + p]; position = p }
            } } }
            values.append(best)
            positions.append(position)
        } } } }
        #expect(pooled.value.scalars == values)
        #expect(indices.positions == positions)
        try GradientCheck.check([random([1, 2, 2, 4, 4], seed: 122)]) { try $0[0].maxPool(kernel: [2, 2, 2]) }
    }
}
