// Updating stored patterns with replaced and added journeys (what `run --append` does) gives what
// mining all journeys gives: the support counter against brute force, then the update against a
// fresh mining, with patterns that become frequent, patterns that drop out, gap limits, length
// limits and the pattern cap; settings it cannot update exactly are mined again and say so.
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "host/patterns/pattern_support.hpp"
#include "host/patterns/pattern_update.hpp"
#include "journeymap/patterns.hpp"
#include "patterns/pattern_test_support.hpp"

namespace {

using jm::testing::Sequence;

jm::StoredPatterns stored_from(const jm::PatternResult& result) {
  jm::StoredPatterns stored;
  stored.offsets = result.offsets;
  stored.items = result.items;
  stored.support = result.support;
  stored.converted_support = result.converted_support;
  stored.n_journeys = result.n_journeys;
  stored.min_support_count = result.min_support_count;
  stored.truncated = result.truncated;
  return stored;
}

void expect_same_result(const jm::PatternResult& expected, const jm::PatternResult& actual, const std::string& what) {
  EXPECT_EQ(expected.offsets, actual.offsets) << what;
  EXPECT_EQ(expected.items, actual.items) << what;
  EXPECT_EQ(expected.support, actual.support) << what;
  EXPECT_EQ(expected.converted_support, actual.converted_support) << what;
  EXPECT_EQ(expected.p_adjusted, actual.p_adjusted) << what;
  EXPECT_EQ(expected.top_conversion, actual.top_conversion) << what;
  EXPECT_EQ(expected.top_abandonment, actual.top_abandonment) << what;
  EXPECT_EQ(expected.min_support_count, actual.min_support_count) << what;
  EXPECT_EQ(expected.final_support_count, actual.final_support_count) << what;
  EXPECT_EQ(expected.truncated, actual.truncated) << what;
  EXPECT_EQ(expected.message, actual.message) << what;
}

TEST(PatternSupport, CountsEqualBruteForceWithAndWithoutAGapLimit) {
  const jm::Context ctx = jm::make_context(jm::Backend::Cpu, 2);
  std::vector<uint8_t> converted;
  const std::vector<Sequence> sequences = jm::testing::random_sequences(7, 300, 6, 9, &converted);
  const jm::JourneySet journeys = jm::testing::journeys_from(sequences, 6, converted);
  for (const int max_gap : {0, 1, 2, 3}) {
    const jm::testing::PatternTable truth = jm::testing::brute_force_patterns(sequences, converted, 4, max_gap);
    std::vector<int64_t> offsets{0};
    std::vector<int32_t> items;
    std::vector<jm::testing::Counts> expected;
    for (const auto& [pattern, counts] : truth) {
      items.insert(items.end(), pattern.begin(), pattern.end());
      offsets.push_back(static_cast<int64_t>(items.size()));
      expected.push_back(counts);
    }
    // Patterns no journey holds count 0 (an item outside the vocabulary included).
    for (const Sequence& absent : {Sequence{6}, Sequence{0, 6, 1}, Sequence{5, 5, 5, 5, 5, 5, 5, 5, 5, 5}}) {
      items.insert(items.end(), absent.begin(), absent.end());
      offsets.push_back(static_cast<int64_t>(items.size()));
      expected.push_back({});
    }
    const auto counted = jm::patterns_detail::count_pattern_supports(ctx, journeys, offsets, items, max_gap);
    ASSERT_EQ(counted.support.size(), expected.size());
    size_t wrong = 0;
    for (size_t p = 0; p < expected.size(); ++p)
      wrong += counted.support[p] != expected[p].support || counted.converted_support[p] != expected[p].converted;
    EXPECT_EQ(wrong, 0u) << "max_gap " << max_gap << " of " << expected.size() << " patterns";
  }
}

struct Split {
  std::vector<Sequence> base, removed, added, merged;
  std::vector<uint8_t> base_converted, removed_converted, added_converted, merged_converted;
};

// A base database; the append replaces every fifth journey with a longer version of it and adds
// new journeys in which `planted` is common, so patterns appear that the base did not list, and
// the base's own patterns lose support where they were replaced.
Split make_split(uint32_t seed, const Sequence& planted) {
  std::mt19937 rng(seed);
  Split split;
  split.base = jm::testing::random_sequences(seed, 400, 8, 8, &split.base_converted);
  for (size_t j = 0; j < split.base.size(); ++j) {
    if (j % 5 == 0) {
      split.removed.push_back(split.base[j]);
      split.removed_converted.push_back(split.base_converted[j]);
      Sequence continued = split.base[j];
      continued.insert(continued.end(), planted.begin(), planted.end());
      split.added.push_back(continued);
      split.added_converted.push_back(static_cast<uint8_t>(rng() % 2));
    } else {
      split.merged.push_back(split.base[j]);
      split.merged_converted.push_back(split.base_converted[j]);
    }
  }
  std::vector<uint8_t> fresh_converted;
  for (Sequence fresh : jm::testing::random_sequences(seed + 1, 150, 10, 6, &fresh_converted)) {
    if (rng() % 2 == 0) fresh.insert(fresh.begin() + static_cast<long>(fresh.size() / 2), planted.begin(), planted.end());
    split.added.push_back(fresh);
  }
  split.added_converted.insert(split.added_converted.end(), fresh_converted.begin(), fresh_converted.end());
  split.merged.insert(split.merged.end(), split.added.begin(), split.added.end());
  split.merged_converted.insert(split.merged_converted.end(), split.added_converted.begin(), split.added_converted.end());
  return split;
}

TEST(PatternUpdate, EqualsMiningTheMergedJourneys) {
  const jm::Context ctx = jm::make_context(jm::Backend::Cpu, 2);
  const Sequence planted{8, 9, 8};  // items 8 and 9 occur only in added journeys
  const Split split = make_split(21, planted);
  const int32_t n_items = 10;
  const jm::JourneySet base = jm::testing::journeys_from(split.base, n_items, split.base_converted);
  const jm::JourneySet removed = jm::testing::journeys_from(split.removed, n_items, split.removed_converted);
  const jm::JourneySet added = jm::testing::journeys_from(split.added, n_items, split.added_converted);
  const jm::JourneySet merged = jm::testing::journeys_from(split.merged, n_items, split.merged_converted);

  struct Case {
    std::string name;
    jm::PatternOptions options;
  };
  std::vector<Case> cases;
  const auto add_case = [&](const std::string& name, const std::function<void(jm::PatternOptions&)>& set) {
    jm::PatternOptions options;
    set(options);
    cases.push_back({name, options});
  };
  add_case("fraction", [](jm::PatternOptions& o) { o.min_support = jm::MinSupport::fraction(0.05); });
  add_case("count", [](jm::PatternOptions& o) { o.min_support = jm::MinSupport::count(25); });
  add_case("gap 2", [](jm::PatternOptions& o) { o.min_support = jm::MinSupport::fraction(0.03); o.max_gap = 2; });
  add_case("contiguous", [](jm::PatternOptions& o) { o.min_support = jm::MinSupport::fraction(0.02); o.max_gap = 1; });
  add_case("lengths", [](jm::PatternOptions& o) {
    o.min_support = jm::MinSupport::fraction(0.04);
    o.min_length = 2;
    o.max_length = 3;
  });
  add_case("cap", [](jm::PatternOptions& o) { o.min_support = jm::MinSupport::fraction(0.2); o.max_patterns = 20; });

  for (const Case& c : cases) {
    const jm::PatternResult before = jm::mine_patterns(ctx, base, c.options);
    const jm::PatternResult expected = jm::mine_patterns(ctx, merged, c.options);
    const jm::PatternUpdate update =
        jm::update_patterns(ctx, stored_from(before), removed, added, merged, c.options);
    expect_same_result(expected, update.result, c.name);
    if (before.truncated) {
      EXPECT_FALSE(update.merged) << c.name;
      EXPECT_NE(update.how.find("max_patterns"), std::string::npos) << update.how;
      continue;
    }
    EXPECT_TRUE(update.merged) << c.name << ": " << update.how;
    EXPECT_NE(update.how.find("updated, not mined again"), std::string::npos) << update.how;
    // The planted path is new and frequent, and some base pattern fell below the threshold.
    const jm::testing::PatternTable found = jm::testing::table_of(update.result), had = jm::testing::table_of(before);
    if (c.options.max_length == 0 || c.options.max_length >= 3) EXPECT_TRUE(found.count(planted)) << c.name;
    EXPECT_FALSE(had.count(planted)) << c.name;
  }
}

TEST(PatternUpdate, SettingsWithoutAnExactUpdateAreMinedAgainAndSaySo) {
  const jm::Context ctx = jm::make_context(jm::Backend::Cpu, 2);
  const Split split = make_split(5, {8, 9});
  const jm::JourneySet base = jm::testing::journeys_from(split.base, 10, split.base_converted);
  const jm::JourneySet removed = jm::testing::journeys_from(split.removed, 10, split.removed_converted);
  const jm::JourneySet added = jm::testing::journeys_from(split.added, 10, split.added_converted);
  const jm::JourneySet merged = jm::testing::journeys_from(split.merged, 10, split.merged_converted);

  jm::PatternOptions top_k;
  top_k.top_k = 15;
  jm::PatternUpdate update =
      jm::update_patterns(ctx, stored_from(jm::mine_patterns(ctx, base, top_k)), removed, added, merged, top_k);
  EXPECT_FALSE(update.merged);
  EXPECT_NE(update.how.find("top-k"), std::string::npos) << update.how;
  expect_same_result(jm::mine_patterns(ctx, merged, top_k), update.result, "top-k");

  // Stored patterns of other journeys (here: mined at another threshold) are not trusted.
  jm::PatternOptions options;
  options.min_support = jm::MinSupport::fraction(0.05);
  jm::PatternOptions other = options;
  other.min_support = jm::MinSupport::fraction(0.1);
  update = jm::update_patterns(ctx, stored_from(jm::mine_patterns(ctx, base, other)), removed, added, merged, options);
  EXPECT_FALSE(update.merged);
  expect_same_result(jm::mine_patterns(ctx, merged, options), update.result, "other threshold");
}

}  // namespace
