#ifndef GLIMPSE_CPU_FEATURES_H
#define GLIMPSE_CPU_FEATURES_H

// What the CPU and the operating system let this process use, read with CPUID and XGETBV at run time, so the
// kernel level is chosen on the machine that runs Glimpse rather than fixed by how it was compiled.

enum {
    GLIMPSE_CPU_AVX2 = 1 << 0,        // with FMA and F16C, and the OS saving ymm state
    GLIMPSE_CPU_AVX512 = 1 << 1,      // F, BW, VL, DQ, and the OS saving zmm/opmask state
    GLIMPSE_CPU_AVX512_VNNI = 1 << 2,
    GLIMPSE_CPU_AVX512_BF16 = 1 << 3,
    GLIMPSE_CPU_AMX_TILE = 1 << 4,    // the CPU has tiles and the OS enables their state in XCR0
    GLIMPSE_CPU_AMX_INT8 = 1 << 5,
    GLIMPSE_CPU_AMX_BF16 = 1 << 6,
    GLIMPSE_CPU_X86 = 1 << 7,         // the checks above ran (an x86-64 CPU)
};

// A mask of the GLIMPSE_CPU_* flags above.
int glimpse_cpu_features(void);

// Asks Linux for permission to use AMX tile data in this process (arch_prctl ARCH_REQ_XCOMP_PERM). Every thread
// of the process may then use tiles; without it the first tile instruction is killed with SIGILL. Returns 0 on
// success, else the errno of the refusal (or -1 where this is not Linux on x86-64).
int glimpse_request_amx_permission(void);

// Reads `bytes` bytes (a multiple of 64) and returns a checksum, so the loads cannot be dropped: the memory read
// rate that a matrix-vector product of those bytes is held against (`glimpse bench --kernels`).
unsigned long long glimpse_stream_read(const void *data, long bytes);

#endif
