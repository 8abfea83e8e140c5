// Host <-> device copies of whole arrays on a context's stream, counted by its resources (see
// DeviceResources::transfers). A download returns once the data is on the host.
#pragma once

#include <rmm/device_uvector.hpp>

#include <vector>

#include "cuda/core/device_runtime.cuh"

namespace jm::cuda_impl {

/// A device copy of `host`, in the context's memory pool.
template <typename T>
rmm::device_uvector<T> upload(const std::vector<T>& host, CudaResources& resources) {
  rmm::device_uvector<T> device(host.size(), resources.stream(), resources.memory());
  resources.copy_to_device(device.data(), host.data(), host.size() * sizeof(T));
  return device;
}

/// The `n` elements at `device`, copied to a new host vector.
template <typename T>
std::vector<T> download(const T* device, size_t n, CudaResources& resources) {
  std::vector<T> host(n);
  resources.copy_to_host(host.data(), device, n * sizeof(T));
  return host;
}

/// `device`, copied into `host` (resized to fit).
template <typename T>
void download(const rmm::device_uvector<T>& device, std::vector<T>& host, CudaResources& resources) {
  host = download(device.data(), device.size(), resources);
}

}  // namespace jm::cuda_impl
