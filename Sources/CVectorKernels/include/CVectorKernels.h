#ifndef HEPML_CVECTORKERNELS_H
#define HEPML_CVECTORKERNELS_H

#include <stdbool.h>
#include <stdint.h>

/// A stride-1 convolution of one sample whose input has already been copied into a zero-padded
/// grid large enough that every kernel position of every output pixel reads inside it. 1-D and
/// 2-D problems use size-1 leading axes.
///
/// Weights are stored kernel-position-major: row k = ((c·KD + kd)·KH + kh)·KW + kw holds the
/// `outputChannels` weights of that input channel and kernel position, zero-padded to
/// `weightStride`, a multiple of 16, so that every row is a whole number of vectors.
typedef struct {
    int64_t inputChannels;
    int64_t padded[3];
    int64_t kernel[3];
    int64_t output[3];
    int64_t outputChannels;
    int64_t weightStride;
} HEPMLDirectConvolution;

/// The vector instruction sets the kernels come in, widest last.
typedef enum __attribute__((enum_extensibility(closed))) {
    HEPMLVectorInstructionsBaseline,
    HEPMLVectorInstructionsAVX2,
    HEPMLVectorInstructionsAVX512,
} HEPMLVectorInstructions;

/// The widest set this CPU runs; with `Baseline` the convolution kernels do nothing, and a caller
/// may pass any set up to the returned one.
HEPMLVectorInstructions hepml_vector_instructions(void);

/// output[o·S + p] = bias[o] + Σ_k input[pixel(p) + position(k)] · weights[k·weightStride + o],
/// with negative values multiplied by `negative_slope` (1: none, 0: ReLU, else LeakyReLU); S is the
/// output grid's size, `bias` may be NULL.
void hepml_direct_convolution_forward(HEPMLVectorInstructions instructions, const HEPMLDirectConvolution *geometry,
                                      const float *input, const float *weights, const float *bias, float negative_slope, float *output);

/// gradient[k·weightStride + o] += Σ_p input[pixel(p) + position(k)] · outputGradient[p·weightStride + o]:
/// the weight gradient of one sample, from its output gradient stored pixel-major (padded lanes zero).
void hepml_direct_convolution_weight_gradient(HEPMLVectorInstructions instructions, const HEPMLDirectConvolution *geometry,
                                              const float *input, const float *outputGradient, float *gradient);

/// y[i] = tanh(x[i]) for count elements, bitwise equal to HEPML's Swift `Float.hyperbolicTangent`.
void hepml_tanh(HEPMLVectorInstructions instructions, const float *x, float *y, int64_t count);

/// destination[i] = source[i], then source[i] = 0, for count elements: an output written exactly
/// once from a small, cache-resident scratch that is ready for the next use afterwards. With
/// AVX2 the whole 64-byte lines of `destination` are written with streaming stores (no read for
/// ownership, no cache pollution); the writer calls `hepml_streaming_fence` before another
/// thread reads them. With `Baseline` it is a plain copy and clear.
void hepml_stream_out_and_clear(HEPMLVectorInstructions instructions, float *destination, float *source, int64_t count);

/// Orders this thread's streaming stores before its later stores (sfence; nothing elsewhere).
void hepml_streaming_fence(void);

/// even[i] = source[2i] and odd[i] = source[2i + 1] for count elements (im2col's lines of a
/// kernel 2 wide with stride 2); with AVX2 eight pairs at a time.
void hepml_deinterleave(HEPMLVectorInstructions instructions, const float *source, float *even, float *odd, int64_t count);

/// One axis of an image: `floor` rule ⌊(v − lower)·scale⌋ or nearest-lattice rule
/// ⌈(v − lower)·scale − ½⌉, clamped to [0, last], NaN to 0 (HEPMLLDMX `ECalImages`).
typedef struct {
    float lower;
    float scale;
    float last;
} HEPMLPixelAxis;

/// The hits and outputs of `hepml_projection_images`.
typedef struct {
    const float *x, *y, *z, *energy;
    /// Event e owns hits eventOffsets[e] ..< eventOffsets[e + 1].
    const int64_t *eventOffsets;
    HEPMLPixelAxis xAxis, yAxis, zAxis;
    /// Nearest-lattice rule on every axis (upstream parity) instead of the floor rule.
    bool nearestLattice;
    /// Pixels per side, at most 1024.
    int32_t dim;
    /// A cleared image of 3·dim² floats, left cleared.
    float *scratch;
    /// The image of event e goes to output + e·3·dim².
    float *output;
} HEPMLProjectionImages;

/// The xyz images [x][y], [y][z], [z][x] of events first ..< end, each binned in the scratch in
/// hit order and streamed out (`hepml_stream_out_and_clear`), fenced at the end. Every set,
/// `Baseline` included, gives bitwise the same images.
void hepml_projection_images(HEPMLVectorInstructions instructions, const HEPMLProjectionImages *job, int64_t first_event, int64_t end_event);

#endif
