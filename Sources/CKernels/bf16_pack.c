#include "bf16_kernels.h"

#if defined(__x86_64__) && defined(__clang__)
#include <string.h>
#include "bf16_common.h"

#pragma clang attribute push(__attribute__((target(GLIMPSE_TARGET_AVX512))), apply_to = function)

void glimpse_bf16_rows_from_f32(const float *src, long lds, int m, int k, uint16_t *dst) {
    const int kp = glimpse_round32(k), mp = glimpse_round32(m);
    for (int i = 0; i < mp; i++) {
        uint16_t *out = dst + (long)i * kp;
        if (i >= m) { memset(out, 0, (size_t)kp * 2); continue; }
        const float *row = src + i * lds;
        for (int c = 0; c < kp; c += 16) {
            __m512 v = _mm512_maskz_loadu_ps(first(k - c), row + c);
            _mm256_storeu_si256((__m256i *)(out + c), bf16_of(v));
        }
    }
}

void glimpse_bf16_rows_from_f16(const uint16_t *src, long lds, int m, int k, uint16_t *dst) {
    const int kp = glimpse_round32(k), mp = glimpse_round32(m);
    for (int i = 0; i < mp; i++) {
        uint16_t *out = dst + (long)i * kp;
        if (i >= m) { memset(out, 0, (size_t)kp * 2); continue; }
        const uint16_t *row = src + i * lds;
        for (int c = 0; c < kp; c += 16) {
            __m256i h = _mm256_maskz_loadu_epi16(first(k - c), row + c);
            _mm256_storeu_si256((__m256i *)(out + c), bf16_of(_mm512_cvtph_ps(h)));
        }
    }
}

void glimpse_bf16_rows_from_bf16(const uint16_t *src, long lds, int m, int k, uint16_t *dst) {
    const int kp = glimpse_round32(k), mp = glimpse_round32(m);
    for (int i = 0; i < mp; i++) {
        uint16_t *out = dst + (long)i * kp;
        memset(out, 0, (size_t)kp * 2);
        if (i < m) memcpy(out, src + i * lds, (size_t)k * 2);
    }
}

void glimpse_bf16_pack_vectors(const float *src, long lds, int n, int k, int first_vector, int count, uint16_t *dst) {
    const int kp = glimpse_round32(k);
    for (int j0 = first_vector; j0 < first_vector + count; j0 += 16) {
        uint32_t *block = (uint32_t *)(dst + (long)j0 * kp);   // kp/2 rows of 16 dwords
        for (int c = 0; c < kp; c += 32) {
            // Sixteen vectors' 32 values from k = c: one row of 16 bf16 pairs each; transposed, one row per pair.
            __m512i r[16];
            for (int jj = 0; jj < 16; jj++) {
                const int j = j0 + jj;
                if (j >= n) { r[jj] = _mm512_setzero_si512(); continue; }
                const float *v = src + j * lds + c;
                __m512 a = _mm512_maskz_loadu_ps(first(k - c), v);
                __m512 b = _mm512_maskz_loadu_ps(first(k - c - 16), v + 16);
                r[jj] = (__m512i)_mm512_cvtne2ps_pbh(b, a);
            }
            transpose16(r);
            for (int kk = 0; kk < 16; kk++) _mm512_storeu_si512(block + (long)(c / 2 + kk) * 16, r[kk]);
        }
    }
}

#pragma clang attribute pop

#else

void glimpse_bf16_rows_from_f32(const float *src, long lds, int m, int k, uint16_t *dst) {}
void glimpse_bf16_rows_from_f16(const uint16_t *src, long lds, int m, int k, uint16_t *dst) {}
void glimpse_bf16_rows_from_bf16(const uint16_t *src, long lds, int m, int k, uint16_t *dst) {}
void glimpse_bf16_pack_vectors(const float *src, long lds, int n, int k, int first_vector, int count, uint16_t *dst) {}

#endif
