import COpenBLAS
import CVectorKernels
import Foundation

/// The element types tensors hold: Float for training, Double for gradient checks and numerics
/// that need the precision. Each conformance supplies the BLAS routine and the transcendental
/// functions of its precision so that kernels written once stay generic.
public protocol TensorScalar: BinaryFloatingPoint, Codable, Sendable, CustomStringConvertible
where Self.RawSignificand: FixedWidthInteger {
    /// C = alpha·op(A)·op(B) + beta·C on row-major matrices.
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    static func exponential(_ x: Self) -> Self
    static func logarithm(_ x: Self) -> Self
    /// y[i] = tanh(x[i]) for `count` elements.
    static func hyperbolicTangent(_ x: UnsafePointer<Self>, into y: UnsafeMutablePointer<Self>, count: Int)
    static func errorFunction(_ x: Self) -> Self
    static func log1p(_ x: Self) -> Self
    static func expm1(_ x: Self) -> Self
}

/// Process settings the engine needs, applied once before the first product.
///
/// glibc's malloc would serve every tensor above 128 KiB with a fresh mmap and return it on free,
/// so each training step would page-fault (and the kernel clear) its activations again. glibc
/// caps the mmap threshold at 32 MiB, below the largest activations (94 MB for a batch of the
/// HCAL model), so mmap is switched off instead: freed tensor memory stays in the heap for the
/// next step, and the trim threshold returns the heap's top to the system only above 512 MiB.
let heapConfigured: Bool = {
    #if os(Linux)
    // mallopt lives in <malloc.h>, which no Swift module exports; look it up instead.
    if let symbol = dlsym(nil, "mallopt") {
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        _ = mallopt(-4, 0)  // M_MMAP_MAX
        _ = mallopt(-1, 512 << 20)  // M_TRIM_THRESHOLD
    }
    #endif
    return true
}()

@inline(__always)
private func blasTranspose(_ flag: Bool) -> CBLAS_TRANSPOSE { flag ? CblasTrans : CblasNoTrans }

extension Float: TensorScalar {
    @inline(__always)
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        _ = heapConfigured
        LinearAlgebraLibrary.sgemm(CblasRowMajor, blasTranspose(transposeA), blasTranspose(transposeB),
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    @inline(__always) public static func exponential(_ x: Float) -> Float { Foundation.exp(x) }
    @inline(__always) public static func logarithm(_ x: Float) -> Float { Foundation.log(x) }
    /// A rational approximation (|error| < 1e-6) in C, vectorized for the CPU's widest
    /// instruction set and bitwise the same on all of them: glibc's tanhf is several times slower,
    /// and tanh dominates small dense models (activations.c).
    @inline(__always) public static func hyperbolicTangent(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        hepml_tanh(VectorInstructions.usable, x, y, Int64(count))
    }
    @inline(__always) public static func errorFunction(_ x: Float) -> Float { Foundation.erf(x) }
    @inline(__always) public static func log1p(_ x: Float) -> Float { Foundation.log1p(x) }
    @inline(__always) public static func expm1(_ x: Float) -> Float { Foundation.expm1(x) }
}

extension Double: TensorScalar {
    @inline(__always)
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        _ = heapConfigured
        LinearAlgebraLibrary.dgemm(CblasRowMajor, blasTranspose(transposeA), blasTranspose(transposeB),
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    @inline(__always) public static func exponential(_ x: Double) -> Double { Foundation.exp(x) }
    @inline(__always) public static func logarithm(_ x: Double) -> Double { Foundation.log(x) }
    public static func hyperbolicTangent(_ x: UnsafePointer<Double>, into y: UnsafeMutablePointer<Double>, count: Int) {
        for i in 0..<count { y[i] = Foundation.tanh(x[i]) }
    }
    @inline(__always) public static func errorFunction(_ x: Double) -> Double { Foundation.erf(x) }
    @inline(__always) public static func log1p(_ x: Double) -> Double { Foundation.log1p(x) }
    @inline(__always) public static func expm1(_ x: Double) -> Double { Foundation.expm1(x) }
}
