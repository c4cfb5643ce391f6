#include "int8_kernels.h"
#include "bf16_kernels.h"

#if defined(__x86_64__) && defined(__clang__)
#include <math.h>
#include <string.h>
#include "bf16_common.h"

#pragma clang attribute push(__attribute__((target(GLIMPSE_TARGET_AVX512 ",avx512vnni"))), apply_to = function)

// MARK: Weights (block layouts are ggml's, formats.md §3)

static inline float half_to_float(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

// Zero rows [m, round8(m)) so padded rows contribute nothing.
static void zero_padding(int m, int kp, uint8_t *q, float *a, float *b) {
    const int nb = kp / 32;
    for (int i = m; i < glimpse_round8(m); i++) {
        memset(q + (long)i * kp, 0, (size_t)kp);
        memset(a + (long)i * nb, 0, (size_t)nb * 4);
        memset(b + (long)i * nb, 0, (size_t)nb * 4);
    }
}

// Q8_0: d (f16), 32 signed bytes. q = value + 128 (flipping the sign bit), b = -128·d.
void glimpse_u8_rows_from_q8_0(const void *src, long row_bytes, int m, int k, uint8_t *q, float *a, float *b) {
    const int kp = glimpse_round32(k), nb = k / 32;
    for (int i = 0; i < m; i++) {
        const uint8_t *w = (const uint8_t *)src + i * row_bytes;
        for (int blk = 0; blk < nb; blk++, w += 34) {
            const float d = half_to_float(w);
            __m256i v = _mm256_loadu_si256((const __m256i *)(w + 2));
            _mm256_storeu_si256((__m256i *)(q + (long)i * kp + 32 * blk), _mm256_xor_si256(v, _mm256_set1_epi8((char)0x80)));
            a[(long)i * (kp / 32) + blk] = d;
            b[(long)i * (kp / 32) + blk] = -128 * d;
        }
    }
    zero_padding(m, kp, q, a, b);
}


// 32 bytes with 0x10 where bit j of `bits` is set (the fifth bits of Q5_0 and Q5_1).
static inline __m256i fifth_bits(uint32_t bits) {
    __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits),
                                         _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                                           0x0101010101010101, 0x0000000000000000));
    __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit), _mm256_set1_epi8(0x10));
}

// Q4_1 (d, m, 16 bytes of nibbles), Q5_0 (d, fifth bits, nibbles; value d·(q - 16)), Q5_1 (d, m, fifth
// bits, nibbles), and Q4_0 (d, nibbles; value d·(q - 8)): q is the 4- or 5-bit value, a = d, b = m, -8·d or -16·d.
static void u8_rows_32(const void *src, long row_bytes, int m, int k, uint8_t *q, float *a, float *b,
                       int block, int has_min, int fifth) {
    const int kp = glimpse_round32(k), nb = k / 32;
    const int nibbles = 2 + (has_min ? 2 : 0) + (fifth ? 4 : 0);
    for (int i = 0; i < m; i++) {
        const uint8_t *w = (const uint8_t *)src + i * row_bytes;
        for (int blk = 0; blk < nb; blk++, w += block) {
            const float d = half_to_float(w);
            __m128i n = _mm_loadu_si128((const __m128i *)(w + nibbles));
            __m256i v = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(n, 4), _mm_set1_epi8(0x0F)), _mm_and_si128(n, _mm_set1_epi8(0x0F)));
            if (fifth) {
                uint32_t bits;
                memcpy(&bits, w + (has_min ? 4 : 2), 4);
                v = _mm256_or_si256(v, fifth_bits(bits));
            }
            _mm256_storeu_si256((__m256i *)(q + (long)i * kp + 32 * blk), v);
            a[(long)i * (kp / 32) + blk] = d;
            b[(long)i * (kp / 32) + blk] = has_min ? half_to_float(w + 2) : (fifth ? -16 : -8) * d;
        }
    }
    zero_padding(m, kp, q, a, b);
}

