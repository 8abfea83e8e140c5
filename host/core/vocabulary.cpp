#include "journeymap/vocabulary.hpp"

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <utility>

namespace jm {
namespace {
constexpr int32_t kEmptySlot = -1;

size_t hash_name(std::string_view name) { return std::hash<std::string_view>{}(name); }

uint32_t tag_of(size_t hash) { return static_cast<uint32_t>(static_cast<uint64_t>(hash) >> 32); }

}  // namespace

size_t Vocabulary::slot_of(std::string_view name, size_t hash) const {
  const size_t mask = slots_.size() - 1;
  const uint32_t tag = tag_of(hash);
  size_t slot = hash & mask;
  while (slots_[slot].id != kEmptySlot &&
         (slots_[slot].tag != tag || names_[static_cast<size_t>(slots_[slot].id)] != name))
    slot = (slot + 1) & mask;
  return slot;
}

void Vocabulary::grow_table(size_t min_slots) {
  size_t size = 16;
  while (size < min_slots) size *= 2;
  if (size <= slots_.size()) return;
  slots_.assign(size, Slot{kEmptySlot, 0});
  fill_slots_in_order(0);
}

void Vocabulary::fill_slots_in_order(size_t first_id) {
  const size_t mask = slots_.size() - 1;
  std::vector<size_t> hashes(names_.size() - first_id);
  for (size_t id = first_id; id < names_.size(); ++id) hashes[id - first_id] = hash_name(names_[id]);
  // A counting sort by the top (up to) 16 bits of the home slot: linear, stable (equal names meet
  // their first occurrence first), and close enough to slot order that writes stay local.
  int shift = 0;
  while ((mask >> shift) >= (size_t{1} << 16)) ++shift;
  std::vector<size_t> start((mask >> shift) + 2, 0);
  for (const size_t hash : hashes) ++start[((hash & mask) >> shift) + 1];
  for (size_t b = 1; b < start.size(); ++b) start[b] += start[b - 1];
  std::vector<std::pair<size_t, int32_t>> by_slot(hashes.size());  // (hash, id)
  for (size_t i = 0; i < hashes.size(); ++i)
    by_slot[start[(hashes[i] & mask) >> shift]++] = {hashes[i], static_cast<int32_t>(first_id + i)};
  for (const auto& [hash, id] : by_slot) {
    const size_t slot = slot_of(names_[static_cast<size_t>(id)], hash);
    if (slots_[slot].id != kEmptySlot)
      throw std::logic_error("Vocabulary: name '" + names_[static_cast<size_t>(id)] + "' appended twice");
    slots_[slot] = Slot{id, tag_of(hash)};
  }
}

void Vocabulary::append_distinct(std::vector<std::string> names) {
  const size_t first_id = names_.size();
  if (2 * (first_id + names.size()) > slots_.size()) {
    names_.reserve(first_id + names.size());
    grow_table(2 * (first_id + names.size()));
  }
  for (std::string& name : names) names_.push_back(std::move(name));
  fill_slots_in_order(first_id);
}

int32_t Vocabulary::encode(std::string_view name) {
  if (2 * (names_.size() + 1) > slots_.size()) grow_table(2 * (names_.size() + 1));
  const size_t hash = hash_name(name);
  const size_t slot = slot_of(name, hash);
  if (slots_[slot].id != kEmptySlot) return slots_[slot].id;
  const auto id = static_cast<int32_t>(names_.size());
  names_.emplace_back(name);
  slots_[slot] = Slot{id, tag_of(hash)};
  return id;
}

int32_t Vocabulary::find(std::string_view name) const {
  if (slots_.empty()) return -1;
  return slots_[slot_of(name, hash_name(name))].id;
}

void Vocabulary::reserve(size_t n) {
  names_.reserve(n);
  grow_table(2 * n);
}

}  // namespace jm
