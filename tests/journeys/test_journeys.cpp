// Journey building: both backends against an independent brute-force reference, on random event
// tables full of ties, duplicates and conversions. The GPU instantiation skips without a device.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <random>
#include <tuple>

#include "journeymap/common.hpp"
#include "journeymap/journeys.hpp"
#include "random_events.hpp"

namespace {

using jm::Backend;
using jm::EventTable;
using jm::JourneyOptions;
using jm::JourneySet;
using jm::testing::random_events;

uint32_t bits_of(float x) {
  uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

// The specification, written plainly: sort each customer's events, drop duplicates, cut, cap.
JourneySet reference_journeys(const EventTable& events, const JourneyOptions& options) {
  JourneySet out;
  out.offsets.push_back(0);
  out.stats.input_events = static_cast<int64_t>(events.size());
  std::map<uint32_t, std::vector<size_t>> per_customer;
  for (size_t i = 0; i < events.size(); ++i) per_customer[events.customer[i]].push_back(i);
  for (auto& [customer, rows] : per_customer) {
    std::stable_sort(rows.begin(), rows.end(), [&](size_t a, size_t b) {
      if (options.drop_duplicates)
        return std::make_tuple(events.timestamp_ms[a], events.touchpoint[a], events.channel[a], events.is_conversion[a],
                               bits_of(events.value[a])) <
               std::make_tuple(events.timestamp_ms[b], events.touchpoint[b], events.channel[b], events.is_conversion[b],
                               bits_of(events.value[b]));
      return events.timestamp_ms[a] < events.timestamp_ms[b];
    });
    std::vector<size_t> kept;
    for (size_t row : rows) {
      if (options.drop_duplicates && !kept.empty()) {
        const size_t p = kept.back();
        if (events.timestamp_ms[p] == events.timestamp_ms[row] && events.touchpoint[p] == events.touchpoint[row] &&
            events.channel[p] == events.channel[row] && events.is_conversion[p] == events.is_conversion[row] &&
            bits_of(events.value[p]) == bits_of(events.value[row])) {
          ++out.stats.duplicates_dropped;
          continue;
        }
      }
      kept.push_back(row);
    }
    std::vector<std::vector<size_t>> journeys(1);
    for (size_t k = 0; k < kept.size(); ++k) {
      if (k > 0) {
        const size_t prev = kept[k - 1], cur = kept[k];
        const bool gap = options.session_gap_seconds > 0 &&
                         events.timestamp_ms[cur] - events.timestamp_ms[prev] > options.session_gap_seconds * 1000;
        if ((options.split_at_conversion && events.is_conversion[prev]) || gap) journeys.emplace_back();
      }
      journeys.back().push_back(kept[k]);
    }
    for (const auto& journey : journeys) {
      float value = 0;
      uint8_t converted = 0;
      for (size_t row : journey)
        if (events.is_conversion[row]) converted = 1, value += events.value[row];
      size_t first = 0;
      if (options.max_length > 0 && static_cast<int64_t>(journey.size()) > options.max_length)
        first = journey.size() - static_cast<size_t>(options.max_length);
      out.stats.events_truncated += static_cast<int64_t>(first);
      for (size_t k = first; k < journey.size(); ++k) {
        out.touchpoint.push_back(events.touchpoint[journey[k]]);
        out.channel.push_back(events.channel[journey[k]]);
        out.timestamp_ms.push_back(events.timestamp_ms[journey[k]]);
        out.value.push_back(events.value[journey[k]]);
      }
      out.offsets.push_back(static_cast<int64_t>(out.touchpoint.size()));
      out.customer.push_back(customer);
      out.converted.push_back(converted);
      out.conversion_value.push_back(value);
      out.start_ms.push_back(events.timestamp_ms[journey[first]]);
      out.end_ms.push_back(events.timestamp_ms[journey.back()]);
    }
  }
  return out;
}

void expect_same_journeys(const JourneySet& expected, const JourneySet& actual) {
  EXPECT_EQ(expected.offsets, actual.offsets);
  EXPECT_EQ(expected.touchpoint, actual.touchpoint);
  EXPECT_EQ(expected.channel, actual.channel);
  EXPECT_EQ(expected.timestamp_ms, actual.timestamp_ms);
  EXPECT_EQ(expected.customer, actual.customer);
  EXPECT_EQ(expected.converted, actual.converted);
  EXPECT_EQ(expected.start_ms, actual.start_ms);
  EXPECT_EQ(expected.end_ms, actual.end_ms);
  // Values are copied and summed in the same order by every implementation: equal bit for bit.
  ASSERT_EQ(expected.value.size(), actual.value.size());
  for (size_t i = 0; i < expected.value.size(); ++i) ASSERT_EQ(bits_of(expected.value[i]), bits_of(actual.value[i]));
  ASSERT_EQ(expected.conversion_value.size(), actual.conversion_value.size());
  for (size_t j = 0; j < expected.conversion_value.size(); ++j)
    ASSERT_EQ(bits_of(expected.conversion_value[j]), bits_of(actual.conversion_value[j])) << "journey " << j;
  EXPECT_EQ(expected.stats.input_events, actual.stats.input_events);
  EXPECT_EQ(expected.stats.duplicates_dropped, actual.stats.duplicates_dropped);
  EXPECT_EQ(expected.stats.events_truncated, actual.stats.events_truncated);
}

class JourneyBuild : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::Gpu && !jm::gpu_available()) GTEST_SKIP() << "no CUDA device: " << jm::gpu_description();
  }
  jm::Context context(int threads = 2) const {
    return jm::make_context(GetParam(), threads);
  }
};

