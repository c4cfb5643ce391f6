#include "row_kernels.h"

#include <string.h>

// Block layouts are ggml's (formats.md §3). Every kernel forms byte products with pmaddubsw (unsigned by
// signed bytes, adjacent pairs summed to 16 bits) and widens them with pmaddwd, which also applies the
// K-quants' sub-block scales; no sum can saturate: the bounds are noted at each kernel.

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>

int glimpse_row_kernels_available(void) { return 1; }

#include "row_common.h"

// Q8_0: 34 bytes, d (f16) and 32 signed bytes.
float glimpse_dot_q8_0(const void *row, const int8_t *qs, const float *scales, int nb) {
    const uint8_t *w = row;
    __m256 acc = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++, w += 34) {
        __m256i p = dot_signed(load32(w + 2), load32(qs + 32 * b));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(half_at(w) * scales[b]), acc);
    }
    return sum_ps(acc);
}

// Q4_0 (18 bytes: d (f16), 16 bytes of nibbles; value nibble - 8) and Q5_0 (22 bytes: d, the 32 fifth bits
// (u32), 16 bytes of nibbles; value (nibble | bit << 4) - 16).
static inline float dot_q40_50(const uint8_t *w, const int8_t *qs, const float *scales, int nb, int fifth) {
    const int block = fifth ? 22 : 18;
    __m256 acc = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++, w += block) {
        __m256i q = _mm256_sub_epi8(unsigned_values(w + (fifth ? 6 : 2), w + 2, fifth), _mm256_set1_epi8(fifth ? 16 : 8));
        __m256i p = dot_signed(q, load32(qs + 32 * b));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(half_at(w) * scales[b]), acc);
    }
    return sum_ps(acc);
}

float glimpse_dot_q4_0(const void *row, const int8_t *qs, const float *scales, int nb) {
    return dot_q40_50(row, qs, scales, nb, 0);
}

float glimpse_dot_q5_0(const void *row, const int8_t *qs, const float *scales, int nb) {
    return dot_q40_50(row, qs, scales, nb, 1);
}

// Q4_1 (20 bytes: d and m (f16), 16 bytes of nibbles) and Q5_1 (24 bytes: d, m, the fifth bits (u32), 16 bytes
// of nibbles): value d·q + m with q unsigned. The m part is m·Σy, which q8_1 activations carry per block.
static inline float dot_q41_51(const uint8_t *w, const int8_t *qs, const float *scales, const float *sums, int nb,
                               int fifth) {
    const int block = fifth ? 24 : 20;
    __m256 acc = _mm256_setzero_ps();
    float offsets = 0;
    for (int b = 0; b < nb; b++, w += block) {
        __m256i q = unsigned_values(w + (fifth ? 8 : 4), w + 4, fifth);
        // Pairs of q·byte reach 2·31·127 = 7874.
        __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(q, load32(qs + 32 * b)), _mm256_set1_epi16(1));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(half_at(w) * scales[b]), acc);
        offsets += half_at(w + 2) * sums[b];
    }
    return sum_ps(acc) + offsets;
}

float glimpse_dot_q4_1(const void *row, const int8_t *qs, const float *scales, const float *sums, int nb) {
    return dot_q41_51(row, qs, scales, sums, nb, 0);
}

float glimpse_dot_q5_1(const void *row, const int8_t *qs, const float *scales, const float *sums, int nb) {
    return dot_q41_51(row, qs, scales, sums, nb, 1);
}

// Q4_K: 144 bytes, d and dmin (f16), 12 bytes of 6-bit scales and mins for eight sub-blocks of 32, 128 bytes
// of nibbles (32 bytes per pair of sub-blocks: low nibbles the first, high the second). Value = d·sc·q - dmin·m.

