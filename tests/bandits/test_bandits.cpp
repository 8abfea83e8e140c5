// Bandits: the posterior equals the ridge solution, the winning probabilities equal the draws'
// frequencies, off-policy intervals cover the planted values of the generator's checkout offers
// (and the naive per-action means do not), the Thompson policy beats a uniform split and learns past
// the best fixed offer in simulation, and bad logs get clear errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "journeymap/bandits.hpp"
#include "journeymap/common.hpp"
#include "journeymap/context.hpp"
#include "journeymap/generate.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/outcome.hpp"
#include "journeymap/pipeline.hpp"
#include "journeymap/run_config.hpp"
#include "test_helpers.hpp"

namespace {

// Journeys of an events file whose decisions are in the `offer` and `offer_propensity` columns.
jm::JourneySet load_journeys(const std::string& events_csv) {
  jm::RunConfig config;
  config.input_path = events_csv;
  config.csv.columns.dimensions = {jm::parse_dimension_column("offer"), jm::parse_dimension_column("offer_propensity")};
  config.journeys.session_gap_seconds = jm::kGeneratedJourneyGapSeconds;
  config.progress = false;
  const jm::Context ctx = jm::make_context(jm::Backend::Cpu);
  jm::IngestResult ingest = jm::read_configured_input(config, ctx);
  return jm::build_outcome_journeys(ctx, ingest.events, config.journeys, jm::effective_outcome(config)).journeys;
}

// Small contexts keep the replications quick: no bigram columns, eight touchpoints.
jm::BanditOptions test_options() {
  jm::BanditOptions options;
  options.features.bigram_buckets = 0;
  options.features.top_touchpoints = 8;
  return options;
}

// One generated dataset with planted checkout offers, shared by the tests that need one.
struct PlantedOffers {
  jm::JourneySet journeys;
  jm::LoggedDecisions logged;
  std::vector<double> reward_probability;  // [n x K] planted P(purchase) under each action
  std::vector<double> logging_probability;  // [n x K] the logging policy's probabilities
};

const PlantedOffers& planted_offers() {
  static const PlantedOffers data = [] {
    const auto dir = jm::testing::scratch_dir();
    jm::GeneratorOptions generator;
    generator.journeys = 100000;
    generator.seed = 5;
    generator.num_threads = 2;
    generator.checkout_offers = true;
    const std::string events_csv = (dir / "offers.csv").string();
    jm::generate_dataset(generator, events_csv);
    PlantedOffers out;
    out.journeys = load_journeys(events_csv);
    jm::BanditOptions options = test_options();
    options.actions = {"none", "discount", "free_shipping"};
    out.logged = jm::logged_decisions(jm::make_context(jm::Backend::Cpu), out.journeys, options, events_csv);
    const std::string truth = jm::truth_csv_path_for(events_csv);
    out.reward_probability = jm::planted_decision_values(truth, out.journeys, out.logged, "p_purchase_");
    out.logging_probability = jm::planted_decision_values(truth, out.journeys, out.logged, "propensity_");
    return out;
  }();
  return data;
}

// Solves the small dense system m x = v by Gaussian elimination with partial pivoting (reference).
std::vector<double> solve(std::vector<std::vector<double>> m, std::vector<double> v) {
  const size_t n = v.size();
  for (size_t c = 0; c < n; ++c) {
    size_t pivot = c;
    for (size_t r = c + 1; r < n; ++r)
      if (std::abs(m[r][c]) > std::abs(m[pivot][c])) pivot = r;
    std::swap(m[c], m[pivot]);
    std::swap(v[c], v[pivot]);
    for (size_t r = c + 1; r < n; ++r) {
      const double f = m[r][c] / m[c][c];
      for (size_t k = c; k < n; ++k) m[r][k] -= f * m[c][k];
      v[r] -= f * v[c];
    }
  }
  std::vector<double> x(n);
  for (size_t c = n; c-- > 0;) {
    double s = v[c];
    for (size_t k = c + 1; k < n; ++k) s -= m[c][k] * x[k];
    x[c] = s / m[c][c];
  }
  return x;
}

TEST(LinearThompson, PosteriorMeanIsTheRidgeSolution) {
  const int d = 4, n = 300;
  const double lambda = 2.0;
  std::mt19937_64 random(3);
  std::normal_distribution<double> normal(0.0, 1.0);
  jm::LinearThompsonPolicy policy(2, d, lambda, 0.25, 1.0);
  std::vector<std::vector<double>> gram(d, std::vector<double>(d, 0.0));
  std::vector<double> target(d, 0.0);
  for (int i = 0; i < n; ++i) {
    std::vector<double> x(d);
    for (double& v : x) v = normal(random);
    const double reward = 0.5 * x[0] - 0.2 * x[2] + 0.1 * normal(random);
    policy.observe(1, x.data(), reward);
    for (int a = 0; a < d; ++a) {
      for (int b = 0; b < d; ++b) gram[a][b] += x[a] * x[b];
      target[a] += reward * x[a];
    }
  }
  for (int a = 0; a < d; ++a) gram[a][a] += lambda;
  policy.refresh();
  const std::vector<double> weights = solve(gram, target);
  const std::vector<double> x = {0.3, -1.2, 0.7, 2.0};
  double expected = 0.0;
  for (int a = 0; a < d; ++a) expected += weights[a] * x[a];
  const std::vector<double> rewards = policy.expected_rewards(x.data());
  EXPECT_NEAR(rewards[1], expected, 1e-10);
  EXPECT_EQ(rewards[0], 0.0);  // nothing observed: the prior mean
}

TEST(LinearThompson, WinningProbabilitiesEqualTheDrawsFrequencies) {
  const int d = 3;
  jm::LinearThompsonPolicy policy(3, d, 1.0, 0.25, 1.0);
  std::mt19937_64 random(9);
  std::normal_distribution<double> normal(0.0, 1.0);
  for (int i = 0; i < 60; ++i) {
    const std::vector<double> x = {normal(random), normal(random), 1.0};
    const int action = i % 3;
    policy.observe(action, x.data(), 0.1 * action + 0.3 * x[0] * (action == 2) + 0.2 * normal(random));
  }
  policy.refresh();
  const std::vector<double> x = {0.4, -0.3, 1.0};
  const std::vector<double> p = policy.probabilities(x.data());
  double total = 0.0;
  for (double v : p) total += v;
  EXPECT_NEAR(total, 1.0, 1e-12);
  std::vector<int> wins(3, 0);
  const int draws = 200000;
  std::mt19937_64 rng(1);
  for (int i = 0; i < draws; ++i) ++wins[static_cast<size_t>(policy.choose(x.data(), rng))];
  for (int a = 0; a < 3; ++a) {
    EXPECT_NEAR(p[a], static_cast<double>(wins[a]) / draws, 0.005) << "action " << a;
    EXPECT_GT(p[a], 0.01);  // the draws explore every action here
  }
  jm::LinearThompsonPolicy greedy(3, d, 1.0, 0.25, 0.0);
  greedy.observe(2, x.data(), 1.0);
  greedy.refresh();
  EXPECT_EQ(greedy.probabilities(x.data()), (std::vector<double>{0.0, 0.0, 1.0}));
}

TEST(OffPolicy, IntervalsCoverThePlantedPolicyValuesAndTheNaiveMeansDoNot) {
  const PlantedOffers& data = planted_offers();
  const jm::LoggedDecisions& full = data.logged;
  const int64_t k = 3;
  // The logged decisions replayed: same contexts, actions redrawn from the planted logging policy,
  // rewards from the planted purchase probabilities, so every replication has a known true value.
  const int64_t n = std::min<int64_t>(full.size(), 6000);
  jm::LoggedDecisions logged = full;
  logged.contexts.values.resize(static_cast<size_t>(n * full.contexts.dims));
  logged.action.resize(static_cast<size_t>(n));
  logged.propensity.resize(static_cast<size_t>(n));
  logged.reward.resize(static_cast<size_t>(n));
  const std::vector<std::vector<double>> targets = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {1.0 / 3, 1.0 / 3, 1.0 / 3}};
  std::vector<double> truth(targets.size(), 0.0);
  for (size_t t = 0; t < targets.size(); ++t) {
    for (int64_t i = 0; i < n; ++i)
      for (int64_t a = 0; a < k; ++a) truth[t] += targets[t][a] * data.reward_probability[static_cast<size_t>(i * k + a)];
    truth[t] /= static_cast<double>(n);
  }
  const jm::BanditOptions options = test_options();
  std::mt19937_64 random(21);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const int replications = 200;
  int ips_covered = 0, dr_covered = 0, naive_covered = 0, trials = 0;
  double ips_width = 0.0, dr_width = 0.0;
  for (int r = 0; r < replications; ++r) {
    for (int64_t i = 0; i < n; ++i) {
      const double* mu = data.logging_probability.data() + i * k;
      const double u = unit(random);
      int a = 0;
      for (double cumulative = mu[0]; a + 1 < k && u >= cumulative;) cumulative += mu[++a];
      logged.action[static_cast<size_t>(i)] = a;
      logged.propensity[static_cast<size_t>(i)] = mu[a];
      logged.reward[static_cast<size_t>(i)] = unit(random) < data.reward_probability[static_cast<size_t>(i * k + a)] ? 1.0 : 0.0;
    }
    const std::vector<double> model = jm::cross_fitted_reward_model(logged, options);
    for (size_t t = 0; t < targets.size(); ++t) {
      std::vector<double> target(static_cast<size_t>(n * k));
      for (int64_t i = 0; i < n; ++i)
        for (int64_t a = 0; a < k; ++a) target[static_cast<size_t>(i * k + a)] = targets[t][a];
      const jm::PolicyEstimate e = jm::estimate_policy_value("target", logged, target, model, 0.05);
      ips_covered += e.ips_low <= truth[t] && truth[t] <= e.ips_high;
      dr_covered += e.dr_low <= truth[t] && truth[t] <= e.dr_high;
      ips_width += e.ips_high - e.ips_low;
      dr_width += e.dr_high - e.dr_low;
      ++trials;
    }
    // The naive estimate of "always none": the mean reward of the decisions that logged it. The
    // logging policy shows "none" more often on the web, whose customers buy more anyway.
    double sum = 0.0, count = 0.0;
    for (int64_t i = 0; i < n; ++i)
      if (logged.action[static_cast<size_t>(i)] == 0) {
        sum += logged.reward[static_cast<size_t>(i)];
        count += 1.0;
      }
    const double mean = sum / count, error = std::sqrt(mean * (1.0 - mean) / count);
    naive_covered += std::abs(mean - truth[0]) <= 1.96 * error;
  }
  RecordProperty("ips_covered", ips_covered);
  RecordProperty("dr_covered", dr_covered);
  RecordProperty("naive_covered", naive_covered);
  EXPECT_GE(ips_covered, static_cast<int>(0.92 * trials));
  EXPECT_LE(ips_covered, static_cast<int>(0.98 * trials));
  EXPECT_GE(dr_covered, static_cast<int>(0.92 * trials));
  EXPECT_LE(dr_covered, static_cast<int>(0.98 * trials));
  EXPECT_LT(dr_width, ips_width);  // the reward model takes variance out
  // Who got the discount is confounded with how likely they were to buy anyway.
  EXPECT_LT(naive_covered, replications / 2);
}

