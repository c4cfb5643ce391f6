// Helpers of the row kernels (row_kernels.c for AVX2, row_kernels_vnni.c for AVX-512 VNNI); private to CKernels.
// Included inside each file's target region, so they are compiled for that file's instructions.
#ifndef GLIMPSE_ROW_COMMON_H
#define GLIMPSE_ROW_COMMON_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

static inline float half_at(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, sizeof h);
    return _cvtsh_ss(h);
}

static inline float sum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline __m256i load32(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }

// Σ a·b over 32 signed bytes (|a| <= 128, |b| <= 127), as eight 32-bit partial sums: pmaddubsw wants its
// first operand unsigned, so |a| meets b carrying a's sign. A pair sums to at most 2·128·127 = 32512.
static inline __m256i dot_signed(__m256i a, __m256i b) {
    __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
    return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

// 16 bytes of packed nibbles -> 32 bytes: the low nibbles (elements 0-15), then the high ones (16-31).
static inline __m256i nibbles16(const uint8_t *p) {
    __m128i b = _mm_loadu_si128((const __m128i *)p);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(b, 4), b), _mm256_set1_epi8(0x0F));
}

// Byte j = 0x10 where bit j of `bits` is set, else 0 (Q5_0's fifth bits).
static inline __m256i fifth_bits(uint32_t bits) {
    // Byte j first takes byte j/8 of `bits` (pshufb works within each 128-bit half; every half holds all four).
    __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits),
                                         _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                                           0x0101010101010101, 0x0000000000000000));
    __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
    return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
}

// The 32 unsigned values of a 32-element block: its nibbles, with the fifth bits (a u32 at `bits`) where `fifth`.
static inline __m256i unsigned_values(const uint8_t *nibbles, const uint8_t *bits, int fifth) {
    __m256i q = nibbles16(nibbles);
    if (fifth) {
        uint32_t word;
        memcpy(&word, bits, sizeof word);
        q = _mm256_or_si256(q, fifth_bits(word));
    }
    return q;
}

#endif
