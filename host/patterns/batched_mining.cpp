// Mining batch by batch with the partition method (batched_mining.hpp).
#include "host/patterns/batched_mining.hpp"

#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "host/distributed/process_group.hpp"
#include "host/patterns/pattern_candidates.hpp"
#include "host/patterns/pattern_collector.hpp"
#include "host/patterns/pattern_result.hpp"
#include "host/patterns/pattern_support.hpp"
#include "journeymap/common.hpp"

namespace jm {

using patterns_detail::hash_items;
using patterns_detail::PatternList;

namespace {

// Patterns of one length, indexed by their first length-1 items: the join that makes the next
// length's candidates looks patterns up by that prefix.
class PrefixIndex {
 public:
  explicit PrefixIndex(const PatternList& patterns) : patterns_(patterns) {
    for (int64_t q = 0; q < patterns.size(); ++q)
      by_prefix_.emplace(hash_items(patterns.items.data() + patterns.offsets[q], length(q) - 1), q);
  }
  /// Calls `visit(q)` for every pattern q whose first length-1 items are `prefix`.
  template <typename Visit>
  void for_each_with_prefix(const int32_t* prefix, int64_t prefix_length, Visit visit) const {
    const auto [first, last] = by_prefix_.equal_range(hash_items(prefix, prefix_length));
    for (auto it = first; it != last; ++it) {
      const int64_t q = it->second;
      if (length(q) - 1 == prefix_length &&
          std::equal(prefix, prefix + prefix_length, patterns_.items.begin() + patterns_.offsets[q]))
        visit(q);
    }
  }

