// GPU twin of identity stitching's connected components: uploads the distinct links, then alternates
// hooking rounds and pointer jumping until a round hooks nothing (a few rounds: hooking by root
// halves the number of roots a component has each time in practice). Labels equal the CPU's.
#include <cstdint>
#include <vector>

#include <rmm/device_uvector.hpp>

#include "cuda/core/cuda_check.cuh"
#include "cuda/core/device_copy.cuh"
#include "cuda/core/device_runtime.cuh"
#include "journeymap/identity.hpp"
#include "kernels/sources/identity_kernels.cuh"

namespace jm::cuda_impl {

std::vector<int32_t> connected_components(const Context& ctx, int32_t n_ids, const std::vector<int32_t>& link_a,
                                          const std::vector<int32_t>& link_b, const std::vector<uint8_t>& dropped) {
  if (n_ids == 0) return {};
  CudaResources& resources = cuda_resources(ctx);
  const cudaStream_t stream = resources.stream().value();
  const auto device_a = upload(link_a, resources);
  const auto device_b = upload(link_b, resources);
  const auto device_dropped = upload(dropped, resources);
  rmm::device_uvector<int32_t> parent(static_cast<size_t>(n_ids), resources.stream(), resources.memory());
  rmm::device_uvector<int32_t> component(static_cast<size_t>(n_ids), resources.stream(), resources.memory());
  rmm::device_uvector<int> changed(1, resources.stream(), resources.memory());
  const int threads = kernels::kIdentityBlockThreads;
  const auto n_links = static_cast<int64_t>(link_a.size());
  kernels::init_parents<<<resources.grid_for(n_ids, threads), threads, 0, stream>>>(parent.data(), n_ids);
  JM_CUDA_TRY(cudaGetLastError());
  for (;;) {
    JM_CUDA_TRY(cudaMemsetAsync(changed.data(), 0, sizeof(int), stream));
    if (n_links > 0)
      kernels::hook_links<<<resources.grid_for(n_links, threads), threads, 0, stream>>>(
          device_a.data(), device_b.data(), device_dropped.data(), parent.data(), n_links, changed.data());
    kernels::compress_to_roots<<<resources.grid_for(n_ids, threads), threads, 0, stream>>>(
        device_dropped.data(), parent.data(), component.data(), n_ids);
    JM_CUDA_TRY(cudaGetLastError());
    if (download(changed.data(), 1, resources)[0] == 0) break;
  }
  std::vector<int32_t> host;
  download(component, host, resources);
  return host;
}

}  // namespace jm::cuda_impl