TEST(OffPolicy, EvaluationOfTheGeneratedLogNamesEveryPolicy) {
  const PlantedOffers& data = planted_offers();
  const jm::BanditEvaluation evaluation = jm::evaluate_policies(data.logged, test_options());
  ASSERT_EQ(evaluation.policies.size(), 5u);  // three fixed offers, the uniform split, the learnt policy
  EXPECT_EQ(evaluation.policies[0].policy, "always none");
  EXPECT_EQ(evaluation.policies[3].policy, "uniform split");
  EXPECT_EQ(evaluation.policies[4].decisions, data.logged.size() - data.logged.size() / 2);
  // Under the logging policy every weight of "always none" is 1 / propensity, at most 1 / 0.2.
  EXPECT_LE(evaluation.policies[0].max_weight, 5.0 + 1e-9);
  for (const jm::PolicyEstimate& e : evaluation.policies) {
    EXPECT_LT(e.ips_low, e.ips_high);
    EXPECT_GT(e.effective_sample_size, 0.0);
  }
}

TEST(BanditSimulation, ThompsonBeatsTheSplitAndLearnsPastTheBestFixedOffer) {
  const PlantedOffers& data = planted_offers();
  const jm::LoggedDecisions& logged = data.logged;
  const jm::BanditSimulation simulation =
      jm::simulate_bandit(logged.contexts, data.reward_probability, logged.actions, test_options());
  ASSERT_EQ(simulation.policies.size(), 5u);
  ASSERT_EQ(simulation.policies[0], "thompson");
  // The best fixed offer, from the planted probabilities directly.
  std::vector<double> mean(3, 0.0);
  for (int64_t i = 0; i < logged.size(); ++i)
    for (int a = 0; a < 3; ++a) mean[a] += data.reward_probability[static_cast<size_t>(i * 3 + a)];
  const auto best = static_cast<size_t>(std::max_element(mean.begin(), mean.end()) - mean.begin());
  EXPECT_EQ(simulation.best_fixed_action, logged.actions[best]);
  const std::vector<double>& thompson = simulation.regret[0];
  const std::vector<double>& split = simulation.regret[1];
  const std::vector<double>& fixed = simulation.regret[2 + best];
  EXPECT_LT(thompson.back(), 0.6 * split.back());
  // Once it has learnt, its regret grows more slowly than the best fixed offer's.
  const size_t last_quarter = thompson.size() * 3 / 4;
  RecordProperty("thompson_last_quarter", std::to_string(thompson.back() - thompson[last_quarter]));
  RecordProperty("fixed_last_quarter", std::to_string(fixed.back() - fixed[last_quarter]));
  EXPECT_LT(thompson.back() - thompson[last_quarter], fixed.back() - fixed[last_quarter]);
  EXPECT_GT(simulation.oracle_mean_reward, simulation.mean_reward[0]);
}

