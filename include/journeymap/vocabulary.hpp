// Dictionary encoding of names (customers, touchpoints, channels) into dense ids 0..size-1.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
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
  // Open addressing over ids (linear probing, power-of-two table, load <= 1/2): a lookup hashes
  // the view once and compares against names_, with no temporary std::string.
  size_t slot_of(std::string_view name, size_t hash) const;
  void grow_table(size_t min_slots);

  std::vector<std::string> names_;
  std::vector<int32_t> slots_;  ///< id stored at each slot, -1 when empty
};

}  // namespace jm
