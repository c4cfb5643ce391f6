#ifndef GLIMPSE_BF16_KERNELS_H
#define GLIMPSE_BF16_KERNELS_H

#include <stdint.h>

// Products in bf16 (pairs of bf16 multiplied, sums in F32), for prompts and image encoders: on AMX tiles
// (TDPBF16PS) or AVX-512 BF16 (VDPBF16PS). Only call these where glimpse_cpu_features() reports AVX512_BF16 (and
// for the tile product AMX_BF16, with the tile permission granted); they are compiled for those instructions
// whatever the build's target CPU.
//
// C[j][i] = Σ_k A[i][k]·B[j][k]: A is a band of weight rows, B the activation vectors, so each weight row is read
// in its natural order and only the activations (shared by every band) are rearranged into VNNI pairs.
// Buffers are padded: rows and vectors to multiples of 32, k to a multiple of 32, the padding zero.

static inline int glimpse_round32(int n) { return (n + 31) & ~31; }

// A side: `m` rows of `k` values (row stride `lds` elements) -> round32(m) rows of round32(k) bf16 values.
void glimpse_bf16_rows_from_f32(const float *src, long lds, int m, int k, uint16_t *dst);
void glimpse_bf16_rows_from_f16(const uint16_t *src, long lds, int m, int k, uint16_t *dst);
void glimpse_bf16_rows_from_bf16(const uint16_t *src, long lds, int m, int k, uint16_t *dst);

// B side: vectors [first, first + count) of `k` values (stride `lds`; `first` and the block a multiple of 16)
// into `dst` laid out as blocks of 16 vectors, each round32(k)/2 rows of 16 dwords (the bf16 pair k, k+1 of one
// vector per dword). Vectors at or past `n` are written as zeros. The whole buffer holds round32(n)·round32(k)
// values; blocks can be packed by different threads.
void glimpse_bf16_pack_vectors(const float *src, long lds, int n, int k, int first, int count, uint16_t *dst);

// C[j·ldc + i] = Σ_k A[i][k]·B[j][k] for i < m, j < n. `work` is round32(m)·min(round32(n), 256) floats.
void glimpse_avx512_bf16_gemm(const uint16_t *a, int m, const uint16_t *b, int n, int k, float *c, long ldc, float *work);
void glimpse_amx_bf16_gemm(const uint16_t *a, int m, const uint16_t *b, int n, int k, float *c, long ldc, float *work);

#endif