// Q4_0: d (f16), 16 bytes of nibbles (values 0-15 low nibbles, 16-31 high); value d·(nibble - 8).
void glimpse_u8_rows_from_q4_0(const void *src, long row_bytes, int m, int k, uint8_t *q, float *a, float *b) {
    u8_rows_32(src, row_bytes, m, k, q, a, b, 18, 0, 0);
}
void glimpse_u8_rows_from_q4_1(const void *src, long row_bytes, int m, int k, uint8_t *q, float *a, float *b) {
    u8_rows_32(src, row_bytes, m, k, q, a, b, 20, 1, 0);
}
void glimpse_u8_rows_from_q5_0(const void *src, long row_bytes, int m, int k, uint8_t *q, float *a, float *b) {
    u8_rows_32(src, row_bytes, m, k, q, a, b, 22, 0, 1);
}
void glimpse_u8_rows_from_q5_1(const void *src, long row_bytes, int m, int k, uint8_t *q, float *a, float *b) {
    u8_rows_32(src, row_bytes, m, k, q, a, b, 24, 1, 1);
}

// Q4_K: d, dmin (f16), 12 bytes of 6-bit scales and mins of eight sub-blocks of 32, 128 bytes of nibbles (32 bytes
// per pair of sub-blocks: low nibbles the first, high the second). Value d·sc·q - dmin·m, so a = d·sc, b = -dmin·m.
// Q5_K: as Q4_K with 32 bytes of fifth bits before the nibbles: value l of sub-block j takes bit j of qh[l].
static void u8_rows_K(const void *src, long row_bytes, int m, int k, uint8_t *q, float *a, float *b, int fifth) {
    const int kp = glimpse_round32(k), nb = k / 256, block = fifth ? 176 : 144, nibbles = fifth ? 48 : 16;
    const __m256i low4 = _mm256_set1_epi8(0x0F), sixteen = _mm256_set1_epi8(0x10);
    for (int i = 0; i < m; i++) {
        const uint8_t *w = (const uint8_t *)src + i * row_bytes;
        for (int blk = 0; blk < nb; blk++, w += block) {
            const float d = half_to_float(w), dmin = half_to_float(w + 2);
            const uint8_t *s = w + 4;
            for (int j = 0; j < 8; j++) {
                const int sc = j < 4 ? s[j] & 63 : (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
                const int mn = j < 4 ? s[j + 4] & 63 : (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
                const long at = (long)i * (kp / 32) + 8 * blk + j;
                a[at] = d * (float)sc;
                b[at] = -(dmin * (float)mn);
            }
            const __m256i qh = fifth ? _mm256_loadu_si256((const __m256i *)(w + 16)) : _mm256_setzero_si256();
            for (int c = 0; c < 4; c++) {
                __m256i n = _mm256_loadu_si256((const __m256i *)(w + nibbles + 32 * c));
                __m256i lo = _mm256_and_si256(n, low4), hi = _mm256_and_si256(_mm256_srli_epi16(n, 4), low4);
                if (fifth) {
                    __m256i bit0 = _mm256_set1_epi8((char)(1 << (2 * c))), bit1 = _mm256_set1_epi8((char)(1 << (2 * c + 1)));
                    lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(qh, bit0), bit0), sixteen));
                    hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(qh, bit1), bit1), sixteen));
                }
                uint8_t *out = q + (long)i * kp + 256 * blk + 64 * c;
                _mm256_storeu_si256((__m256i *)out, lo);
                _mm256_storeu_si256((__m256i *)(out + 32), hi);
            }
        }
    }
    zero_padding(m, kp, q, a, b);
}

void glimpse_u8_rows_from_q4_K(const void *src, long row_bytes, int m, int k, uint8_t *q, float *a, float *b) {
    u8_rows_K(src, row_bytes, m, k, q, a, b, 0);
}
void glimpse_u8_rows_from_q5_K(const void *src, long row_bytes, int m, int k, uint8_t *q, float *a, float *b) {
    u8_rows_K(src, row_bytes, m, k, q, a, b, 1);
}

// Any type through F32: each block of 32 gets 8 bits over its range [min, max], a = (max - min)/255, b = min.
void glimpse_u8_rows_from_f32(const float *src, long lds, int m, int k, uint8_t *q, float *a, float *b) {
    const int kp = glimpse_round32(k), nb = kp / 32;
    for (int i = 0; i < m; i++) {
        const float *row = src + i * lds;
        for (int blk = 0; blk < nb; blk++) {
            const int c = 32 * blk;
            __m512 v0 = _mm512_maskz_loadu_ps(first(k - c), row + c), v1 = _mm512_maskz_loadu_ps(first(k - c - 16), row + c + 16);
            const float lo = _mm512_reduce_min_ps(_mm512_min_ps(v0, v1)), hi = _mm512_reduce_max_ps(_mm512_max_ps(v0, v1));
            const float step = (hi - lo) / 255, inv = step > 0 ? 1 / step : 0;
            __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_sub_ps(v0, _mm512_set1_ps(lo)), _mm512_set1_ps(inv)));
            __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_sub_ps(v1, _mm512_set1_ps(lo)), _mm512_set1_ps(inv)));
            __m128i b0 = _mm512_cvtusepi32_epi8(_mm512_max_epi32(q0, _mm512_setzero_si512()));
            __m128i b1 = _mm512_cvtusepi32_epi8(_mm512_max_epi32(q1, _mm512_setzero_si512()));
            _mm256_storeu_si256((__m256i *)(q + (long)i * kp + c), _mm256_set_m128i(b1, b0));
            a[(long)i * nb + blk] = step;
            b[(long)i * nb + blk] = lo;
        }
    }
    zero_padding(m, kp, q, a, b);
}

