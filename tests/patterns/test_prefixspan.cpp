// PrefixSpan against an independent brute-force enumerator on many small random databases, plus
// edge cases and option checks. One body per test, instantiated for the CPU and the GPU backend.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "journeymap/common.hpp"
#include "journeymap/outcome.hpp"
#include "journeymap/patterns.hpp"
#include "patterns/pattern_test_support.hpp"

namespace jm {
namespace {

using testing::PatternTable;
using testing::Sequence;

class PrefixSpanTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (!testing::context_for(GetParam(), ctx_)) GTEST_SKIP() << "no usable GPU: " << gpu_description();
  }

  PatternResult mine(const std::vector<Sequence>& sequences, int32_t n_items, const PatternOptions& options,
                     const std::vector<uint8_t>& converted = {}) {
    const JourneySet journeys = testing::journeys_from(sequences, n_items, converted);
    return mine_patterns(ctx_, journeys, options);
  }

  Context ctx_;
};

PatternOptions options_with(int64_t min_count, int max_length = 0, int max_gap = 0, int min_length = 1) {
  PatternOptions options;
  options.min_support = MinSupport::count(min_count);
  options.max_length = max_length;
  options.max_gap = max_gap;
  options.min_length = min_length;
  return options;
}

// The canonical order is part of the contract: support descending, length ascending, items.
void expect_canonical_order(const PatternResult& result) {
  for (int64_t p = 1; p < result.size(); ++p) {
    const auto previous = result.items_of(p - 1), current = result.items_of(p);
    const bool ordered = result.support[p - 1] > result.support[p] ||
                         (result.support[p - 1] == result.support[p] &&
                          (previous.size() < current.size() || (previous.size() == current.size() && previous < current)));
    ASSERT_TRUE(ordered) << "patterns " << p - 1 << " and " << p << " are out of canonical order";
  }
}

TEST_P(PrefixSpanTest, MatchesBruteForceOnRandomDatabases) {
  struct Case {
    int max_length, max_gap, min_length;
  };
  const Case cases[] = {{0, 0, 1}, {2, 0, 1}, {0, 1, 1}, {0, 2, 1}, {3, 3, 2}, {0, 0, 3}};
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    std::vector<uint8_t> converted;
    const int n_items = 1 + static_cast<int>(seed % 6);  // 1..6 items: many repeats
    const auto sequences = testing::random_sequences(seed, 40 + static_cast<int>(seed) * 5, n_items, 9, &converted);
    for (const Case& c : cases) {
      const PatternTable all =
          testing::brute_force_patterns(sequences, converted, c.max_length > 0 ? c.max_length : 100, c.max_gap);
      for (int64_t min_count : {1, 3, 10}) {
        SCOPED_TRACE("seed " + std::to_string(seed) + ", max_length " + std::to_string(c.max_length) + ", max_gap " +
                     std::to_string(c.max_gap) + ", min_length " + std::to_string(c.min_length) + ", min_count " +
                     std::to_string(min_count));
        const PatternResult result =
            mine(sequences, n_items, options_with(min_count, c.max_length, c.max_gap, c.min_length), converted);
        EXPECT_EQ(testing::table_of(result), testing::filter_table(all, min_count, c.min_length));
        EXPECT_FALSE(result.truncated);
        expect_canonical_order(result);
      }
    }
  }
}

