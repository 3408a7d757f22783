#pragma once
// The boundary between the CUDA translation unit (compiled by nvcc, plain types only) and the
// C++20 library. Only used when DCLOUD_HAVE_CUDA is set.

#include <cstddef>

namespace dcloud::cuda_detail {

struct CudaBenchOut {
  double saxpy_millis = 0;
  double fma_millis = 0;
  bool verified = false;
};

// Returns 0 on success; otherwise 1 = no usable driver or device (error filled), 2 = a CUDA call
// failed, 3 = wrong results.
int runCudaBenchmark(int ordinal, long long elements, int iterations, int fma_rounds,
                     CudaBenchOut* out, char* error, std::size_t error_len);

}  // namespace dcloud::cuda_detail
