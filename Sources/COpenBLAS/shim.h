#include <cblas.h>
// OpenBLAS' thread control, so the engine can choose how many cores sgemm uses.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
