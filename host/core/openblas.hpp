// OpenBLAS, opened on first use instead of linked: it starts a thread pool when loaded, which a
// command without a GEMM (mine, flows, export) should not pay for. The CPU k-means and autoencoder
// (GEMM) and the bandit posteriors (LAPACK's Cholesky) call it through openblas().
#pragma once

#include <cblas.h>

#include <string>

namespace jm {

/// LAPACK's Cholesky factorisation and solve (Fortran interface, which OpenBLAS exports): the
/// bandit posteriors. Column-major; `uplo` "L" or "U"; `info` 0 on success.
using LapackPotrf = void (*)(const char* uplo, const int* n, double* a, const int* lda, int* info);
using LapackPotrs = void (*)(const char* uplo, const int* n, const int* nrhs, const double* a, const int* lda,
                             double* b, const int* ldb, int* info);

/// The OpenBLAS functions journeymap calls.
struct OpenBlasApi {
  decltype(&::cblas_sgemm) sgemm;
  decltype(&::cblas_dtrsv) dtrsv;
  LapackPotrf dpotrf;
  LapackPotrs dpotrs;
  decltype(&::openblas_get_num_threads) get_num_threads;
  decltype(&::openblas_set_num_threads) set_num_threads;
};

/// Opens OpenBLAS on the first call; throws jm::Error saying where it was looked for.
const OpenBlasApi& openblas();

/// Opens OpenBLAS now; returns the file it was opened from (for `journeymap --version --libraries`).
std::string load_openblas();

/// Sets OpenBLAS to one thread for the lifetime of the guard: callers that run their own row
/// blocks in parallel, or multiply small matrices, would only lose time waking its threads.
class SingleThreadedBlas {
 public:
  SingleThreadedBlas() : previous_(openblas().get_num_threads()) { openblas().set_num_threads(1); }
  ~SingleThreadedBlas() { openblas().set_num_threads(previous_); }
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

 private:
  int previous_;
};

}  // namespace jm
