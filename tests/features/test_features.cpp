// Journey features: values against hand-computed journeys (empty and one-event windows included),
// no label leakage, prefix mode, spec reuse on a new vocabulary, scaling, errors. Every test runs on
// the CPU; the GPU instantiation skips without a device and otherwise must match the CPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "journeymap/common.hpp"
#include "journeymap/covariates.hpp"
#include "journeymap/features.hpp"
#include "journeymap/outcome.hpp"

namespace {

using jm::Backend;
using jm::FeatureMatrix;
using jm::FeatureOptions;
using jm::JourneySet;

// 2024-01-01T09:30:00Z, a Monday.
constexpr int64_t kBase = 1704067200000LL + 9 * 3600000LL + 30 * 60000LL;

struct Ev {
  std::string touchpoint;
  std::string channel;
  int64_t seconds;  // after kBase
};

// Appends one journey to a hand-built JourneySet (journeys must be added in customer order). A
// converted journey's last event is its outcome: as the outcome cut does, it is kept out of the
// events and only its time is recorded (the window may then be empty).
void add_journey(JourneySet& js, const std::string& customer, const std::vector<Ev>& events, bool converted) {
  if (js.offsets.empty()) js.offsets.push_back(0);
  const size_t kept = converted ? events.size() - 1 : events.size();
  for (size_t k = 0; k < kept; ++k) {
    const Ev& e = events[k];
    js.touchpoint.push_back(js.touchpoints.encode(e.touchpoint));
    js.channel.push_back(js.channels.encode(e.channel));
    js.timestamp_ms.push_back(kBase + e.seconds * 1000);
    js.value.push_back(0.0f);
  }
  js.offsets.push_back(static_cast<int64_t>(js.touchpoint.size()));
  js.customer.push_back(static_cast<uint32_t>(js.customers.encode(customer)));
  js.converted.push_back(converted ? 1 : 0);
  js.conversion_value.push_back(0.0f);
  js.start_ms.push_back(kBase + events.front().seconds * 1000);
  js.end_ms.push_back(kBase + events[kept > 0 ? kept - 1 : 0].seconds * 1000);
  if (js.outcome_labels.empty()) js.outcome_labels.encode("none"), js.outcome_labels.encode("converted");
  js.outcome.push_back(converted ? 1 : 0);
  js.outcome_ms.push_back(converted ? kBase + events.back().seconds * 1000 : 0);
}

JourneySet empty_set() {
  JourneySet js;
  js.offsets.push_back(0);
  return js;
}

class Features : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::Gpu && !jm::gpu_available()) GTEST_SKIP() << "no CUDA device";
    ctx_ = jm::make_context(GetParam(), 2);
  }
  jm::Context ctx_;
};

double feature(const FeatureMatrix& m, int64_t row, const std::string& name) {
  const int c = m.column(name);
  EXPECT_GE(c, 0) << name;
  return c < 0 ? NAN : m.at(row, c);
}

JourneySet hand_journeys() {
  JourneySet js = empty_set();
  // Journey 0: a(web) b(web) a(app) c(web) at 0, 10, 40, 100 s.
  add_journey(js, "alice", {{"a", "web", 0}, {"b", "web", 10}, {"a", "app", 40}, {"c", "web", 100}}, false);
  // Journey 1: b then the conversion (purchase): the window is [b].
  add_journey(js, "alice", {{"b", "web", 1000}, {"purchase", "web", 1005}}, true);
  // Journey 2: only the conversion: an empty window.
  add_journey(js, "bob", {{"purchase", "app", 2000}}, true);
  // Journey 3: a single event, the last of the data.
  add_journey(js, "carol", {{"c", "app", 86400}}, false);
  return js;
}

