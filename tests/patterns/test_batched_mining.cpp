// Counting patterns batch by batch, level by level, gives what mining all journeys at once gives: the
// same patterns, supports, order, contrast and cut, for count and share thresholds, gap and length
// limits, a pattern cap, uneven and empty batches, and on a public clickstream (BMS1) in five
// batches; top-k is refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "host/patterns/batched_mining.hpp"
#include "journeymap/common.hpp"
#include "journeymap/ingest.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/patterns.hpp"
#include "patterns/pattern_test_support.hpp"
#include "test_helpers.hpp"

namespace {

void expect_same_result(const jm::PatternResult& expected, const jm::PatternResult& actual) {
  EXPECT_EQ(expected.n_journeys, actual.n_journeys);
  EXPECT_EQ(expected.n_converted, actual.n_converted);
  EXPECT_EQ(expected.offsets, actual.offsets);
  EXPECT_EQ(expected.items, actual.items);
  EXPECT_EQ(expected.support, actual.support);
  EXPECT_EQ(expected.converted_support, actual.converted_support);
  EXPECT_EQ(expected.p_adjusted, actual.p_adjusted);
  EXPECT_EQ(expected.top_conversion, actual.top_conversion);
  EXPECT_EQ(expected.top_abandonment, actual.top_abandonment);
  EXPECT_EQ(expected.min_support_count, actual.min_support_count);
  EXPECT_EQ(expected.final_support_count, actual.final_support_count);
  EXPECT_EQ(expected.truncated, actual.truncated);
  EXPECT_EQ(expected.message, actual.message);
}

// Journeys [begin, end) of `journeys` (empty journeys included, which select_journeys refuses).
jm::JourneySet slice(const jm::JourneySet& journeys, int64_t begin, int64_t end) {
  jm::JourneySet out;
  out.touchpoints = journeys.touchpoints;
  out.channels = journeys.channels;
  out.customers = journeys.customers;
  out.offsets.push_back(0);
  for (int64_t j = begin; j < end; ++j) {
    for (int64_t e = journeys.offsets[j]; e < journeys.offsets[j + 1]; ++e) {
      out.touchpoint.push_back(journeys.touchpoint[e]);
      out.channel.push_back(journeys.channel[e]);
      out.timestamp_ms.push_back(journeys.timestamp_ms[e]);
      out.value.push_back(journeys.value[e]);
    }
    out.offsets.push_back(static_cast<int64_t>(out.touchpoint.size()));
    out.customer.push_back(journeys.customer[j]);
    out.converted.push_back(journeys.converted[j]);
    out.conversion_value.push_back(journeys.conversion_value[j]);
    out.start_ms.push_back(journeys.start_ms[j]);
    out.end_ms.push_back(journeys.end_ms[j]);
  }
  return out;
}

// Batches of consecutive journeys ending at `ends` (the last must be the journey count).
std::function<jm::JourneySet(int64_t)> batches_of(const jm::JourneySet& journeys, const std::vector<int64_t>& ends) {
  return [&journeys, ends](int64_t b) {
    return slice(journeys, b == 0 ? 0 : ends[static_cast<size_t>(b) - 1], ends[static_cast<size_t>(b)]);
  };
}

TEST(BatchedMining, EqualsMiningAllJourneysAtOnce) {
  const jm::Context ctx = jm::make_context(jm::Backend::Cpu, 2);
  std::vector<uint8_t> converted;
  const auto sequences = jm::testing::random_sequences(17, 3000, 9, 14, &converted);
  const jm::JourneySet journeys = jm::testing::journeys_from(sequences, 9, converted);
  std::vector<jm::PatternOptions> cases(6);
  cases[0].min_support = jm::MinSupport::count(60);
  cases[1].min_support = jm::MinSupport::parse("0.05");
  cases[2].min_support = jm::MinSupport::count(40);
  cases[2].max_gap = 2;
  cases[3].min_support = jm::MinSupport::count(40);
  cases[3].max_length = 3;
  cases[3].min_length = 2;
  cases[4].min_support = jm::MinSupport::count(30);
  cases[4].max_patterns = 50;  // the cut of the frequent patterns, as mining all at once makes it
  cases[5].min_support = jm::MinSupport::count(2900);  // nothing frequent
  for (size_t c = 0; c < cases.size(); ++c) {
    SCOPED_TRACE("case " + std::to_string(c));
    const jm::PatternResult expected = jm::mine_patterns(ctx, journeys, cases[c]);
    // Uneven batches, an empty one among them.
    const std::vector<int64_t> ends{700, 700, 1900, 2100, 3000};
    const jm::BatchedPatterns batched = jm::mine_patterns_in_batches(ctx, 5, 9, batches_of(journeys, ends), cases[c]);
    expect_same_result(expected, batched.result);
    EXPECT_EQ(batched.batches, 5);
    EXPECT_GE(batched.candidates, batched.result.size());
  }
  // Candidates counted a few at a time (many passes) give the same answer.
  for (const size_t c : {size_t{0}, size_t{2}, size_t{4}}) {
    const jm::BatchedPatterns sliced = jm::mine_patterns_in_batches(
        ctx, 5, 9, batches_of(journeys, {700, 700, 1900, 2100, 3000}), cases[c], /*candidates_per_pass=*/7);
    expect_same_result(jm::mine_patterns(ctx, journeys, cases[c]), sliced.result);
    EXPECT_GT(sliced.passes, 10);
  }
  const jm::BatchedPatterns one = jm::mine_patterns_in_batches(ctx, 1, 9, batches_of(journeys, {3000}), cases[0]);
  expect_same_result(jm::mine_patterns(ctx, journeys, cases[0]), one.result);

  jm::PatternOptions exploding = cases[4];
  exploding.max_explored = 10;
  EXPECT_THROW(jm::mine_patterns(ctx, journeys, exploding), jm::ConfigError);
  EXPECT_THROW(jm::mine_patterns_in_batches(ctx, 5, 9, batches_of(journeys, {700, 700, 1900, 2100, 3000}), exploding),
               jm::ConfigError);

  jm::PatternOptions top_k;
  top_k.top_k = 20;
  top_k.min_support_given = false;
  EXPECT_THROW(jm::mine_patterns_in_batches(ctx, 5, 9, batches_of(journeys, {700, 700, 1900, 2100, 3000}), top_k),
               jm::ConfigError);
}

TEST(BatchedMining, PublicClickstreamInFiveBatches) {
  const std::string path = jm::testing::shared_data("bms1/BMS1_spmf.txt");
  if (path.empty()) GTEST_SKIP() << "the public datasets are not beside this checkout";
  const jm::Context ctx = jm::make_context(jm::Backend::Cpu, 2);
  jm::IngestResult ingest = jm::read_events_spmf(path, 2);
  const jm::JourneySet journeys = jm::build_journeys(ctx, ingest.events, jm::JourneyOptions{});
  jm::PatternOptions options;
  options.min_support = jm::MinSupport::count(42);
  const jm::PatternResult expected = jm::mine_patterns(ctx, journeys, options);
  ASSERT_EQ(expected.size(), 27403) << "the pattern count SPMF finds on BMS1 at 42";
  std::vector<int64_t> ends;
  for (int64_t b = 1; b <= 5; ++b) ends.push_back(journeys.size() * b / 5);
  const jm::BatchedPatterns batched =
      jm::mine_patterns_in_batches(ctx, 5, journeys.touchpoints.size(), batches_of(journeys, ends), options);
  expect_same_result(expected, batched.result);
  EXPECT_LE(batched.passes, 1 + *std::max_element(expected.offsets.begin() + 1, expected.offsets.end()));
}

}  // namespace
