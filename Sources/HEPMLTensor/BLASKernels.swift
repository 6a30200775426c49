/// Which library and kernels run the matrix products.
public enum BLASKernels {
    /// "BLIS zen", "OpenBLAS SkylakeX", …: printed by the benchmarks so that their numbers say
    /// what ran.
    public static var name: String { LinearAlgebraLibrary.products.kernels }
}
