// cuBLAS, opened on first use instead of linked: cuBLAS pulls in cuBLASLt, ~700 MB of libraries
// whose loading costs ~0.1 s and ~150 MB of resident memory in every process, while only the GPU
// k-means and autoencoder call it. The few entry points journeymap uses are resolved once.
#pragma once

#include <cublas_v2.h>

#include <string>

namespace jm::cuda_impl {

/// The cuBLAS functions journeymap calls (the `_v2` entry points cublas_v2.h maps its names to).
struct CublasApi {
  decltype(&::cublasCreate_v2) create;
  decltype(&::cublasDestroy_v2) destroy;
  decltype(&::cublasSetStream_v2) set_stream;
  decltype(&::cublasSetMathMode) set_math_mode;
  decltype(&::cublasSgemm_v2) sgemm;
  decltype(&::cublasGetStatusName) status_name;
};

/// Opens libcublas on the first call; throws jm::Error saying where it was looked for.
const CublasApi& cublas_api();

/// Opens libcublas now; returns the file it was opened from (for `journeymap --version --libraries`).
std::string load_cublas();

}  // namespace jm::cuda_impl
