import COpenBLAS
import CVectorKernels
import Foundation

/// The matrix products (BLIS or OpenBLAS, see `products`) and the SVD (LAPACKE on OpenBLAS),
/// opened with `dlopen` at first use instead of by the dynamic loader when the process starts:
/// loading OpenBLAS alone binds about 16,000 symbols and starts its threads, about 4 ms of CPU
/// that every command paid, also the many short ones without linear algebra (`root ls`,
/// `dqm fetch`). The headers give the CBLAS types; BLIS's CBLAS layer has the same ABI. The
/// module map links no library.
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

    public static let sgemm = function("cblas_sgemm", in: products.handle, as: SGEMM.self)
    public static let dgemm = function("cblas_dgemm", in: products.handle, as: DGEMM.self)
    public static let dgesdd = function("LAPACKE_dgesdd", in: lapacke, as: DGESDD.self)

    /// The library whose products run: BLIS, except on a CPU with AVX-512 (where OpenBLAS's
    /// SkylakeX kernels are the measured fast ones and Debian's BLIS 0.9 has no kernels for AMD's
    /// AVX-512 Zen 4/5) or one for which BLIS has only its generic kernels. `kernels` names what
    /// ran, for the benchmarks' headers. Either library runs single-threaded: the engine splits
    /// large products over `Parallel` itself (`Kernels.gemm`), which avoids oversubscription when
    /// convolutions already run one batch chunk per core.
    static let products: (handle: UnsafeMutableRawPointer, kernels: String) = {
        if hepml_vector_instructions() != .AVX512, let blis = dlopen(blisName, RTLD_NOW | RTLD_LOCAL) {
            let architecture = function("bli_arch_query_id", in: blis, as: (@convention(c) () -> Int32).self)()
            let name = function("bli_arch_string", in: blis, as: (@convention(c) (Int32) -> UnsafePointer<CChar>?).self)(architecture)
                .map { String(cString: $0) } ?? "generic"
            if name != "generic" {
                function("bli_thread_set_num_threads", in: blis, as: (@convention(c) (Int) -> Void).self)(1)
                return (blis, "BLIS \(name)")
            }
        }
        let handle = openBLAS
        let name = function("openblas_get_corename", in: handle, as: (@convention(c) () -> UnsafeMutablePointer<CChar>?).self)()
        return (handle, "OpenBLAS \(name.map { String(cString: $0) } ?? "unknown")")
    }()

    #if os(Linux)
    private static let blisName = "libblis.so.4", openBLASName = "libopenblas.so.0", lapackeName = "liblapacke.so.3"
    #else
    private static let blisName = "libblis.dylib", openBLASName = "libopenblas.dylib", lapackeName = "liblapacke.dylib"
    #endif
    /// OpenBLAS, single-threaded: LAPACKE runs on it, and it would otherwise start a thread per
    /// core inside the engine's own parallel loops.
    private static let openBLAS: UnsafeMutableRawPointer = {
        #if os(Linux)
        // Debian's OpenBLAS maps AMD Zen 4/5 to its AVX2 kernels, and environments pin
        // `OPENBLAS_CORETYPE=Haswell` to the same effect; its SkylakeX kernels run
        // convolution-sized products 1.5–2× faster there. OpenBLAS reads the variable when it
        // loads, which is here. A pin to other kernels is left alone, and so is AVX-512 when
        // `HEPML_VECTOR_INSTRUCTIONS` caps HEPML below it.
        let pinned = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"]?.lowercased()
        if VectorInstructions.usable == .AVX512, pinned == nil || pinned == "haswell" || pinned == "zen" {
            setenv("OPENBLAS_CORETYPE", "SKYLAKEX", 1)
        }
        #endif
        let handle = open(openBLASName)
        function("openblas_set_num_threads", in: handle, as: (@convention(c) (Int32) -> Void).self)(1)
        return handle
    }()
    private static let lapacke: UnsafeMutableRawPointer = {
        _ = openBLAS
        return open(lapackeName)
    }()

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
            unavailable("\(name) is missing from the loaded BLIS/OpenBLAS/LAPACKE: \(String(cString: dlerror()))")
        }
        return unsafeBitCast(symbol, to: type)
    }

    private static func unavailable(_ message: String) -> Never {
        FileHandle.standardError.write(Data("hepml: error: \(message)\n".utf8))
        exit(1)
    }
}
