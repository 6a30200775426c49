import COpenBLAS
import Foundation

/// Which OpenBLAS kernels run the matrix products.
public enum BLASKernels {
    /// OpenBLAS's name for the kernels it selected at load time ("Haswell", "SkylakeX", "Zen", …).
    public static var coreName: String {
        guard let name = LinearAlgebraLibrary.coreName() else { return "unknown" }
        return String(cString: name)
    }

    /// An `OPENBLAS_CORETYPE` that would serve this CPU better than the kernels OpenBLAS chose,
    /// or nil. Debian's OpenBLAS maps AMD Zen 4/5, which have AVX-512, to its AVX2 kernels, and
    /// environments pin `OPENBLAS_CORETYPE=Haswell` to the same effect; on such a CPU its SkylakeX
    /// (AVX-512) kernels run 1.5–2× faster on convolution-sized products. A pin to other kernels
    /// is left alone, and so is everything when `HEPML_VECTOR_INSTRUCTIONS` caps HEPML below
    /// AVX-512 (`VectorInstructions`). OpenBLAS reads the variable only when it loads, so a command
    /// must relaunch itself to use it.
    public static var fasterCoreType: String? {
        #if os(Linux)
        if let pinned = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"], !["haswell", "zen"].contains(pinned.lowercased()) { return nil }
        let current = coreName.lowercased()
        guard !["skylakex", "cooperlake", "sapphirerapids"].contains(where: current.contains) else { return nil }
        return VectorInstructions.usable == .AVX512 ? "SKYLAKEX" : nil
        #else
        return nil
        #endif
    }
}
