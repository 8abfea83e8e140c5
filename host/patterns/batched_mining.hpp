// Frequent patterns of more journeys than memory holds, counted batch by batch with the same result
// as mining them all at once. Level by level (the candidate generation of GSP: Srikant and Agrawal,
// "Mining sequential patterns: generalizations and performance improvements", EDBT 1996):
//  1. every item's support is counted over all batches (with the journeys themselves, which fixes
//     the threshold m of a share);
//  2. the candidates of length k+1 join the frequent patterns of length k: p followed by the last
//     item of every frequent q whose first k-1 items are p's last k-1. A frequent pattern has its
//     prefix and its tail frequent (dropping the first item of a match, or the last, leaves a match,
//     gap limits included), so none is missed;
//  3. the candidates are counted over all batches (a prefix tree walked per journey); those reaching
//     m are the frequent patterns of length k+1; repeat until none are.
// Only extensions of frequent patterns are ever counted, so a batch's share of the threshold never
// matters (mining each batch at its share and counting the union, the partition method, found more
// than 5 million candidates in one half of BMS1 at 22 of 42). Each batch is read once per length.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "host/patterns/pattern_candidates.hpp"
#include "journeymap/context.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/patterns.hpp"

namespace jm {

class ProcessGroup;

struct BatchedPatterns {
  PatternResult result;
  int64_t batches = 0;
  int64_t candidates = 0;  ///< candidate patterns counted over all batches, all lengths
  int64_t passes = 0;      ///< passes over the batches (the longest frequent pattern's length + 1 at most)
  std::string how;         ///< one sentence for the summary
};

/// The patterns of the journeys of batches 0..n_batches-1, where `batch_journeys(b)` builds batch
/// b's journeys (called once per pass, in batch order), all in one vocabulary of `n_items`
/// touchpoints. Top-k
/// mining has no threshold to count against and is refused (ConfigError), as are settings that
/// enumerate more than options.max_explored frequent patterns (as mine_patterns refuses them).
/// `candidates_per_pass` bounds the candidates counted in one pass (memory; more passes beyond).
/// With `across` (a run over several processes, each passing its own customers' batches), every
/// count is summed over the processes before it is used, so each process finds the patterns of
/// all of them.
BatchedPatterns mine_patterns_in_batches(const Context& ctx, int64_t n_batches, int32_t n_items,
                                         const std::function<JourneySet(int64_t)>& batch_journeys,
                                         const PatternOptions& options,
                                         int64_t candidates_per_pass = patterns_detail::kCandidateBudget,
                                         ProcessGroup* across = nullptr);

}  // namespace jm
