// The tiles and drivers of the direct convolution for one instruction set, included once per
// instruction set by direct_convolution.c, which defines first:
//   TARGET               the function attribute enabling the instruction set
//   NAME(x)              x with the instruction set's suffix
//   VECTOR, LANES        the vector type and its float lanes
//   VZERO VLOAD VSTORE VSET1 VFMA VADD   the vector operations
//   MAX_VECTORS          channel vectors per tile, MAX_TILE pixels (or kernel positions) per tile
//   WIDEST_TILE          {0, widest tile for 1 vector, for 2, …}: at most the accumulators that fit
//                        in the register file beside the weight vectors and a broadcast
//   TILE_CASES(CALL)     TILE_CASE(R, V, CALL) for every tile shape that WIDEST_TILE allows

static const int NAME(widest_tile)[] = WIDEST_TILE;

/// R output pixels starting at `input` (padded grid) × V channel vectors starting at `weights`.
/// `channels` (≤ LANES·V) of them are real; the result goes to output[o·outputStride + r].
ALWAYS_INLINE TARGET void NAME(forward_tile)(const int R, const int V, const HEPMLDirectConvolution *g, const float *input,
                                             const float *weights, const float *bias, float negative_slope, float *output,
                                             int64_t outputStride, int64_t channels) {
    VECTOR acc[MAX_TILE][MAX_VECTORS];
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int v = 0; v < V; v++) acc[r][v] = VZERO();
    const int64_t hp = g->padded[1], wp = g->padded[2], plane = g->padded[0] * hp * wp;
    const int64_t ldw = g->weightStride;
    const float *w = weights;
    for (int64_t c = 0; c < g->inputChannels; c++) {
        for (int64_t kd = 0; kd < g->kernel[0]; kd++) {
            for (int64_t kh = 0; kh < g->kernel[1]; kh++) {
                const float *line = input + c * plane + (kd * hp + kh) * wp;
                for (int64_t kw = 0; kw < g->kernel[2]; kw++, w += ldw) {
                    VECTOR wv[MAX_VECTORS];
                    UNROLL for (int v = 0; v < V; v++) wv[v] = VLOAD(w + LANES * v);
                    UNROLL for (int r = 0; r < R; r++) {
                        const VECTOR x = VSET1(line[kw + r]);
                        UNROLL for (int v = 0; v < V; v++) acc[r][v] = VFMA(x, wv[v], acc[r][v]);
                    }
                }
            }
        }
    }
    // Channel-major output: each lane of a vector goes to its own channel plane.
    float lanes[MAX_TILE][LANES];
    UNROLL for (int v = 0; v < V; v++) {
        UNROLL for (int r = 0; r < R; r++) VSTORE(lanes[r], acc[r][v]);
        const int count = channels - LANES * v < LANES ? (int)(channels - LANES * v) : LANES;
        for (int lane = 0; lane < count; lane++) {
            const int64_t o = LANES * v + lane;
            const float shift = bias ? bias[o] : 0.0f;
            float *target = output + o * outputStride;
            UNROLL for (int r = 0; r < R; r++) {
                const float value = lanes[r][lane] + shift;
                // + 0 turns ReLU's −0 into +0 (as a max with 0 would); NaN stays NaN.
                target[r] = (value < 0 ? negative_slope * value : value) + 0.0f;
            }
        }
    }
}

/// J consecutive kernel positions × V channel vectors, summed over every output pixel and added
/// to gradient[j·weightStride + LANES·v + lane]. Position j reads the padded grid `offsets[j]`
/// values after each output pixel's corner, so a tile may span kernel rows and input channels:
/// kernels one tap wide (3×3×1) still fill a whole tile instead of one accumulator per vector.
ALWAYS_INLINE TARGET void NAME(weight_gradient_tile)(const int J, const int V, const HEPMLDirectConvolution *g, const float *input,
                                                     const int64_t *offsets, const float *outputGradient, float *gradient) {
    VECTOR acc[MAX_TILE][MAX_VECTORS];
    UNROLL for (int j = 0; j < J; j++)
        UNROLL for (int v = 0; v < V; v++) acc[j][v] = VZERO();
    int64_t offset[MAX_TILE];
    UNROLL for (int j = 0; j < J; j++) offset[j] = offsets[j];
    const int64_t hp = g->padded[1], wp = g->padded[2], ldw = g->weightStride;
    const int64_t width = g->output[2];
    const float *dy = outputGradient;
    for (int64_t od = 0; od < g->output[0]; od++) {
        for (int64_t oh = 0; oh < g->output[1]; oh++) {
            const float *x = input + (od * hp + oh) * wp;
            for (int64_t ow = 0; ow < width; ow++, dy += ldw) {
                VECTOR dv[MAX_VECTORS];
                UNROLL for (int v = 0; v < V; v++) dv[v] = VLOAD(dy + LANES * v);
                UNROLL for (int j = 0; j < J; j++) {
                    const VECTOR value = VSET1(x[ow + offset[j]]);
                    UNROLL for (int v = 0; v < V; v++) acc[j][v] = VFMA(value, dv[v], acc[j][v]);
                }
            }
        }
    }
    UNROLL for (int j = 0; j < J; j++)
        UNROLL for (int v = 0; v < V; v++) {
            float *target = gradient + j * ldw + LANES * v;
            VSTORE(target, VADD(VLOAD(target), acc[j][v]));
        }
}

