import CVectorKernels
import Foundation

/// The vector instruction set of HEPML's own C kernels (`CVectorKernels`), and whether OpenBLAS
/// is asked for its AVX-512 kernels (`LinearAlgebraLibrary`).
///
/// `HEPML_VECTOR_INSTRUCTIONS=avx2` or `=baseline` caps it below what the CPU runs, to compare
/// with a peer limited to AVX2 on the same machine or to repeat a run of an AVX2-only machine
/// (results differ between instruction sets in their last bits); any other value, or none,
/// leaves the CPU's widest set.
public enum VectorInstructions {
    public static let usable: HEPMLVectorInstructions = {
        let cpu = hepml_vector_instructions()
        let cap: HEPMLVectorInstructions? = switch ProcessInfo.processInfo.environment["HEPML_VECTOR_INSTRUCTIONS"]?.lowercased() {
        case "baseline": .baseline
        case "avx2": .AVX2
        default: nil
        }
        guard let cap, cap.rawValue < cpu.rawValue else { return cpu }
        return cap
    }()

    /// "AVX-512", "AVX2" or "baseline", for benchmark headers.
    public static var name: String {
        switch usable {
        case .AVX512: "AVX-512"
        case .AVX2: "AVX2"
        case .baseline: "baseline"
        }
    }
}