// Word-like data: a few common items and many rare ones. Without a gap limit the CPU miner drops
// the rare items from its copy of the database before mining; with one it must not (a rare item
// between two common ones counts towards the gap). Both must equal the brute force.
TEST_P(PrefixSpanTest, RareItemsBetweenCommonOnesChangeNoSupport) {
  for (uint32_t seed = 1; seed <= 8; ++seed) {
    std::mt19937 rng(seed);
    std::vector<Sequence> sequences(60);
    std::vector<uint8_t> converted(sequences.size());
    const int32_t n_items = 40;  // items 0..3 common, 4..39 rare
    for (size_t s = 0; s < sequences.size(); ++s) {
      const int length = 1 + static_cast<int>(rng() % 9);
      for (int e = 0; e < length; ++e)
        sequences[s].push_back(rng() % 2 == 0 ? static_cast<int32_t>(rng() % 4) : static_cast<int32_t>(4 + rng() % 36));
      converted[s] = rng() % 3 == 0;
    }
    for (int max_gap : {0, 1, 2}) {
      const PatternTable all = testing::brute_force_patterns(sequences, converted, 100, max_gap);
      for (int64_t min_count : {3, 8}) {
        SCOPED_TRACE("seed " + std::to_string(seed) + ", max_gap " + std::to_string(max_gap) + ", min_count " +
                     std::to_string(min_count));
        const PatternResult result = mine(sequences, n_items, options_with(min_count, 0, max_gap), converted);
        EXPECT_EQ(testing::table_of(result), testing::filter_table(all, min_count, 1));
        expect_canonical_order(result);
      }
    }
  }
}

// A tiny device budget forces the GPU backend to cut node ranges and split children into many
// batches; the answer must not change (the CPU backend ignores the budget).
TEST_P(PrefixSpanTest, SmallBatchBudgetGivesTheSameAnswer) {
  for (uint32_t seed : {31u, 32u}) {
    std::vector<uint8_t> converted;
    const auto sequences = testing::random_sequences(seed, 150, 6, 9, &converted);
    for (int max_gap : {0, 2}) {
      SCOPED_TRACE("seed " + std::to_string(seed) + ", max_gap " + std::to_string(max_gap));
      PatternOptions options = options_with(2, 0, max_gap);
      options.gpu_batch_bytes = 4096;
      const PatternResult result = mine(sequences, 6, options, converted);
      EXPECT_EQ(testing::table_of(result),
                testing::filter_table(testing::brute_force_patterns(sequences, converted, 100, max_gap), 2, 1));
    }
  }
}

TEST_P(PrefixSpanTest, TopKIsExactWithoutThreshold) {
  for (uint32_t seed = 21; seed <= 26; ++seed) {
    std::vector<uint8_t> converted;
    const auto sequences = testing::random_sequences(seed, 60, 5, 8, &converted);
    for (int max_gap : {0, 2}) {
      const PatternTable all = testing::brute_force_patterns(sequences, converted, 100, max_gap);
      // Brute-force ranking in the canonical order.
      std::vector<std::pair<Sequence, testing::Counts>> ranked(all.begin(), all.end());
      std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
        if (a.second.support != b.second.support) return a.second.support > b.second.support;
        if (a.first.size() != b.first.size()) return a.first.size() < b.first.size();
        return a.first < b.first;
      });
      for (int64_t k : {1, 7, 50, 100000}) {
        SCOPED_TRACE("seed " + std::to_string(seed) + ", max_gap " + std::to_string(max_gap) + ", k " +
                     std::to_string(k));
        PatternOptions options = options_with(1, 0, max_gap);
        options.top_k = k;
        options.min_support_given = false;
        const PatternResult result = mine(sequences, 5, options, converted);
        const size_t expected = std::min<size_t>(static_cast<size_t>(k), ranked.size());
        ASSERT_EQ(result.size(), static_cast<int64_t>(expected));
        for (size_t i = 0; i < expected; ++i) {
          EXPECT_EQ(result.items_of(static_cast<int64_t>(i)), ranked[i].first) << "rank " << i;
          EXPECT_EQ(result.support[i], ranked[i].second.support) << "rank " << i;
        }
        EXPECT_FALSE(result.truncated);
      }
    }
  }
}