static TARGET void NAME(forward_tile_any)(int r, int v, const HEPMLDirectConvolution *g, const float *input, const float *weights,
                                          const float *bias, float negative_slope, float *output, int64_t outputStride, int64_t channels) {
#define FORWARD(R, V) NAME(forward_tile)(R, V, g, input, weights, bias, negative_slope, output, outputStride, channels)
    switch (r * 8 + v) { TILE_CASES(FORWARD) }
#undef FORWARD
}

static TARGET void NAME(weight_gradient_tile_any)(int j, int v, const HEPMLDirectConvolution *g, const float *input,
                                                  const int64_t *offsets, const float *outputGradient, float *gradient) {
#define WEIGHT_GRADIENT(J, V) NAME(weight_gradient_tile)(J, V, g, input, offsets, outputGradient, gradient)
    switch (j * 8 + v) { TILE_CASES(WEIGHT_GRADIENT) }
#undef WEIGHT_GRADIENT
}

/// Channel vectors handled together from channel `first` on: up to MAX_VECTORS.
static int NAME(vectors_from)(const HEPMLDirectConvolution *g, int64_t first) {
    const int64_t remaining = (g->outputChannels - first + LANES - 1) / LANES;
    return remaining < MAX_VECTORS ? (int)remaining : MAX_VECTORS;
}

static TARGET void NAME(forward)(const HEPMLDirectConvolution *g, const float *input, const float *weights, const float *bias,
                                 float negative_slope, float *output) {
    const int64_t hp = g->padded[1], wp = g->padded[2];
    const int64_t ho = g->output[1], wo = g->output[2], pixels = g->output[0] * ho * wo;
    for (int64_t first = 0; first < g->outputChannels; first += LANES * MAX_VECTORS) {
        const int v = NAME(vectors_from)(g, first);
        const int widest = NAME(widest_tile)[v];
        for (int64_t od = 0; od < g->output[0]; od++) {
            for (int64_t oh = 0; oh < ho; oh++) {
                const float *row = input + (od * hp + oh) * wp;
                float *target = output + first * pixels + (od * ho + oh) * wo;
                for (int64_t ow = 0; ow < wo;) {
                    const int r = wo - ow < widest ? (int)(wo - ow) : widest;
                    NAME(forward_tile_any)(r, v, g, row + ow, weights + first, bias ? bias + first : 0, negative_slope, target + ow, pixels,
                                           g->outputChannels - first);
                    ow += r;
                }
            }
        }
    }
}

static TARGET void NAME(weight_gradient)(const HEPMLDirectConvolution *g, const float *input, const float *outputGradient,
                                         float *gradient) {
    const int64_t hp = g->padded[1], wp = g->padded[2], plane = g->padded[0] * hp * wp;
    const int64_t kh = g->kernel[1], kw = g->kernel[2], perChannel = g->kernel[0] * kh * kw;
    const int64_t positions = g->inputChannels * perChannel, ldw = g->weightStride;
    for (int64_t first = 0; first < g->outputChannels; first += LANES * MAX_VECTORS) {
        const int v = NAME(vectors_from)(g, first);
        const int widest = NAME(widest_tile)[v];
        for (int64_t k = 0; k < positions;) {
            const int count = positions - k < widest ? (int)(positions - k) : widest;
            int64_t offsets[MAX_TILE];
            for (int j = 0; j < count; j++) {
                const int64_t c = (k + j) / perChannel, within = (k + j) % perChannel;
                const int64_t kd = within / (kh * kw), kr = within / kw % kh, kc = within % kw;
                offsets[j] = c * plane + (kd * hp + kr) * wp + kc;
            }
            NAME(weight_gradient_tile_any)(count, v, g, input, offsets, outputGradient + first, gradient + k * ldw + first);
            k += count;
        }
    }
}
