// The xyz projection images of LDMX ECal hits (HEPMLLDMX `ECalImages`): written in C so that
// the pixel rules of a block of hits run eight lanes wide with AVX2 (Swift compiles for
// baseline x86-64, four lanes). The arithmetic is operation for operation that of
// `ECalImages.FloorAxis` and `ECalImages.NearestLatticeAxis` (no fused multiply-adds, as in
// Swift), so every instruction set gives the same pixels, and the energies are added in hit
// order, so the images are bitwise those of a hit-by-hit loop.

#include <string.h>

#include "CVectorKernels.h"

#pragma clang fp contract(off)

/// Hits per block of the offset pass: their three offsets take 12 KB, inside L1.
#define OFFSET_BLOCK 1024

/// The nearest integer to c ∈ [0, 2²²] without a checked conversion: c + 2²³ rounds c exactly
/// (the float spacing there is 1) and leaves the integer in the mantissa.
static inline __attribute__((always_inline)) float nearest_integer(float c, int32_t *integer) {
    const float shifted = c + 8388608.0f;
    uint32_t bits;
    memcpy(&bits, &shifted, sizeof bits);
    *integer = (int32_t)(bits & 0x7FFFFF);
    return shifted - 8388608.0f;
}

/// ⌊(v − lower) · scale⌋ clamped to [0, last]; NaN gives 0.
static inline __attribute__((always_inline)) int32_t floor_index(HEPMLPixelAxis axis, float value) {
    const float t = (value - axis.lower) * axis.scale;
    const float low = t >= 0 ? t : 0;
    const float c = low < axis.last ? low : axis.last;
    int32_t integer;
    const float rounded = nearest_integer(c, &integer);
    return rounded > c ? integer - 1 : integer;
}

/// ⌈(v − lower) · scale − ½⌉ clamped to [0, last]: the nearest lattice point, the lower on a tie.
static inline __attribute__((always_inline)) int32_t nearest_lattice_index(HEPMLPixelAxis axis, float value) {
    const float u = (value - axis.lower) * axis.scale - 0.5f;
    const float low = u > 0 ? u : 0;
    const float c = low < axis.last ? low : axis.last;
    int32_t integer;
    const float rounded = nearest_integer(c, &integer);
    return rounded < c ? integer + 1 : integer;
}

/// Two passes per block of hits (a block runs across event boundaries): the three pixel offsets
/// of every hit, a loop the compiler vectorizes, then the energies added into the scratch image
/// in hit order; each finished event is streamed out.
static inline __attribute__((always_inline)) void fill_projections(HEPMLVectorInstructions instructions, const HEPMLProjectionImages *job,
                                                                   int64_t first_event, int64_t end_event, int nearest) {
    const int32_t dim = job->dim, plane = dim * dim, pixels = 3 * plane;
    const HEPMLPixelAxis x_axis = job->xAxis, y_axis = job->yAxis, z_axis = job->zAxis;
    const int64_t *offsets = job->eventOffsets;
    float *image = job->scratch;
    int32_t xy[OFFSET_BLOCK], yz[OFFSET_BLOCK], zx[OFFSET_BLOCK];
    const int64_t hit_end = offsets[end_event];
    int64_t block_start = 0, block_end = 0;
    for (int64_t event = first_event; event < end_event; event++) {
        int64_t hit = offsets[event];
        const int64_t end = offsets[event + 1];
        while (hit < end) {
            if (hit >= block_end) {
                block_start = hit;
                block_end = hit + OFFSET_BLOCK < hit_end ? hit + OFFSET_BLOCK : hit_end;
                const int64_t count = block_end - block_start;
                const float *x = job->x + block_start, *y = job->y + block_start, *z = job->z + block_start;
                for (int64_t q = 0; q < count; q++) {
                    const int32_t i = nearest ? nearest_lattice_index(x_axis, x[q]) : floor_index(x_axis, x[q]);
                    const int32_t j = nearest ? nearest_lattice_index(y_axis, y[q]) : floor_index(y_axis, y[q]);
                    const int32_t k = nearest ? nearest_lattice_index(z_axis, z[q]) : floor_index(z_axis, z[q]);
                    xy[q] = i * dim + j;
                    yz[q] = plane + j * dim + k;
                    zx[q] = 2 * plane + k * dim + i;
                }
            }
            const int64_t stop = end < block_end ? end : block_end;
            const float *energy = job->energy;
            for (int64_t h = hit; h < stop; h++) {
                const int64_t q = h - block_start;
                const float e = energy[h];
                image[xy[q]] += e;
                image[yz[q]] += e;
                image[zx[q]] += e;
            }
            hit = stop;
        }
        hepml_stream_out_and_clear(instructions, job->output + event * pixels, image, pixels);
    }
    hepml_streaming_fence();
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) static void projections_avx2_floor(const HEPMLProjectionImages *job, int64_t first, int64_t end) {
    fill_projections(HEPMLVectorInstructionsAVX2, job, first, end, 0);
}

__attribute__((target("avx2"))) static void projections_avx2_nearest(const HEPMLProjectionImages *job, int64_t first, int64_t end) {
    fill_projections(HEPMLVectorInstructionsAVX2, job, first, end, 1);
}
#endif

void hepml_projection_images(HEPMLVectorInstructions instructions, const HEPMLProjectionImages *job, int64_t first_event, int64_t end_event) {
#if defined(__x86_64__)
    if (instructions >= HEPMLVectorInstructionsAVX2) {
        if (job->nearestLattice) projections_avx2_nearest(job, first_event, end_event);
        else projections_avx2_floor(job, first_event, end_event);
        return;
    }
#endif
    if (job->nearestLattice) fill_projections(HEPMLVectorInstructionsBaseline, job, first_event, end_event, 1);
    else fill_projections(HEPMLVectorInstructionsBaseline, job, first_event, end_event, 0);
}
