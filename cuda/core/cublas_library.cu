#include "cuda/core/cublas_library.cuh"

#include <string>

#include "host/core/shared_library.hpp"

#ifndef JM_CUBLAS_LIBRARY_PATH
#define JM_CUBLAS_LIBRARY_PATH ""
#endif

namespace jm::cuda_impl {
namespace {

SharedLibrary& cublas_library() {
  // The soname first (journeymap's RUNPATH holds the CUDA toolkit's library folder), then the file
  // the build found.
  static SharedLibrary library("cuBLAS (GPU k-means and autoencoder)",
                               {"libcublas.so." + std::to_string(CUBLAS_VER_MAJOR), JM_CUBLAS_LIBRARY_PATH});
  return library;
}

}  // namespace

const CublasApi& cublas_api() {
  static const CublasApi api = [] {
    SharedLibrary& library = cublas_library();
    CublasApi resolved{};
    resolved.create = library.function<decltype(::cublasCreate_v2)>("cublasCreate_v2");
    resolved.destroy = library.function<decltype(::cublasDestroy_v2)>("cublasDestroy_v2");
    resolved.set_stream = library.function<decltype(::cublasSetStream_v2)>("cublasSetStream_v2");
    resolved.set_math_mode = library.function<decltype(::cublasSetMathMode)>("cublasSetMathMode");
    resolved.sgemm = library.function<decltype(::cublasSgemm_v2)>("cublasSgemm_v2");
    resolved.status_name = library.function<decltype(::cublasGetStatusName)>("cublasGetStatusName");
    return resolved;
  }();
  return api;
}

std::string load_cublas() {
  cublas_api();
  return cublas_library().path();
}

}  // namespace jm::cuda_impl
