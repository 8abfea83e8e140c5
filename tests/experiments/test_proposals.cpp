// Proposed experiments: sample sizes equal statsmodels', and on journeys with a planted leak the
// numbers of each friction point are those counted by hand and the biggest leak ranks first.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "journeymap/anomalies.hpp"
#include "journeymap/common.hpp"
#include "journeymap/context.hpp"
#include "journeymap/flows.hpp"
#include "journeymap/outcome.hpp"
#include "journeymap/proposals.hpp"

namespace {

TEST(Proposals, SampleSizesEqualStatsmodels) {
  // statsmodels 0.14.5: NormalIndPower().solve_power(effect_size=proportion_effectsize(p1, p0),
  // alpha=0.05, power=0.8, ratio=1), rounded up.
  EXPECT_EQ(jm::sample_size_per_arm(0.40, 0.42, 0.05, 0.8), 9492);       // 9491.757
  EXPECT_EQ(jm::sample_size_per_arm(0.30, 0.285, 0.05, 0.8), 14436);     // 14435.854
  EXPECT_EQ(jm::sample_size_per_arm(0.05, 0.0525, 0.05, 0.8), 122107);  // 122106.781
  EXPECT_EQ(jm::sample_size_per_arm(0.3, 0.3, 0.05, 0.8), 0);
}

// 1,000 journeys over 10 days: home -> product (all), then 300 go on to cart, 150 of those to
// checkout, and 120 of those convert. The 700 that stop at product are the planted leak.
jm::JourneySet leaky_journeys() {
  jm::EventTable events;
  const int32_t web = events.channels.encode("web");
  const int32_t home = events.touchpoints.encode("home"), product = events.touchpoints.encode("product"),
                cart = events.touchpoints.encode("cart"), checkout = events.touchpoints.encode("checkout"),
                buy = events.touchpoints.encode("buy");
  for (int i = 0; i < 1000; ++i) {
    const auto customer = static_cast<uint32_t>(events.customers.encode("c" + std::to_string(i)));
    int64_t t = 1'767'225'600'000 + int64_t{i} * 864'000;  // 1,000 starts spread over 10 days
    events.push_back(customer, t, home, web, 0.0f, false);
    events.push_back(customer, t += 1000, product, web, 0.0f, false);
    if (i >= 300) continue;
    events.push_back(customer, t += 1000, cart, web, 0.0f, false);
    if (i >= 150) continue;
    events.push_back(customer, t += 1000, checkout, web, 0.0f, false);
    if (i >= 120) continue;
    events.push_back(customer, t += 60000, buy, web, 10.0f, true);
  }
  return jm::build_outcome_journeys(jm::make_context(jm::Backend::Cpu), events, jm::JourneyOptions{},
                                    jm::OutcomeDefinition{}).journeys;
}

TEST(Proposals, FrictionPointsAreCountedAndTheBiggestLeakRanksFirst) {
  const jm::JourneySet journeys = leaky_journeys();
  jm::FlowOptions flow_options;
  flow_options.funnel = {"home", "product", "cart", "checkout"};
  const jm::FlowResult flows = jm::compute_flows(jm::make_context(jm::Backend::Cpu), journeys, flow_options);
  jm::ProposalOptions options;
  options.max_proposals = 20;
  const jm::ProposalResult result = jm::propose_experiments(journeys, flows.funnel, options);
  EXPECT_NEAR(result.data_days, 10.0, 0.01);
  const jm::Proposal* product_to_cart = nullptr;
  const jm::Proposal* abandon_product = nullptr;
  for (const jm::Proposal& p : result.proposals) {
    if (p.kind == "funnel step" && p.from == "product" && p.to == "cart") product_to_cart = &p;
    if (p.kind == "abandonment" && p.from == "product") abandon_product = &p;
  }
  ASSERT_NE(product_to_cart, nullptr);
  EXPECT_DOUBLE_EQ(product_to_cart->baseline_rate, 0.3);
  EXPECT_DOUBLE_EQ(product_to_cart->target_rate, 1.0 - 0.7 * 0.95);  // 70% lost becomes 66.5%
  EXPECT_NEAR(product_to_cart->journeys_per_day, 100.0, 0.1);
  // About 100 a day x 3.5 points more going on x 120 / 300 of those converting.
  EXPECT_NEAR(product_to_cart->extra_conversions_per_day, product_to_cart->journeys_per_day * 0.035 * 0.4, 1e-9);
  EXPECT_EQ(product_to_cart->sample_size_per_arm, jm::sample_size_per_arm(0.3, 1.0 - 0.7 * 0.95, 0.05, 0.8));
  EXPECT_NEAR(product_to_cart->days_needed, 2.0 * product_to_cart->sample_size_per_arm / product_to_cart->journeys_per_day, 0.1);
  ASSERT_NE(abandon_product, nullptr);
  EXPECT_DOUBLE_EQ(abandon_product->baseline_rate, 0.7);  // 700 of the 1,000 visits end there
  EXPECT_NEAR(abandon_product->extra_conversions_per_day, abandon_product->journeys_per_day * 0.7 * 0.05 * 0.4, 1e-9);
  // The biggest leak (journeys stopping at product) comes first; no step with every journey going on.
  EXPECT_EQ(result.proposals.front().from, "product");
  for (const jm::Proposal& p : result.proposals) EXPECT_FALSE(p.kind == "funnel step" && p.from == "home") << p.hypothesis;
  for (size_t i = 1; i < result.proposals.size(); ++i)
    EXPECT_GE(result.proposals[i - 1].extra_conversions_per_day, result.proposals[i].extra_conversions_per_day);

  options.minimum_detectable_effect = 0.0;
  EXPECT_THROW(jm::propose_experiments(journeys, flows.funnel, options), jm::ConfigError);
  options.minimum_detectable_effect = 0.05;
  options.power = 0.3;
  EXPECT_THROW(jm::propose_experiments(journeys, flows.funnel, options), jm::ConfigError);
}

// Flagged journeys grouped by their dominant feature: a cluster converting worse than ordinary
// journeys is proposed with its counts; one too small, or converting better, is not.
TEST(Proposals, AnomalyClustersThatLoseJourneysBecomeProposals) {
  const jm::JourneySet journeys = leaky_journeys();  // journeys 0-119 convert, 120-999 do not
  jm::ProposalOptions options;
  options.max_proposals = 50;
  jm::ProposalResult result = jm::propose_experiments(journeys, jm::FunnelResult{}, options);
  const size_t before = result.proposals.size();
  jm::JourneyAnomalies anomalies;
  anomalies.scaling.columns = {"length", "revisits", "touchpoint_share:cart"};
  anomalies.flagged_feature.assign(1000, -1);
  anomalies.flagged_direction.assign(1000, 0);
  auto flag = [&](int first, int last, int32_t feature, int8_t direction) {
    for (int j = first; j < last; ++j) {
      anomalies.flagged_feature[static_cast<size_t>(j)] = feature;
      anomalies.flagged_direction[static_cast<size_t>(j)] = direction;
    }
  };
  flag(900, 1000, 1, 1);   // 100 journeys, none converting: proposed
  flag(850, 900, 0, -1);   // 50 journeys: below min_journeys (100)
  flag(0, 110, 2, 1);      // 110 converting journeys: not friction
  jm::add_anomaly_cluster_proposals(result, journeys.converted.host(), anomalies, options);
  ASSERT_EQ(result.proposals.size(), before + 1);
  const auto cluster = std::find_if(result.proposals.begin(), result.proposals.end(),
                                    [](const jm::Proposal& p) { return p.kind == "anomaly cluster"; });
  ASSERT_NE(cluster, result.proposals.end());
  EXPECT_EQ(cluster->from, "revisits");
  EXPECT_EQ(cluster->to, "above");
  EXPECT_DOUBLE_EQ(cluster->baseline_rate, 1.0);
  EXPECT_DOUBLE_EQ(cluster->target_rate, 0.95);
  EXPECT_NEAR(cluster->journeys_per_day, 10.0, 0.01);  // 100 journeys over 10 days
  EXPECT_NEAR(cluster->extra_conversions_per_day, 0.5, 1e-3);
  EXPECT_EQ(cluster->sample_size_per_arm, jm::sample_size_per_arm(1.0, 0.95, 0.05, 0.8));
  // Ordinary journeys: the 740 unflagged, 10 of them converting (110-119).
  EXPECT_NE(cluster->hypothesis.find("100 anomalous journeys whose revisits is far above normal"), std::string::npos)
      << cluster->hypothesis;
  char ordinary_lost[32];
  std::snprintf(ordinary_lost, sizeof ordinary_lost, "against %.1f%% of ordinary", 100.0 * (1.0 - 10.0 / 740.0));
  EXPECT_NE(cluster->hypothesis.find(ordinary_lost), std::string::npos) << cluster->hypothesis;
  for (size_t i = 1; i < result.proposals.size(); ++i)
    EXPECT_GE(result.proposals[i - 1].extra_conversions_per_day, result.proposals[i].extra_conversions_per_day);
}

}  // namespace