TEST(JourneyPrefixes, KeepTheFirstEventsAndTheirDimensionValues) {
  const auto dir = jm::testing::scratch_dir();
  const std::string csv = jm::testing::write_file(dir / "prefix.csv",
                                                  "customer_id,timestamp,touchpoint,channel,value,conversion,offer,offer_propensity\n"
                                                  "c1,2026-01-01T00:00:00Z,home,web,0,0,,\n"
                                                  "c1,2026-01-01T00:01:00Z,cart,web,0,0,,\n"
                                                  "c1,2026-01-01T00:02:00Z,checkout,web,0,0,discount,0.5\n"
                                                  "c1,2026-01-01T00:03:00Z,purchase,web,10,1,,\n");
  const jm::JourneySet journeys = load_journeys(csv);
  ASSERT_EQ(journeys.size(), 1);
  const jm::JourneySet two = jm::journey_prefixes(journeys, {0}, {2});
  ASSERT_EQ(two.num_events(), 2);
  EXPECT_EQ(two.end_ms[0], journeys.timestamp_ms[1]);
  EXPECT_EQ(jm::find_dimension(two, "offer")->journey_code[0], -1);  // the offer comes at event 3
  const jm::JourneySet three = jm::journey_prefixes(journeys, {0}, {3});
  EXPECT_EQ(jm::find_dimension(three, "offer")->journey_value(0), "discount");
  EXPECT_THROW(jm::journey_prefixes(journeys, {0}, {0}), std::logic_error);
}

