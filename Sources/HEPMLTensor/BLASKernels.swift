import COpenBLAS
import Foundation

/// Which OpenBLAS kernels run the matrix products.
public enum BLASKernels {
    /// OpenBLAS's name for the kernels it selected at load time ("Haswell", "SkylakeX", "Zen", …).
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// An `OPENBLAS_CORETYPE` that would serve this CPU better than the kernels OpenBLAS chose,
    /// or nil. Debian's OpenBLAS maps AMD Zen 4/5, which have AVX-512, to its AVX2 kernels, and
    /// environments pin `OPENBLAS_CORETYPE=Haswell` to the same effect; on such a CPU its SkylakeX
    /// (AVX-512) kernels run 1.5–2× faster on convolution-sized products. A pin to other kernels
    /// is left alone. OpenBLAS reads the variable only when it loads, so a command must relaunch
    /// itself to use it.
    public static var fasterCoreType: String? {
        #if os(Linux)
        if let pinned = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"], !["haswell", "zen"].contains(pinned.lowercased()) { return nil }
        let current = coreName.lowercased()
        guard !["skylakex", "cooperlake", "sapphirerapids"].contains(where: current.contains) else { return nil }
        // /proc files report size 0, so read them as a stream.
        guard let data = FileHandle(forReadingAtPath: "/proc/cpuinfo")?.readDataToEndOfFile(),
              let cpuinfo = String(data: data, encoding: .utf8),
              let flagsLine = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        return ["avx512f", "avx512bw", "avx512vl", "avx512dq"].allSatisfy(flags.contains) ? "SKYLAKEX" : nil
        #else
        return nil
        #endif
    }
}
