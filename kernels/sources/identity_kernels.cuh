// Kernels of GPU connected components (identity stitching): hooking over the link list and pointer
// jumping, repeated until no link joins two roots. Hooks follow identity_rules::hook, so every
// component ends labelled by its smallest id number, as on the CPU. Launchers: cuda/sources/identity_cuda.cu.
#pragma once

#include <cstdint>

#include "journeymap/identity_rules.hpp"

namespace jm::kernels {

constexpr int kIdentityBlockThreads = 256;

/// The root of `id` (parents only ever point to smaller numbers, so the walk ends).
__device__ inline int32_t find_root(const int32_t* parent, int32_t id) {
  int32_t up = parent[id];
  while (up != id) {
    id = up;
    up = parent[id];
  }
  return id;
}

/// One hooking round: each link whose ends have different roots hooks the larger root under the
/// smaller (atomicMin, so concurrent hooks of one root keep the smallest). `changed` is set when any
/// link still joined two roots.
__global__ void __launch_bounds__(kIdentityBlockThreads)
    hook_links(const int32_t* link_a, const int32_t* link_b, const uint8_t* dropped, int32_t* parent, int64_t n_links,
               int* changed) {
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < n_links; e += int64_t{gridDim.x} * blockDim.x) {
    const int32_t a = link_a[e], b = link_b[e];
    if (dropped[a] || dropped[b]) continue;
    const int32_t root_a = find_root(parent, a), root_b = find_root(parent, b);
    if (root_a == root_b) continue;
    const identity_rules::Hook hook = identity_rules::hook(root_a, root_b);
    atomicMin(parent + hook.child, hook.parent);
    *changed = 1;
  }
}

/// Pointer jumping: every id points straight at its root. Dropped ids get -1.
__global__ void __launch_bounds__(kIdentityBlockThreads)
    compress_to_roots(const uint8_t* dropped, int32_t* parent, int32_t* component, int32_t n_ids) {
  for (int64_t id = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; id < n_ids; id += int64_t{gridDim.x} * blockDim.x) {
    const int32_t root = find_root(parent, static_cast<int32_t>(id));
    parent[id] = root;
    component[id] = dropped[id] ? -1 : root;
  }
}

/// parent[id] = id.
__global__ void __launch_bounds__(kIdentityBlockThreads) init_parents(int32_t* parent, int32_t n_ids) {
  for (int64_t id = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; id < n_ids; id += int64_t{gridDim.x} * blockDim.x)
    parent[id] = static_cast<int32_t>(id);
}

}  // namespace jm::kernels