TEST_P(Features, HandComputedJourneys) {
  const JourneySet js = hand_journeys();
  FeatureOptions options;
  options.top_touchpoints = 2;  // a and b (tied with c at 2 events; lower id first), then "other"
  options.top_channels = 1;
  options.bigram_buckets = 4;
  const FeatureMatrix m = jm::extract_features(ctx_, js, options);
  ASSERT_EQ(m.n_rows, 4);
  ASSERT_EQ(m.spec.top_touchpoints, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(m.spec.top_channels, (std::vector<std::string>{"web"}));
  EXPECT_EQ(m.spec.reference_time_ms, kBase + 86400 * 1000LL);

  // Journey 0.
  EXPECT_EQ(feature(m, 0, "length"), 4);
  EXPECT_EQ(feature(m, 0, "duration_seconds"), 100);
  EXPECT_EQ(feature(m, 0, "distinct_touchpoints"), 3);
  EXPECT_EQ(feature(m, 0, "revisits"), 1);
  EXPECT_NEAR(feature(m, 0, "touchpoint_entropy"), 1.5, 1e-6);  // {1/2, 1/4, 1/4}
  EXPECT_EQ(feature(m, 0, "channel_count"), 2);
  EXPECT_NEAR(feature(m, 0, "channel_entropy"), -(0.75 * std::log2(0.75) + 0.25 * std::log2(0.25)), 1e-6);
  EXPECT_NEAR(feature(m, 0, "gap_mean_seconds"), 100.0 / 3.0, 1e-4);
  EXPECT_EQ(feature(m, 0, "gap_median_seconds"), 30);
  EXPECT_EQ(feature(m, 0, "gap_max_seconds"), 60);
  EXPECT_NEAR(feature(m, 0, "momentum"), -1.0 / 3.0, 1e-6);  // 2 events in the first quarter, 1 in the last
  EXPECT_NEAR(feature(m, 0, "start_hour"), 9.5, 1e-5);
  EXPECT_NEAR(feature(m, 0, "start_hour_sin"), std::sin(9.5 * 2 * M_PI / 24), 1e-6);
  EXPECT_NEAR(feature(m, 0, "start_hour_cos"), std::cos(9.5 * 2 * M_PI / 24), 1e-6);
  EXPECT_EQ(feature(m, 0, "start_weekday"), 0);  // Monday
  EXPECT_NEAR(feature(m, 0, "recency_days"), (86400.0 - 100.0) / 86400.0, 1e-6);
  EXPECT_EQ(feature(m, 0, "customer_journey_number"), 1);
  EXPECT_EQ(feature(m, 1, "customer_journey_number"), 2);  // alice's second journey: earlier ones only
  EXPECT_EQ(feature(m, 0, "first_touchpoint"), 0);  // slot of a
  EXPECT_EQ(feature(m, 0, "last_touchpoint"), 2);   // c is "other"
  EXPECT_EQ(feature(m, 0, "touchpoint_share:a"), 0.5f);
  EXPECT_EQ(feature(m, 0, "touchpoint_share:b"), 0.25f);
  EXPECT_EQ(feature(m, 0, "touchpoint_share:(other)"), 0.25f);
  EXPECT_EQ(feature(m, 0, "channel_share:web"), 0.75f);
  EXPECT_EQ(feature(m, 0, "channel_share:(other)"), 0.25f);
  double bigram_total = 0.0;
  for (int b = 0; b < 4; ++b) {
    const double share = feature(m, 0, "bigram_share:0" + std::to_string(b));
    EXPECT_NEAR(share * 3.0, std::round(share * 3.0), 1e-5);  // whole transitions out of 3
    bigram_total += share;
  }
  EXPECT_NEAR(bigram_total, 1.0, 1e-6);

  // Journey 1: the conversion is dropped, one event remains.
  EXPECT_EQ(feature(m, 1, "length"), 1);
  EXPECT_EQ(feature(m, 1, "duration_seconds"), 0);
  EXPECT_EQ(feature(m, 1, "distinct_touchpoints"), 1);
  EXPECT_EQ(feature(m, 1, "touchpoint_entropy"), 0);
  EXPECT_EQ(feature(m, 1, "gap_median_seconds"), 0);
  EXPECT_EQ(feature(m, 1, "momentum"), 0);
  EXPECT_EQ(feature(m, 1, "first_touchpoint"), 1);
  EXPECT_EQ(feature(m, 1, "last_touchpoint"), 1);
  EXPECT_EQ(feature(m, 1, "touchpoint_share:b"), 1.0f);
  EXPECT_EQ(feature(m, 1, "bigram_share:00") + feature(m, 1, "bigram_share:01") + feature(m, 1, "bigram_share:02") +
                feature(m, 1, "bigram_share:03"),
            0.0f);

  // Journey 2: nothing before the conversion.
  for (int64_t c = 0; c < m.num_features(); ++c) {
    const std::string& name = m.spec.names[c];
    if (name == "customer_journey_number") EXPECT_EQ(m.at(2, c), 1) << name;
    else if (name == "first_touchpoint" || name == "last_touchpoint") EXPECT_EQ(m.at(2, c), -1) << name;
    else EXPECT_EQ(m.at(2, c), 0.0f) << name;
  }

  // Journey 3: one event on the last instant of the data.
  EXPECT_EQ(feature(m, 3, "length"), 1);
  EXPECT_EQ(feature(m, 3, "recency_days"), 0);
  EXPECT_EQ(feature(m, 3, "channel_share:(other)"), 1.0f);
  EXPECT_EQ(feature(m, 3, "start_weekday"), 1);  // Tuesday
}

TEST_P(Features, EvenGapCountTakesMidpointMedian) {
  JourneySet js = empty_set();
  add_journey(js, "x", {{"a", "web", 0}, {"a", "web", 4}, {"b", "web", 14}, {"a", "web", 15}, {"c", "web", 115}}, false);
  const FeatureMatrix m = jm::extract_features(ctx_, js, FeatureOptions{});
  EXPECT_EQ(feature(m, 0, "gap_median_seconds"), 7);  // gaps 4, 10, 1, 100 -> (4 + 10) / 2
  EXPECT_EQ(feature(m, 0, "revisits"), 1);           // the a after b; the immediate a repeat is not a revisit
}

// Random journeys, a third converted (their outcome event is not in the CSR, see add_journey).
JourneySet random_journeys(uint64_t seed, int n_journeys) {
  std::mt19937_64 rng(seed);
  JourneySet js = empty_set();
  for (int j = 0; j < n_journeys; ++j) {
    const int length = 1 + static_cast<int>(rng() % 12);
    const bool converted = rng() % 3 == 0;
    std::vector<Ev> events;
    int64_t t = static_cast<int64_t>(rng() % 100000);
    for (int e = 0; e < length; ++e) {
      t += static_cast<int64_t>(rng() % 600);
      events.push_back({"tp" + std::to_string(rng() % 7), "ch" + std::to_string(rng() % 3), t});
    }
    if (converted) events.push_back({"purchase", "web", t + 30});
    add_journey(js, "c" + std::to_string(100000 + j / 2), events, converted);
  }
  return js;
}

TEST_P(Features, NoLabelLeakage) {
  // From raw events: the outcome cut removes the outcome event and the events logged within a
  // second of it, so features equal those of the same log with those events deleted, and changing
  // the outcome event's channel or value changes nothing.
  std::mt19937_64 rng(7);
  jm::EventTable events, without;
  for (int c = 0; c < 300; ++c) {
    const std::string customer = "c" + std::to_string(100000 + c);
    const int length = 1 + static_cast<int>(rng() % 12);
    int64_t t = static_cast<int64_t>(rng() % 100000) * 1000;
    for (int e = 0; e < length; ++e) {
      t += static_cast<int64_t>(rng() % 600) * 1000;
      const std::string touchpoint = "tp" + std::to_string(rng() % 7);
      for (jm::EventTable* table : {&events, &without})
        table->push_back(static_cast<uint32_t>(table->customers.encode(customer)), kBase + t,
                         table->touchpoints.encode(touchpoint), table->channels.encode("web"), 0.0f, false);
    }
    if (rng() % 3 == 0) {
      // Logged with the purchase (within 1 s, before it): cut too.
      events.push_back(static_cast<uint32_t>(events.customers.encode(customer)), kBase + t + 29500,
                       events.touchpoints.encode("receipt"), events.channels.encode("web"), 0.0f, false);
      events.push_back(static_cast<uint32_t>(events.customers.encode(customer)), kBase + t + 30000,
                       events.touchpoints.encode("purchase"), events.channels.encode("ch" + std::to_string(c % 3)),
                       static_cast<float>(c), false);
    }
  }
  jm::OutcomeDefinition outcome;
  outcome.events = {{"purchase", "converted"}};
  const JourneySet cut = jm::build_outcome_journeys(ctx_, events, jm::JourneyOptions{}, outcome).journeys;
  const JourneySet plain = jm::build_journeys(ctx_, without, jm::JourneyOptions{});
  ASSERT_EQ(cut.size(), plain.size());
  FeatureOptions options;
  options.has_reference_time = true;
  options.reference_time_ms = kBase + 10 * 86400000LL;
  const jm::FeatureSpec spec = jm::fit_feature_spec(plain, options);
  const FeatureMatrix a = jm::extract_features(ctx_, cut, spec);
  const FeatureMatrix b = jm::extract_features(ctx_, plain, spec);
  EXPECT_EQ(a.values, b.values);
  EXPECT_EQ(std::count(cut.converted.begin(), cut.converted.end(), uint8_t{1}),
            std::count(events.touchpoint.begin(), events.touchpoint.end(), events.touchpoints.find("purchase")));
}

TEST_P(Features, PrefixModeEqualsFeaturesOfTruncatedJourneys) {
  const JourneySet full = random_journeys(11, 200);
  FeatureOptions options;
  options.has_reference_time = true;
  options.reference_time_ms = kBase + 10 * 86400000LL;
  jm::FeatureSpec spec = jm::fit_feature_spec(full, options);
  spec.options.prefix_events = 3;
  const FeatureMatrix prefix = jm::extract_features(ctx_, full, spec);

  JourneySet truncated = empty_set();
  for (int64_t j = 0; j < full.size(); ++j) {
    std::vector<Ev> events;
    const int64_t end = full.offsets[j + 1];
    for (int64_t e = full.offsets[j]; e < std::min(end, full.offsets[j] + 3); ++e)
      events.push_back({full.touchpoints.name(full.touchpoint[e]), full.channels.name(full.channel[e]),
                        (full.timestamp_ms[e] - kBase) / 1000});
    const bool empty_window = events.empty();  // a journey whose only event was its outcome
    if (empty_window) events.push_back({"purchase", "web", (full.start_ms[j] - kBase) / 1000});
    add_journey(truncated, full.customers.name(full.customer[j]), events, empty_window);
  }
  jm::FeatureSpec whole = spec;
  whole.options.prefix_events = 0;
  const FeatureMatrix expected = jm::extract_features(ctx_, truncated, whole);
  EXPECT_EQ(prefix.values, expected.values);

  // Prefix by time: 0 seconds keeps the events at the journey's first instant only.
  jm::FeatureSpec by_time = whole;
  by_time.options.prefix_seconds = 1e-3;
  const FeatureMatrix instant = jm::extract_features(ctx_, full, by_time);
  for (int64_t j = 0; j < full.size(); ++j)
    if (instant.at(j, instant.column("length")) > 0) EXPECT_EQ(instant.at(j, instant.column("duration_seconds")), 0.0f);
}

// The order-dependent features (distinct counts, revisits, entropies, gaps) by the definitions,
// with maps and a sort: the linear formulas must agree on short and long journeys, with and
// without a prefix window.
struct Reference {
  double distinct_touchpoints = 0, revisits = 0, touchpoint_entropy = 0, channel_count = 0, channel_entropy = 0;
  double gap_median_seconds = 0, gap_max_seconds = 0;
};

Reference reference_features(const JourneySet& js, int64_t begin, int64_t end) {
  Reference r;
  const int64_t n = end - begin;
  if (n <= 0) return r;
  std::map<int32_t, int64_t> touchpoint_count, channel_count;
  for (int64_t e = begin; e < end; ++e) {
    if (e > begin && touchpoint_count.count(js.touchpoint[e]) && js.touchpoint[e - 1] != js.touchpoint[e]) ++r.revisits;
    ++touchpoint_count[js.touchpoint[e]];
    ++channel_count[js.channel[e]];
  }
  auto entropy = [n](const std::map<int32_t, int64_t>& counts) {
    double h = 0;
    for (const auto& [value, count] : counts) h -= count / double(n) * std::log2(count / double(n));
    return h;
  };
  r.distinct_touchpoints = double(touchpoint_count.size());
  r.channel_count = double(channel_count.size());
  r.touchpoint_entropy = entropy(touchpoint_count);
  r.channel_entropy = entropy(channel_count);
  std::vector<int64_t> gaps;
  for (int64_t e = begin + 1; e < end; ++e) gaps.push_back(js.timestamp_ms[e] - js.timestamp_ms[e - 1]);
  std::sort(gaps.begin(), gaps.end());
  if (!gaps.empty()) {
    r.gap_median_seconds = 0.5 * double(gaps[(gaps.size() - 1) / 2] + gaps[gaps.size() / 2]) / 1000.0;
    r.gap_max_seconds = double(gaps.back()) / 1000.0;
  }
  return r;
}

TEST_P(Features, LinearFormulasEqualDefinitions) {
  std::mt19937_64 rng(5);
  JourneySet js = empty_set();
  for (int j = 0; j < 60; ++j) {
    // Lengths from 1 to a few thousand events; few values, so repeats, revisits and tied gaps abound.
    const int length = j % 10 == 9 ? 1000 + static_cast<int>(rng() % 3000) : 1 + static_cast<int>(rng() % 40);
    std::vector<Ev> events;
    int64_t t = static_cast<int64_t>(rng() % 100000);
    for (int e = 0; e < length; ++e) {
      t += static_cast<int64_t>(rng() % 4 == 0 ? rng() % 5 : rng() % 100000);
      events.push_back({"tp" + std::to_string(rng() % (2 + j % 30)), "ch" + std::to_string(rng() % 4), t});
    }
    add_journey(js, "c" + std::to_string(1000 + j), events, false);
  }
  for (int64_t prefix : {int64_t{0}, int64_t{25}}) {
    FeatureOptions options;
    options.prefix_events = prefix;
    const FeatureMatrix m = jm::extract_features(ctx_, js, options);
    for (int64_t j = 0; j < js.size(); ++j) {
      const int64_t begin = js.offsets[j];
      const int64_t end = prefix > 0 ? std::min(js.offsets[j + 1], begin + prefix) : js.offsets[j + 1];
      const Reference r = reference_features(js, begin, end);
      SCOPED_TRACE("journey " + std::to_string(j) + " prefix " + std::to_string(prefix));
      EXPECT_EQ(feature(m, j, "distinct_touchpoints"), r.distinct_touchpoints);
      EXPECT_EQ(feature(m, j, "revisits"), r.revisits);
      EXPECT_EQ(feature(m, j, "channel_count"), r.channel_count);
      EXPECT_NEAR(feature(m, j, "touchpoint_entropy"), r.touchpoint_entropy, 1e-5);
      EXPECT_NEAR(feature(m, j, "channel_entropy"), r.channel_entropy, 1e-5);
      EXPECT_EQ(feature(m, j, "gap_median_seconds"), float(r.gap_median_seconds));
      EXPECT_EQ(feature(m, j, "gap_max_seconds"), float(r.gap_max_seconds));
    }
  }
}

TEST_P(Features, SpecAppliesToNewVocabularyByName) {
  const JourneySet js = hand_journeys();
  FeatureOptions options;
  options.top_touchpoints = 2;
  options.has_reference_time = true;
  options.reference_time_ms = kBase + 86400000LL;
  const jm::FeatureSpec spec = jm::fit_feature_spec(js, options);
  // The same journey 0, in a set whose vocabulary assigns ids in another order.
  JourneySet other = empty_set();
  other.touchpoints.encode("zzz");
  other.touchpoints.encode("c");
  other.touchpoints.encode("b");
  other.channels.encode("app");
  add_journey(other, "dave", {{"a", "web", 0}, {"b", "web", 10}, {"a", "app", 40}, {"c", "web", 100}}, false);
  const FeatureMatrix m0 = jm::extract_features(ctx_, js, spec);
  const FeatureMatrix m1 = jm::extract_features(ctx_, other, spec);
  for (int64_t c = 0; c < m0.num_features(); ++c) {
    if (m0.spec.names[c] == "customer_journey_number") continue;
    EXPECT_EQ(m0.at(0, c), m1.at(0, c)) << m0.spec.names[c];
  }
}

TEST_P(Features, EmptyJourneySet) {
  const FeatureMatrix m = jm::extract_features(ctx_, empty_set(), FeatureOptions{});
  EXPECT_EQ(m.n_rows, 0);
  EXPECT_TRUE(m.values.empty());
  EXPECT_GT(m.num_features(), 0);
}

TEST_P(Features, GpuMatchesCpu) {
  if (GetParam() != Backend::Gpu) GTEST_SKIP() << "the CPU is the reference";
  const JourneySet js = random_journeys(3, 5000);
  const jm::FeatureSpec spec = jm::fit_feature_spec(js, FeatureOptions{});
  jm::Context cpu;
  cpu.num_threads = 2;
  const FeatureMatrix expected = jm::extract_features(cpu, js, spec);
  const FeatureMatrix actual = jm::extract_features(ctx_, js, spec);
  ASSERT_EQ(actual.values.size(), expected.values.size());
  for (size_t i = 0; i < expected.values.size(); ++i) {
    const std::string& name = spec.names[i % spec.names.size()];
    // Exact except where device log2/sin/cos may differ from glibc by a few ulp.
    const bool transcendental = name == "touchpoint_entropy" || name == "channel_entropy" ||
                                name == "start_hour_sin" || name == "start_hour_cos";
    if (transcendental) EXPECT_NEAR(actual.values[i], expected.values[i], 1e-5) << name;
    else EXPECT_EQ(actual.values[i], expected.values[i]) << name << " row " << i / spec.names.size();
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, Features, ::testing::Values(Backend::Cpu, Backend::Gpu),
                         [](const auto& info) { return info.param == Backend::Cpu ? "Cpu" : "Gpu"; });

TEST(FeatureScaling, StandardisesAndReappliesStoredParameters) {
  jm::Context ctx;
  const JourneySet js = random_journeys(5, 400);
  const FeatureMatrix m = jm::extract_features(ctx, js, FeatureOptions{});
  const jm::FeatureScaling scaling = jm::fit_scaling(m, {"length", "touchpoint_entropy"});
  EXPECT_EQ(scaling.transform, (std::vector<uint8_t>{1, 0}));  // log1p, identity
  const std::vector<float> z = jm::apply_scaling(m, scaling);
  for (int i = 0; i < 2; ++i) {
    double sum = 0, sum_sq = 0;
    for (int64_t r = 0; r < m.n_rows; ++r) {
      sum += z[r * 2 + i];
      sum_sq += z[r * 2 + i] * z[r * 2 + i];
    }
    EXPECT_NEAR(sum / m.n_rows, 0.0, 1e-5);
    EXPECT_NEAR(sum_sq / m.n_rows, 1.0, 1e-4);
  }
  // New data goes through the stored mean/scale, not its own statistics.
  const FeatureMatrix other = jm::extract_features(ctx, random_journeys(6, 50), m.spec);
  const std::vector<float> z_other = jm::apply_scaling(other, scaling);
  const int length = other.column("length");
  for (int64_t r = 0; r < other.n_rows; ++r)
    EXPECT_NEAR(z_other[r * 2], (std::log1p(other.at(r, length)) - scaling.mean[0]) / scaling.scale[0], 1e-5);
}

TEST(FeatureScaling, ShareBlocksUseSquareRootsAndOnePooledScale) {
  jm::Context ctx;
  const JourneySet js = random_journeys(8, 400);
  const FeatureMatrix m = jm::extract_features(ctx, js, FeatureOptions{});
  const std::vector<std::string> columns = {"touchpoint_share:tp0", "touchpoint_share:tp1", "channel_share:ch0"};
  const jm::FeatureScaling scaling = jm::fit_scaling(m, columns);
  EXPECT_EQ(scaling.transform, (std::vector<uint8_t>{2, 2, 2}));  // sqrt
  // One scale per block: the root of the mean variance of sqrt(share) over the block's columns.
  auto variance_of_sqrt = [&](const std::string& name) {
    const int c = m.column(name);
    double sum = 0, sum_sq = 0;
    for (int64_t r = 0; r < m.n_rows; ++r) {
      const double x = std::sqrt(m.at(r, c));
      sum += x;
      sum_sq += x * x;
    }
    const double mean = sum / m.n_rows;
    return sum_sq / m.n_rows - mean * mean;
  };
  const double pooled = std::sqrt(0.5 * (variance_of_sqrt(columns[0]) + variance_of_sqrt(columns[1])));
  EXPECT_NEAR(scaling.scale[0], pooled, 1e-5);
  EXPECT_EQ(scaling.scale[0], scaling.scale[1]);
  EXPECT_NEAR(scaling.scale[2], std::sqrt(variance_of_sqrt(columns[2])), 1e-5);
}

TEST(FeatureErrors, BadOptionsAndColumns) {
  jm::Context ctx;
  const JourneySet js = hand_journeys();
  FeatureOptions bad;
  bad.top_touchpoints = -1;
  EXPECT_THROW(jm::fit_feature_spec(js, bad), jm::ConfigError);
  bad = FeatureOptions{};
  bad.prefix_seconds = -2;
  EXPECT_THROW(jm::fit_feature_spec(js, bad), jm::ConfigError);
  const FeatureMatrix m = jm::extract_features(ctx, js, FeatureOptions{});
  EXPECT_THROW(jm::fit_scaling(m, {"no_such_column"}), jm::ConfigError);
  EXPECT_THROW(jm::fit_scaling(m, {"first_touchpoint"}), jm::ConfigError);
  jm::FeatureSpec broken = m.spec;
  broken.names.pop_back();
  EXPECT_THROW(jm::extract_features(ctx, js, broken), jm::ConfigError);
}

// External factors: cov:<factor> holds the factor of the bucket of the journey's first event, last
// in the matrix after the other columns; a spec that needs them refuses journeys without them.
TEST_P(Features, CovariateColumnsHoldTheFactorsOfTheStartBucket) {
  JourneySet js = hand_journeys();  // journeys 0-2 start on 2024-01-01, journey 3 on 2024-01-02
  auto table = std::make_shared<jm::CovariateTable>();
  table->bucket_seconds = 86400;
  table->names = {"campaign", "spend"};
  table->bucket_start_ms = {1704153600000LL};  // 2024-01-02
  table->values = {1.0, 2500.0};
  js.covariates = table;
  const FeatureMatrix m = jm::extract_features(ctx_, js, FeatureOptions{});
  EXPECT_EQ(m.spec.covariates, (std::vector<std::string>{"campaign", "spend"}));
  ASSERT_EQ(m.spec.names.back(), "cov:spend");
  EXPECT_EQ(m.spec.names[m.spec.names.size() - 2], "cov:campaign");
  for (int64_t j = 0; j < 3; ++j) {
    EXPECT_EQ(feature(m, j, "cov:campaign"), 0.0) << j;
    EXPECT_EQ(feature(m, j, "cov:spend"), 0.0) << j;
  }
  EXPECT_EQ(feature(m, 3, "cov:campaign"), 1.0);
  EXPECT_EQ(feature(m, 3, "cov:spend"), 2500.0);
  // The columns before them are those of the same journeys without covariates.
  JourneySet plain = hand_journeys();
  const FeatureMatrix without = jm::extract_features(ctx_, plain, FeatureOptions{});
  ASSERT_EQ(without.num_features() + 2, m.num_features());
  for (int64_t j = 0; j < m.n_rows; ++j)
    for (int64_t c = 0; c < without.num_features(); ++c) {
      const float a = without.at(j, c), b = m.at(j, c);
      EXPECT_TRUE(a == b || (std::isnan(a) && std::isnan(b))) << j << " " << without.spec.names[c];
    }

  // Applying the spec: journeys without covariates, with other buckets or without a factor fail clearly.
  try {
    jm::extract_features(ctx_, plain, m.spec);
    ADD_FAILURE() << "no error without covariates";
  } catch (const jm::ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("cov:campaign, cov:spend"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("--covariates"), std::string::npos) << error.what();
  }
  auto hourly = std::make_shared<jm::CovariateTable>(*table);
  hourly->bucket_seconds = 3600;
  plain.covariates = hourly;
  EXPECT_THROW(jm::extract_features(ctx_, plain, m.spec), jm::ConfigError);
  auto fewer = std::make_shared<jm::CovariateTable>(*table);
  fewer->names = {"campaign", "price"};
  plain.covariates = fewer;
  EXPECT_THROW(jm::extract_features(ctx_, plain, m.spec), jm::ConfigError);
}

}  // namespace