 private:
  int64_t length(int64_t q) const { return patterns_.offsets[q + 1] - patterns_.offsets[q]; }
  const PatternList& patterns_;
  std::unordered_multimap<uint64_t, int64_t> by_prefix_;
};

}  // namespace

BatchedPatterns mine_patterns_in_batches(const Context& ctx, int64_t n_batches, int32_t n_items,
                                         const std::function<JourneySet(int64_t)>& batch_journeys,
                                         const PatternOptions& options, int64_t candidates_per_pass,
                                         ProcessGroup* across) {
  if (candidates_per_pass < 1) throw ConfigError("batched mining: at least one candidate per pass");
  validate_pattern_options(options);
  if (options.top_k > 0)
    throw ConfigError("top-k patterns have no support threshold to count batches against: give a minimum support");

  // Supports (and converted supports) of `candidates` over every batch: one pass per slice of at
  // most candidates_per_pass candidates, so memory stays bounded however many there are.
  int64_t n_journeys = 0, n_converted = 0, passes = 0;
  std::vector<int64_t> support, converted;
  const auto count_over_batches = [&](const PatternList& candidates, bool first_pass) {
    support.assign(static_cast<size_t>(candidates.size()), 0);
    converted.assign(static_cast<size_t>(candidates.size()), 0);
    for (int64_t begin = 0; begin < candidates.size() || (first_pass && begin == 0); begin += candidates_per_pass) {
      const int64_t end = std::min(candidates.size(), begin + candidates_per_pass);
      PatternList slice;
      slice.offsets.assign(candidates.offsets.begin() + begin, candidates.offsets.begin() + end + 1);
      for (int64_t& offset : slice.offsets) offset -= candidates.offsets[static_cast<size_t>(begin)];
      slice.items.assign(candidates.items.begin() + candidates.offsets[static_cast<size_t>(begin)],
                         candidates.items.begin() + candidates.offsets[static_cast<size_t>(end)]);
      ++passes;
      for (int64_t b = 0; b < n_batches; ++b) {
        const JourneySet journeys = batch_journeys(b);
        if (first_pass && begin == 0) {
          n_journeys += journeys.size();
          for (const uint8_t c : journeys.converted) n_converted += c;
        }
        if (journeys.touchpoints.size() != n_items)
          throw Error(fmt::format("batch {} has {} touchpoints, the batches share {}", b, journeys.touchpoints.size(), n_items));
        if (journeys.size() == 0 || slice.size() == 0) continue;
        const auto counts =
            patterns_detail::count_pattern_supports(ctx, journeys, slice.offsets, slice.items, options.max_gap);
        for (size_t p = 0; p < counts.support.size(); ++p) {
          support[static_cast<size_t>(begin) + p] += counts.support[p];
          converted[static_cast<size_t>(begin) + p] += counts.converted_support[p];
        }
      }
    }
    if (across != nullptr) {
      across->sum(support);
      across->sum(converted);
      if (first_pass) {
        std::vector<int64_t> journeys = {n_journeys, n_converted};
        across->sum(journeys);
        n_journeys = journeys[0];
        n_converted = journeys[1];
      }
    }
  };

  // Length 1: every item of the vocabulary, counted with the journeys themselves.
  PatternList candidates;
  for (int32_t item = 0; item < n_items; ++item) candidates.add(&item, 1);
  count_over_batches(candidates, /*first_pass=*/true);
  const int64_t min_count = options.min_support.resolve(n_journeys);

  // The collector keeps the best max_patterns, raising its threshold as the direct miner's does; a
  // pattern below the raised threshold cannot be in the answer, nor can its extensions (their
  // support is at most its own), so only patterns at or above it are extended.
  patterns_detail::PatternCollector collector(min_count, options.max_patterns, options.max_explored);
  int64_t candidates_counted = candidates.size();
  for (int64_t length = 1;; ++length) {
    // The frequent patterns of this length.
    PatternList frequent;
    patterns_detail::PatternBatch recorded;
    for (int64_t p = 0; p < candidates.size(); ++p) {
      if (support[static_cast<size_t>(p)] < min_count) continue;
      const int32_t* pattern = candidates.items.data() + candidates.offsets[p];
      if (length >= options.min_length)
        recorded.add(pattern, length, support[static_cast<size_t>(p)], converted[static_cast<size_t>(p)]);
    }
    collector.add(recorded);
    const int64_t threshold = collector.threshold();
    for (int64_t p = 0; p < candidates.size(); ++p)
      if (support[static_cast<size_t>(p)] >= threshold)
        frequent.add(candidates.items.data() + candidates.offsets[p], length);
    if (frequent.size() == 0 || (options.max_length > 0 && length >= options.max_length)) break;
    // The next length's candidates: p then the last item of every q that continues p's tail
    // (q's first length-1 items are p's last length-1). A frequent pattern of the next length has
    // both its prefix and its tail frequent, so every one of them is among these.
    const PrefixIndex index(frequent);
    PatternList next;
    std::vector<int32_t> extended(static_cast<size_t>(length) + 1);
    for (int64_t p = 0; p < frequent.size(); ++p) {
      const int32_t* pattern = frequent.items.data() + frequent.offsets[p];
      std::copy(pattern, pattern + length, extended.begin());
      index.for_each_with_prefix(pattern + 1, length - 1, [&](int64_t q) {
        extended[static_cast<size_t>(length)] = frequent.items[static_cast<size_t>(frequent.offsets[q + 1] - 1)];
        next.add(extended.data(), length + 1);
      });
    }
    if (next.size() == 0) break;
    candidates = std::move(next);
    candidates_counted += candidates.size();
    count_over_batches(candidates, /*first_pass=*/false);
  }
  FrequentPatterns found = collector.finish(ctx.num_threads);
  if (found.budget_exceeded)
    throw ConfigError(fmt::format(
        "patterns: counting stopped after {} frequent patterns at support >= {} (minimum support {} of {} journeys) "
        "without finishing: these settings explode on this data. Raise the minimum support, set a max length, or "
        "raise [patterns] max_explored",
        options.max_explored, found.threshold_at_stop, min_count, n_journeys));

  BatchedPatterns out;
  out.batches = n_batches;
  out.candidates = candidates_counted;
  out.passes = passes;
  out.result = patterns_detail::make_pattern_result(ctx, n_journeys, n_converted, options, min_count, std::move(found));
  const std::string where =
      across != nullptr && across->size() > 1
          ? fmt::format("across {} processes, each over its own batches of customers", across->size())
          : fmt::format("over {} batches of customers", n_batches);
  out.how = fmt::format(
      "patterns counted level by level {} ({} passes over the batches, {} candidate patterns counted over all {} "
      "journeys, {} of them frequent)",
      where, passes, candidates_counted, n_journeys, out.result.size());
  return out;
}

}  // namespace jm
