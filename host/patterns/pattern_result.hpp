// From a backend's frequent patterns to the published result: the truncation note and the outcome
// contrast. Shared by mining and by updating stored patterns with new journeys.
#pragma once

#include <cstdint>

#include "journeymap/context.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/patterns.hpp"

namespace jm::patterns_detail {

/// The PatternResult of `found` (canonical order, cut to the cap) over `journeys`, mined at the
/// support threshold `min_count` with `options` on ctx's backend.
PatternResult make_pattern_result(const Context& ctx, const JourneySet& journeys, const PatternOptions& options,
                                  int64_t min_count, FrequentPatterns&& found);
/// The same from the journey counts alone (`n_converted` of `n_journeys` converted).
PatternResult make_pattern_result(const Context& ctx, int64_t n_journeys, int64_t n_converted,
                                  const PatternOptions& options, int64_t min_count, FrequentPatterns&& found);

}  // namespace jm::patterns_detail
