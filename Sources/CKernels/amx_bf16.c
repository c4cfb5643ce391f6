#include "bf16_kernels.h"

#if defined(__x86_64__) && defined(__clang__)
#include <string.h>
#include "bf16_common.h"

#pragma clang attribute push(__attribute__((target(GLIMPSE_TARGET_AVX512 ",amx-tile,amx-bf16"))), apply_to = function)

// MARK: The tile product

// Palette 1, eight tiles of 16 rows x 64 bytes: 0-3 accumulators (2x2 blocks of 16 rows x 16 vectors), 4-5 A
// (weight rows), 6-7 B (vectors).
typedef struct __attribute__((aligned(64))) {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;

static void configure_tiles(void) {
    tile_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; t++) { cfg.colsb[t] = 64; cfg.rows[t] = 16; }
    _tile_loadconfig(&cfg);
}

// Blocking: k in chunks of 512 (an A block of 32 rows is then 32 KiB and stays in L1 while the vectors stream
// from L2), vectors in chunks of 256; partial sums of a chunk wait in `work` in tile order.
enum { K_CHUNK = 512, N_CHUNK = 256 };

void glimpse_amx_bf16_gemm(const uint16_t *a, int m, const uint16_t *b, int n, int k, float *c, long ldc, float *work) {
    const int kp = glimpse_round32(k), mp = glimpse_round32(m), np = glimpse_round32(n);
    const long a_stride = (long)kp * 2;   // bytes between weight rows
    float tile[256] __attribute__((aligned(64)));
    configure_tiles();
    for (int jc = 0; jc < np; jc += N_CHUNK) {
        const int nc = np - jc < N_CHUNK ? np - jc : N_CHUNK;
        for (int kc = 0; kc < kp; kc += K_CHUNK) {
            const int kend = kp - kc < K_CHUNK ? kp : kc + K_CHUNK;
            const int first_chunk = kc == 0, last_chunk = kend == kp;
            for (int i0 = 0; i0 < mp; i0 += 32) {
                const uint16_t *a0 = a + (long)i0 * kp, *a1 = a0 + 16L * kp;
                for (int j0 = jc; j0 < jc + nc; j0 += 32) {
                    // Partial sums of this 32x32 block: four 1 KiB tiles at work[((i0/32)·(nc/32) + (j0-jc)/32)·1024].
                    float *acc = work + ((long)(i0 / 32) * (nc / 32) + (j0 - jc) / 32) * 1024;
                    if (first_chunk) {
                        _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
                    } else {
                        _tile_loadd(0, acc, 64); _tile_loadd(1, acc + 256, 64);
                        _tile_loadd(2, acc + 512, 64); _tile_loadd(3, acc + 768, 64);
                    }
                    const uint16_t *b0 = b + (long)j0 * kp, *b1 = b0 + 16L * kp;
                    for (int kb = kc; kb < kend; kb += 32) {
                        _tile_loadd(4, a0 + kb, a_stride);
                        _tile_loadd(5, a1 + kb, a_stride);
                        _tile_loadd(6, b0 + (long)kb * 16, 64);
                        _tile_loadd(7, b1 + (long)kb * 16, 64);
                        _tile_dpbf16ps(0, 4, 6);
                        _tile_dpbf16ps(1, 4, 7);
                        _tile_dpbf16ps(2, 5, 6);
                        _tile_dpbf16ps(3, 5, 7);
                    }
                    if (!last_chunk) {
                        _tile_stored(0, acc, 64); _tile_stored(1, acc + 256, 64);
                        _tile_stored(2, acc + 512, 64); _tile_stored(3, acc + 768, 64);
                        continue;
                    }
                    for (int q = 0; q < 4; q++) {
                        const int i = i0 + 16 * (q / 2), j = j0 + 16 * (q % 2);
                        if (i >= m || j >= n) continue;
                        switch (q) {
                        case 0: _tile_stored(0, tile, 64); break;
                        case 1: _tile_stored(1, tile, 64); break;
                        case 2: _tile_stored(2, tile, 64); break;
                        default: _tile_stored(3, tile, 64); break;
                        }
                        __m512i r[16];
                        for (int row = 0; row < 16; row++) r[row] = _mm512_load_si512(tile + 16 * row);
                        store_transposed(r, c + j * ldc + i, ldc, m - i, n - j);
                    }
                }
            }
        }
    }
    _tile_release();
}

#pragma clang attribute pop

#else

void glimpse_amx_bf16_gemm(const uint16_t *a, int m, const uint16_t *b, int n, int k, float *c, long ldc, float *work) {}

#endif
