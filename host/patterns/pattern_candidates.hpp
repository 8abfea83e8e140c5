// Candidate patterns: mined at a low support from some journeys, then counted over others. Shared
// by updating stored patterns with new journeys (pattern_update.hpp) and by mining journeys batch
// by batch (batched_mining.hpp).
#pragma once

#include <cstdint>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/patterns.hpp"

namespace jm::patterns_detail {

/// Candidate patterns enumerated beyond this many: the caller falls back or stops (the budget keeps
/// a low support from exploding).
constexpr int64_t kCandidateBudget = 5000000;

uint64_t hash_items(const int32_t* items, int64_t length);

/// Patterns as one CSR, appended to one at a time.
struct PatternList {
  std::vector<int64_t> offsets{0};
  std::vector<int32_t> items;
  void add(const int32_t* pattern, int64_t length) {
    items.insert(items.end(), pattern, pattern + length);
    offsets.push_back(static_cast<int64_t>(items.size()));
  }
  int64_t size() const { return static_cast<int64_t>(offsets.size()) - 1; }
};

/// The patterns of `journeys` with support >= `min_count` under `options` (its length and gap
/// rules; no top-k), at most kCandidateBudget of them (FrequentPatterns::budget_exceeded or
/// truncated say when there were more), on ctx's backend.
FrequentPatterns mine_candidates(const Context& ctx, const JourneySet& journeys, const PatternOptions& options,
                                 int64_t min_count);

}  // namespace jm::patterns_detail
