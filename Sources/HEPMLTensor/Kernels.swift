import HEPMLCore

/// Loop helpers shared by the operation files. Large elementwise work is split over cores; small
/// work stays on the calling thread because a thread hand-off costs more than it saves.
enum Kernels {
    /// Below this many elements an elementwise loop runs on one thread.
    static let parallelThreshold = 1 << 15

    @inline(__always)
    static func addInPlace<T: TensorScalar>(_ target: UnsafeMutableBufferPointer<T>, _ source: UnsafeBufferPointer<T>) {
        let t = target.baseAddress.unsafelyUnwrapped, s = source.baseAddress.unsafelyUnwrapped
        chunked(target.count) { range in
            for i in range { t[i] += s[i] }
        }
    }

    /// Lanes of the interleaved sums below: a single running sum waits on every addition's
    /// latency (about four cycles), eight independent ones keep the adders busy and vectorize.
    static let sumLanes = 8

    /// Σ f(i) for i in 0..<count, summed in `sumLanes` interleaved partial sums (lane i mod 8)
    /// that are added pairwise at the end; the order is fixed, so results do not depend on threads.
    @inline(__always)
    static func laneSum<T: TensorScalar>(_ count: Int, _ f: (Int) -> T) -> T {
        laneSums(count) { (f($0), 0) }.0
    }

    /// The two sums Σ f(i).0 and Σ f(i).1 of one pass, each in `laneSum`'s order.
    @inline(__always)
    static func laneSums<T: TensorScalar>(_ count: Int, _ f: (Int) -> (T, T)) -> (T, T) {
        var a0: T = 0, a1: T = 0, a2: T = 0, a3: T = 0, a4: T = 0, a5: T = 0, a6: T = 0, a7: T = 0
        var b0: T = 0, b1: T = 0, b2: T = 0, b3: T = 0, b4: T = 0, b5: T = 0, b6: T = 0, b7: T = 0
        @inline(__always) func add(_ a: inout T, _ b: inout T, _ i: Int) { let (x, y) = f(i); a += x; b += y }
        var i = 0
        while i &+ sumLanes <= count {
            add(&a0, &b0, i); add(&a1, &b1, i &+ 1); add(&a2, &b2, i &+ 2); add(&a3, &b3, i &+ 3)
            add(&a4, &b4, i &+ 4); add(&a5, &b5, i &+ 5); add(&a6, &b6, i &+ 6); add(&a7, &b7, i &+ 7)
            i &+= sumLanes
        }
        var tailA: T = 0, tailB: T = 0
        while i < count { add(&tailA, &tailB, i); i &+= 1 }
        return (((a0 + a4) + (a1 + a5)) + ((a2 + a6) + (a3 + a7)) + tailA, ((b0 + b4) + (b1 + b5)) + ((b2 + b6) + (b3 + b7)) + tailB)
    }

    /// Runs `body` over `0..<count`, in parallel chunks when `count` is large.
    @inline(__always)
    static func chunked(_ count: Int, cost: Int = 1, _ body: (Range<Int>) -> Void) {
        if count * cost < parallelThreshold {
            body(0..<count)
        } else {
            forEachChunk(count, minimumChunk: parallelThreshold / max(cost, 1), body)
        }
    }

    /// y[i] = f(x[i]) into a new array.
    @inline(__always)
    static func map<T: TensorScalar>(_ x: [T], cost: Int = 1, _ f: (T) -> T) -> [T] {
        // Filled outside `init(unsafeUninitializedCapacity:)`, whose closure is opaque to the
        // optimizer, which would then call `f` indirectly per element.
        var result: [T] = overwritten(x.count)
        result.withUnsafeMutableBufferPointer { out in
            x.withUnsafeBufferPointer { input in
                let o = out.baseAddress.unsafelyUnwrapped, p = input.baseAddress.unsafelyUnwrapped
                // The serial loop is written out (not routed through `chunked`) so that `f`
                // inlines into it and the loop vectorizes.
                if x.count * cost < parallelThreshold {
                    for i in 0..<x.count { o[i] = f(p[i]) }
                } else {
                    forEachChunk(x.count, minimumChunk: parallelThreshold / max(cost, 1)) { range in
                        for i in range { o[i] = f(p[i]) }
                    }
                }
            }
        }
        return result
    }

    /// z[i] = f(x[i], y[i]) for equal-length arrays.
    @inline(__always)
    static func zip<T: TensorScalar>(_ x: [T], _ y: [T], cost: Int = 1, _ f: (T, T) -> T) -> [T] {
        var result: [T] = overwritten(x.count)
        result.withUnsafeMutableBufferPointer { out in
            x.withUnsafeBufferPointer { a in
                y.withUnsafeBufferPointer { b in
                    let o = out.baseAddress.unsafelyUnwrapped
                    let pa = a.baseAddress.unsafelyUnwrapped, pb = b.baseAddress.unsafelyUnwrapped
                    if x.count * cost < parallelThreshold {
                        for i in 0..<x.count { o[i] = f(pa[i], pb[i]) }
                    } else {
                        forEachChunk(x.count, minimumChunk: parallelThreshold / max(cost, 1)) { range in
                            for i in range { o[i] = f(pa[i], pb[i]) }
                        }
                    }
                }
            }
        }
        return result
    }

