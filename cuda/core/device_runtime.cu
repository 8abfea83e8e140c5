#include <cuda_runtime_api.h>

#include <cub/version.cuh>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <rmm/mr/cuda_memory_resource.hpp>
#include <rmm/mr/per_device_resource.hpp>
#include <rmm/mr/pool_memory_resource.hpp>
#include <rmm/mr/statistics_resource_adaptor.hpp>
#include <raft/core/device_resources.hpp>
#include <rmm/cuda_stream.hpp>
#include <sstream>
#include <string>

#include "cuda/core/cuda_check.cuh"
#include "cuda/core/device_runtime.cuh"
#include "host/core/gpu_runtime.hpp"

#ifndef JM_CUDA_ARCHS
#define JM_CUDA_ARCHS "unknown"
#endif

namespace jm::cuda_impl {

int device_count() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    // No driver or no device (e.g. error 35 on a CPU-only machine): clear the sticky error.
    cudaGetLastError();
    return 0;
  }
  return count;
}

std::string device_description(int device) {
  if (device < 0 || device >= device_count()) {
    int driver = 0;
    const cudaError_t status = cudaDriverGetVersion(&driver);
    cudaGetLastError();
    if (status != cudaSuccess || driver == 0) return "no CUDA driver on this machine";
    return "no CUDA device visible (driver " + std::to_string(driver / 1000) + "." +
           std::to_string(driver % 1000 / 10) + ")";
  }
  cudaDeviceProp prop{};
  JM_CUDA_TRY(cudaGetDeviceProperties(&prop, device));
  std::ostringstream out;
  out << prop.name << " (sm_" << prop.major << prop.minor << ", " << (prop.totalGlobalMem >> 20) << " MiB)";
  return out.str();
}

std::string build_description() {
  std::ostringstream out;
  out << "CUDA: yes (toolkit " << CUDART_VERSION / 1000 << "." << CUDART_VERSION % 1000 / 10 << ", archs "
      << JM_CUDA_ARCHS << "), CCCL " << CUB_MAJOR_VERSION << "." << CUB_MINOR_VERSION << "." << CUB_SUBMINOR_VERSION
      << ", RMM 26.06, RAFT 26.06";
  return out.str();
}

namespace {
// An owned, non-blocking stream, the RAFT resources ordered on it, and the counters of the
// device memory resource (a copy that shares its state with the installed one).
struct DeviceState {
  explicit DeviceState(rmm::mr::statistics_resource_adaptor counted) : statistics(std::move(counted)) {}
  rmm::mr::statistics_resource_adaptor statistics;
  // Non-blocking: the legacy default stream (used by libraries we do not control) never serialises it.
  rmm::cuda_stream stream{rmm::cuda_stream::flags::non_blocking};
  raft::device_resources resources{stream.view()};
};

std::mutex& runtime_mutex() {
  static std::mutex mutex;
  return mutex;
}

// Deliberately never destroyed: the CUDA context may already be torn down when static
// destructors run at exit, and destroying a stream then fails.
std::map<int, DeviceState*>& device_states() {
  static auto& per_device = *new std::map<int, DeviceState*>();
  return per_device;
}
}  // namespace

namespace {
// The pool's first reservation. Several processes sharing one device (the test binaries run side
// by side) each take 1/8 of what is free when they start unless JM_GPU_POOL_MB says how much.
size_t initial_pool_bytes(size_t free_bytes) {
  const char* setting = std::getenv("JM_GPU_POOL_MB");
  if (setting == nullptr || *setting == '\0') return (free_bytes / 8) & ~size_t{255};
  char* end = nullptr;
  const unsigned long long megabytes = std::strtoull(setting, &end, 10);
  if (*end != '\0' || *setting == '-' || megabytes > (free_bytes >> 20))
    throw ConfigError("JM_GPU_POOL_MB='" + std::string(setting) + "' is not a number of MiB between 0 and the " +
                      std::to_string(free_bytes >> 20) + " MiB free on the device");
  return static_cast<size_t>(megabytes) << 20;
}
}  // namespace

raft::device_resources& device_resources(int device) {
  auto& per_device = device_states();
  std::lock_guard<std::mutex> lock(runtime_mutex());
  if (device < 0 || device >= device_count())
    throw GpuUnavailableError("CUDA device " + std::to_string(device) + " is not available: " +
                              device_description(device));
  JM_CUDA_TRY(cudaSetDevice(device));
  auto found = per_device.find(device);
  if (found != per_device.end()) return found->second->resources;
  // A pool avoids a cudaMalloc/cudaFree pair per temporary buffer; it starts at 1/8 of free memory
  // (or JM_GPU_POOL_MB) and grows on demand.
  size_t free_bytes = 0, total_bytes = 0;
  JM_CUDA_TRY(cudaMemGetInfo(&free_bytes, &total_bytes));
  const size_t initial_pool = initial_pool_bytes(free_bytes);
  // Counted above the pool, so the peak is what our buffers held, not what the pool reserved.
  rmm::mr::statistics_resource_adaptor counted{
      rmm::mr::pool_memory_resource{rmm::mr::cuda_memory_resource{}, initial_pool}};
  rmm::mr::set_current_device_resource(counted);
  return per_device.emplace(device, new DeviceState(counted)).first->second->resources;
}

DeviceMemoryUse device_memory_use(int device) {
  DeviceMemoryUse use;
  std::lock_guard<std::mutex> lock(runtime_mutex());
  const auto found = device_states().find(device);
  if (found == device_states().end()) return use;
  JM_CUDA_TRY(cudaSetDevice(device));
  const auto bytes = found->second->statistics.get_bytes_counter();
  size_t free_bytes = 0, total_bytes = 0;
  JM_CUDA_TRY(cudaMemGetInfo(&free_bytes, &total_bytes));
  use.initialised = true;
  use.peak_allocated_bytes = static_cast<int64_t>(bytes.peak);
  use.allocated_bytes = static_cast<int64_t>(bytes.value);
  use.used_bytes = static_cast<int64_t>(total_bytes - free_bytes);
  use.total_bytes = static_cast<int64_t>(total_bytes);
  return use;
}

}  // namespace jm::cuda_impl
