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
  /// Appends names known to be new and distinct from each other (sequence numbers, generated ids),
  /// with ids in their order. Faster than encoding them one by one: the hash table is filled in
  /// slot order. Throws std::logic_error when a name was already present or appears twice.
  void append_distinct(std::vector<std::string> names);

 private:
  // Open addressing over ids (linear probing, power-of-two table, load <= 1/2): a lookup hashes
  // the view once and compares against names_, with no temporary std::string. Each slot keeps the
  // high bits of its name's hash, so probing past other names rarely touches their strings (with a
  // million customers, those reads were cache misses on every probe).
  struct Slot {
    int32_t id;    ///< -1 when empty
    uint32_t tag;  ///< high 32 bits of the name's hash
  };
  size_t slot_of(std::string_view name, size_t hash) const;
  void grow_table(size_t min_slots);
  /// Puts ids first_id .. size-1 into the table, visiting their home slots in ascending order so
  /// the table is written front to back instead of at random (one cache miss per name otherwise).
  void fill_slots_in_order(size_t first_id);

  std::vector<std::string> names_;
  std::vector<Slot> slots_;
};

}  // namespace jm
