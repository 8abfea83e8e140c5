#include "host/patterns/pattern_update.hpp"

#include <algorithm>
#include <unordered_map>

#include <fmt/format.h>

#include "host/patterns/pattern_candidates.hpp"
#include "host/patterns/pattern_collector.hpp"
#include "host/patterns/pattern_result.hpp"
#include "host/patterns/pattern_support.hpp"

namespace jm {

using patterns_detail::hash_items;
using patterns_detail::kCandidateBudget;
using patterns_detail::mine_candidates;
using patterns_detail::PatternList;

PatternUpdate update_patterns(const Context& ctx, const StoredPatterns& base, const JourneySet& removed,
                              const JourneySet& added, const JourneySet& merged, const PatternOptions& options) {
  const auto mine_again = [&](const std::string& why) {
    PatternUpdate update;
    update.result = mine_patterns(ctx, merged, options);
    update.how = fmt::format("patterns: mined again over all {} journeys ({})", merged.size(), why);
    return update;
  };
  if (options.top_k > 0) return mine_again("top-k patterns have no fixed threshold to update counts under");
  if (base.truncated) return mine_again("the base kept only its max_patterns most frequent patterns");
  const int64_t base_min = options.min_support.resolve(base.n_journeys);
  if (base.min_support_count != base_min || base.n_journeys != merged.size() - added.size() + removed.size())
    return mine_again("the stored patterns were not mined over the stored journeys with this threshold");
  const int64_t now_min = options.min_support.resolve(merged.size());
  const int64_t slack = std::max<int64_t>(1, now_min - base_min + 1);

  // Candidates the base does not list: frequent among the added journeys at `slack`.
  std::unordered_multimap<uint64_t, int64_t> listed;
  listed.reserve(base.support.size());
  for (int64_t p = 0; p + 1 < static_cast<int64_t>(base.offsets.size()); ++p)
    listed.emplace(hash_items(base.items.data() + base.offsets[p], base.offsets[p + 1] - base.offsets[p]), p);
  const auto is_listed = [&](const int32_t* pattern, int64_t length) {
    const auto [first, last] = listed.equal_range(hash_items(pattern, length));
    for (auto it = first; it != last; ++it) {
      const int64_t p = it->second;
      if (base.offsets[p + 1] - base.offsets[p] == length &&
          std::equal(pattern, pattern + length, base.items.begin() + base.offsets[p]))
        return true;
    }
    return false;
  };
  PatternList fresh;
  if (added.size() > 0) {
    const FrequentPatterns found = mine_candidates(ctx, added, options, slack);
    if (found.budget_exceeded || found.truncated)
      return mine_again(fmt::format("the {} added journeys hold more than {} candidate patterns at support >= {}",
                                    added.size(), kCandidateBudget, slack));
    PatternList unlisted;
    std::vector<int64_t> added_support;
    for (int64_t p = 0; p < found.size(); ++p) {
      const int32_t* pattern = found.items.data() + found.offsets[p];
      const int64_t length = found.offsets[p + 1] - found.offsets[p];
      if (is_listed(pattern, length)) continue;
      unlisted.add(pattern, length);
      added_support.push_back(found.support[p]);
    }
    // Its support in the base was at most base_min - 1, and the replaced journeys take theirs away:
    // only candidates that can still reach now_min are counted over all journeys.
    const auto replaced = unlisted.size() > 0 ? patterns_detail::count_pattern_supports(ctx, removed, unlisted.offsets,
                                                                                       unlisted.items, options.max_gap)
                                              : patterns_detail::PatternSupports{};
    for (int64_t p = 0; p < unlisted.size(); ++p) {
      const auto q = static_cast<size_t>(p);
      if (base_min - 1 - replaced.support[q] + added_support[q] >= now_min)
        fresh.add(unlisted.items.data() + unlisted.offsets[p], unlisted.offsets[p + 1] - unlisted.offsets[p]);
    }
  }

  // Listed patterns: stored - replaced + added. Fresh candidates: counted over all journeys.
  const int max_gap = options.max_gap;
  const auto gone = patterns_detail::count_pattern_supports(ctx, removed, base.offsets, base.items, max_gap);
  const auto came = patterns_detail::count_pattern_supports(ctx, added, base.offsets, base.items, max_gap);
  const auto fresh_counts = fresh.size() > 0
                                ? patterns_detail::count_pattern_supports(ctx, merged, fresh.offsets, fresh.items, max_gap)
                                : patterns_detail::PatternSupports{};
  patterns_detail::PatternCollector collector(now_min, options.max_patterns, /*max_explored=*/0);
  patterns_detail::PatternBatch batch;
  int64_t fresh_frequent = 0;
  for (size_t p = 0; p < base.support.size(); ++p) {
    const int64_t support = base.support[p] - gone.support[p] + came.support[p];
    if (support < now_min) continue;
    batch.add(base.items.data() + base.offsets[p], base.offsets[p + 1] - base.offsets[p], support,
              base.converted_support[p] - gone.converted_support[p] + came.converted_support[p]);
  }
  for (int64_t p = 0; p < fresh.size(); ++p) {
    if (fresh_counts.support[static_cast<size_t>(p)] < now_min) continue;
    ++fresh_frequent;
    batch.add(fresh.items.data() + fresh.offsets[p], fresh.offsets[p + 1] - fresh.offsets[p],
              fresh_counts.support[static_cast<size_t>(p)], fresh_counts.converted_support[static_cast<size_t>(p)]);
  }
  collector.add(batch);

  PatternUpdate update;
  update.merged = true;
  update.result = patterns_detail::make_pattern_result(ctx, merged, options, now_min, collector.finish(ctx.num_threads));
  update.how = fmt::format(
      "patterns: updated, not mined again: the base's {} patterns recounted over the {} replaced and {} added "
      "journeys; {} candidates the base did not list (support >= {} among the added journeys, able to reach {}) counted over all {} "
      "journeys, {} of them frequent now",
      base.support.size(), removed.size(), added.size(), fresh.size(), slack, now_min, merged.size(), fresh_frequent);
  return update;
}

}  // namespace jm