TEST_P(PrefixSpanTest, PatternCapKeepsTheMostFrequentAndSaysSo) {
  std::vector<uint8_t> converted;
  const auto sequences = testing::random_sequences(5, 80, 4, 8, &converted);
  PatternOptions options = options_with(2);
  const PatternResult all = mine(sequences, 4, options, converted);
  ASSERT_GT(all.size(), 30);
  options.max_patterns = 30;
  const PatternResult capped = mine(sequences, 4, options, converted);
  ASSERT_EQ(capped.size(), 30);
  EXPECT_TRUE(capped.truncated);
  EXPECT_NE(capped.message.find("more than 30 patterns"), std::string::npos) << capped.message;
  for (int64_t p = 0; p < 30; ++p) {
    EXPECT_EQ(capped.items_of(p), all.items_of(p));
    EXPECT_EQ(capped.support[p], all.support[p]);
  }
  EXPECT_FALSE(all.truncated);
  EXPECT_TRUE(all.message.empty());
}

TEST_P(PrefixSpanTest, CapWithManyTiesStaysExactAndBounded) {
  // Support 1 on 400 journeys of up to 16 events: hundreds of thousands of patterns, most tied at small
  // supports, so the collector compacts many times; the capped answer must still be the canonical
  // head of the full answer.
  std::vector<uint8_t> converted;
  const auto sequences = testing::random_sequences(41, 400, 8, 16, &converted);
  PatternOptions options = options_with(1);
  options.max_patterns = 10000000;
  const PatternResult all = mine(sequences, 8, options, converted);
  ASSERT_GT(all.size(), 200000);  // well past one compaction (2 x 50 + 65,536 stored patterns)
  options.max_patterns = 50;
  const PatternResult capped = mine(sequences, 8, options, converted);
  ASSERT_EQ(capped.size(), 50);
  EXPECT_TRUE(capped.truncated);
  for (int64_t p = 0; p < 50; ++p) {
    EXPECT_EQ(capped.items_of(p), all.items_of(p)) << p;
    EXPECT_EQ(capped.support[p], all.support[p]) << p;
  }
}

TEST_P(PrefixSpanTest, ExplosiveSettingsStopAtTheWorkBudget) {
  std::vector<uint8_t> converted;
  const auto sequences = testing::random_sequences(42, 300, 6, 12, &converted);
  PatternOptions options = options_with(1);
  options.max_explored = 10000;
  try {
    mine(sequences, 6, options, converted);
    FAIL() << "expected the work budget to stop mining";
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("mining stopped after enumerating 10000 patterns"), std::string::npos) << message;
    EXPECT_NE(message.find("max_explored"), std::string::npos) << message;
  }
  options.max_explored = 100000000;  // the same settings finish within a larger budget
  EXPECT_GT(mine(sequences, 6, options, converted).size(), 10000);
}

TEST_P(PrefixSpanTest, EdgeCases) {
  // Empty and single-item journeys.
  {
    const std::vector<Sequence> sequences = {{}, {0}, {}, {1}, {0}, {2, 0}};
    const PatternResult result = mine(sequences, 3, options_with(1));
    PatternTable expected = {{{0}, {3, 0}}, {{1}, {1, 0}}, {{2}, {1, 0}}, {{2, 0}, {1, 0}}};
    EXPECT_EQ(testing::table_of(result), expected);
    EXPECT_EQ(result.n_journeys, 6);
  }
  // Only empty journeys, and no journeys at all.
  EXPECT_EQ(mine({{}, {}}, 2, options_with(1)).size(), 0);
  EXPECT_EQ(mine({}, 0, options_with(1)).size(), 0);
  // min_support above the number of journeys.
  EXPECT_EQ(mine({{0, 1}, {0, 1}}, 2, options_with(3)).size(), 0);
  {
    PatternOptions options;
    options.min_support = MinSupport::fraction(1.0);  // every journey
    const PatternResult result = mine({{0, 1}, {1, 0}, {0}}, 2, options);
    EXPECT_EQ(testing::table_of(result), (PatternTable{{{0}, {3, 0}}}));
  }
  // A vocabulary of one item: patterns are runs of it, as long as the most frequent repetitions.
  {
    const std::vector<Sequence> sequences = {{0, 0, 0}, {0}, {0, 0}};
    const PatternResult result = mine(sequences, 1, options_with(1));
    EXPECT_EQ(testing::table_of(result), (PatternTable{{{0}, {3, 0}}, {{0, 0}, {2, 0}}, {{0, 0, 0}, {1, 0}}}));
  }
}

