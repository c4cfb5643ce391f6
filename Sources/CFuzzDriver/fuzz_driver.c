#include "fuzz_driver.h"

// libFuzzer's entry for programs that keep their own main (SwiftPM's executables do). Weak, so a build
// without libFuzzer links and finds it missing.
extern int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size))
    __attribute__((weak));

int glimpse_run_fuzzer(int argc, char **argv, glimpse_fuzz_callback callback) {
    if (!LLVMFuzzerRunDriver) return -1;
    return LLVMFuzzerRunDriver(&argc, &argv, callback);
}
