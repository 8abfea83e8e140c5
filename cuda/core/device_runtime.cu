#include <cuda_runtime_api.h>

#include <cub/version.cuh>
#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <rmm/mr/cuda_memory_resource.hpp>
#include <rmm/mr/per_device_resource.hpp>
#include <rmm/mr/pool_memory_resource.hpp>
#include <rmm/mr/statistics_resource_adaptor.hpp>
#include <rmm/cuda_stream.hpp>
#include <sstream>
#include <string>

#include "cuda/core/cublas_check.cuh"
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
      << ", RMM 26.06, cuBLAS " << CUBLAS_VER_MAJOR << "." << CUBLAS_VER_MINOR << " (opened on first use)";
  return out.str();
}

namespace {
// The device's memory pool and its counters (a copy that shares its state with the installed
// resource). One per device for the whole process: RMM's per-device resource is process-wide and
// device buffers may outlive the context that made them.
struct DevicePool {
  explicit DevicePool(rmm::mr::statistics_resource_adaptor counted) : statistics(std::move(counted)) {}
  rmm::mr::statistics_resource_adaptor statistics;
};

std::mutex& runtime_mutex() {
  static std::mutex mutex;
  return mutex;
}

// Deliberately never destroyed: the CUDA context may already be torn down when static
// destructors run at exit, and destroying a pool then fails.
std::map<int, DevicePool*>& device_pools() {
  static auto& per_device = *new std::map<int, DevicePool*>();
  return per_device;
}

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

int checked_device(int device) {
  if (device < 0 || device >= device_count())
    throw GpuUnavailableError("CUDA device " + std::to_string(device) + " is not available: " +
                              device_description(device));
  JM_CUDA_TRY(cudaSetDevice(device));
  return device;
}

// Sets `device` current and returns its pool, installing it on first use. A pool avoids a
// cudaMalloc/cudaFree pair per temporary buffer; it starts at 1/8 of free memory (or
// JM_GPU_POOL_MB) and grows on demand.
rmm::device_async_resource_ref device_pool(int device) {
  std::lock_guard<std::mutex> lock(runtime_mutex());
  JM_CUDA_TRY(cudaSetDevice(device));
  auto& per_device = device_pools();
  if (per_device.find(device) == per_device.end()) {
    size_t free_bytes = 0, total_bytes = 0;
    JM_CUDA_TRY(cudaMemGetInfo(&free_bytes, &total_bytes));
    // Counted above the pool, so the peak is what our buffers held, not what the pool reserved.
    rmm::mr::statistics_resource_adaptor counted{
        rmm::mr::pool_memory_resource{rmm::mr::cuda_memory_resource{}, initial_pool_bytes(free_bytes)}};
    rmm::mr::set_current_device_resource(counted);
    per_device.emplace(device, new DevicePool(counted));
  }
  return rmm::mr::get_current_device_resource_ref();
}
}  // namespace

CudaResources::CudaResources(int device) : device_(checked_device(device)), memory_(device_pool(device_)) {
  JM_CUDA_TRY(cudaDeviceGetAttribute(&sm_count_, cudaDevAttrMultiProcessorCount, device_));
  sm_count_ = std::max(sm_count_, 1);
  description_ = device_description(device_);
}

CudaResources::~CudaResources() {
  // No throwing from a destructor: an error here was already reported by the call that caused it.
  cudaSetDevice(device_);
  cudaStreamSynchronize(stream_.value());
  if (cublas_ != nullptr) cublas_api().destroy(cublas_);
}

void CudaResources::synchronize() {
  JM_CUDA_TRY(cudaSetDevice(device_));
  stream_.synchronize();
}

void* CudaResources::allocate(size_t bytes) {
  return memory_.allocate(stream(), bytes, rmm::CUDA_ALLOCATION_ALIGNMENT);
}

void CudaResources::deallocate(void* pointer, size_t bytes) noexcept {
  memory_.deallocate(stream(), pointer, bytes, rmm::CUDA_ALLOCATION_ALIGNMENT);
}

cublasHandle_t CudaResources::cublas() {
  if (cublas_ == nullptr) {
    JM_CUDA_TRY(cudaSetDevice(device_));
    JM_CUBLAS_TRY(cublas_api().create(&cublas_));
  }
  JM_CUBLAS_TRY(cublas_api().set_stream(cublas_, stream().value()));
  JM_CUBLAS_TRY(cublas_api().set_math_mode(cublas_, CUBLAS_DEFAULT_MATH));
  return cublas_;
}

unsigned CudaResources::grid_for(int64_t n, int block_threads, int blocks_per_sm) const {
  const int64_t blocks = (n + block_threads - 1) / block_threads;
  return static_cast<unsigned>(std::clamp<int64_t>(blocks, 1, int64_t{sm_count_} * blocks_per_sm));
}

void CudaResources::do_copy_to_device(void* device, const void* host, size_t bytes) {
  // From pageable memory the call returns once the bytes are staged, so `host` may change after it.
  JM_CUDA_TRY(cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, stream().value()));
}

void CudaResources::do_copy_to_host(void* host, const void* device, size_t bytes) {
  JM_CUDA_TRY(cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost, stream().value()));
  // The caller reads `host` next.
  JM_CUDA_TRY(cudaStreamSynchronize(stream().value()));
}

CudaResources& cuda_resources(const Context& ctx) {
  auto* resources = dynamic_cast<CudaResources*>(ctx.device.get());
  if (resources == nullptr)
    throw std::logic_error("a GPU stage was called with a context that has no CUDA resources (use make_context)");
  // The current device is per host thread: a stage may run on a thread that has not used this one.
  JM_CUDA_TRY(cudaSetDevice(resources->device()));
  return *resources;
}

std::shared_ptr<DeviceResources> make_cuda_resources(int device) { return std::make_shared<CudaResources>(device); }

DeviceMemoryUse device_memory_use(int device) {
  DeviceMemoryUse use;
  std::lock_guard<std::mutex> lock(runtime_mutex());
  const auto found = device_pools().find(device);
  if (found == device_pools().end()) return use;
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
