// Filters and period comparison: the statistics against hand-computed values, every count against
// a brute-force count, the generator's planted checkout spike found and ordinary weeks not flagged.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "journeymap/common.hpp"
#include "journeymap/compare.hpp"
#include "journeymap/generate.hpp"
#include "journeymap/ingest.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/outcome.hpp"
#include "journeymap/pipeline.hpp"
#include "journeymap/result_file.hpp"
#include "journeymap/run_config.hpp"
#include "journeymap/timestamp.hpp"
#include "test_helpers.hpp"

namespace {

constexpr int64_t kDay = 86400000;

TEST(Compare, TwoProportionTestAndBenjaminiHochbergByHand) {
  double z = 0.0;
  // 30/100 against 50/100: pooled 0.4, se = sqrt(0.4 * 0.6 * 0.02), z = -0.2 / se = -2.8868.
  EXPECT_NEAR(jm::two_proportion_p_value(30, 100, 50, 100, &z), 0.0038924, 1e-6);
  EXPECT_NEAR(z, -2.8867513, 1e-6);
  EXPECT_EQ(jm::two_proportion_p_value(0, 100, 0, 50, &z), 1.0);  // pooled rate 0: nothing to test
  EXPECT_TRUE(std::isnan(z));
  EXPECT_EQ(jm::two_proportion_p_value(3, 10, 1, 0), 1.0);  // an empty period
  const std::vector<double> adjusted = jm::benjamini_hochberg({0.01, 0.04, 0.03, 0.005});
  const std::vector<double> expected = {0.02, 0.04, 0.04, 0.02};
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(adjusted[i], expected[i], 1e-12) << i;
}

// The adjustment as defined: ranks by a stable sort of the p-values, q_(r) the running minimum of
// p_(r) m / r from the largest down, capped at 1.
std::vector<double> benjamini_hochberg_by_definition(const std::vector<double>& p) {
  std::vector<size_t> order(p.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  std::vector<double> q(p.size());
  double running = 1.0;
  for (size_t r = p.size(); r-- > 0;) {
    running = std::min(running, p[order[r]] * static_cast<double>(p.size()) / static_cast<double>(r + 1));
    q[order[r]] = std::min(1.0, running);
  }
  return q;
}

// In place (the patterns' millions of p-values) equals the definition bit for bit, ties included;
// a NaN cannot break the sort: it ranks last, as a value above every p-value would.
TEST(Compare, BenjaminiHochbergInPlaceEqualsTheDefinition) {
  std::mt19937_64 rng(11);
  for (const size_t m : {size_t{0}, size_t{1}, size_t{2}, size_t{17}, size_t{5000}}) {
    std::vector<double> p(m);
    for (double& value : p) value = rng() % 3 == 0 ? 0.25 * static_cast<double>(rng() % 5) : std::ldexp(double(rng() >> 11), -53);
    std::vector<double> in_place = p;
    jm::benjamini_hochberg_in_place(in_place);
    EXPECT_EQ(in_place, benjamini_hochberg_by_definition(p)) << m;
    EXPECT_EQ(jm::benjamini_hochberg(p), in_place) << m;
  }
  std::vector<double> p = {0.01, std::nan(""), 0.04, 0.03, std::nan(""), 0.005};
  std::vector<double> above_all = p;
  for (double& value : above_all)
    if (std::isnan(value)) value = 2.0;
  jm::benjamini_hochberg_in_place(p);
  const std::vector<double> expected = benjamini_hochberg_by_definition(above_all);
  for (size_t i = 0; i < p.size(); ++i) EXPECT_EQ(p[i], expected[i]) << i;
}

// Customer c's events: touchpoints one minute apart from `start`, channel per event, converting or not.
void add_journey(jm::EventTable& events, const std::string& customer, int64_t start,
                 const std::vector<std::string>& touchpoints, const std::string& channel, bool convert) {
  const uint32_t id = static_cast<uint32_t>(events.customers.encode(customer));
  int64_t t = start;
  for (const std::string& name : touchpoints) {
    events.push_back(id, t, events.touchpoints.encode(name), events.channels.encode(channel), 0.0f, false);
    t += 60000;
  }
  if (convert) events.push_back(id, t, events.touchpoints.encode("purchase"), events.channels.encode("store"), 9.0f, true);
}

TEST(Compare, CountsEqualBruteForceOnHandMadeJourneys) {
  const int64_t t0 = 1767225600000;  // 2026-01-01
  jm::EventTable events;
  // Period a (day 0): 4 journeys, 1 converts; period b (day 1): 3 journeys, 2 convert; day 5: neither.
  add_journey(events, "a1", t0, {"home", "cart", "checkout"}, "web", true);
  add_journey(events, "a2", t0 + 1000, {"home", "cart"}, "web", false);
  add_journey(events, "a3", t0 + 2000, {"home"}, "app", false);
  add_journey(events, "a4", t0 + 3000, {"cart", "home"}, "app", false);
  add_journey(events, "b1", t0 + kDay, {"home", "cart", "checkout"}, "web", true);
  add_journey(events, "b2", t0 + kDay + 1, {"home", "search", "cart", "checkout"}, "web", true);
  add_journey(events, "b3", t0 + kDay + 2, {"home"}, "web", false);
  add_journey(events, "x1", t0 + 5 * kDay, {"home", "cart"}, "web", true);
  jm::Context ctx;
  // As in `run`: each journey ends before its purchase, which becomes its outcome.
  const jm::JourneySet journeys =
      jm::build_outcome_journeys(ctx, events, jm::JourneyOptions{}, jm::OutcomeDefinition{}).journeys;
  jm::FunnelResult funnel;
  for (const char* step : {"home", "cart", "checkout"}) funnel.steps.push_back(journeys.touchpoints.find(step));
  jm::CompareOptions options;
  options.a = {t0, t0 + kDay};
  options.b = {t0 + kDay, t0 + 2 * kDay};
  options.top_paths = 2;
  const jm::PeriodComparison c = jm::compare_periods(ctx, journeys, options, funnel);
  EXPECT_EQ(c.a_journeys, 4);
  EXPECT_EQ(c.b_journeys, 3);
  ASSERT_EQ(c.rates.size(), 1u + 3u + 2u);
  const auto expect_rate = [&](size_t i, const std::string& name, int64_t ac, int64_t at, int64_t bc, int64_t bt) {
    EXPECT_EQ(c.rates[i].name, name);
    EXPECT_EQ(c.rates[i].a_count, ac) << name;
    EXPECT_EQ(c.rates[i].a_total, at) << name;
    EXPECT_EQ(c.rates[i].b_count, bc) << name;
    EXPECT_EQ(c.rates[i].b_total, bt) << name;
    EXPECT_DOUBLE_EQ(c.rates[i].p_value, jm::two_proportion_p_value(ac, at, bc, bt)) << name;
  };
  expect_rate(0, "all journeys", 1, 4, 2, 3);
  // In order with gaps: a4 (cart > home) reaches home only; b2 reaches all three through search.
  expect_rate(1, "reach home", 4, 4, 3, 3);
  expect_rate(2, "cart after home", 2, 4, 2, 3);
  expect_rate(3, "checkout after cart", 1, 2, 2, 2);
  // Paths of both periods by journeys: two tie at 2 (a1 and b1, a3 and b3); the one followed first wins.
  expect_rate(4, "home > cart > checkout", 1, 4, 1, 3);
  expect_rate(5, "home", 1, 4, 1, 3);
  for (const jm::ComparedRate& r : c.rates) EXPECT_GE(r.p_adjusted, r.p_value);

  jm::CompareOptions inverted = options;
  inverted.b = {t0 + 2 * kDay, t0 + kDay};
  EXPECT_THROW(jm::compare_periods(ctx, journeys, inverted, funnel), jm::ConfigError);
}

TEST(Compare, FilterKeepsTimeRangeAndChannelsButEveryOutcome) {
  const int64_t t0 = 1767225600000;
  jm::EventTable events;
  add_journey(events, "early", t0 - kDay, {"home", "cart"}, "web", true);
  add_journey(events, "web", t0, {"home", "cart"}, "web", true);     // purchase on "store" is kept
  add_journey(events, "app", t0 + 10, {"home"}, "app", false);
  add_journey(events, "late", t0 + 3 * kDay, {"home"}, "web", false);
  jm::EventFilter filter;
  filter.from_ms = t0;
  filter.to_ms = t0 + 2 * kDay;
  filter.has_from = filter.has_to = true;
  filter.channels = {"web"};
  const jm::EventFilterStats stats = jm::filter_events(events, filter, jm::OutcomeDefinition{});
  EXPECT_EQ(stats.events_before, 3 + 3 + 1 + 1);
  EXPECT_EQ(stats.dropped_by_time, 3 + 1);
  EXPECT_EQ(stats.dropped_by_channel, 1);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events.touchpoints.name(events.touchpoint[2]), "purchase");
  EXPECT_EQ(events.is_conversion[2], 1);
  EXPECT_NE(jm::describe_event_filter(filter, stats).find("3 of 8 events"), std::string::npos);

  jm::EventFilter unknown;
  unknown.channels = {"fax"};
  try {
    jm::filter_events(events, unknown, jm::OutcomeDefinition{});
    FAIL() << "an unknown channel was accepted";
  } catch (const jm::ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("no channel 'fax'"), std::string::npos) << error.what();
  }
}