// A log of two customers whose checkout carries `offer` and `propensity`.
std::string small_log(const std::string& offer, const std::string& propensity) {
  return "customer_id,timestamp,touchpoint,channel,value,conversion,offer,offer_propensity\n"
         "c1,2026-01-01T00:00:00Z,home,web,0,0,,\n"
         "c1,2026-01-01T00:02:00Z,checkout,web,0,0," + offer + "," + propensity + "\n"
         "c1,2026-01-01T00:03:00Z,purchase,web,10,1,,\n"
         "c2,2026-01-03T00:00:00Z,home,web,0,0,,\n"
         "c2,2026-01-03T00:02:00Z,checkout,web,0,0,none,0.5\n"
         "c2,2026-01-03T00:03:00Z,purchase,web,10,1,,\n"
         "c3,2026-01-10T00:00:00Z,home,web,0,0,,\n";  // the data runs on: both decisions have matured
}

std::string decision_error(const std::string& log, const jm::BanditOptions& options) {
  const auto dir = jm::testing::scratch_dir();
  const std::string csv = jm::testing::write_file(dir / "log.csv", log);
  const jm::JourneySet journeys = load_journeys(csv);
  try {
    jm::logged_decisions(jm::make_context(jm::Backend::Cpu), journeys, options, csv);
  } catch (const jm::Error& e) {
    return e.what();
  }
  return "";
}