TEST_P(PrefixSpanTest, OutcomeEventsAreNeverMined) {
  // "purchase" is the outcome: the outcome cut removes it before mining, so the patterns are those
  // of the touches alone, with the converted journeys counted.
  jm::EventTable events;
  const std::vector<std::vector<std::string>> paths{{"a", "b", "purchase"}, {"a", "purchase"}, {"b", "a"}, {"x", "purchase"}};
  for (size_t c = 0; c < paths.size(); ++c)
    for (size_t e = 0; e < paths[c].size(); ++e)
      events.push_back(static_cast<uint32_t>(events.customers.encode("c" + std::to_string(c))), static_cast<int64_t>(e) * 60000,
                       events.touchpoints.encode(paths[c][e]), events.channels.encode("web"), 0.0f, false);
  jm::OutcomeDefinition outcome;
  outcome.events = {{"purchase", "converted"}};
  const jm::JourneySet journeys = jm::build_outcome_journeys(ctx_, events, jm::JourneyOptions{}, outcome).journeys;
  PatternOptions options;
  options.min_support = MinSupport::count(1);
  const PatternResult result = mine_patterns(ctx_, journeys, options);
  const int32_t a = journeys.touchpoints.find("a"), b = journeys.touchpoints.find("b"), x = journeys.touchpoints.find("x");
  const PatternTable expected = {{{a}, {3, 2}}, {{b}, {2, 1}}, {{x}, {1, 1}}, {{a, b}, {1, 1}}, {{b, a}, {1, 0}}};
  EXPECT_EQ(testing::table_of(result), expected);
  EXPECT_EQ(result.n_journeys, 4);
  EXPECT_EQ(result.n_converted, 3);
}

INSTANTIATE_TEST_SUITE_P(Backends, PrefixSpanTest, ::testing::Values(Backend::Cpu, Backend::Gpu), testing::backend_name);

// Without a gap limit the CPU miner counts by each journey's last occurrences, projects by a
// short scan or a search in an item's occurrences, drops infrequent items and splits the root
// across threads; the general window scan on one thread does none of that. On journeys long
// enough for the search, with rare items to drop (about 10% of the events) and more journeys than
// the root splits, both find the same. With a gap limit the split root must change nothing either.
TEST(PrefixSpanCpu, LastOccurrenceMinerEqualsTheWindowScan) {
  std::mt19937 random(7);
  std::vector<Sequence> sequences(20000);
  std::vector<uint8_t> converted(sequences.size());
  const int32_t n_items = 2000;  // items 0..4 common, the rest rare (each in a few dozen journeys)
  auto rare = [&] { return 5 + static_cast<int32_t>(random() % (n_items - 5)); };
  for (size_t j = 0; j < sequences.size(); ++j) {
    if (j % 10 == 0) {  // long: mostly item 0, so where items 1..4 fall decides which patterns it holds
      const int length = 100 + static_cast<int>(random() % 100);
      for (int k = 0; k < length; ++k) {
        const uint32_t draw = random() % 80;
        sequences[j].push_back(draw < 8 ? rare() : draw < 18 ? 1 + static_cast<int32_t>(random() % 4) : 0);
      }
    } else {
      const int length = 1 + static_cast<int>(random() % 8);
      for (int k = 0; k < length; ++k)
        sequences[j].push_back(random() % 10 == 0 ? rare() : static_cast<int32_t>(random() % 5));
    }
    converted[j] = random() % 4 == 0;
  }
  const JourneySet journeys = testing::journeys_from(sequences, n_items, converted);
  const Context one_thread = make_context(Backend::Cpu, 1);  // the reference: no work split at all
  auto expect_same = [](const FrequentPatterns& actual, const FrequentPatterns& expected) {
    EXPECT_EQ(actual.offsets, expected.offsets);
    EXPECT_EQ(actual.items, expected.items);
    EXPECT_EQ(actual.support, expected.support);
    EXPECT_EQ(actual.converted_support, expected.converted_support);
  };
  for (int64_t min_count : {100, 2000}) {
    const MiningProblem reference_problem = make_mining_problem(one_thread, journeys, options_with(min_count, 5));
    const FrequentPatterns expected = cpu_impl::mine_frequent_patterns_by_window_scan(one_thread, reference_problem);
    ASSERT_GT(expected.size(), 10);
    for (int threads : {1, 3}) {
      SCOPED_TRACE(std::to_string(threads) + " threads, min count " + std::to_string(min_count));
      const Context ctx = make_context(Backend::Cpu, threads);
      expect_same(cpu_impl::mine_frequent_patterns(ctx, make_mining_problem(ctx, journeys, options_with(min_count, 5))),
                  expected);
    }
  }
  const PatternOptions gap_limited = options_with(100, 4, 2);
  const FrequentPatterns expected =
      cpu_impl::mine_frequent_patterns(one_thread, make_mining_problem(one_thread, journeys, gap_limited));
  ASSERT_GT(expected.size(), 10);
  const Context three_threads = make_context(Backend::Cpu, 3);
  expect_same(cpu_impl::mine_frequent_patterns(three_threads, make_mining_problem(three_threads, journeys, gap_limited)),
              expected);
}