// Planted truth: the generator's checkout-abandonment spike day converts far less than the week
// before (found); two ordinary weeks do not differ in conversion rate (not flagged).
TEST(Compare, FindsThePlantedSpikeAndNotOrdinaryWeeks) {
  jm::GeneratorOptions generator;
  generator.journeys = 30000;
  generator.seed = 5;
  generator.num_threads = 2;
  const auto csv = (jm::testing::scratch_dir() / "events.csv").string();
  jm::generate_dataset(generator, csv);
  jm::CsvOptions csv_options;
  csv_options.num_threads = 2;
  jm::IngestResult ingest = jm::read_events_csv(csv, csv_options);
  jm::Context ctx;
  ctx.num_threads = 2;
  jm::JourneyOptions journey_options;
  journey_options.session_gap_seconds = jm::kGeneratedJourneyGapSeconds;
  const jm::JourneySet journeys =
      jm::build_outcome_journeys(ctx, ingest.events, journey_options, jm::OutcomeDefinition{}).journeys;
  jm::FunnelResult funnel;
  for (const char* step : {"product_view", "add_to_cart", "checkout"}) funnel.steps.push_back(journeys.touchpoints.find(step));
  const int64_t start = *jm::parse_timestamp(generator.start_date);
  const int64_t spike = start + generator.spike_day * kDay;

  jm::CompareOptions options;
  options.a = {spike, spike + kDay};
  options.b = {spike - 7 * kDay, spike};
  const jm::PeriodComparison spike_week = jm::compare_periods(ctx, journeys, options, funnel);
  EXPECT_LT(spike_week.rates[0].a_rate, spike_week.rates[0].b_rate);
  EXPECT_LT(spike_week.rates[0].p_adjusted, 0.001);

  options.a = {start + 14 * kDay, start + 21 * kDay};
  options.b = {start + 21 * kDay, start + 28 * kDay};
  const jm::PeriodComparison ordinary = jm::compare_periods(ctx, journeys, options, funnel);
  EXPECT_GT(ordinary.a_journeys, 1000);
  EXPECT_GT(ordinary.rates[0].p_adjusted, 0.01);
}

