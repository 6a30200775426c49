// Direct (im2col-free) stride-1 convolution kernels in AVX-512.
//
// Lowering a convolution to one matrix product (im2col + sgemm) copies every input value once
// per kernel position into a column matrix, which the BLAS then copies again into its packed
// panels; for a 5×5 kernel on small images those copies cost as much as the product. These
// kernels read the zero-padded image directly: a tile of R output pixels of one row × V vectors
// of 16 output channels stays in registers while the loop walks the kernel positions, loading V
// weight vectors and broadcasting R input values per position (R·V fused multiply-adds). The
// same tile serves the input gradient, which is the forward convolution of the padded output
// gradient with the flipped kernel. The weight gradient keeps J kernel positions × V vectors in
// registers instead and walks the output pixels.
//
// Swift in this package is compiled for baseline x86-64, so the kernels live in C with a
// per-function AVX-512 target and the caller checks `hepml_direct_convolution_supported` first.

#include "CVectorKernels.h"

#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,fma")))
#define ALWAYS_INLINE static inline __attribute__((always_inline))
/// Tile loops must unroll completely for the accumulators to live in registers.
#define UNROLL _Pragma("GCC unroll 32")

bool hepml_direct_convolution_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}

/// Tiles keep at most 24 accumulators in the 32 vector registers, leaving room for the weight
/// vectors and a broadcast: the widest tile for V vectors of channels (V = 1…4).
#define MAX_TILE 24
static const int widest_tile[5] = {0, MAX_TILE, 12, 8, 6};

/// R output pixels starting at `input` (padded grid) × V channel vectors starting at `weights`.
/// `channels` (≤ 16·V) of them are real; the result goes to output[o·outputStride + r].
ALWAYS_INLINE AVX512 void forward_tile(const int R, const int V, const HEPMLDirectConvolution *g, const float *input,
                                       const float *weights, const float *bias, bool rectify, float *output,
                                       int64_t outputStride, int64_t channels) {
    __m512 acc[MAX_TILE][4];
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int v = 0; v < V; v++) acc[r][v] = _mm512_setzero_ps();
    const int64_t hp = g->padded[1], wp = g->padded[2], plane = g->padded[0] * hp * wp;
    const int64_t ldw = g->weightStride;
    const float *w = weights;
    for (int64_t c = 0; c < g->inputChannels; c++) {
        for (int64_t kd = 0; kd < g->kernel[0]; kd++) {
            for (int64_t kh = 0; kh < g->kernel[1]; kh++) {
                const float *line = input + c * plane + (kd * hp + kh) * wp;
                for (int64_t kw = 0; kw < g->kernel[2]; kw++, w += ldw) {
                    __m512 wv[4];
                    UNROLL for (int v = 0; v < V; v++) wv[v] = _mm512_loadu_ps(w + 16 * v);
                    UNROLL for (int r = 0; r < R; r++) {
                        const __m512 x = _mm512_set1_ps(line[kw + r]);
                        UNROLL for (int v = 0; v < V; v++) acc[r][v] = _mm512_fmadd_ps(x, wv[v], acc[r][v]);
                    }
                }
            }
        }
    }
    // Channel-major output: each lane of a vector goes to its own channel plane.
    float lanes[MAX_TILE][16];
    UNROLL for (int v = 0; v < V; v++) {
        UNROLL for (int r = 0; r < R; r++) _mm512_storeu_ps(lanes[r], acc[r][v]);
        const int count = channels - 16 * v < 16 ? (int)(channels - 16 * v) : 16;
        for (int lane = 0; lane < count; lane++) {
            const int64_t o = 16 * v + lane;
            const float shift = bias ? bias[o] : 0.0f;
            float *target = output + o * outputStride;
            UNROLL for (int r = 0; r < R; r++) {
                const float value = lanes[r][lane] + shift;
                target[r] = rectify && value < 0 ? 0.0f : value;
            }
        }
    }
}