// The eight scales and eight mins, one byte each, from the 12 packed bytes (four at a time in 32-bit words:
// sub-blocks 0-3 keep the low six bits of bytes 0-3 and 4-7; 4-7 take nibbles of bytes 8-11 and the top two
// bits of bytes 0-3 and 4-7).
static inline void q4_K_scales_mins(const uint8_t *packed, uint8_t sc[8], uint8_t m[8]) {
    uint32_t a, b, c;
    memcpy(&a, packed, 4);
    memcpy(&b, packed + 4, 4);
    memcpy(&c, packed + 8, 4);
    uint32_t words[4] = {
        a & 0x3F3F3F3F, (c & 0x0F0F0F0F) | ((a >> 2) & 0x30303030),
        b & 0x3F3F3F3F, ((c >> 4) & 0x0F0F0F0F) | ((b >> 2) & 0x30303030),
    };
    memcpy(sc, words, 8);
    memcpy(m, words + 2, 8);
}

// Σ_j m[j] · (bs[2j] + bs[2j+1]): each sub-block's min times the sum of its 32 activations (16 float sums).
static inline __m256 q4_K_min_terms(const uint8_t m[8], const float *bs) {
    __m256 pairs = _mm256_hadd_ps(_mm256_loadu_ps(bs), _mm256_loadu_ps(bs + 8));   // sub-blocks 0 1 4 5 2 3 6 7
    pairs = _mm256_permutevar8x32_ps(pairs, _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7));
    uint64_t m8;
    memcpy(&m8, m, 8);
    __m256 mins = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)m8)));
    return _mm256_mul_ps(mins, pairs);
}

// Q4_K and Q5_K (176 bytes: as Q4_K with 32 bytes of fifth bits, qh, before the nibbles; value j of sub-block s
// takes bit s of qh[j] as its 16). Inlined into each with `fifth` constant, so Q4_K carries no fifth-bit work.
static inline float dot_q45_K(const uint8_t *w, const int8_t *qs, const float *scales, const float *sums, int nb,
                              int fifth) {
    const int block = fifth ? 176 : 144, nibbles = fifth ? 48 : 16;
    const __m256i low4 = _mm256_set1_epi8(0x0F), sixteen = _mm256_set1_epi8(0x10);
    __m256 acc = _mm256_setzero_ps(), acc_min = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++, w += block) {
        const int8_t *y = qs + 256 * b;
        uint8_t sc[8], m[8];
        q4_K_scales_mins(w + 4, sc, m);
        __m256i qh = fifth ? load32(w + 16) : _mm256_setzero_si256();
        __m256i sumi = _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            __m256i q = load32(w + nibbles + 32 * c);
            __m256i lo = _mm256_and_si256(q, low4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
            if (fifth) {
                __m256i bit0 = _mm256_set1_epi8((char)(1 << (2 * c))), bit1 = _mm256_set1_epi8((char)(1 << (2 * c + 1)));
                lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(qh, bit0), bit0), sixteen));
                hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(qh, bit1), bit1), sixteen));
            }
            // Pairs of value·byte reach 2·31·127 = 7874; times a scale (< 64), pairs of those fit 32 bits.
            __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, load32(y + 64 * c)), _mm256_set1_epi16(sc[2 * c]));
            __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, load32(y + 64 * c + 32)), _mm256_set1_epi16(sc[2 * c + 1]));
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
        }
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi), _mm256_set1_ps(scales[b] * half_at(w)), acc);
        acc_min = _mm256_fmadd_ps(q4_K_min_terms(m, sums + 16 * b), _mm256_set1_ps(scales[b] * half_at(w + 2)), acc_min);
    }
    return sum_ps(_mm256_sub_ps(acc, acc_min));
}

float glimpse_dot_q4_K(const void *row, const int8_t *qs, const float *scales, const float *sums, int nb) {
    return dot_q45_K(row, qs, scales, sums, nb, 0);
}

float glimpse_dot_q5_K(const void *row, const int8_t *qs, const float *scales, const float *sums, int nb) {
    return dot_q45_K(row, qs, scales, sums, nb, 1);
}

