// Updating stored patterns when journeys are added and replaced (`run --append`), exactly and
// without mining the history again. The idea is that of FUP (Cheung et al., "Maintenance of
// discovered association rules in large databases", ICDE 1996), for sequences:
//  * a pattern the base lists: its new support is the stored one, minus its support among the
//    journeys the append replaced, plus its support among the journeys it added;
//  * a pattern the base does not list had a support below the base's threshold there, so to reach
//    the new threshold it must be supported by at least `slack` = new threshold - base threshold + 1
//    of the added journeys. Mining the added journeys at that support finds every such candidate;
//    only those candidates are counted over all journeys.
// The result equals mining all journeys: same patterns, supports, order and contrast.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/patterns.hpp"

namespace jm {

/// The /patterns of a base result: what the update starts from.
struct StoredPatterns {
  std::vector<int64_t> offsets{0};
  std::vector<int32_t> items;
  std::vector<int64_t> support;
  std::vector<int64_t> converted_support;
  int64_t n_journeys = 0;         ///< journeys they were mined over
  int64_t min_support_count = 0;  ///< the threshold they were mined at
  bool truncated = false;         ///< the base kept only max_patterns of them
};

struct PatternUpdate {
  PatternResult result;
  bool merged = false;  ///< false: mined again over all journeys (`how` says why)
  std::string how;      ///< one sentence for the run's warnings
};

/// The patterns of `merged`, which holds the base's journeys without `removed` and with `added`.
/// Mines `merged` again when the stored patterns cannot be updated exactly: top-k mining, a base
/// cut by max_patterns, stored patterns that do not belong to these journeys, or more candidates
/// among the added journeys than a small budget.
PatternUpdate update_patterns(const Context& ctx, const StoredPatterns& base, const JourneySet& removed,
                              const JourneySet& added, const JourneySet& merged, const PatternOptions& options);

}  // namespace jm
