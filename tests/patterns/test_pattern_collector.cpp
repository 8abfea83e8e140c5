// The pattern collector and its canonical sort, against their definitions: the sort equals a plain
// comparison sort with CanonicalLess (support descending, length ascending, items), whatever the
// vocabulary's width and however high the supports; the collector keeps exactly the canonical best
// `keep` of what it was given, in that order.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include "host/patterns/pattern_collector.hpp"

namespace jm::patterns_detail {
namespace {

using Pattern = std::vector<int32_t>;

struct Generated {
  std::vector<Pattern> patterns;
  std::vector<int64_t> support;
};

/// `n` distinct patterns of 1..max_length items below `n_items` (many sharing their first items),
/// with supports drawn from a few small values (many ties), or from around 2^32 when `huge_supports`.
Generated random_patterns(uint32_t seed, int n, int32_t n_items, int max_length, bool huge_supports) {
  std::mt19937_64 rng(seed);
  std::set<Pattern> seen;
  Generated out;
  while (static_cast<int>(out.patterns.size()) < n) {
    Pattern pattern(1 + rng() % static_cast<uint64_t>(max_length));
    for (size_t i = 0; i < pattern.size(); ++i)  // the first items from a handful, the rest from all
      pattern[i] = static_cast<int32_t>(i < 2 ? rng() % std::min<uint64_t>(3, n_items) : rng() % n_items);
    if (rng() % 8 == 0) pattern.back() = n_items - 1;  // the largest id, which sets the packing width
    if (!seen.insert(pattern).second) continue;
    out.patterns.push_back(pattern);
    out.support.push_back(huge_supports ? int64_t{0xFFFFFFFF} - 2 + static_cast<int64_t>(rng() % 5)
                                        : 1 + static_cast<int64_t>(rng() % 4));
  }
  return out;
}

PatternBatch batch_of(const Generated& generated) {
  PatternBatch batch;
  for (size_t p = 0; p < generated.patterns.size(); ++p)
    batch.add(generated.patterns[p].data(), static_cast<int64_t>(generated.patterns[p].size()), generated.support[p],
              generated.support[p] / 2);
  return batch;
}

std::vector<int64_t> comparison_sorted(const PatternBatch& batch) {
  std::vector<int64_t> order(static_cast<size_t>(batch.size()));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::sort(order.begin(), order.end(), CanonicalLess{batch});
  return order;
}

/// Gives `all` to a collector that keeps `keep`, in uneven batches as workers flush them, and
/// checks what it keeps against `best` (all's canonical order).
void expect_collector_keeps_best(const PatternBatch& all, const std::vector<int64_t>& best, int64_t keep) {
  const int64_t n = all.size();
  PatternCollector collector(/*min_count=*/1, keep, /*max_explored=*/0);
  std::mt19937 rng(static_cast<uint32_t>(keep % 1000));
  for (int64_t first = 0; first < n;) {
    const int64_t last = std::min<int64_t>(n, first + 1 + static_cast<int64_t>(rng() % 300));
    PatternBatch batch;
    for (int64_t p = first; p < last; ++p)
      batch.add(all.items.data() + all.offsets[p], all.offsets[p + 1] - all.offsets[p], all.support[p],
                all.converted_support[p]);
    collector.add(batch);
    EXPECT_EQ(batch.size(), 0);
    first = last;
  }
  const int64_t n_kept = std::min(keep, n);
  if (keep <= n) EXPECT_EQ(collector.threshold(), all.support[static_cast<size_t>(best[n_kept - 1])]);
  else EXPECT_EQ(collector.threshold(), 1);

  const FrequentPatterns found = collector.finish(2);
  EXPECT_EQ(found.truncated, keep < n);
  EXPECT_FALSE(found.budget_exceeded);
  ASSERT_EQ(found.size(), n_kept);
  ASSERT_EQ(found.offsets.size(), static_cast<size_t>(n_kept + 1));
  for (int64_t i = 0; i < n_kept; ++i) {
    const int64_t p = best[static_cast<size_t>(i)];
    ASSERT_EQ(found.support[i], all.support[p]) << "rank " << i;
    ASSERT_EQ(found.converted_support[i], all.converted_support[p]) << "rank " << i;
    ASSERT_EQ(Pattern(found.items.begin() + found.offsets[i], found.items.begin() + found.offsets[i + 1]),
              Pattern(all.items.begin() + all.offsets[p], all.items.begin() + all.offsets[p + 1]))
        << "rank " << i;
  }
}

TEST(PatternCollector, CanonicalOrderEqualsTheComparisonSort) {
  // Vocabularies from one item (1 bit an item: 64 items in the packed head) to ids near 2^31.
  const int32_t widths[] = {1, 2, 17, 267, 70000, std::numeric_limits<int32_t>::max()};
  uint32_t seed = 1;
  for (const int32_t n_items : widths)
    for (const int max_length : {3, 9, 70})
      for (const bool huge_supports : {false, true}) {
        // At most half of the distinct patterns the generator can draw (a single one per length of one item).
        double possible = 0;
        for (int length = 1; length <= max_length && possible < 6000; ++length)
          possible += std::pow(std::min(3.0, double(n_items)), std::min(length, 2)) *
                      std::pow(double(n_items), std::max(length - 2, 0));
        const int n = n_items == 1 ? max_length : static_cast<int>(std::min(3000.0, possible / 2));
        const PatternBatch batch = batch_of(random_patterns(seed++, n, n_items, max_length, huge_supports));
        const std::vector<int64_t> expected = comparison_sorted(batch);
        for (const int threads : {1, 2}) {
          SCOPED_TRACE(::testing::Message() << "items " << n_items << ", max length " << max_length << ", huge "
                                            << huge_supports << ", threads " << threads);
          EXPECT_EQ(canonical_order(batch, threads), expected);
        }
      }
}

TEST(PatternCollector, CanonicalOrderOfNoPatternOrOne) {
  EXPECT_TRUE(canonical_order(PatternBatch{}, 2).empty());
  PatternBatch one;
  const Pattern pattern = {std::numeric_limits<int32_t>::max(), 0};
  one.add(pattern.data(), static_cast<int64_t>(pattern.size()), 5, 1);
  EXPECT_EQ(canonical_order(one, 2), std::vector<int64_t>{0});
}

TEST(PatternCollector, KeepsTheCanonicalBestKeepOfWhatItWasGiven) {
  const Generated generated = random_patterns(77, 2000, 40, 6, false);
  const PatternBatch all = batch_of(generated);
  const std::vector<int64_t> best = comparison_sorted(all);
  const int64_t n = all.size();
  for (const int64_t keep : {int64_t{1}, int64_t{7}, n / 3, n - 1, n, n + 5, std::numeric_limits<int64_t>::max()}) {
    SCOPED_TRACE(::testing::Message() << "keep " << keep);
    expect_collector_keeps_best(all, best, keep);
  }
}

// Past keep + 65,536 stored patterns the collector drops those that can no longer make the answer
// (compaction): the answer must not change. Every support ties, so none falls below the threshold
// and all are stored until compaction.
TEST(PatternCollector, DroppingHopelessPatternsChangesNothing) {
  Generated generated = random_patterns(78, 70000, 500, 5, false);
  std::fill(generated.support.begin(), generated.support.end(), 7);
  const PatternBatch all = batch_of(generated);
  const std::vector<int64_t> best = comparison_sorted(all);
  for (const int64_t keep : {int64_t{3}, int64_t{1000}}) {
    SCOPED_TRACE(::testing::Message() << "keep " << keep);
    expect_collector_keeps_best(all, best, keep);
  }
}

}  // namespace
}  // namespace jm::patterns_detail
