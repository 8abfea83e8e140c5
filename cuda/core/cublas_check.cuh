// Error checking for cuBLAS calls: throws with the status name, the call text and where it happened.
#pragma once

#include <cublas_v2.h>

#include "cuda/core/cublas_library.cuh"

#include <string>

#include "journeymap/common.hpp"

#define JM_CUBLAS_TRY(call)                                                                          \
  do {                                                                                               \
    const cublasStatus_t jm_cublas_status_ = (call);                                                 \
    if (jm_cublas_status_ != CUBLAS_STATUS_SUCCESS)                                                  \
      throw ::jm::Error(std::string("cuBLAS error ") + ::jm::cuda_impl::cublas_api().status_name(jm_cublas_status_) + " in " + \
                        #call + " at " + __FILE__ + ":" + std::to_string(__LINE__));                 \
  } while (0)
