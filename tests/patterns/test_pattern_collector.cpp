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

/// How supports are drawn: a few small values (many ties), around 2^32 (the sort key's clamp), or
/// spread over 1 to 2^40 (every size of the collector's support bins, several supports to a bin).
enum class Supports { kSmall, kHuge, kWide };

/// `n` distinct patterns of 1..max_length items below `n_items` (many sharing their first items),
/// with supports drawn as `supports` says.
Generated random_patterns(uint32_t seed, int n, int32_t n_items, int max_length, Supports supports) {
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
    switch (supports) {
      case Supports::kSmall: out.support.push_back(1 + static_cast<int64_t>(rng() % 4)); break;
      case Supports::kHuge: out.support.push_back(int64_t{0xFFFFFFFF} - 2 + static_cast<int64_t>(rng() % 5)); break;
      case Supports::kWide: {
        const int bits = 1 + static_cast<int>(rng() % 40);  // log-uniform, then uniform within
        out.support.push_back(static_cast<int64_t>((uint64_t{1} << (bits - 1)) + rng() % (uint64_t{1} << (bits - 1))));
        break;
      }
    }
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
    for (int64_t p = first; p < last; ++p) batch.add_from(all, p);
    collector.add(batch);
    EXPECT_EQ(batch.size(), 0);
    // Memory stays bounded: past keep + max(keep, 65536) stored, the hopeless ones are dropped.
    ASSERT_LE(collector.stored() - keep, std::max<int64_t>(keep, 65536));
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
      for (const Supports supports : {Supports::kSmall, Supports::kHuge}) {
        // At most half of the distinct patterns the generator can draw (a single one per length of one item).
        double possible = 0;
        for (int length = 1; length <= max_length && possible < 6000; ++length)
          possible += std::pow(std::min(3.0, double(n_items)), std::min(length, 2)) *
                      std::pow(double(n_items), std::max(length - 2, 0));
        const int n = n_items == 1 ? max_length : static_cast<int>(std::min(3000.0, possible / 2));
        const PatternBatch batch = batch_of(random_patterns(seed++, n, n_items, max_length, supports));
        const std::vector<int64_t> expected = comparison_sorted(batch);
        for (const int threads : {1, 2}) {
          SCOPED_TRACE(::testing::Message() << "items " << n_items << ", max length " << max_length << ", huge "
                                            << (supports == Supports::kHuge) << ", threads " << threads);
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
  // Small supports fall in one bin each; wide ones in every bin size, several to a bin; huge ones
  // in the bins around the sort key's clamp.
  uint32_t seed = 77;
  for (const Supports supports : {Supports::kSmall, Supports::kWide, Supports::kHuge}) {
    const Generated generated = random_patterns(seed++, 2000, 40, 6, supports);
    const PatternBatch all = batch_of(generated);
    const std::vector<int64_t> best = comparison_sorted(all);
    const int64_t n = all.size();
    for (const int64_t keep : {int64_t{1}, int64_t{7}, n / 3, n - 1, n, n + 5, std::numeric_limits<int64_t>::max()}) {
      SCOPED_TRACE(::testing::Message() << "supports " << static_cast<int>(supports) << ", keep " << keep);
      expect_collector_keeps_best(all, best, keep);
    }
  }
}

// The store's bins: one per support below 64, then eight per power of two; a larger support never
// in a lower bin, and a bin never wider than an eighth of its lowest support.
TEST(PatternCollector, SupportBinsFollowTheSupports) {
  for (int64_t s = 0; s < 64; ++s) EXPECT_EQ(support_bin(s), s);
  EXPECT_EQ(support_bin(-3), 0);
  EXPECT_EQ(support_bin(64), 64);
  EXPECT_EQ(support_bin(71), 64);
  EXPECT_EQ(support_bin(72), 65);
  EXPECT_EQ(support_bin(std::numeric_limits<int64_t>::max()), 519);
  std::vector<int64_t> supports;
  for (int64_t s = 0; s < 5000; ++s) supports.push_back(s);
  for (int bit = 12; bit < 63; ++bit)
    for (const int64_t delta : {-1, 0, 1, 7}) supports.push_back((int64_t{1} << bit) + delta);
  supports.push_back(std::numeric_limits<int64_t>::max());
  std::sort(supports.begin(), supports.end());
  std::vector<int64_t> lowest_in_bin(520, -1);
  for (size_t i = 0; i < supports.size(); ++i) {
    const int bin = support_bin(supports[i]);
    ASSERT_GE(bin, 0);
    ASSERT_LT(bin, 520);
    if (i > 0) ASSERT_GE(bin, support_bin(supports[i - 1])) << supports[i];
    int64_t& lowest = lowest_in_bin[static_cast<size_t>(bin)];
    if (lowest < 0) lowest = supports[i];
    if (lowest >= 64) ASSERT_LE(supports[i] - lowest, lowest / 8) << supports[i];
  }
}

// Past keep + 65,536 stored patterns the collector drops those that can no longer make the answer
// (compaction): the answer must not change. Every support ties, so none falls below the threshold
// and all are stored until compaction.
TEST(PatternCollector, DroppingHopelessPatternsChangesNothing) {
  Generated generated = random_patterns(78, 70000, 500, 5, Supports::kSmall);
  std::fill(generated.support.begin(), generated.support.end(), 7);
  const PatternBatch all = batch_of(generated);
  const std::vector<int64_t> best = comparison_sorted(all);
  for (const int64_t keep : {int64_t{3}, int64_t{1000}}) {
    SCOPED_TRACE(::testing::Message() << "keep " << keep);
    expect_collector_keeps_best(all, best, keep);
  }
}

// The same when the cut falls inside a bin that holds several supports (120..127), below bins
// kept whole (200..263) and above bins emptied (100..119): 85% of the patterns tie at 121, 2% lie
// at 122..127, 2% at 200..263, the rest at 100..120. With keep at 5,000 or 20,000 the threshold
// settles at 121 with about 89,000 patterns qualifying, past keep + 65,536, so the store stays
// within its bound only by compaction, which must cut inside that bin by the canonical order.
TEST(PatternCollector, DroppingHopelessPatternsInsideASharedBinChangesNothing) {
  Generated generated = random_patterns(79, 100000, 500, 5, Supports::kSmall);
  std::mt19937 rng(79);
  for (int64_t& support : generated.support) {
    const uint32_t draw = rng() % 100;
    support = draw < 85   ? 121
              : draw < 87 ? 122 + static_cast<int64_t>(rng() % 6)
              : draw < 89 ? 200 + static_cast<int64_t>(rng() % 64)
                          : 100 + static_cast<int64_t>(rng() % 21);
  }
  const PatternBatch all = batch_of(generated);
  const std::vector<int64_t> best = comparison_sorted(all);
  for (const int64_t keep : {int64_t{5000}, int64_t{20000}}) {
    SCOPED_TRACE(::testing::Message() << "keep " << keep);
    expect_collector_keeps_best(all, best, keep);
  }
}

}  // namespace
}  // namespace jm::patterns_detail