/// J consecutive kernel positions of one line starting at `line` × V channel vectors, summed
/// over every output pixel and added to gradient[j·weightStride + 16·v + lane].
ALWAYS_INLINE AVX512 void weight_gradient_tile(const int J, const int V, const HEPMLDirectConvolution *g, const float *line,
                                               const float *outputGradient, float *gradient) {
    __m512 acc[MAX_TILE][4];
    UNROLL for (int j = 0; j < J; j++)
        UNROLL for (int v = 0; v < V; v++) acc[j][v] = _mm512_setzero_ps();
    const int64_t hp = g->padded[1], wp = g->padded[2], ldw = g->weightStride;
    const int64_t width = g->output[2];
    const float *dy = outputGradient;
    for (int64_t od = 0; od < g->output[0]; od++) {
        for (int64_t oh = 0; oh < g->output[1]; oh++) {
            const float *x = line + (od * hp + oh) * wp;
            for (int64_t ow = 0; ow < width; ow++, dy += ldw) {
                __m512 dv[4];
                UNROLL for (int v = 0; v < V; v++) dv[v] = _mm512_loadu_ps(dy + 16 * v);
                UNROLL for (int j = 0; j < J; j++) {
                    const __m512 value = _mm512_set1_ps(x[ow + j]);
                    UNROLL for (int v = 0; v < V; v++) acc[j][v] = _mm512_fmadd_ps(value, dv[v], acc[j][v]);
                }
            }
        }
    }
    UNROLL for (int j = 0; j < J; j++)
        UNROLL for (int v = 0; v < V; v++) {
            float *target = gradient + j * ldw + 16 * v;
            _mm512_storeu_ps(target, _mm512_add_ps(_mm512_loadu_ps(target), acc[j][v]));
        }
}

// One instance per tile shape: the compiler keeps a tile in registers only when R (or J) and V
// are constants.
#define TILE_CASE(R, V, CALL) case (R) * 8 + (V): CALL(R, V); return;
#define TILES_1(CALL) TILE_CASE(1, 1, CALL) TILE_CASE(2, 1, CALL) TILE_CASE(3, 1, CALL) TILE_CASE(4, 1, CALL) \
    TILE_CASE(5, 1, CALL) TILE_CASE(6, 1, CALL) TILE_CASE(7, 1, CALL) TILE_CASE(8, 1, CALL) TILE_CASE(9, 1, CALL) \
    TILE_CASE(10, 1, CALL) TILE_CASE(11, 1, CALL) TILE_CASE(12, 1, CALL) TILE_CASE(13, 1, CALL) TILE_CASE(14, 1, CALL) \
    TILE_CASE(15, 1, CALL) TILE_CASE(16, 1, CALL) TILE_CASE(17, 1, CALL) TILE_CASE(18, 1, CALL) TILE_CASE(19, 1, CALL) \
    TILE_CASE(20, 1, CALL) TILE_CASE(21, 1, CALL) TILE_CASE(22, 1, CALL) TILE_CASE(23, 1, CALL) TILE_CASE(24, 1, CALL)
#define TILES_2(CALL) TILE_CASE(1, 2, CALL) TILE_CASE(2, 2, CALL) TILE_CASE(3, 2, CALL) TILE_CASE(4, 2, CALL) \
    TILE_CASE(5, 2, CALL) TILE_CASE(6, 2, CALL) TILE_CASE(7, 2, CALL) TILE_CASE(8, 2, CALL) TILE_CASE(9, 2, CALL) \
    TILE_CASE(10, 2, CALL) TILE_CASE(11, 2, CALL) TILE_CASE(12, 2, CALL)
#define TILES_3(CALL) TILE_CASE(1, 3, CALL) TILE_CASE(2, 3, CALL) TILE_CASE(3, 3, CALL) TILE_CASE(4, 3, CALL) \
    TILE_CASE(5, 3, CALL) TILE_CASE(6, 3, CALL) TILE_CASE(7, 3, CALL) TILE_CASE(8, 3, CALL)
