// Direct (im2col-free) stride-1 convolution kernels in AVX-512 and AVX2.
//
// Lowering a convolution to one matrix product (im2col + sgemm) copies every input value once
// per kernel position into a column matrix, which the BLAS then copies again into its packed
// panels; for a 5×5 kernel on small images those copies cost as much as the product. These
// kernels read the zero-padded image directly: a tile of R output pixels of one row × V vectors
// of output channels stays in registers while the loop walks the kernel positions, loading V
// weight vectors and broadcasting R input values per position (R·V fused multiply-adds). The
// same tile serves the input gradient, which is the forward convolution of the padded output
// gradient with the flipped kernel. The weight gradient keeps J kernel positions × V vectors in
// registers instead and walks the output pixels; its positions run on across kernel rows and
// input channels, so kernels one tap wide (3×3×1) still fill a tile.
//
// Swift in this package is compiled for baseline x86-64, so the kernels live in C, compiled
// once per instruction set (direct_convolution_tiles.h) with per-function targets; the caller
// picks the set with `hepml_vector_instructions`. Other architectures get `Baseline` there and
// never call the kernels (the engine uses im2col).

#include "CVectorKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define ALWAYS_INLINE static inline __attribute__((always_inline))
/// Tile loops must unroll completely for the accumulators to live in registers.
#define UNROLL _Pragma("GCC unroll 32")
#define CONCAT_(a, b) a##_##b
#define CONCAT(a, b) CONCAT_(a, b)

// One instance per tile shape: the compiler keeps a tile in registers only when R (or J) and V
// are constants.
#define TILE_CASE(R, V, CALL) case (R) * 8 + (V): CALL(R, V); return;
#define CASES_UP_TO_3(V, CALL) TILE_CASE(1, V, CALL) TILE_CASE(2, V, CALL) TILE_CASE(3, V, CALL)
#define CASES_UP_TO_6(V, CALL) CASES_UP_TO_3(V, CALL) TILE_CASE(4, V, CALL) TILE_CASE(5, V, CALL) TILE_CASE(6, V, CALL)
#define CASES_UP_TO_8(V, CALL) CASES_UP_TO_6(V, CALL) TILE_CASE(7, V, CALL) TILE_CASE(8, V, CALL)
#define CASES_UP_TO_12(V, CALL) CASES_UP_TO_8(V, CALL) TILE_CASE(9, V, CALL) TILE_CASE(10, V, CALL) TILE_CASE(11, V, CALL) \
    TILE_CASE(12, V, CALL)
#define CASES_UP_TO_24(V, CALL) CASES_UP_TO_12(V, CALL) TILE_CASE(13, V, CALL) TILE_CASE(14, V, CALL) TILE_CASE(15, V, CALL) \
    TILE_CASE(16, V, CALL) TILE_CASE(17, V, CALL) TILE_CASE(18, V, CALL) TILE_CASE(19, V, CALL) TILE_CASE(20, V, CALL) \
    TILE_CASE(21, V, CALL) TILE_CASE(22, V, CALL) TILE_CASE(23, V, CALL) TILE_CASE(24, V, CALL)

// AVX-512: 32 registers of 16 lanes; tiles of up to 24 accumulators over up to four vectors.
#define TARGET __attribute__((target("avx512f,fma")))
#define NAME(x) CONCAT(x, avx512)
#define VECTOR __m512
#define LANES 16
#define VZERO _mm512_setzero_ps
#define VLOAD _mm512_loadu_ps
#define VSTORE _mm512_storeu_ps
#define VSET1 _mm512_set1_ps
#define VFMA _mm512_fmadd_ps
#define VADD _mm512_add_ps
#define MAX_VECTORS 4
#define MAX_TILE 24
#define WIDEST_TILE {0, 24, 12, 8, 6}
#define TILE_CASES(CALL) CASES_UP_TO_24(1, CALL) CASES_UP_TO_12(2, CALL) CASES_UP_TO_8(3, CALL) CASES_UP_TO_6(4, CALL)
#include "direct_convolution_tiles.h"
#undef TARGET
#undef NAME
#undef VECTOR
#undef LANES
#undef VZERO
#undef VLOAD
#undef VSTORE
#undef VSET1
#undef VFMA
#undef VADD
#undef MAX_VECTORS
#undef MAX_TILE
#undef WIDEST_TILE
#undef TILE_CASES

// AVX2 + FMA: 16 registers of 8 lanes; tiles of up to 12 accumulators over up to two vectors.
#define TARGET __attribute__((target("avx2,fma")))
#define NAME(x) CONCAT(x, avx2)
#define VECTOR __m256
#define LANES 8
#define VZERO _mm256_setzero_ps
#define VLOAD _mm256_loadu_ps
#define VSTORE _mm256_storeu_ps
#define VSET1 _mm256_set1_ps
#define VFMA _mm256_fmadd_ps
#define VADD _mm256_add_ps
#define MAX_VECTORS 2
#define MAX_TILE 12
#define WIDEST_TILE {0, 12, 6}
#define TILE_CASES(CALL) CASES_UP_TO_12(1, CALL) CASES_UP_TO_6(2, CALL)
#include "direct_convolution_tiles.h"

#endif

HEPMLVectorInstructions hepml_vector_instructions(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    // The kernels here need only AVX-512F; the other three are what OpenBLAS's SkylakeX kernels,
    // chosen by the same test, need too (every AVX-512 CPU since Skylake-SP has them).
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq"))
        return HEPMLVectorInstructionsAVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return HEPMLVectorInstructionsAVX2;
#endif
    return HEPMLVectorInstructionsBaseline;
}

void hepml_direct_convolution_forward(HEPMLVectorInstructions instructions, const HEPMLDirectConvolution *geometry,
                                      const float *input, const float *weights, const float *bias, float negative_slope, float *output) {
    switch (instructions) {
#if defined(__x86_64__)
    case HEPMLVectorInstructionsAVX512: forward_avx512(geometry, input, weights, bias, negative_slope, output); break;
    case HEPMLVectorInstructionsAVX2: forward_avx2(geometry, input, weights, bias, negative_slope, output); break;
#endif
    default: break;
    }
}

void hepml_direct_convolution_weight_gradient(HEPMLVectorInstructions instructions, const HEPMLDirectConvolution *geometry,
                                              const float *input, const float *outputGradient, float *gradient) {
    switch (instructions) {
#if defined(__x86_64__)
    case HEPMLVectorInstructionsAVX512: weight_gradient_avx512(geometry, input, outputGradient, gradient); break;
    case HEPMLVectorInstructionsAVX2: weight_gradient_avx2(geometry, input, outputGradient, gradient); break;
#endif
    default: break;
    }
}