TEST(LoggedDecisions, BadLogsGetClearErrors) {
  jm::BanditOptions options;
  EXPECT_EQ(decision_error(small_log("discount", "0.5"), options), "");
  EXPECT_NE(decision_error(small_log("discount", "1.5"), options).find("(0, 1]"), std::string::npos);
  EXPECT_NE(decision_error(small_log("discount", "abc"), options).find("abc"), std::string::npos);
  EXPECT_NE(decision_error(small_log("discount", ""), options).find("no logged propensity"), std::string::npos);
  options.actions = {"none", "free_shipping"};
  const std::string unknown = decision_error(small_log("discount", "0.5"), options);
  EXPECT_NE(unknown.find("not in the action set"), std::string::npos);
  EXPECT_NE(unknown.find("discount"), std::string::npos);
  EXPECT_NE(unknown.find("log.csv"), std::string::npos);
  options.action_dimension = "arm";
  EXPECT_NE(decision_error(small_log("none", "0.5"), options).find("no dimension 'arm'"), std::string::npos);
  options = jm::BanditOptions{};
  std::string many = "customer_id,timestamp,touchpoint,channel,value,conversion,offer,offer_propensity\n";
  for (int i = 0; i <= jm::kMaxBanditActions; ++i)
    many += "c" + std::to_string(i) + ",2026-01-01T00:00:00Z,home,web,0,0,,\nc" + std::to_string(i) +
            ",2026-01-01T00:01:00Z,checkout,web,0,0,a" + std::to_string(i) + ",0.5\n";
  EXPECT_NE(decision_error(many, options).find("more than 100 actions"), std::string::npos);
  options.actions = {"none", "none"};
  EXPECT_NE(decision_error(small_log("none", "0.5"), options).find("listed twice"), std::string::npos);
}

TEST(LoggedDecisions, UnloggedActionsAreCountedAndNotEvaluated) {
  const auto dir = jm::testing::scratch_dir();
  const std::string csv = jm::testing::write_file(dir / "unlogged.csv", small_log("none", "0.5"));
  const jm::JourneySet journeys = load_journeys(csv);
  jm::BanditOptions options;
  options.actions = {"none", "discount"};
  const jm::LoggedDecisions logged = jm::logged_decisions(jm::make_context(jm::Backend::Cpu), journeys, options, csv);
  EXPECT_EQ(logged.count_by_action, (std::vector<int64_t>{2, 0}));
  const jm::BanditEvaluation evaluation = jm::evaluate_policies(logged, options);
  for (const jm::PolicyEstimate& e : evaluation.policies) EXPECT_NE(e.policy, "always discount");
}

}  // namespace
