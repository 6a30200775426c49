// Writing a large output once, without reading it first.
//
// An ordinary store to a line that is not cached first reads the line from memory (read for
// ownership) and later writes it back; for an output far larger than the caches, such as a
// million LDMX images, that doubles the memory traffic. Streaming (non-temporal) stores write
// whole lines straight to memory. They are weakly ordered: a writer calls
// `hepml_streaming_fence` before another thread may read what it wrote.

#include <string.h>

#include "CVectorKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

/// The lines of `destination` that the range covers completely are streamed, the partial lines
/// at either end (shared with the neighbouring range) written as usual.
__attribute__((target("avx2"))) static void stream_out_and_clear_avx2(float *destination, float *source, int64_t count) {
    const __m256 zero = _mm256_setzero_ps();
    int64_t i = 0;
    while (i < count && ((uintptr_t)(destination + i) & 63) != 0) {
        destination[i] = source[i];
        source[i] = 0;
        i++;
    }
    for (; i + 16 <= count; i += 16) {
        const __m256 low = _mm256_loadu_ps(source + i), high = _mm256_loadu_ps(source + i + 8);
        _mm256_stream_ps(destination + i, low);
        _mm256_stream_ps(destination + i + 8, high);
        _mm256_storeu_ps(source + i, zero);
        _mm256_storeu_ps(source + i + 8, zero);
    }
    for (; i < count; i++) {
        destination[i] = source[i];
        source[i] = 0;
    }
}
#endif

void hepml_stream_out_and_clear(HEPMLVectorInstructions instructions, float *destination, float *source, int64_t count) {
#if defined(__x86_64__)
    if (instructions >= HEPMLVectorInstructionsAVX2) {
        stream_out_and_clear_avx2(destination, source, count);
        return;
    }
#endif
    (void)instructions;
    memcpy(destination, source, (size_t)count * sizeof(float));
    memset(source, 0, (size_t)count * sizeof(float));
}

void hepml_streaming_fence(void) {
#if defined(__x86_64__)
    _mm_sfence();
#endif
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) static void deinterleave_avx2(const float *source, float *even, float *odd, int64_t count) {
    int64_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const __m256 low = _mm256_loadu_ps(source + 2 * i), high = _mm256_loadu_ps(source + 2 * i + 8);
        // Within each 128-bit half: (low 0 2, high 0 2) and (low 1 3, high 1 3); the 64-bit
        // pairs are then put back in order.
        const __m256 evens = _mm256_shuffle_ps(low, high, _MM_SHUFFLE(2, 0, 2, 0)), odds = _mm256_shuffle_ps(low, high, _MM_SHUFFLE(3, 1, 3, 1));
        _mm256_storeu_ps(even + i, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(evens), _MM_SHUFFLE(3, 1, 2, 0))));
        _mm256_storeu_ps(odd + i, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(odds), _MM_SHUFFLE(3, 1, 2, 0))));
    }
    for (; i < count; i++) {
        even[i] = source[2 * i];
        odd[i] = source[2 * i + 1];
    }
}
#endif

void hepml_deinterleave(HEPMLVectorInstructions instructions, const float *source, float *even, float *odd, int64_t count) {
#if defined(__x86_64__)
    if (instructions >= HEPMLVectorInstructionsAVX2) {
        deinterleave_avx2(source, even, odd, count);
        return;
    }
#endif
    (void)instructions;
    for (int64_t i = 0; i < count; i++) {
        even[i] = source[2 * i];
        odd[i] = source[2 * i + 1];
    }
}
