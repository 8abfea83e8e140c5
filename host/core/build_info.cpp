#include "host/core/build_info.hpp"

#include <hdf5.h>

#include <sstream>

#include "host/core/gpu_runtime.hpp"
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
  const int devices = cuda_impl::device_count();
  out << "GPU devices visible: " << devices;
  if (devices > 0) out << " (" << cuda_impl::device_description(0) << ")";
  out << "\n";
  return out.str();
}

}  // namespace jm
