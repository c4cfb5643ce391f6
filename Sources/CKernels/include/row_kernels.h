#ifndef GLIMPSE_ROW_KERNELS_H
#define GLIMPSE_ROW_KERNELS_H

#include <stdint.h>

// Dot products of one quantized weight row with one quantized activation vector, for the types of common
// llama.cpp files (Q4_K_M, Q5_0, Q8_0 ...), written with AVX2 intrinsics. Swift has no access to
// pmaddubsw/pmaddwd, and its autovectorized loops ran these at a third to a half of the memory bandwidth.
//
// `nb` is the number of weight blocks in the row. Activations: `qs` signed bytes, `scales` one float per block
// (32 values for q8_0 and q8_1, 256 for q8_K); `sums`: for q8_1 the block's scale times its sum, for q8_K the
// integer sum of each 16 values, as floats.

// 1 where these kernels are compiled with AVX2 (the package builds for the host CPU), else 0: the Swift
// kernels are used instead.
int glimpse_row_kernels_available(void);

float glimpse_dot_q8_0(const void *row, const int8_t *qs, const float *scales, int nb);
float glimpse_dot_q4_0(const void *row, const int8_t *qs, const float *scales, int nb);
float glimpse_dot_q5_0(const void *row, const int8_t *qs, const float *scales, int nb);
float glimpse_dot_q4_1(const void *row, const int8_t *qs, const float *scales, const float *sums, int nb);
float glimpse_dot_q5_1(const void *row, const int8_t *qs, const float *scales, const float *sums, int nb);
float glimpse_dot_q4_K(const void *row, const int8_t *qs, const float *scales, const float *sums, int nb);
float glimpse_dot_q5_K(const void *row, const int8_t *qs, const float *scales, const float *sums, int nb);
float glimpse_dot_q6_K(const void *row, const int8_t *qs, const float *scales, const float *sums, int nb);

// The same products with AVX-512 VNNI (row_kernels_vnni.c), for the types where it saves instructions.
float glimpse_dot_q8_0_vnni(const void *row, const int8_t *qs, const float *scales, int nb);
float glimpse_dot_q4_0_vnni(const void *row, const int8_t *qs, const float *scales, int nb);
float glimpse_dot_q5_0_vnni(const void *row, const int8_t *qs, const float *scales, int nb);
float glimpse_dot_q4_1_vnni(const void *row, const int8_t *qs, const float *scales, const float *sums, int nb);
float glimpse_dot_q5_1_vnni(const void *row, const int8_t *qs, const float *scales, const float *sums, int nb);

#endif
