// The umbrella header of CKernels: everything Swift sees of the C kernels.
#include "cpu_features.h"
#include "row_kernels.h"
#include "bf16_kernels.h"
#include "int8_kernels.h"
