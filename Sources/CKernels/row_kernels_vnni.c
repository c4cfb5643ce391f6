#include "row_kernels.h"

// The row kernels of the 32-value block types with AVX-512 VNNI (VPDPBUSD on ymm registers: four unsigned-by-
// signed byte products summed into each 32-bit lane in one instruction, where AVX2 needs pmaddubsw, pmaddwd and,
// for signed weights, two psignb). Unsigned values meet the activations directly and their offset (Q4_0's 8,
// Q5_0's 16) is taken off as offset·Σy, itself one more VPDPBUSD. The K-quants keep their AVX2 kernels: their
// sub-block scales ride on pmaddwd, which VNNI would replace with a slower 32-bit multiply.
// Only called where glimpse_cpu_features() reports AVX512_VNNI (Sources/Tensors/RowDot.swift).

#if defined(__x86_64__) && defined(__clang__)

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni"))), apply_to = function)

#include "row_common.h"

// The 32 unsigned values of a block, the fifth bits set with one masked move (AVX-512BW) where AVX2 needs five
// shuffles and compares.
static inline __m256i values_vnni(const uint8_t *nibbles, const uint8_t *bits, int fifth) {
    __m256i q = nibbles16(nibbles);
    if (fifth) {
        uint32_t word;
        memcpy(&word, bits, sizeof word);
        q = _mm256_or_si256(q, _mm256_maskz_mov_epi8((__mmask32)word, _mm256_set1_epi8(0x10)));
    }
    return q;
}

static inline __m256i dpbusd(__m256i acc, __m256i u, __m256i s) { return _mm256_dpbusd_epi32(acc, u, s); }

float glimpse_dot_q8_0_vnni(const void *row, const int8_t *qs, const float *scales, int nb) {
    const uint8_t *w = row;
    __m256 acc = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++, w += 34) {
        __m256i q = load32(w + 2);
        __m256i p = dpbusd(_mm256_setzero_si256(), _mm256_sign_epi8(q, q), _mm256_sign_epi8(load32(qs + 32 * b), q));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(half_at(w) * scales[b]), acc);
    }
    return sum_ps(acc);
}

// Q4_0 and Q5_0: Σ (q - offset)·y = Σ q·y - offset·Σ y, both as VPDPBUSD (the second with `offset` in every byte).
static inline float dot_q40_50_vnni(const uint8_t *w, const int8_t *qs, const float *scales, int nb, int fifth) {
    const int block = fifth ? 22 : 18;
    const __m256i offset = _mm256_set1_epi8(fifth ? 16 : 8);
    __m256 acc = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++, w += block) {
        __m256i y = load32(qs + 32 * b);
        __m256i q = values_vnni(w + (fifth ? 6 : 2), w + 2, fifth);
        __m256i p = _mm256_sub_epi32(dpbusd(_mm256_setzero_si256(), q, y), dpbusd(_mm256_setzero_si256(), offset, y));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(half_at(w) * scales[b]), acc);
    }
    return sum_ps(acc);
}

float glimpse_dot_q4_0_vnni(const void *row, const int8_t *qs, const float *scales, int nb) {
    return dot_q40_50_vnni(row, qs, scales, nb, 0);
}

float glimpse_dot_q5_0_vnni(const void *row, const int8_t *qs, const float *scales, int nb) {
    return dot_q40_50_vnni(row, qs, scales, nb, 1);
}

static inline float dot_q41_51_vnni(const uint8_t *w, const int8_t *qs, const float *scales, const float *sums, int nb,
                                    int fifth) {
    const int block = fifth ? 24 : 20;
    __m256 acc = _mm256_setzero_ps();
    float offsets = 0;
    for (int b = 0; b < nb; b++, w += block) {
        __m256i p = dpbusd(_mm256_setzero_si256(), values_vnni(w + (fifth ? 8 : 4), w + 4, fifth), load32(qs + 32 * b));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(half_at(w) * scales[b]), acc);
        offsets += half_at(w + 2) * sums[b];
    }
    return sum_ps(acc) + offsets;
}

float glimpse_dot_q4_1_vnni(const void *row, const int8_t *qs, const float *scales, const float *sums, int nb) {
    return dot_q41_51_vnni(row, qs, scales, sums, nb, 0);
}

float glimpse_dot_q5_1_vnni(const void *row, const int8_t *qs, const float *scales, const float *sums, int nb) {
    return dot_q41_51_vnni(row, qs, scales, sums, nb, 1);
}

#pragma clang attribute pop

#else

float glimpse_dot_q8_0_vnni(const void *row, const int8_t *qs, const float *scales, int nb) { return 0; }
float glimpse_dot_q4_0_vnni(const void *row, const int8_t *qs, const float *scales, int nb) { return 0; }
float glimpse_dot_q5_0_vnni(const void *row, const int8_t *qs, const float *scales, int nb) { return 0; }
float glimpse_dot_q4_1_vnni(const void *row, const int8_t *qs, const float *scales, const float *sums, int nb) { return 0; }
float glimpse_dot_q5_1_vnni(const void *row, const int8_t *qs, const float *scales, const float *sums, int nb) { return 0; }

#endif
