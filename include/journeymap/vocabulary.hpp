// Dictionary encoding of names (customers, touchpoints, channels) into dense ids 0..size-1.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace jm {

/// Bidirectional map name <-> dense id. Ids are handed out in first-insertion order, so the
/// encoding of a file is deterministic whatever the number of ingest threads.
class Vocabulary {
 public:
  /// Returns the id of `name`, inserting it when new.
  int32_t encode(std::string_view name);
  /// Returns the id of `name` or -1 when absent.
  int32_t find(std::string_view name) const;
  const std::string& name(int32_t id) const { return names_.at(static_cast<size_t>(id)); }
  const std::vector<std::string>& names() const { return names_; }
  int32_t size() const { return static_cast<int32_t>(names_.size()); }
  bool empty() const { return names_.empty(); }
  void reserve(size_t n);

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<std::string> names_;
  std::unordered_map<std::string, int32_t> ids_;
};

}  // namespace jm
