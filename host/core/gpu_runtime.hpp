// The GPU runtime as the host code sees it (g++-clean). Implemented in cuda/core/device_runtime.cu;
// in a build without CUDA, by host/core/cuda_unavailable.cpp.
#pragma once

#include <string>

namespace jm::cuda_impl {

/// Number of usable CUDA devices; 0 when the build has no CUDA or the machine no driver/device.
int device_count();

/// "NVIDIA H200 (sm_90, 139.8 GiB)" for `device`, or why it cannot be used.
std::string device_description(int device);

/// How the GPU side was built: "CUDA 13.0, archs 90, RMM 26.06, RAFT 26.06, CCCL 3.4.0",
/// or "CUDA: no (built with JM_WITH_CUDA=OFF)".
std::string build_description();

}  // namespace jm::cuda_impl