// MARK: Activations

void glimpse_s8_pack_vectors(const float *src, long lds, int n, int k, int first_vector, int count,
                             int8_t *qs, float *scales, float *sums) {
    const int kp = glimpse_round32(k), nb = kp / 32;
    for (int j0 = first_vector; j0 < first_vector + count; j0 += 16) {
        int32_t *block = (int32_t *)(qs + (long)j0 * kp);   // kp/4 rows of 16 dwords
        float *sc = scales + (long)j0 * nb, *su = sums + (long)j0 * nb;
        for (int blk = 0; blk < nb; blk++) {
            const int c = 32 * blk;
            // Each vector's 32 values as 8 dwords, one 256-bit row per vector; then 8 rows of 16 dwords.
            __m512i r[16];
            for (int jj = 0; jj < 16; jj++) {
                const int j = j0 + jj;
                if (j >= n) {
                    r[jj] = _mm512_setzero_si512();
                    sc[blk * 16 + jj] = 0;
                    su[blk * 16 + jj] = 0;
                    continue;
                }
                const float *v = src + j * lds + c;
                __m512 v0 = _mm512_maskz_loadu_ps(first(k - c), v), v1 = _mm512_maskz_loadu_ps(first(k - c - 16), v + 16);
                const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
                const float d = amax / 127, inv = amax > 0 ? 127 / amax : 0;
                const __m512i i0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, _mm512_set1_ps(inv)));
                const __m512i i1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, _mm512_set1_ps(inv)));
                r[jj] = _mm512_castsi256_si512(_mm256_set_m128i(_mm512_cvtsepi32_epi8(i1), _mm512_cvtsepi32_epi8(i0)));
                sc[blk * 16 + jj] = d;
                // The sum of the rounded values, not of x: the weights' offsets (Q8_0's -128·d, Q4_0's -8·d) then
                // cancel against the same rounded x as their products do. With the exact sum, 128·d times the
                // block's rounding error survived, and Q8_0 prompts came out three times further from float64.
                su[blk * 16 + jj] = d * (float)_mm512_reduce_add_epi32(_mm512_add_epi32(i0, i1));
            }
            transpose16(r);   // rows 0-7 now hold dword kq of the 16 vectors; rows 8-15 are the zero upper halves
            for (int kq = 0; kq < 8; kq++) _mm512_storeu_si512(block + (long)(8 * blk + kq) * 16, r[kq]);
        }
    }
}

// MARK: The product

// Eight weight rows x 16 vectors at a time: per block of 32, eight VPDPBUSD per row into integer sums, then one
// conversion and two FMAs per row (the scales a·dx and the offset b·dx·Σqx). Vectors in chunks of 128 and k in
// chunks of 2048, so the eight rows (16 KiB) stay in L1 while the chunk's vectors (256 KiB) stream from L2;
// without the k chunks, rows of LLaMA-7B's feed-forward (11008) came from L2 as well (pp616 at its width: about
// 580 t/s without, 610-630 with, on this noisy VM). Partial sums wait in `work` between chunks.
enum { ROWS = 8, VECTOR_CHUNK = 128, BLOCK_CHUNK = 64 };

