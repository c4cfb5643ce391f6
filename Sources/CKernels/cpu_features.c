#include "cpu_features.h"

#include <stdint.h>
#include <string.h>

unsigned long long glimpse_stream_read(const void *data, long bytes) {
    // Four independent 64-byte XOR chains, in vector registers of whatever width the build targets; XOR costs
    // nothing next to the loads.
    typedef uint64_t line __attribute__((vector_size(64)));
    const unsigned char *p = data;
    line a = {0}, b = {0}, c = {0}, d = {0}, t;
    long i = 0;
    for (; i + 256 <= bytes; i += 256) {
        memcpy(&t, p + i, 64); a ^= t;
        memcpy(&t, p + i + 64, 64); b ^= t;
        memcpy(&t, p + i + 128, 64); c ^= t;
        memcpy(&t, p + i + 192, 64); d ^= t;
    }
    for (; i + 64 <= bytes; i += 64) { memcpy(&t, p + i, 64); a ^= t; }
    a ^= b ^ c ^ d;
    uint64_t total = 0;
    for (int j = 0; j < 8; j++) total ^= a[j];
    return total;
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <errno.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

// XGETBV(0): which register states the OS saves on context switches. Only valid where CPUID says OSXSAVE.
static uint64_t xcr0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

int glimpse_cpu_features(void) {
    unsigned a, b, c, d;
    int features = GLIMPSE_CPU_X86;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return features;
    const int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, f16c = (c >> 29) & 1;
    if (!osxsave || !avx) return features;
    const uint64_t os = xcr0();
    const int ymm = (os & 0x6) == 0x6, zmm = (os & 0xE6) == 0xE6, tiles = (os & 0x60000) == 0x60000;
    if (__get_cpuid_max(0, 0) < 7) return features;
    __cpuid_count(7, 0, a, b, c, d);
    const unsigned ebx7 = b, ecx7 = c, edx7 = d;
    __cpuid_count(7, 1, a, b, c, d);
    const unsigned eax71 = a;
    if (ymm && fma && f16c && ((ebx7 >> 5) & 1)) features |= GLIMPSE_CPU_AVX2;
    // AVX-512 F (ebx 16), DQ (17), BW (30), VL (31).
    const unsigned avx512_base = (1u << 16) | (1u << 17) | (1u << 30) | (1u << 31);
    if (zmm && (features & GLIMPSE_CPU_AVX2) && (ebx7 & avx512_base) == avx512_base) {
        features |= GLIMPSE_CPU_AVX512;
        if ((ecx7 >> 11) & 1) features |= GLIMPSE_CPU_AVX512_VNNI;
        if ((eax71 >> 5) & 1) features |= GLIMPSE_CPU_AVX512_BF16;
    }
    // AMX: edx bit 24 tiles, 25 int8, 22 bf16; usable only where XCR0 enables XTILECFG and XTILEDATA (17, 18).
    if (tiles && ((edx7 >> 24) & 1)) {
        features |= GLIMPSE_CPU_AMX_TILE;
        if ((edx7 >> 25) & 1) features |= GLIMPSE_CPU_AMX_INT8;
        if ((edx7 >> 22) & 1) features |= GLIMPSE_CPU_AMX_BF16;
    }
    return features;
}

int glimpse_request_amx_permission(void) {
#if defined(__linux__)
    // ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA (Documentation/arch/x86/xstate.rst).
    if (syscall(SYS_arch_prctl, 0x1023, 18) == 0) return 0;
    return errno ? errno : -1;
#else
    return -1;
#endif
}

#else

int glimpse_cpu_features(void) { return 0; }
int glimpse_request_amx_permission(void) { return -1; }

#endif