// `run` with every filter and a comparison: the journeys start inside the range, their touches are
// on the kept channel, the flows cover one segment, and /compare is written.
TEST(Compare, RunAppliesFiltersAndWritesTheComparison) {
  const auto dir = jm::testing::scratch_dir();
  jm::GeneratorOptions generator;
  generator.journeys = 4000;
  generator.seed = 9;
  generator.num_threads = 2;
  jm::RunConfig config;
  config.input_path = (dir / "events.csv").string();
  jm::generate_dataset(generator, config.input_path);
  config.output_path = (dir / "result.h5").string();
  config.threads = 2;
  config.device = jm::DeviceChoice::Cpu;
  config.progress = false;
  config.journeys.session_gap_seconds = jm::kGeneratedJourneyGapSeconds;
  config.model_enabled = config.anomalies_enabled = config.patterns_enabled = false;
  const int64_t start = *jm::parse_timestamp(generator.start_date);
  config.filter.from_ms = start + 10 * kDay;
  config.filter.to_ms = start + 40 * kDay;
  config.filter.has_from = config.filter.has_to = true;
  config.filter.channels = {"web"};
  config.filter.segments = {0};
  config.compare_enabled = true;
  config.compare.a = {start + 10 * kDay, start + 25 * kDay};
  config.compare.b = {start + 25 * kDay, start + 40 * kDay};
  const jm::RunReport report = jm::run_pipeline(config);

  const jm::ResultReader result(config.output_path);
  for (const int64_t t : result.read_int64("/journeys/start_ms")) {
    EXPECT_GE(t, config.filter.from_ms);
    EXPECT_LT(t, config.filter.to_ms);
  }
  const std::vector<std::string> channels = result.read_strings("/vocab/channels");
  for (const int32_t c : result.read_int32("/journeys/channel")) EXPECT_EQ(channels[static_cast<size_t>(c)], "web");
  const std::vector<int32_t> labels = result.read_int32("/segments/label");
  EXPECT_EQ(result.read_int_attribute("/flows", "n_journeys"), std::count(labels.begin(), labels.end(), 0));
  EXPECT_LT(result.read_int_attribute("/flows", "n_journeys"), static_cast<int64_t>(labels.size()));
  // The periods cover the whole filtered range, and the comparison the chosen segment.
  EXPECT_EQ(result.read_int_attribute("/compare", "a_journeys") + result.read_int_attribute("/compare", "b_journeys"),
            std::count(labels.begin(), labels.end(), 0));
  const std::vector<std::string> warnings = result.read_strings("/meta/warnings");
  const auto mentions = [&](const std::string& text) {
    return std::any_of(warnings.begin(), warnings.end(), [&](const std::string& w) { return w.find(text) != std::string::npos; });
  };
  EXPECT_TRUE(mentions("filter: kept events from")) << warnings.size();
  EXPECT_TRUE(mentions("cover segment 0")) << warnings.size();
}

}  // namespace
