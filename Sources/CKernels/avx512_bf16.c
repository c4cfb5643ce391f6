#include "bf16_kernels.h"

#if defined(__x86_64__) && defined(__clang__)
#include "bf16_common.h"

#pragma clang attribute push(__attribute__((target(GLIMPSE_TARGET_AVX512))), apply_to = function)

// The same operands as the tile product, on zmm registers: sixteen accumulators hold 16 weight rows x 16 vectors;
// each step loads one row of packed pairs (16 vectors' values k, k+1) and multiplies it with each weight row's
// pair, broadcast from memory. 16 VDPBF16PS per 64-byte load: 512 multiply-adds, twice what F32 FMAs do.
// Blocking as in the tile product: k in chunks of 512 (a 16-row weight block of 16 KiB stays in L1 while the
// vectors stream from L2), vectors in chunks of 256, partial sums between k chunks in `work`.
enum { K_CHUNK = 512, N_CHUNK = 256 };

void glimpse_avx512_bf16_gemm(const uint16_t *a, int m, const uint16_t *b, int n, int k, float *c, long ldc, float *work) {
    const int kp = glimpse_round32(k), mp = glimpse_round32(m), np = glimpse_round32(n);
    for (int jc = 0; jc < np; jc += N_CHUNK) {
        const int nc = np - jc < N_CHUNK ? np - jc : N_CHUNK;
        for (int kc = 0; kc < kp; kc += K_CHUNK) {
            const int kend = kp - kc < K_CHUNK ? kp : kc + K_CHUNK;
            const int first_chunk = kc == 0, last_chunk = kend == kp;
            for (int i0 = 0; i0 < mp && i0 < m; i0 += 16) {
                const uint32_t *rows = (const uint32_t *)(a + (long)i0 * kp);   // row r's pair kk at rows[r·kp/2 + kk]
                const long rstride = kp / 2;
                for (int j0 = jc; j0 < jc + nc && j0 < n; j0 += 16) {
                    float *acc_saved = work + ((long)(i0 / 16) * (nc / 16) + (j0 - jc) / 16) * 256;
                    __m512 acc[16];
#pragma clang loop unroll(full)
                    for (int r = 0; r < 16; r++) acc[r] = first_chunk ? _mm512_setzero_ps() : _mm512_loadu_ps(acc_saved + 16 * r);
                    const uint16_t *pairs = b + (long)j0 * kp;   // row kk (32 values): the 16 vectors' pair kk
                    for (int kk = kc / 2; kk < kend / 2; kk++) {
                        const __m512bh v = (__m512bh)_mm512_loadu_si512(pairs + 32L * kk);
                        // Fully unrolled, so the accumulators stay in registers (17 of the 32 zmm).
#pragma clang loop unroll(full)
                        for (int r = 0; r < 16; r++)
                            acc[r] = _mm512_dpbf16_ps(acc[r], (__m512bh)_mm512_set1_epi32((int)rows[r * rstride + kk]), v);
                    }
                    if (!last_chunk) {
#pragma clang loop unroll(full)
                        for (int r = 0; r < 16; r++) _mm512_storeu_ps(acc_saved + 16 * r, acc[r]);
                        continue;
                    }
                    __m512i out[16];
                    for (int r = 0; r < 16; r++) out[r] = (__m512i)acc[r];
                    store_transposed(out, c + j0 * ldc + i0, ldc, m - i0, n - j0);
                }
            }
        }
    }
}

#pragma clang attribute pop

#else

void glimpse_avx512_bf16_gemm(const uint16_t *a, int m, const uint16_t *b, int n, int k, float *c, long ldc, float *work) {}

#endif
