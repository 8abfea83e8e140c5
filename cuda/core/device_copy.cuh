// Host <-> device copies of whole arrays, ordered on the caller's stream. A download into pageable
// host memory returns only once the data is there (the runtime stages it), but the caller still
// synchronises the stream before reading when earlier work on it may not have finished.
#pragma once

#include <rmm/cuda_stream_view.hpp>
#include <rmm/device_uvector.hpp>

#include <vector>

#include "cuda/core/cuda_check.cuh"

namespace jm::cuda_impl {

/// A device copy of `host`.
template <typename T>
rmm::device_uvector<T> upload(const std::vector<T>& host, rmm::cuda_stream_view stream) {
  rmm::device_uvector<T> device(host.size(), stream);
  if (!host.empty())
    JM_CUDA_TRY(cudaMemcpyAsync(device.data(), host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice,
                                stream.value()));
  return device;
}

/// The `n` elements at `device`, copied to a new host vector.
template <typename T>
std::vector<T> download(const T* device, size_t n, rmm::cuda_stream_view stream) {
  std::vector<T> host(n);
  if (n > 0) JM_CUDA_TRY(cudaMemcpyAsync(host.data(), device, n * sizeof(T), cudaMemcpyDeviceToHost, stream.value()));
  return host;
}

/// `device`, copied into `host` (resized to fit).
template <typename T>
void download(const rmm::device_uvector<T>& device, std::vector<T>& host, rmm::cuda_stream_view stream) {
  host = download(device.data(), device.size(), stream);
}

}  // namespace jm::cuda_impl
