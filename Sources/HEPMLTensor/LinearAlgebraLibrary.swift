import COpenBLAS
import Foundation

/// OpenBLAS and LAPACKE, opened with `dlopen` at the first matrix product, SVD or kernel query
/// instead of by the dynamic loader when the process starts. Loading OpenBLAS binds about 16,000
/// symbols (its own, LAPACKE's and BLAS's) and starts its threads: about 4 ms of CPU that every
/// command paid, also the many short ones without linear algebra (`root ls`, `dqm fetch`).
/// The headers still give the types; the module map no longer links the libraries.
public enum LinearAlgebraLibrary {
    /// cblas_?gemm(order, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc).
    public typealias SGEMM = @convention(c) (
        CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, blasint, blasint, blasint, Float, UnsafePointer<Float>?, blasint,
        UnsafePointer<Float>?, blasint, Float, UnsafeMutablePointer<Float>?, blasint) -> Void
    public typealias DGEMM = @convention(c) (
        CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, blasint, blasint, blasint, Double, UnsafePointer<Double>?, blasint,
        UnsafePointer<Double>?, blasint, Double, UnsafeMutablePointer<Double>?, blasint) -> Void
    /// LAPACKE_dgesdd(layout, jobz, m, n, a, lda, s, u, ldu, vt, ldvt).
    public typealias DGESDD = @convention(c) (
        Int32, CChar, Int32, Int32, UnsafeMutablePointer<Double>?, Int32, UnsafeMutablePointer<Double>?,
        UnsafeMutablePointer<Double>?, Int32, UnsafeMutablePointer<Double>?, Int32) -> Int32

    public static let sgemm = function("cblas_sgemm", in: openBLAS, as: SGEMM.self)
    public static let dgemm = function("cblas_dgemm", in: openBLAS, as: DGEMM.self)
    public static let dgesdd = function("LAPACKE_dgesdd", in: lapacke, as: DGESDD.self)
    static let setThreadCount = function("openblas_set_num_threads", in: openBLAS, as: (@convention(c) (Int32) -> Void).self)
    static let coreName = function("openblas_get_corename", in: openBLAS, as: (@convention(c) () -> UnsafeMutablePointer<CChar>?).self)

    #if os(Linux)
    private static let openBLASName = "libopenblas.so.0", lapackeName = "liblapacke.so.3"
    #else
    private static let openBLASName = "libopenblas.dylib", lapackeName = "liblapacke.dylib"
    #endif
    private static let openBLAS = open(openBLASName)
    private static let lapacke = open(lapackeName)

    /// A missing library ends the process with a message and status 1, as the dynamic loader
    /// refused to start it when the library was linked at start-up (no crash report: it is the
    /// installation, not the input, that is wrong).
    private static func open(_ name: String) -> UnsafeMutableRawPointer {
        guard let handle = dlopen(name, RTLD_NOW | RTLD_GLOBAL) else {
            unavailable("cannot load \(name) (install the packages of scripts/install-deps.sh): \(String(cString: dlerror()))")
        }
        return handle
    }

    private static func function<Function>(_ name: String, in library: UnsafeMutableRawPointer, as type: Function.Type) -> Function {
        guard let symbol = dlsym(library, name) else {
            unavailable("\(name) is missing from the loaded OpenBLAS/LAPACKE: \(String(cString: dlerror()))")
        }
        return unsafeBitCast(symbol, to: type)
    }

    private static func unavailable(_ message: String) -> Never {
        FileHandle.standardError.write(Data("hepml: error: \(message)\n".utf8))
        exit(1)
    }
}
