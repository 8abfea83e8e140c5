// Error checking for every CUDA runtime call and kernel launch: throws with the call text, the
// error name and where it happened. The _NO_THROW form is for destructors.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdio>
#include <string>

#include "journeymap/common.hpp"

namespace jm::cuda_impl {

[[noreturn]] inline void throw_cuda_error(cudaError_t status, const char* call, const char* file, int line) {
  throw Error(std::string("CUDA error ") + cudaGetErrorName(status) + " (" + cudaGetErrorString(status) +
              ") in " + call + " at " + file + ":" + std::to_string(line));
}

}  // namespace jm::cuda_impl

#define JM_CUDA_TRY(call)                                                                   \
  do {                                                                                      \
    const cudaError_t jm_cuda_status_ = (call);                                             \
    if (jm_cuda_status_ != cudaSuccess)                                                     \
      ::jm::cuda_impl::throw_cuda_error(jm_cuda_status_, #call, __FILE__, __LINE__);        \
  } while (0)

/// After a kernel launch: catches bad launch configurations at once.
#define JM_CUDA_CHECK_LAUNCH() JM_CUDA_TRY(cudaPeekAtLastError())

#define JM_CUDA_TRY_NO_THROW(call)                                                          \
  do {                                                                                      \
    const cudaError_t jm_cuda_status_ = (call);                                             \
    if (jm_cuda_status_ != cudaSuccess)                                                     \
      std::fprintf(stderr, "journeymap: CUDA error %s in %s (ignored in cleanup)\n",        \
                   cudaGetErrorName(jm_cuda_status_), #call);                               \
  } while (0)
