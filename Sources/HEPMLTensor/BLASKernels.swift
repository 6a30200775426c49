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
    /// (AVX-512) kernels run 1.5–2× faster on convolution-sized products. On AMD Zen 1/Zen+, which
    /// split every 256-bit FMA into two 128-bit halves, its SandyBridge (AVX, separate multiply
    /// and add) kernels train the 27D compression autoencoder 25–30 % faster than the Zen ones
    /// (docs/compress.md, "Training throughput"). A pin to other kernels is left alone, and so is
    /// AVX-512 when `HEPML_VECTOR_INSTRUCTIONS` caps HEPML below it (`VectorInstructions`).
    /// OpenBLAS reads the variable only when it loads, so a command must relaunch itself to use it.
    public static var fasterCoreType: String? {
        #if os(Linux)
        if let pinned = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"], !["haswell", "zen"].contains(pinned.lowercased()) { return nil }
        let current = coreName.lowercased()
        guard !["skylakex", "cooperlake", "sapphirerapids"].contains(where: current.contains) else { return nil }
        if VectorInstructions.usable == .AVX512 { return "SKYLAKEX" }
        return isZen1 && !current.contains("sandybridge") ? "SANDYBRIDGE" : nil
        #else
        return nil
        #endif
    }

    #if os(Linux)
    /// AMD family 23 (17h) below model 30h: Zen and Zen+ (Zen 2 starts at model 30h and has
    /// full-width FMA units).
    static var isZen1: Bool {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return false }
        func field(_ name: String) -> String? {
            for line in info.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name { return parts[1].trimmingCharacters(in: .whitespaces) }
            }
            return nil
        }
        guard field("vendor_id") == "AuthenticAMD", field("cpu family") == "23", let model = field("model").flatMap({ Int($0) }) else { return false }
        return model < 0x30
    }
    #endif
}