#define TILES_4(CALL) TILE_CASE(1, 4, CALL) TILE_CASE(2, 4, CALL) TILE_CASE(3, 4, CALL) TILE_CASE(4, 4, CALL) \
    TILE_CASE(5, 4, CALL) TILE_CASE(6, 4, CALL)
#define ALL_TILES(CALL) TILES_1(CALL) TILES_2(CALL) TILES_3(CALL) TILES_4(CALL)

static AVX512 void forward_tile_any(int r, int v, const HEPMLDirectConvolution *g, const float *input, const float *weights,
                                    const float *bias, bool rectify, float *output, int64_t outputStride, int64_t channels) {
#define FORWARD(R, V) forward_tile(R, V, g, input, weights, bias, rectify, output, outputStride, channels)
    switch (r * 8 + v) { ALL_TILES(FORWARD) }
#undef FORWARD
}

static AVX512 void weight_gradient_tile_any(int j, int v, const HEPMLDirectConvolution *g, const float *line,
                                            const float *outputGradient, float *gradient) {
#define WEIGHT_GRADIENT(J, V) weight_gradient_tile(J, V, g, line, outputGradient, gradient)
    switch (j * 8 + v) { ALL_TILES(WEIGHT_GRADIENT) }
#undef WEIGHT_GRADIENT
}

/// Channel vectors handled together, from the first one at `first`: up to four.
static int vectors_from(const HEPMLDirectConvolution *g, int64_t first) {
    const int64_t remaining = (g->outputChannels - first + 15) / 16;
    return remaining < 4 ? (int)remaining : 4;
}

AVX512 void hepml_direct_convolution_forward(const HEPMLDirectConvolution *g, const float *input, const float *weights,
                                             const float *bias, bool rectify, float *output) {
    const int64_t hp = g->padded[1], wp = g->padded[2];
    const int64_t ho = g->output[1], wo = g->output[2], pixels = g->output[0] * ho * wo;
    for (int64_t first = 0; first < g->outputChannels; first += 64) {
        const int v = vectors_from(g, first);
        for (int64_t od = 0; od < g->output[0]; od++) {
            for (int64_t oh = 0; oh < ho; oh++) {
                const float *row = input + (od * hp + oh) * wp;
                float *target = output + first * pixels + (od * ho + oh) * wo;
                for (int64_t ow = 0; ow < wo;) {
                    const int r = wo - ow < widest_tile[v] ? (int)(wo - ow) : widest_tile[v];
                    forward_tile_any(r, v, g, row + ow, weights + first, bias ? bias + first : 0, rectify, target + ow, pixels,
                                     g->outputChannels - first);
                    ow += r;
                }
            }
        }
    }
}

AVX512 void hepml_direct_convolution_weight_gradient(const HEPMLDirectConvolution *g, const float *input,
                                                     const float *outputGradient, float *gradient) {
    const int64_t hp = g->padded[1], wp = g->padded[2], plane = g->padded[0] * hp * wp;
    const int64_t kw = g->kernel[2], ldw = g->weightStride;
    for (int64_t first = 0; first < g->outputChannels; first += 64) {
        const int v = vectors_from(g, first);
        int64_t k = 0;
        for (int64_t c = 0; c < g->inputChannels; c++) {
            for (int64_t kd = 0; kd < g->kernel[0]; kd++) {
                for (int64_t kh = 0; kh < g->kernel[1]; kh++, k += kw) {
                    const float *line = input + c * plane + (kd * hp + kh) * wp;
                    for (int64_t j = 0; j < kw;) {
                        const int count = kw - j < widest_tile[v] ? (int)(kw - j) : widest_tile[v];
                        weight_gradient_tile_any(count, v, g, line + j, outputGradient + first, gradient + (k + j) * ldw + first);
                        j += count;
                    }
                }
            }
        }
    }
}
