// Per-element rules of identity stitching, shared by the CPU union-find and the GPU hooking kernels
// so that both label every component with the same id number.
#pragma once

#include <cstdint>

#include "journeymap/common.hpp"

namespace jm::identity_rules {

/// The guard: an id linked to more distinct ids than `max_links` (0: no limit) is a shared or
/// placeholder id and takes no part in the components.
JM_HD inline bool is_shared_id(int64_t links, int64_t max_links) { return max_links > 0 && links > max_links; }

/// Joining two components keeps the smaller label: the root with the larger number is hooked under
/// the other, so every component ends labelled by its smallest id number on either backend.
struct Hook {
  int32_t child;   ///< the root that is hooked
  int32_t parent;  ///< the root it is hooked under
};
JM_HD inline Hook hook(int32_t root_a, int32_t root_b) {
  return root_a < root_b ? Hook{root_b, root_a} : Hook{root_a, root_b};
}

}  // namespace jm::identity_rules
