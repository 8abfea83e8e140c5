// Identity graph bookkeeping, identity files, the shared-id guard and the choice of backend for the
// connected components.
#include "journeymap/identity.hpp"

#include <algorithm>
#include <fstream>

#include <fmt/format.h>

#include "host/core/utf8.hpp"
#include "host/ingest/csv_fields.hpp"
#include "journeymap/common.hpp"
#include "journeymap/identity_rules.hpp"

namespace jm {
namespace {

constexpr char kKeySeparator = '\x1f';  // cannot appear in a kind name (they are checked)

std::string key_of(int32_t kind, std::string_view value) {
  std::string key = std::to_string(kind);
  key += kKeySeparator;
  key.append(value.data(), value.size());
  return key;
}

// Each undirected link once, as (smaller, larger) packed into 64 bits, sorted.
std::vector<uint64_t> distinct_links(const IdentityGraph& graph) {
  std::vector<uint64_t> links;
  links.reserve(graph.link_a().size());
  for (size_t e = 0; e < graph.link_a().size(); ++e) {
    const auto a = static_cast<uint32_t>(graph.link_a()[e]), b = static_cast<uint32_t>(graph.link_b()[e]);
    if (a == b) continue;
    links.push_back((uint64_t{std::min(a, b)} << 32) | std::max(a, b));
  }
  std::sort(links.begin(), links.end());
  links.erase(std::unique(links.begin(), links.end()), links.end());
  return links;
}

}  // namespace

int32_t IdentityGraph::add_id(std::string_view kind, std::string_view value) {
  if (kind.empty() || kind.find(kKeySeparator) != std::string_view::npos || kind.find(':') != std::string_view::npos)
    throw ConfigError("identity kind '" + std::string(kind) + "' must be non-empty, without ':' or control characters");
  return keys_.encode(key_of(kinds_.encode(kind), value));
}

int32_t IdentityGraph::find_id(std::string_view kind, std::string_view value) const {
  const int32_t kind_id = kinds_.find(kind);
  return kind_id < 0 ? -1 : keys_.find(key_of(kind_id, value));
}

void IdentityGraph::add_link(int32_t a, int32_t b) {
  if (a < 0 || b < 0 || a >= n_ids() || b >= n_ids()) throw std::logic_error("identity link to an unknown id");
  link_a_.push_back(a);
  link_b_.push_back(b);
}

int32_t IdentityGraph::kind_index(int32_t id) const {
  const std::string& key = keys_.name(id);
  int32_t kind = 0;
  for (size_t i = 0; key[i] != kKeySeparator; ++i) kind = kind * 10 + (key[i] - '0');
  return kind;
}

std::string IdentityGraph::kind(int32_t id) const { return kinds_.name(kind_index(id)); }

std::string IdentityGraph::value(int32_t id) const {
  const std::string& key = keys_.name(id);
  return key.substr(key.find(kKeySeparator) + 1);
}

std::string IdentityGraph::display(int32_t id) const { return kind(id) + ":" + value(id); }

int64_t read_identity_file(const std::string& path, IdentityGraph& graph) {
  std::ifstream in(path);
  if (!in) throw InputError(path, 0, "", "", "cannot open the identity file");
  std::string line;
  int64_t line_number = 0;
  std::vector<std::string> header;
  while (header.empty() && std::getline(in, line)) {
    ++line_number;
    if (line.size() >= 3 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
    if (!line.empty() && line != "\r") header = split_csv_fields(line);
  }
  if (header.empty()) throw InputError(path, 0, "", "", "empty identity file: expected a header kind_a,id_a,kind_b,id_b");
  const char* const wanted[] = {"kind_a", "id_a", "kind_b", "id_b"};
  int field_of[4];
  for (int k = 0; k < 4; ++k) {
    const auto found = std::find(header.begin(), header.end(), wanted[k]);
    if (found == header.end())
      throw InputError(path, line_number, wanted[k], line,
                       std::string("missing required column '") + wanted[k] + "' (an identity file has kind_a,id_a,kind_b,id_b)");
    field_of[k] = static_cast<int>(found - header.begin());
  }
  int64_t pairs = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty() || line == "\r") continue;
    if (!is_valid_utf8(line)) throw InputError(path, line_number, "", "", "not valid UTF-8 (convert the file to UTF-8)");
    const std::vector<std::string> fields = split_csv_fields(line);
    if (fields.size() != header.size())
      throw InputError(path, line_number, "", line, fmt::format("expected {} fields, found {}", header.size(), fields.size()));
    int32_t ids[2];
    for (int side = 0; side < 2; ++side) {
      const std::string& kind = fields[static_cast<size_t>(field_of[2 * side])];
      const std::string& value = fields[static_cast<size_t>(field_of[2 * side + 1])];
      if (kind.empty()) throw InputError(path, line_number, wanted[2 * side], kind, "empty id kind");
      if (value.empty()) throw InputError(path, line_number, wanted[2 * side + 1], value, "empty id");
      try {
        ids[side] = graph.add_id(kind, value);
      } catch (const ConfigError& error) {
        throw InputError(path, line_number, wanted[2 * side], kind, error.what());
      }
    }
    graph.add_link(ids[0], ids[1]);
    ++pairs;
  }
  return pairs;
}

IdentityComponents stitch_identities(const Context& ctx, const IdentityGraph& graph, const IdentityOptions& options) {
  if (options.max_links_per_id < 0) throw ConfigError("identity max_links_per_id must be >= 0 (0: no limit)");
  const int32_t n_ids = graph.n_ids();
  IdentityComponents out;
  out.backend = to_string(ctx.backend);

  // The guard counts distinct partners, so an id repeated on many events of one customer is fine.
  const std::vector<uint64_t> links = distinct_links(graph);
  std::vector<int64_t> partners(static_cast<size_t>(n_ids), 0);
  std::vector<int32_t> link_a(links.size()), link_b(links.size());
  for (size_t e = 0; e < links.size(); ++e) {
    link_a[e] = static_cast<int32_t>(links[e] >> 32);
    link_b[e] = static_cast<int32_t>(links[e] & 0xffffffffu);
    ++partners[static_cast<size_t>(link_a[e])];
    ++partners[static_cast<size_t>(link_b[e])];
  }
  out.n_links = static_cast<int64_t>(links.size());
  std::vector<uint8_t> dropped(static_cast<size_t>(n_ids), 0);
  for (int32_t id = 0; id < n_ids; ++id) {
    if (!identity_rules::is_shared_id(partners[static_cast<size_t>(id)], options.max_links_per_id)) continue;
    dropped[static_cast<size_t>(id)] = 1;
    out.dropped.push_back(DroppedId{graph.kind(id), graph.value(id), partners[static_cast<size_t>(id)]});
  }
  std::stable_sort(out.dropped.begin(), out.dropped.end(),
                   [](const DroppedId& a, const DroppedId& b) { return a.links > b.links; });

  out.component = ctx.backend == Backend::Gpu ? cuda_impl::connected_components(ctx, n_ids, link_a, link_b, dropped)
                                              : cpu_impl::connected_components(n_ids, link_a, link_b, dropped);
  std::vector<int64_t> size(static_cast<size_t>(n_ids), 0);
  for (const int32_t component : out.component)
    if (component >= 0) ++size[static_cast<size_t>(component)];
  for (const int64_t ids : size) {
    out.n_components += ids > 0;
    out.largest_component = std::max(out.largest_component, ids);
  }
  return out;
}

}  // namespace jm
