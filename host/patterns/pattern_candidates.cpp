// Candidate patterns (pattern_candidates.hpp).
#include "host/patterns/pattern_candidates.hpp"

#include <algorithm>


namespace jm::patterns_detail {

uint64_t hash_items(const int32_t* items, int64_t length) {
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ static_cast<uint64_t>(length);
  for (int64_t k = 0; k < length; ++k) {
    h ^= static_cast<uint32_t>(items[k]);
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
  }
  return h;
}

FrequentPatterns mine_candidates(const Context& ctx, const JourneySet& journeys, const PatternOptions& options,
                                 int64_t min_count) {
  PatternOptions candidates = options;
  candidates.min_support = MinSupport::count(min_count);
  candidates.top_k = 0;
  candidates.max_patterns = kCandidateBudget;
  candidates.max_explored = std::min(options.max_explored, kCandidateBudget);
  const MiningProblem problem = make_mining_problem(ctx, journeys, candidates);
  return ctx.backend == Backend::Gpu ? cuda_impl::mine_frequent_patterns(ctx, problem)
                                     : cpu_impl::mine_frequent_patterns(ctx, problem);
}

}  // namespace jm::patterns_detail
