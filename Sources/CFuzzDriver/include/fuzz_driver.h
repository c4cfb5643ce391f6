#ifndef GLIMPSE_FUZZ_DRIVER_H
#define GLIMPSE_FUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>

typedef int (*glimpse_fuzz_callback)(const uint8_t *data, size_t size);

/// Runs libFuzzer's driver (its command line, corpus folders and options) on `callback`. Returns -1 when the
/// program was built without libFuzzer (scripts/fuzz links it in; a plain build replays files instead).
int glimpse_run_fuzzer(int argc, char **argv, glimpse_fuzz_callback callback);
#endif