    /// w[i] = f(x[i], y[i], z[i]) for equal-length arrays (backward of activations).
    @inline(__always)
    static func zip3<T: TensorScalar>(_ x: [T], _ y: [T], _ z: [T], cost: Int = 1, _ f: (T, T, T) -> T) -> [T] {
        var result: [T] = overwritten(x.count)
        result.withUnsafeMutableBufferPointer { out in
            x.withUnsafeBufferPointer { a in
                y.withUnsafeBufferPointer { b in
                    z.withUnsafeBufferPointer { c in
                        let o = out.baseAddress.unsafelyUnwrapped
                        let pa = a.baseAddress.unsafelyUnwrapped, pb = b.baseAddress.unsafelyUnwrapped, pc = c.baseAddress.unsafelyUnwrapped
                        chunked(x.count, cost: cost) { range in
                            for i in range { o[i] = f(pa[i], pb[i], pc[i]) }
                        }
                    }
                }
            }
        }
        return result
    }

    /// C[m×n] = op(A)·op(B) (+ C when `accumulate`), with the rows of C split over cores when
    /// the product is large enough to pay for the hand-off.
    @_specialize(where T == Float)
    static func gemm<T: TensorScalar>(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafeMutablePointer<T>, accumulate: Bool = false
    ) {
        guard m > 0, n > 0 else { return }
        let lda = transposeA ? m : k
        let ldb = transposeB ? k : n
        let beta: T = accumulate ? 1 : 0
        if k == 0 {
            if !accumulate { c.update(repeating: 0, count: m * n) }
            return
        }
        let work = m * n * k
        let threads = Parallel.threadCount
        if work < 1 << 18 || threads == 1 || max(m, n) < 16 * threads {
            T.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1,
                   a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: n)
            return
        }
        // Split the larger side of C, so that each thread packs only its share of the larger
        // operand (a dense layer's weight matrix is often much larger than the batch).
        if m >= n {
            forEachChunk(m, minimumChunk: 8) { rows in
                // Row block of op(A): rows of A when not transposed, columns of A otherwise.
                let aBlock = transposeA ? a + rows.lowerBound : a + rows.lowerBound * lda
                T.gemm(transposeA: transposeA, transposeB: transposeB, m: rows.count, n: n, k: k, alpha: 1,
                       a: aBlock, lda: lda, b: b, ldb: ldb, beta: beta, c: c + rows.lowerBound * n, ldc: n)
            }
        } else {
            forEachChunk(n, minimumChunk: 16) { columns in
                // Column block of op(B): columns of B when not transposed, rows of B otherwise.
                let bBlock = transposeB ? b + columns.lowerBound * ldb : b + columns.lowerBound
                T.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: columns.count, k: k, alpha: 1,
                       a: a, lda: lda, b: bBlock, ldb: ldb, beta: beta, c: c + columns.lowerBound, ldc: n)
            }
        }
    }
}

extension Kernels {
    /// Splits `0..<count` into `chunks` contiguous ranges and runs them on the worker pool,
    /// passing the chunk index so that each can own a private accumulator.
    static func forEachChunk(_ count: Int, chunks: Int, _ body: (Int, Range<Int>) -> Void) {
        let chunks = max(1, min(chunks, count))
        let base = count / chunks, extra = count % chunks
        if chunks == 1 { body(0, 0..<count); return }
        WorkerPool.shared.run(chunks: chunks) { chunk in
            let start = chunk * base + min(chunk, extra)
            body(chunk, start..<(start + base + (chunk < extra ? 1 : 0)))
        }
    }

    /// Splits `0..<count` into at most `Parallel.threadCount` chunks of at least `minimumChunk`.
    static func forEachChunk(_ count: Int, minimumChunk: Int, _ body: (Range<Int>) -> Void) {
        WorkerPool.forEachChunk(count, minimumChunk: minimumChunk, body)
    }

    /// The elementwise sum of equally long per-chunk partial results, in chunk order (so a
    /// result depends on the chunking, not on which thread finished first).
    @_specialize(where T == Float)
    static func sumOfPartials<T: TensorScalar>(_ partials: [[T]]) -> [T] {
        var total = partials.first ?? []
        for partial in partials.dropFirst() where partial.count == total.count {
            for i in 0..<total.count { total[i] += partial[i] }
        }
        return total
    }

    /// An array whose every element the caller overwrites (saves a zero-filling pass).
    @inline(__always)
    static func overwritten<T: TensorScalar>(_ count: Int) -> [T] {
        [T](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }
}