// Q6_K: 210 bytes: 128 bytes of low nibbles, 64 of high 2-bit pairs, 16 signed scales (one per 16 values), d
// (f16). Value = d·sc·(q - 32) with q in 0..63; the -32 is applied through the activation sums.
float glimpse_dot_q6_K(const void *row, const int8_t *qs, const float *scales, const float *sums, int nb) {
    const uint8_t *w = row;
    __m256 total = _mm256_setzero_ps();
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    for (int b = 0; b < nb; b++, w += 210) {
        const int8_t *sc = (const int8_t *)(w + 192);
        const int8_t *y = qs + 256 * b;
        const float *bs = sums + 16 * b;
        __m256i acc = _mm256_setzero_si256();
        for (int half = 0; half < 2; half++) {
            const uint8_t *ql = w + 64 * half, *qh = w + 128 + 32 * half;
            __m256i l0 = load32(ql), l1 = load32(ql + 32), h = load32(qh);
            // The four runs of 32 values of this half, in element order.
            __m256i q[4] = {
                _mm256_or_si256(_mm256_and_si256(l0, low4), _mm256_slli_epi16(_mm256_and_si256(h, _mm256_set1_epi8(0x03)), 4)),
                _mm256_or_si256(_mm256_and_si256(l1, low4), _mm256_slli_epi16(_mm256_and_si256(h, _mm256_set1_epi8(0x0C)), 2)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low4), _mm256_and_si256(h, _mm256_set1_epi8(0x30))),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low4),
                                _mm256_and_si256(_mm256_srli_epi16(h, 2), _mm256_set1_epi8(0x30))),
            };
            for (int k = 0; k < 4; k++) {
                int g = 8 * half + 2 * k;   // the two 16-value groups of this run
                // Pairs of q·byte reach 2·63·127 = 16002; times a scale (|sc| <= 128), pairs of those fit 32 bits.
                __m256i s = _mm256_set_m128i(_mm_set1_epi16(sc[g + 1]), _mm_set1_epi16(sc[g]));
                __m256i p = _mm256_maddubs_epi16(q[k], load32(y + 128 * half + 32 * k));
                acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, s));
            }
        }
        // The -32 of every value: 32 · Σ_g sc[g] · bs[g], in eight lanes.
        __m128i sc16 = _mm_loadu_si128((const __m128i *)sc);
        __m256 offset = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(sc16)), _mm256_loadu_ps(bs),
                                        _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(sc16, 8))),
                                                      _mm256_loadu_ps(bs + 8)));
        __m256 v = _mm256_fnmadd_ps(offset, _mm256_set1_ps(32), _mm256_cvtepi32_ps(acc));
        total = _mm256_fmadd_ps(v, _mm256_set1_ps(scales[b] * half_at(w + 208)), total);
    }
    return sum_ps(total);
}

#else

int glimpse_row_kernels_available(void) { return 0; }
float glimpse_dot_q8_0(const void *row, const int8_t *qs, const float *scales, int nb) { return 0; }
float glimpse_dot_q4_0(const void *row, const int8_t *qs, const float *scales, int nb) { return 0; }
float glimpse_dot_q5_0(const void *row, const int8_t *qs, const float *scales, int nb) { return 0; }
float glimpse_dot_q4_1(const void *row, const int8_t *qs, const float *scales, const float *sums, int nb) { return 0; }
float glimpse_dot_q5_1(const void *row, const int8_t *qs, const float *scales, const float *sums, int nb) { return 0; }
float glimpse_dot_q4_K(const void *row, const int8_t *qs, const float *scales, const float *sums, int nb) { return 0; }
float glimpse_dot_q5_K(const void *row, const int8_t *qs, const float *scales, const float *sums, int nb) { return 0; }
float glimpse_dot_q6_K(const void *row, const int8_t *qs, const float *scales, const float *sums, int nb) { return 0; }

#endif
