// Identity stitching: ids of different kinds (cookie, device id, email hash, CRM id) that belong to
// one customer are linked by events that carry two ids and by identity files of id pairs; the
// connected components of that graph are the unified customers.
//
//   jm::IdentityGraph graph;
//   const int32_t cookie = graph.add_id("cookie", "c-17"), email = graph.add_id("email", "9f2e...");
//   graph.add_link(cookie, email);
//   jm::IdentityComponents stitched = jm::stitch_identities(ctx, graph, options);
//   stitched.component[cookie] == stitched.component[email]
//
// Both backends label each component with its smallest id number, so they agree exactly. Ids
// linked to more distinct ids than `max_links_per_id` (a shared or placeholder id such as
// "unknown", "0" or a call-centre account) are dropped from the graph before the components are
// formed, and reported, so that one such id cannot merge thousands of customers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/vocabulary.hpp"

namespace jm {

/// Ids of every kind numbered densely (0..n_ids-1, in the order first added), and the links between
/// them. A self-link or a link added twice is harmless.
class IdentityGraph {
 public:
  /// The number of the id (`kind`, `value`), added when new.
  int32_t add_id(std::string_view kind, std::string_view value);
  /// The number of the id or -1 when it was never added.
  int32_t find_id(std::string_view kind, std::string_view value) const;
  void add_link(int32_t a, int32_t b);

  int32_t n_ids() const { return keys_.size(); }
  int64_t n_links() const { return static_cast<int64_t>(link_a_.size()); }
  const std::vector<int32_t>& link_a() const { return link_a_; }
  const std::vector<int32_t>& link_b() const { return link_b_; }
  /// The id's kind (its name, or its index in kinds()) and value.
  std::string kind(int32_t id) const;
  int32_t kind_index(int32_t id) const;
  std::string value(int32_t id) const;
  /// "kind:value", how the id is shown in reports.
  std::string display(int32_t id) const;
  const std::vector<std::string>& kinds() const { return kinds_.names(); }

 private:
  Vocabulary kinds_;               // the kinds seen, in order
  Vocabulary keys_;                // "<kind id>\x1f<value>" -> id number
  std::vector<int32_t> link_a_, link_b_;
};

struct IdentityOptions {
  /// Identity files: CSV with the header `kind_a,id_a,kind_b,id_b`, one linked pair per line.
  std::vector<std::string> files;
  /// An id linked to more distinct ids than this is dropped as a shared or placeholder id
  /// (0: no limit). A person's email links a few cookies and devices and one CRM record.
  int64_t max_links_per_id = 50;
};

/// An id dropped by the guard, with the number of distinct ids it linked.
struct DroppedId {
  std::string kind;
  std::string value;
  int64_t links = 0;
};

struct IdentityComponents {
  /// [n_ids] the component of each id: the smallest id number in it; -1 for a dropped id.
  std::vector<int32_t> component;
  int64_t n_components = 0;
  int64_t n_links = 0;          ///< distinct links between different ids (after removing self-links)
  int64_t largest_component = 0;  ///< ids in the largest component
  std::vector<DroppedId> dropped;  ///< most links first
  std::string backend;
};

/// Drops the ids above the link limit and labels the connected components of the rest, on the
/// backend of `ctx`. Throws ConfigError on a negative limit.
IdentityComponents stitch_identities(const Context& ctx, const IdentityGraph& graph, const IdentityOptions& options);

/// Reads one identity file into `graph` (ids added as needed). Returns the number of pairs read.
/// Throws InputError naming the file, line and column for a missing header column, a wrong number
/// of fields or an empty or non-UTF-8 id.
int64_t read_identity_file(const std::string& path, IdentityGraph& graph);

namespace cpu_impl {
/// Component labels (smallest id number per component) of the graph with `n_ids` nodes and the
/// given undirected links (ids marked in `dropped` take no part and get -1).
std::vector<int32_t> connected_components(int32_t n_ids, const std::vector<int32_t>& link_a,
                                          const std::vector<int32_t>& link_b, const std::vector<uint8_t>& dropped);
}  // namespace cpu_impl
namespace cuda_impl {
std::vector<int32_t> connected_components(const Context& ctx, int32_t n_ids, const std::vector<int32_t>& link_a,
                                          const std::vector<int32_t>& link_b, const std::vector<uint8_t>& dropped);
}  // namespace cuda_impl

}  // namespace jm
