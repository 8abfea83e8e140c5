// Supports of given patterns over given journeys, counted directly instead of mined: what updating
// stored patterns needs over the few journeys that changed (host/patterns/pattern_update.hpp).
#pragma once

#include <cstdint>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/journeys.hpp"

namespace jm::patterns_detail {

struct PatternSupports {
  std::vector<int64_t> support;            ///< [n_patterns] journeys containing the pattern
  std::vector<int64_t> converted_support;  ///< [n_patterns] converting journeys among them
};

/// For each pattern p (items[offsets[p] .. offsets[p + 1])), the journeys containing it as PrefixSpan
/// counts containment: its items in order, consecutive ones at most `max_gap` events apart when
/// max_gap > 0; each journey counted once. The patterns are walked as one trie per journey, so a
/// journey costs the trie nodes it contains, not the number of patterns. Journeys are split across
/// ctx.num_threads threads.
PatternSupports count_pattern_supports(const Context& ctx, const JourneySet& journeys,
                                       const std::vector<int64_t>& offsets, const std::vector<int32_t>& items,
                                       int max_gap);

}  // namespace jm::patterns_detail
