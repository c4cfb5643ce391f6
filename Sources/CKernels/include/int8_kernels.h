#ifndef GLIMPSE_INT8_KERNELS_H
#define GLIMPSE_INT8_KERNELS_H

#include <stdint.h>

// Batched products of quantized weights with int8 activations on AVX-512 VNNI (VPDPBUSD: four unsigned-by-signed
// byte products summed into each 32-bit lane), for prompts on CPUs without AMX. On the Xeons this project runs on,
// VPDPBUSD does about 3.3x the multiply-adds of F32 FMAs, where VDPBF16PS does about as many.
// Only call these where glimpse_cpu_features() reports AVX512_VNNI; they are compiled for it whatever the build's
// target CPU.
//
// Weights: each row in blocks of 32 as unsigned bytes q with a scale a and an offset b per block,
// w = a·q + b. Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K and Q5_K map to that exactly; other types (Q6_K, whose
// scales cover 16 values) go through F32 and are requantized (8 bits over each block's range). Rows are padded to a multiple of 8 (zero), k to a multiple of 32.
// Activations: blocks of 32 as signed bytes qx with a scale dx (the largest magnitude / 127) and the sum dx·Σqx.
//
// C[j·ldc + i] = Σ_blocks a_i·dx_j·Σ q·qx + b_i·dx_j·Σqx.

static inline int glimpse_round8(int n) { return (n + 7) & ~7; }

// `m` rows of `k` values (row stride `row_bytes` bytes, or `lds` floats) into q (round8(m) rows of round32(k)
// bytes), a and b (round8(m) rows of round32(k)/32 floats).
void glimpse_u8_rows_from_q8_0(const void *src, long row_bytes, int m, int k, uint8_t *q, float *a, float *b);
void glimpse_u8_rows_from_q4_0(const void *src, long row_bytes, int m, int k, uint8_t *q, float *a, float *b);
void glimpse_u8_rows_from_q4_K(const void *src, long row_bytes, int m, int k, uint8_t *q, float *a, float *b);
void glimpse_u8_rows_from_q4_1(const void *src, long row_bytes, int m, int k, uint8_t *q, float *a, float *b);
void glimpse_u8_rows_from_q5_0(const void *src, long row_bytes, int m, int k, uint8_t *q, float *a, float *b);
void glimpse_u8_rows_from_q5_1(const void *src, long row_bytes, int m, int k, uint8_t *q, float *a, float *b);
void glimpse_u8_rows_from_q5_K(const void *src, long row_bytes, int m, int k, uint8_t *q, float *a, float *b);
void glimpse_u8_rows_from_f32(const float *src, long lds, int m, int k, uint8_t *q, float *a, float *b);

// Vectors [first, first + count) of n (`first` and the block a multiple of 16) into blocks of 16 vectors: qs holds
// round32(k)/4 rows of 16 dwords (four consecutive values of one vector each), scales and sums round32(k)/32 rows
// of 16 floats. Buffers hold round16(n) vectors; vectors at or past n are zero.
void glimpse_s8_pack_vectors(const float *src, long lds, int n, int k, int first, int count,
                             int8_t *qs, float *scales, float *sums);

// `work` holds round8(m)·128 floats (partial sums between chunks of k).
void glimpse_vnni_gemm(const uint8_t *q, const float *a, const float *b, int m,
                       const int8_t *xq, const float *xs, const float *xsum, int n, int k, float *c, long ldc,
                       float *work);

#endif