void glimpse_vnni_gemm(const uint8_t *q, const float *a, const float *b, int m,
                       const int8_t *xq, const float *xs, const float *xsum, int n, int k, float *c, long ldc,
                       float *work) {
    const int kp = glimpse_round32(k), nb = kp / 32, np = (n + 15) & ~15;
    for (int jc = 0; jc < np; jc += VECTOR_CHUNK) {
        const int jend = np - jc < VECTOR_CHUNK ? np : jc + VECTOR_CHUNK;
        for (int bc = 0; bc < nb; bc += BLOCK_CHUNK) {
            const int bend = nb - bc < BLOCK_CHUNK ? nb : bc + BLOCK_CHUNK;
            for (int i0 = 0; i0 < m; i0 += ROWS) {
                const uint8_t *rows = q + (long)i0 * kp;
                const float *ra = a + (long)i0 * nb, *rb = b + (long)i0 * nb;
                for (int j0 = jc; j0 < jend; j0 += 16) {
                    const int32_t *xv = (const int32_t *)(xq + (long)j0 * kp);
                    const float *dx = xs + (long)j0 * nb, *sx = xsum + (long)j0 * nb;
                    float *saved = work + ((long)(i0 / ROWS) * (VECTOR_CHUNK / 16) + (j0 - jc) / 16) * (16 * ROWS);
                    __m512 acc[ROWS];
#pragma clang loop unroll(full)
                    for (int r = 0; r < ROWS; r++) acc[r] = bc == 0 ? _mm512_setzero_ps() : _mm512_loadu_ps(saved + 16 * r);
                    for (int blk = bc; blk < bend; blk++) {
                        __m512i dot[ROWS];
#pragma clang loop unroll(full)
                        for (int r = 0; r < ROWS; r++) dot[r] = _mm512_setzero_si512();
                        const uint8_t *wq = rows + 32 * blk;
#pragma clang loop unroll(full)
                        for (int kq = 0; kq < 8; kq++) {
                            const __m512i v = _mm512_loadu_si512(xv + (long)(8 * blk + kq) * 16);
#pragma clang loop unroll(full)
                            for (int r = 0; r < ROWS; r++) {
                                int32_t four;
                                memcpy(&four, wq + (long)r * kp + 4 * kq, 4);
                                dot[r] = _mm512_dpbusd_epi32(dot[r], _mm512_set1_epi32(four), v);
                            }
                        }
                        const __m512 scale = _mm512_loadu_ps(dx + 16 * blk), total = _mm512_loadu_ps(sx + 16 * blk);
#pragma clang loop unroll(full)
                        for (int r = 0; r < ROWS; r++) {
                            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[r]), _mm512_mul_ps(scale, _mm512_set1_ps(ra[r * nb + blk])), acc[r]);
                            acc[r] = _mm512_fmadd_ps(total, _mm512_set1_ps(rb[r * nb + blk]), acc[r]);
                        }
                    }
                    if (bend < nb) {
#pragma clang loop unroll(full)
                        for (int r = 0; r < ROWS; r++) _mm512_storeu_ps(saved + 16 * r, acc[r]);
                        continue;
                    }
                    __m512i out[16];
                    for (int r = 0; r < 16; r++) out[r] = r < ROWS ? (__m512i)acc[r] : _mm512_setzero_si512();
                    store_transposed(out, c + j0 * ldc + i0, ldc, m - i0 < ROWS ? m - i0 : ROWS, n - j0);
                }
            }
        }
    }
}

#pragma clang attribute pop

#else

void glimpse_u8_rows_from_q8_0(const void *src, long row_bytes, int m, int k, uint8_t *q, float *a, float *b) {}
void glimpse_u8_rows_from_q4_0(const void *src, long row_bytes, int m, int k, uint8_t *q, float *a, float *b) {}
void glimpse_u8_rows_from_q4_K(const void *src, long row_bytes, int m, int k, uint8_t *q, float *a, float *b) {}
void glimpse_u8_rows_from_f32(const float *src, long lds, int m, int k, uint8_t *q, float *a, float *b) {}
void glimpse_u8_rows_from_q4_1(const void *src, long row_bytes, int m, int k, uint8_t *q, float *a, float *b) {}
void glimpse_u8_rows_from_q5_0(const void *src, long row_bytes, int m, int k, uint8_t *q, float *a, float *b) {}
void glimpse_u8_rows_from_q5_1(const void *src, long row_bytes, int m, int k, uint8_t *q, float *a, float *b) {}
void glimpse_u8_rows_from_q5_K(const void *src, long row_bytes, int m, int k, uint8_t *q, float *a, float *b) {}
void glimpse_s8_pack_vectors(const float *src, long lds, int n, int k, int first, int count,
                             int8_t *qs, float *scales, float *sums) {}
void glimpse_vnni_gemm(const uint8_t *q, const float *a, const float *b, int m,
                       const int8_t *xq, const float *xs, const float *xsum, int n, int k, float *c, long ldc,
                       float *work) {}

#endif
