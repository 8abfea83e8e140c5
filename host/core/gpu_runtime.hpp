// The GPU runtime as the host code sees it (g++-clean). Implemented in cuda/core/device_runtime.cu;
// in a build without CUDA, by host/core/cuda_unavailable.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "journeymap/device_resources.hpp"

namespace jm::cuda_impl {

/// The resources of a GPU context on `device`: stream, memory pool, cuBLAS handle, properties.
/// Throws GpuUnavailableError when the device does not exist or the build has no CUDA.
std::shared_ptr<DeviceResources> make_cuda_resources(int device);

/// Number of usable CUDA devices; 0 when the build has no CUDA or the machine no driver/device.
int device_count();

/// "NVIDIA H200 (sm_90, 139.8 GiB)" for `device`, or why it cannot be used.
std::string device_description(int device);

/// How the GPU side was built: "CUDA 13.0, archs 90, RMM 26.06, RAFT 26.06, CCCL 3.4.0",
/// or "CUDA: no (built with JM_WITH_CUDA=OFF)".
std::string build_description();

/// Opens cuBLAS (which journeymap loads on first use) and returns the file it came from; throws
/// jm::Error when it cannot be loaded or the build has no CUDA.
std::string load_cublas();

/// Device memory of one device as this process uses it.
struct DeviceMemoryUse {
  bool initialised = false;          ///< false: journeymap has not used the device (all zeros)
  int64_t peak_allocated_bytes = 0;  ///< most bytes journeymap's own buffers held at once (RMM)
  int64_t allocated_bytes = 0;       ///< bytes they hold now
  int64_t used_bytes = 0;            ///< total - free as the driver reports it: every process on the
                                     ///< device, incl. RMM's pool reserve, XGBoost, cuBLAS, contexts
  int64_t total_bytes = 0;
};

/// Memory use of `device`; not initialised when no GPU work has run on it in this process.
DeviceMemoryUse device_memory_use(int device);

}  // namespace jm::cuda_impl