TEST_P(JourneyBuild, MatchesReferenceForEveryOptionCombination) {
  std::vector<JourneyOptions> option_sets;
  for (bool split : {true, false})
    for (double gap : {0.0, 300.0})
      for (bool dedupe : {false, true})
        for (int64_t cap : {int64_t{0}, int64_t{3}}) {
          JourneyOptions o;
          o.split_at_conversion = split;
          o.session_gap_seconds = gap;
          o.drop_duplicates = dedupe;
          o.max_length = cap;
          option_sets.push_back(o);
        }
  for (uint64_t seed : {1u, 2u, 3u, 4u, 5u}) {
    const EventTable events = random_events(seed, 400 + 37 * static_cast<int>(seed), 13);
    for (const JourneyOptions& options : option_sets) {
      SCOPED_TRACE(::testing::Message() << "seed " << seed << " split " << options.split_at_conversion << " gap "
                                        << options.session_gap_seconds << " dedupe " << options.drop_duplicates
                                        << " cap " << options.max_length);
      const JourneySet actual = jm::build_journeys(context(), events, options);
      expect_same_journeys(reference_journeys(events, options), actual);
      jm::check_journey_set(actual);
      EXPECT_EQ(actual.touchpoints.names(), events.touchpoints.names());
    }
  }
}

TEST_P(JourneyBuild, ResultDoesNotDependOnThreadCount) {
  const EventTable events = random_events(11, 20000, 700);
  JourneyOptions options;
  options.drop_duplicates = true;
  expect_same_journeys(jm::build_journeys(context(1), events, options), jm::build_journeys(context(5), events, options));
}

TEST_P(JourneyBuild, LargerTableAcrossManyBlocksMatchesReference) {
  // Enough events and journeys to span many GPU blocks (grid-stride loops, multi-tile scans).
  const EventTable events = random_events(99, 300000, 20000, 40);
  JourneyOptions options;
  options.session_gap_seconds = 600;
  expect_same_journeys(reference_journeys(events, options), jm::build_journeys(context(), events, options));
}

