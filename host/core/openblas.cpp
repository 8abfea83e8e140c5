#include "host/core/openblas.hpp"

#include "host/core/shared_library.hpp"

#include <type_traits>

#ifndef JM_OPENBLAS_LIBRARY_PATH
#define JM_OPENBLAS_LIBRARY_PATH ""
#endif

namespace jm {
namespace {

SharedLibrary& openblas_library() {
  // The soname (LD_LIBRARY_PATH, journeymap's RUNPATH, the system's choice), then the file the
  // build found (Debian's pthreads variant).
  static SharedLibrary library("OpenBLAS (CPU k-means, autoencoder, bandits)",
                               {"libopenblas.so.0", JM_OPENBLAS_LIBRARY_PATH});
  return library;
}

}  // namespace

const OpenBlasApi& openblas() {
  static const OpenBlasApi api = [] {
    SharedLibrary& library = openblas_library();
    OpenBlasApi resolved{};
    resolved.sgemm = library.function<decltype(::cblas_sgemm)>("cblas_sgemm");
    resolved.dtrsv = library.function<decltype(::cblas_dtrsv)>("cblas_dtrsv");
    resolved.dpotrf = library.function<std::remove_pointer_t<LapackPotrf>>("dpotrf_");
    resolved.dpotrs = library.function<std::remove_pointer_t<LapackPotrs>>("dpotrs_");
    resolved.get_num_threads = library.function<decltype(::openblas_get_num_threads)>("openblas_get_num_threads");
    resolved.set_num_threads = library.function<decltype(::openblas_set_num_threads)>("openblas_set_num_threads");
    return resolved;
  }();
  return api;
}

std::string load_openblas() {
  openblas();
  return openblas_library().path();
}

}  // namespace jm
