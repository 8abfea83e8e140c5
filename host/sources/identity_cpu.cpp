// CPU twin of connected components: union-find with path halving, hooking by identity_rules::hook
// (the larger root under the smaller), so each root is its component's smallest id number.
#include <vector>

#include "journeymap/identity.hpp"
#include "journeymap/identity_rules.hpp"

namespace jm::cpu_impl {

std::vector<int32_t> connected_components(int32_t n_ids, const std::vector<int32_t>& link_a,
                                          const std::vector<int32_t>& link_b, const std::vector<uint8_t>& dropped) {
  std::vector<int32_t> parent(static_cast<size_t>(n_ids));
  for (int32_t id = 0; id < n_ids; ++id) parent[static_cast<size_t>(id)] = id;
  auto find = [&](int32_t id) {
    while (parent[static_cast<size_t>(id)] != id) {
      int32_t& up = parent[static_cast<size_t>(id)];
      up = parent[static_cast<size_t>(up)];  // path halving
      id = up;
    }
    return id;
  };
  for (size_t e = 0; e < link_a.size(); ++e) {
    if (dropped[static_cast<size_t>(link_a[e])] || dropped[static_cast<size_t>(link_b[e])]) continue;
    const int32_t root_a = find(link_a[e]), root_b = find(link_b[e]);
    if (root_a == root_b) continue;
    const identity_rules::Hook hook = identity_rules::hook(root_a, root_b);
    parent[static_cast<size_t>(hook.child)] = hook.parent;
  }
  std::vector<int32_t> component(static_cast<size_t>(n_ids));
  for (int32_t id = 0; id < n_ids; ++id) component[static_cast<size_t>(id)] = dropped[static_cast<size_t>(id)] ? -1 : find(id);
  return component;
}

}  // namespace jm::cpu_impl