TEST_P(JourneyBuild, EmptyAndTinyInputs) {
  EventTable empty;
  const JourneySet none = jm::build_journeys(context(), empty, JourneyOptions{});
  EXPECT_EQ(none.size(), 0);
  EXPECT_EQ(none.offsets, std::vector<int64_t>{0});

  EventTable one;
  one.customers.encode("a");
  one.touchpoints.encode("home");
  one.channels.encode("web");
  one.push_back(0, 5, 0, 0, 0.0f, false);
  const JourneySet single = jm::build_journeys(context(), one, JourneyOptions{});
  EXPECT_EQ(single.offsets, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(single.start_ms, std::vector<int64_t>{5});
}

TEST_P(JourneyBuild, ConversionEndsJourneyAndTiesKeepInputOrder) {
  EventTable events;
  events.customers.encode("a");
  events.customers.encode("b");
  for (const char* name : {"home", "search", "purchase", "email"}) events.touchpoints.encode(name);
  events.channels.encode("web");
  // Customer b's events come first in the file but b has the larger id: journeys follow customer id.
  events.push_back(1, 100, 3, 0, 0.0f, false);
  events.push_back(0, 30, 2, 0, 25.5f, true);  // purchase at t=30
  events.push_back(0, 10, 0, 0, 0.0f, false);  // home at t=10
  events.push_back(0, 20, 1, 0, 0.0f, false);  // search at t=20 (tie with the next, input order kept)
  events.push_back(0, 20, 0, 0, 0.0f, false);
  events.push_back(0, 40, 3, 0, 0.0f, false);  // after the conversion: a new journey
  const JourneySet j = jm::build_journeys(context(), events, JourneyOptions{});
  EXPECT_EQ(j.offsets, (std::vector<int64_t>{0, 4, 5, 6}));
  EXPECT_EQ(j.touchpoint, (std::vector<int32_t>{0, 1, 0, 2, 3, 3}));
  EXPECT_EQ(j.customer, (std::vector<uint32_t>{0, 0, 1}));
  EXPECT_EQ(j.converted, (std::vector<uint8_t>{1, 0, 0}));
  EXPECT_FLOAT_EQ(j.conversion_value[0], 25.5f);
}

INSTANTIATE_TEST_SUITE_P(Backends, JourneyBuild, ::testing::Values(Backend::Cpu, Backend::Gpu),
                         [](const auto& info) { return std::string(info.param == Backend::Cpu ? "Cpu" : "Gpu"); });

TEST(JourneyOptionsValidation, RejectsNegativeGapAndCap) {
  jm::Context ctx;
  EventTable events;
  JourneyOptions bad_gap;
  bad_gap.session_gap_seconds = -1;
  EXPECT_THROW(jm::build_journeys(ctx, events, bad_gap), jm::ConfigError);
  JourneyOptions bad_cap;
  bad_cap.max_length = -2;
  EXPECT_THROW(jm::build_journeys(ctx, events, bad_cap), jm::ConfigError);
}

TEST(DeviceSelection, GpuRequestFailsClearlyWithoutDevice) {
  if (jm::gpu_available()) GTEST_SKIP() << "a GPU is present";
  EXPECT_THROW(jm::make_context(jm::DeviceChoice::Gpu), jm::GpuUnavailableError);
  EXPECT_EQ(jm::make_context(jm::DeviceChoice::Auto).backend, Backend::Cpu);
}

}  // namespace

namespace {

TEST(SelectJourneys, CopiesTheChosenJourneysInOrder) {
  const jm::EventTable events = random_events(3, 500, 20);
  const jm::JourneySet all = jm::build_journeys(jm::Context{}, events, jm::JourneyOptions{});
  ASSERT_GE(all.size(), 3);
  const std::vector<int64_t> rows = {all.size() - 1, 0, 1};
  const jm::JourneySet picked = jm::select_journeys(all, rows);
  ASSERT_EQ(picked.size(), 3);
  for (int64_t k = 0; k < 3; ++k) {
    const int64_t j = rows[k];
    EXPECT_EQ(picked.customer[k], all.customer[j]);
    EXPECT_EQ(picked.start_ms[k], all.start_ms[j]);
    ASSERT_EQ(picked.length(k), all.length(j));
    for (int64_t e = 0; e < picked.length(k); ++e)
      EXPECT_EQ(picked.touchpoint[picked.offsets[k] + e], all.touchpoint[all.offsets[j] + e]);
  }
  EXPECT_EQ(picked.touchpoints.names(), all.touchpoints.names());
  EXPECT_EQ(jm::select_journeys(all, {}).offsets, std::vector<int64_t>{0});
}

}  // namespace
