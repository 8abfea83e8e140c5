#include "host/core/build_info.hpp"

#include <hdf5.h>

#include <functional>
#include <sstream>

#include "host/core/gpu_runtime.hpp"
#include "host/core/openblas.hpp"
#include "host/distributed/process_group.hpp"
#include "host/model/xgboost_api.hpp"
#include "journeymap/export.hpp"
#include "journeymap/model.hpp"

#ifndef JM_VERSION
#define JM_VERSION "unknown"
#endif

namespace jm {

std::string version() { return JM_VERSION; }

std::string build_info() {
  std::ostringstream out;
  out << "journeymap " << JM_VERSION << "\n";
#ifdef NDEBUG
  out << "build: release, C++" << (__cplusplus / 100 % 100) << ", g++ " << __VERSION__ << "\n";
#else
  out << "build: debug, C++" << (__cplusplus / 100 % 100) << ", g++ " << __VERSION__ << "\n";
#endif
  out << cuda_impl::build_description() << "\n";
  out << xgboost_description() << "\n";
  out << "HDF5 " << H5_VERS_MAJOR << "." << H5_VERS_MINOR << "." << H5_VERS_RELEASE << "\n";
  out << "Parquet export: " << parquet_library_description() << "\n";
  out << mpi_description() << "\n";
  const int devices = cuda_impl::device_count();
  out << "GPU devices visible: " << devices;
  if (devices > 0) out << " (" << cuda_impl::device_description(0) << ")";
  out << "\n";
  return out.str();
}

std::string library_report(bool* all_loaded) {
  std::ostringstream out;
  bool ok = true;
  auto report = [&](const char* name, const std::function<std::string()>& load) {
    try {
      out << name << ": " << load() << "\n";
    } catch (const std::exception& error) {
      ok = false;
      out << name << ": NOT LOADED: " << error.what() << "\n";
    }
  };
  report("OpenBLAS", load_openblas);
  if (model_detail::library_available()) report("XGBoost", model_detail::load_library);
  if (parquet_export_available()) report("Parquet writer", load_parquet_module);
#ifdef JM_WITH_CUDA
  report("cuBLAS", cuda_impl::load_cublas);
#endif
  if (all_loaded != nullptr) *all_loaded = ok;
  return out.str();
}

}  // namespace jm
