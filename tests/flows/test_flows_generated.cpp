// Flows and attribution on the synthetic dataset: the structure the generator plants (and reports
// in its truth file) must be recovered exactly or ranked first.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "journeymap/attribution.hpp"
#include "journeymap/flows.hpp"
#include "journeymap/outcome.hpp"
#include "journeymap/generate.hpp"
#include "journeymap/ingest.hpp"
#include "journeymap/journeys.hpp"
#include "test_helpers.hpp"

namespace {

using json = nlohmann::json;

struct Generated {
  jm::JourneySet journeys;
  json truth;
};

const Generated& generated() {
  static const Generated data = [] {
    const auto dir = jm::testing::test_output_dir() / "flows_generated";
    std::filesystem::create_directories(dir);
    jm::GeneratorOptions options;
    options.journeys = 6000;
    options.seed = 77;
    options.num_threads = 2;
    const auto summary = jm::generate_dataset(options, (dir / "events.csv").string());
    Generated g;
    std::ifstream(summary.truth_json_path) >> g.truth;
    jm::CsvOptions csv;
    const jm::IngestResult ingest = jm::read_events_csv(summary.csv_path, csv);
    jm::JourneyOptions journey_options;
    journey_options.session_gap_seconds = jm::kGeneratedJourneyGapSeconds;
    jm::Context ctx;
    ctx.num_threads = 2;
    jm::EventTable events = ingest.events;
    g.journeys = jm::build_outcome_journeys(ctx, events, journey_options, jm::OutcomeDefinition{}).journeys;
    return g;
  }();
  return data;
}

jm::Context cpu() {
  jm::Context ctx;
  ctx.num_threads = 2;
  return ctx;
}

TEST(FlowsOnGeneratedData, FunnelOfPlantedMotifCountsExactlyTheTruth) {
  const Generated& g = generated();
  ASSERT_EQ(g.journeys.size(), g.truth["counts"]["journeys"].get<int64_t>());
  for (const auto& motif : g.truth["motifs"]) {
    // A funnel matches in order with gaps allowed: exactly "contains the motif as a subsequence".
    jm::FlowOptions options;
    for (const auto& item : motif["items"]) options.funnel.push_back(item.get<std::string>());
    const jm::FlowResult flows = jm::compute_flows(cpu(), g.journeys, options);
    EXPECT_EQ(flows.funnel.reached.back(), motif["observed"]["journeys_with"].get<int64_t>()) << motif["name"];
    EXPECT_EQ(flows.funnel.converted.back(), motif["observed"]["conversions_with"].get<int64_t>()) << motif["name"];
  }
}

TEST(FlowsOnGeneratedData, ConversionsCountedAndAbandonmentPointFound) {
  const Generated& g = generated();
  const jm::FlowResult flows = jm::compute_flows(cpu(), g.journeys, jm::FlowOptions{});
  const int32_t conversion = g.journeys.touchpoints.find(g.truth["conversion_touchpoint"].get<std::string>());
  for (const jm::PathVariant& v : flows.variants)  // the outcome event is cut from every journey
    EXPECT_EQ(std::count(v.touchpoints.begin(), v.touchpoints.end(), conversion), 0);
  EXPECT_EQ(flows.n_converted, g.truth["counts"]["conversions"].get<int64_t>());
  // The abandonment motif ends journeys at its last touchpoint: it has the highest drop-off rate
  // among touchpoints with real traffic.
  std::string abandonment_exit;
  for (const auto& motif : g.truth["motifs"])
    if (motif["effect"] == "abandonment") abandonment_exit = motif["items"].back().get<std::string>();
  const int32_t T = flows.n_touchpoints, C = flows.n_channels;
  double worst = -1;
  std::string worst_name;
  for (int32_t t = 0; t < T; ++t) {
    int64_t visits = 0, exits = 0;
    for (int32_t c = 0; c < C; ++c) {
      visits += flows.channel_visits[t * C + c];
      exits += flows.channel_exits[t * C + c];
    }
    if (visits >= 100 && static_cast<double>(exits) / visits > worst) {
      worst = static_cast<double>(exits) / visits;
      worst_name = g.journeys.touchpoints.name(t);
    }
  }
  EXPECT_EQ(worst_name, abandonment_exit);
  // Every converted journey ends in the conversion state; the transitions see all of them.
  int64_t into_conversion = 0;
  for (int32_t from = 0; from < flows.n_states(); ++from) into_conversion += flows.transition(from, T + 1);
  EXPECT_EQ(into_conversion, flows.n_converted);
}

TEST(FlowsOnGeneratedData, AttributionExcludesTheConversionEventAndBalances) {
  const Generated& g = generated();
  const jm::AttributionResult a = jm::compute_attribution(cpu(), g.journeys, jm::AttributionOptions{});
  const int32_t conversion = g.journeys.touchpoints.find(g.truth["conversion_touchpoint"].get<std::string>());
  EXPECT_EQ(a.by_touchpoint.markov[conversion], 0.0);  // the outcome event is never a touch
  // The fitted chain reproduces the observed conversion rate: observed visit counts conserve flow
  // (in = out at every state), so they are the chain's expected visits and its absorption into
  // conversion is the observed share of converting journeys.
  EXPECT_NEAR(a.by_touchpoint.markov_conversion_probability,
              static_cast<double>(a.conversions) / static_cast<double>(g.journeys.size()), 1e-9);
  EXPECT_NEAR(a.by_channel.markov_conversion_probability,
              static_cast<double>(a.conversions) / static_cast<double>(g.journeys.size()), 1e-9);
  double markov = 0, linear = 0;
  for (double x : a.by_channel.markov) markov += x;
  for (double x : a.by_channel.linear) linear += x;
  EXPECT_NEAR(markov, static_cast<double>(a.conversions_attributed), 1e-6);
  EXPECT_NEAR(linear, static_cast<double>(a.conversions_attributed), 1e-6);
}

}  // namespace
