// The device a GPU context works on, as host code sees it (g++-clean): memory and the copies in and
// out of it, ordered on the context's one stream, with every byte moved counted. The CUDA backend
// implements it in cuda/core/device_runtime.cu (stream, RMM pool, cuBLAS handle and device
// properties, created once per context); tests implement it with host memory to check what moves.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

namespace jm {

/// Bytes and copies between host and device so far.
struct TransferStats {
  int64_t host_to_device_bytes = 0;
  int64_t device_to_host_bytes = 0;
  int64_t host_to_device_copies = 0;
  int64_t device_to_host_copies = 0;

  TransferStats& operator+=(const TransferStats& other) {
    host_to_device_bytes += other.host_to_device_bytes;
    device_to_host_bytes += other.device_to_host_bytes;
    host_to_device_copies += other.host_to_device_copies;
    device_to_host_copies += other.device_to_host_copies;
    return *this;
  }
  /// What was copied between two readings of the counters (`later - earlier`).
  friend TransferStats operator-(const TransferStats& later, const TransferStats& earlier) {
    return {later.host_to_device_bytes - earlier.host_to_device_bytes,
            later.device_to_host_bytes - earlier.device_to_host_bytes,
            later.host_to_device_copies - earlier.host_to_device_copies,
            later.device_to_host_copies - earlier.device_to_host_copies};
  }
};

class DeviceResources {
 public:
  virtual ~DeviceResources() = default;
  DeviceResources() = default;
  DeviceResources(const DeviceResources&) = delete;
  DeviceResources& operator=(const DeviceResources&) = delete;

  /// "NVIDIA H200 (sm_90, 143771 MiB)".
  virtual std::string description() const = 0;
  /// Streaming multiprocessors: grid sizes are multiples of it.
  virtual int sm_count() const = 0;

  /// Device memory, ordered on the context's stream. Throws std::bad_alloc-like errors when full.
  virtual void* allocate(size_t bytes) = 0;
  virtual void deallocate(void* pointer, size_t bytes) noexcept = 0;

  /// Host -> device. The host buffer may be reused as soon as this returns.
  void copy_to_device(void* device, const void* host, size_t bytes) {
    if (bytes == 0) return;
    host_to_device_bytes_ += static_cast<int64_t>(bytes);
    ++host_to_device_copies_;
    do_copy_to_device(device, host, bytes);
  }
  /// Device -> host; returns once the bytes are in `host` (work queued before it has finished).
  void copy_to_host(void* host, const void* device, size_t bytes) {
    if (bytes == 0) return;
    device_to_host_bytes_ += static_cast<int64_t>(bytes);
    ++device_to_host_copies_;
    do_copy_to_host(host, device, bytes);
  }

  /// Waits until the work queued on the context's stream has finished (step timings).
  virtual void synchronize() {}

  TransferStats transfers() const {
    return {host_to_device_bytes_.load(), device_to_host_bytes_.load(), host_to_device_copies_.load(),
            device_to_host_copies_.load()};
  }

 protected:
  virtual void do_copy_to_device(void* device, const void* host, size_t bytes) = 0;
  virtual void do_copy_to_host(void* host, const void* device, size_t bytes) = 0;

 private:
  std::atomic<int64_t> host_to_device_bytes_{0};
  std::atomic<int64_t> device_to_host_bytes_{0};
  std::atomic<int64_t> host_to_device_copies_{0};
  std::atomic<int64_t> device_to_host_copies_{0};
};

}  // namespace jm
