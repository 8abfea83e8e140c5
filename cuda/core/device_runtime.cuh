// The process-wide GPU runtime: one RAFT resources object (stream, cuBLAS handle, ...) per device
// and RMM's pool allocator as the device memory resource, created on first use.
#pragma once

#include <raft/core/device_resources.hpp>
#include <rmm/cuda_stream_view.hpp>

namespace jm::cuda_impl {

/// RAFT resources of `device` (sets it as the current device). The first call installs an RMM pool
/// memory resource for the device, so every rmm::device_uvector afterwards comes from the pool.
/// Throws GpuUnavailableError when the device does not exist.
raft::device_resources& device_resources(int device);

/// The stream all journeymap work on `device` is ordered on.
inline rmm::cuda_stream_view device_stream(int device) { return device_resources(device).get_stream(); }

}  // namespace jm::cuda_impl
