// Activation functions over arrays, vectorized for AVX2 or AVX-512 by the compiler.
//
// tanh dominates the training step of small dense models such as the event-compression
// autoencoder, and the Swift loop computing it (Float.hyperbolicTangent) runs four lanes wide.
// The function below is the same rational approximation, operation for operation: no fused
// multiply-adds (contraction is off, as in Swift) and Swift's own min/max and NaN behaviour, so
// every instruction set produces bitwise the same values as the Swift scalar code.

#include "CVectorKernels.h"

#pragma clang fp contract(off)

/// Swift.max(x, lower) and Swift.min(·, upper): a NaN input passes through.
static inline __attribute__((always_inline)) float clamp(float x, float lower, float upper) {
    const float raised = lower >= x ? lower : x;
    return upper < raised ? upper : raised;
}

/// tanh as odd degree 13 over even degree 6 on [−9, 9] (Eigen's form); |error| < 1e-6.
static inline __attribute__((always_inline)) float rational_tanh(float x) {
    const float c = clamp(x, -9.0f, 9.0f), c2 = c * c;
    float p = -2.76076847742355e-16f;
    p = p * c2 + 2.00018790482477e-13f;
    p = p * c2 - 8.60467152213735e-11f;
    p = p * c2 + 5.12229709037114e-08f;
    p = p * c2 + 1.48572235717979e-05f;
    p = p * c2 + 6.37261928875436e-04f;
    p = p * c2 + 4.89352455891786e-03f;
    float q = 1.19825839466702e-06f;
    q = q * c2 + 1.18534705686654e-04f;
    q = q * c2 + 2.26843463243900e-03f;
    q = q * c2 + 4.89352518554385e-03f;
    const float magnitude = x < 0 ? -x : x;
    return magnitude < 0.0004f ? x : c * p / q;
}

#if defined(__x86_64__)
__attribute__((target("avx512f"))) static void tanh_avx512(const float *x, float *y, int64_t count) {
    for (int64_t i = 0; i < count; i++) y[i] = rational_tanh(x[i]);
}

__attribute__((target("avx2"))) static void tanh_avx2(const float *x, float *y, int64_t count) {
    for (int64_t i = 0; i < count; i++) y[i] = rational_tanh(x[i]);
}

#endif

void hepml_tanh(HEPMLVectorInstructions instructions, const float *x, float *y, int64_t count) {
    switch (instructions) {
#if defined(__x86_64__)
    case HEPMLVectorInstructionsAVX512: tanh_avx512(x, y, count); break;
    case HEPMLVectorInstructionsAVX2: tanh_avx2(x, y, count); break;
#endif
    default:
        for (int64_t i = 0; i < count; i++) y[i] = rational_tanh(x[i]);
        break;
    }
}