TEST(PatternOptionsTest, MinSupportParsing) {
  EXPECT_EQ(MinSupport::parse("500").journeys, 500);
  EXPECT_DOUBLE_EQ(MinSupport::parse("0.01").share, 0.01);
  EXPECT_DOUBLE_EQ(MinSupport::parse("2.5%").share, 0.025);
  EXPECT_DOUBLE_EQ(MinSupport::parse("1e-3").share, 0.001);
  EXPECT_DOUBLE_EQ(MinSupport::parse("1.0").share, 1.0);
  EXPECT_THROW(MinSupport::parse("0"), ConfigError);
  EXPECT_THROW(MinSupport::parse("1.5"), ConfigError);
  EXPECT_THROW(MinSupport::parse("-0.1"), ConfigError);
  EXPECT_THROW(MinSupport::parse("abc"), ConfigError);
  EXPECT_THROW(MinSupport::parse(""), ConfigError);
  // SPMF's rounding: ceil(minsup * n) in double arithmetic.
  EXPECT_EQ(MinSupport::fraction(0.5).resolve(730), 365);
  EXPECT_EQ(MinSupport::fraction(0.07).resolve(100), 8);  // 0.07 * 100 = 7.000000000000001
  EXPECT_EQ(MinSupport::fraction(0.001).resolve(10), 1);
  EXPECT_EQ(MinSupport::count(7).resolve(3), 7);
}

TEST(PatternOptionsTest, InvalidOptionsAreConfigErrors) {
  auto expect_invalid = [](auto mutate) {
    PatternOptions options;
    mutate(options);
    EXPECT_THROW(validate_pattern_options(options), ConfigError);
  };
  expect_invalid([](PatternOptions& o) { o.max_length = -1; });
  expect_invalid([](PatternOptions& o) { o.min_length = 0; });
  expect_invalid([](PatternOptions& o) { o.min_length = 3, o.max_length = 2; });
  expect_invalid([](PatternOptions& o) { o.max_gap = -2; });
  expect_invalid([](PatternOptions& o) { o.top_k = -1; });
  expect_invalid([](PatternOptions& o) { o.max_patterns = 0; });
  expect_invalid([](PatternOptions& o) { o.max_explored = 0; });
  expect_invalid([](PatternOptions& o) { o.min_support = MinSupport::fraction(0.0); });
  expect_invalid([](PatternOptions& o) { o.significance_level = 0.0; });
  Context ctx;
  const JourneySet journeys = testing::journeys_from({{0}}, 1);
  PatternOptions bad;
  bad.max_gap = -1;
  EXPECT_THROW(mine_patterns(ctx, journeys, bad), ConfigError);
}

}  // namespace
}  // namespace jm
