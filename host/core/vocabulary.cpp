#include "journeymap/vocabulary.hpp"

#include <functional>

namespace jm {
namespace {
constexpr int32_t kEmptySlot = -1;

size_t hash_name(std::string_view name) { return std::hash<std::string_view>{}(name); }
}  // namespace

size_t Vocabulary::slot_of(std::string_view name, size_t hash) const {
  const size_t mask = slots_.size() - 1;
  size_t slot = hash & mask;
  while (slots_[slot] != kEmptySlot && names_[static_cast<size_t>(slots_[slot])] != name) slot = (slot + 1) & mask;
  return slot;
}

void Vocabulary::grow_table(size_t min_slots) {
  size_t size = 16;
  while (size < min_slots) size *= 2;
  if (size <= slots_.size()) return;
  slots_.assign(size, kEmptySlot);
  for (size_t id = 0; id < names_.size(); ++id) slots_[slot_of(names_[id], hash_name(names_[id]))] = static_cast<int32_t>(id);
}

int32_t Vocabulary::encode(std::string_view name) {
  if (2 * (names_.size() + 1) > slots_.size()) grow_table(2 * (names_.size() + 1));
  const size_t slot = slot_of(name, hash_name(name));
  if (slots_[slot] != kEmptySlot) return slots_[slot];
  const auto id = static_cast<int32_t>(names_.size());
  names_.emplace_back(name);
  slots_[slot] = id;
  return id;
}

int32_t Vocabulary::find(std::string_view name) const {
  if (slots_.empty()) return -1;
  return slots_[slot_of(name, hash_name(name))];
}

void Vocabulary::reserve(size_t n) {
  names_.reserve(n);
  grow_table(2 * n);
}

}  // namespace jm
