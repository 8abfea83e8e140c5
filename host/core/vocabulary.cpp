#include "journeymap/vocabulary.hpp"

namespace jm {

int32_t Vocabulary::encode(std::string_view name) {
  auto found = ids_.find(std::string(name));
  if (found != ids_.end()) return found->second;
  const auto id = static_cast<int32_t>(names_.size());
  names_.emplace_back(name);
  ids_.emplace(names_.back(), id);
  return id;
}

int32_t Vocabulary::find(std::string_view name) const {
  auto found = ids_.find(std::string(name));
  return found == ids_.end() ? -1 : found->second;
}

void Vocabulary::reserve(size_t n) {
  names_.reserve(n);
  ids_.reserve(n);
}

}  // namespace jm
