// Helpers shared by the bf16 kernels (bf16_pack.c, avx512_bf16.c, amx_bf16.c); private to CKernels.
#ifndef GLIMPSE_BF16_COMMON_H
#define GLIMPSE_BF16_COMMON_H

#include <immintrin.h>

// Every function under this attribute may use AVX-512 (and, with GLIMPSE_TARGET_AMX, AMX) whatever -march the
// package was built with: they are only called after the run-time checks in Sources/Tensors/Kernels.swift.
#define GLIMPSE_TARGET_AVX512 "avx512f,avx512bw,avx512vl,avx512dq,avx512bf16"

#pragma clang attribute push(__attribute__((target(GLIMPSE_TARGET_AVX512))), apply_to = function)

static inline __m256i bf16_of(__m512 v) { return (__m256i)_mm512_cvtneps_pbh(v); }   // round to nearest even
static inline __mmask16 first(int n) { return n >= 16 ? 0xFFFF : n <= 0 ? 0 : (__mmask16)((1u << n) - 1); }

// The transpose of a 16x16 matrix of dwords held as 16 rows, by swapping off-diagonal blocks of 8, 4, 2, 1.
static inline void transpose16(__m512i r[16]) {
    for (int b = 8; b >= 1; b /= 2) {
        int lo[16], hi[16];
        for (int c = 0; c < 16; c++) {
            lo[c] = (c & b) ? 16 + c - b : c;
            hi[c] = (c & b) ? 16 + c : c + b;
        }
        const __m512i ilo = _mm512_loadu_si512(lo), ihi = _mm512_loadu_si512(hi);
        for (int i = 0; i < 16; i++) {
            if (i & b) continue;
            __m512i x = r[i], y = r[i + b];
            r[i] = _mm512_permutex2var_epi32(x, ilo, y);
            r[i + b] = _mm512_permutex2var_epi32(x, ihi, y);
        }
    }
}

// Sixteen accumulators (rows i, each holding vectors j) written transposed: C[j·ldc + i] for i < mi, j < nj.
static inline void store_transposed(__m512i r[16], float *c, long ldc, int mi, int nj) {
    transpose16(r);
    const __mmask16 mask = first(mi);
    for (int j = 0; j < nj && j < 16; j++) _mm512_mask_storeu_ps(c + j * ldc, mask, (__m512)r[j]);
}

#pragma clang attribute pop

#endif
