// The CUDA side of a GPU context: one non-blocking stream, a cuBLAS handle ordered on it (created
// on first use, from the lazily opened cuBLAS: cuda/core/cublas_library.cuh), the device's
// properties and its memory pool, created once by make_context and reached from the context every
// launcher gets as its first argument (cuda_resources(ctx)).
#pragma once

#include <cstdint>
#include <string>

#include <cuda_runtime_api.h>

#include <cublas_v2.h>
#include <rmm/cuda_stream.hpp>
#include <rmm/cuda_stream_view.hpp>
#include <rmm/resource_ref.hpp>

#include "journeymap/context.hpp"
#include "journeymap/device_resources.hpp"

namespace jm::cuda_impl {

class CudaResources final : public DeviceResources {
 public:
  /// Sets `device` current and creates the stream; the first context on a device installs the
  /// device's RMM pool (process-wide, since buffers may outlive a context).
  explicit CudaResources(int device);
  /// Waits for the stream's work: blocks freed on it go back to the shared pool, which must not
  /// hand them out again while a kernel of this stream may still use them.
  ~CudaResources() override;

  std::string description() const override { return description_; }
  int sm_count() const override { return sm_count_; }
  void* allocate(size_t bytes) override;
  void deallocate(void* pointer, size_t bytes) noexcept override;
  void synchronize() override;

  int device() const { return device_; }
  rmm::cuda_stream_view stream() const { return stream_.view(); }
  rmm::device_async_resource_ref memory() const { return memory_; }
  /// The cuBLAS handle bound to stream() with full FP32 math (no TF32 shortcuts); opens cuBLAS and
  /// creates the handle on the first call.
  cublasHandle_t cublas();

  /// Blocks for a grid-stride loop over `n` items: enough to cover them, at most `blocks_per_sm`
  /// per streaming multiprocessor (at least 1).
  unsigned grid_for(int64_t n, int block_threads, int blocks_per_sm = 8) const;

 protected:
  void do_copy_to_device(void* device, const void* host, size_t bytes) override;
  void do_copy_to_host(void* host, const void* device, size_t bytes) override;

 private:
  int device_;
  int sm_count_ = 1;
  std::string description_;
  rmm::device_async_resource_ref memory_;
  // Non-blocking: the legacy default stream (used by libraries we do not control) never serialises it.
  rmm::cuda_stream stream_{rmm::cuda_stream::flags::non_blocking};
  cublasHandle_t cublas_ = nullptr;
};

/// The CUDA resources of a GPU context, with its device made current on the calling thread;
/// throws std::logic_error for a context without them.
CudaResources& cuda_resources(const Context& ctx);

}  // namespace jm::cuda_impl
