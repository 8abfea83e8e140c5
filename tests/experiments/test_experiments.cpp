// Experiment analysis: known answers of statsmodels and scipy; over many simulated experiments the
// fixed-horizon intervals cover the planted effect about 95% of the time, daily peeking breaks the
// fixed-horizon test but not the always-valid one, a planted sample-ratio mismatch is found, CUPED
// removes variance only when the covariate correlates; and on journeys, customers are assigned,
// counted and compared exactly, with bad setups refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <random>
#include <string>
#include <vector>

#include "journeymap/common.hpp"
#include "journeymap/context.hpp"
#include "journeymap/experiment_stats.hpp"
#include "journeymap/experiments.hpp"
#include "journeymap/generate.hpp"
#include "journeymap/case_attributes.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/outcome.hpp"
#include "journeymap/pipeline.hpp"
#include "journeymap/result_file.hpp"
#include "journeymap/run_config.hpp"
#include "test_helpers.hpp"

namespace {

namespace stats = jm::experiment_stats;

TEST(ExperimentStats, KnownAnswersOfStatsmodelsAndScipy) {
  // statsmodels 0.14.5: proportions_ztest([130, 100], [1000, 1000]); confint_proportions_2indep(130,
  // 1000, 100, 1000, method="wald") and (method="log", compare="ratio").
  const stats::Comparison c = stats::compare_proportions(100, 1000, 130, 1000, 0.05);
  EXPECT_NEAR(c.difference, 0.03, 1e-15);
  EXPECT_NEAR(c.p_value, 0.03548845046647471, 1e-12);
  EXPECT_NEAR(c.ci_low, 0.0020679344393763587, 1e-12);
  EXPECT_NEAR(c.ci_high, 0.057932065560623636, 1e-12);
  EXPECT_NEAR(c.relative, 0.3, 1e-12);
  EXPECT_NEAR(c.relative_low, 1.0169842709710455 - 1.0, 1e-12);
  EXPECT_NEAR(c.relative_high, 1.6617759470226023 - 1.0, 1e-12);
  // scipy 1.17.1: ttest_ind(a, b, equal_var=False) and its confidence_interval(0.95).
  const stats::Moments a = stats::moments_of({1.0, 2.5, 3.0, 4.5, 2.0, 8.0});
  const stats::Moments b = stats::moments_of({2.0, 3.5, 1.0, 0.5, 2.2});
  const stats::Comparison w = stats::compare_means(b, a, 0.05);
  EXPECT_NEAR(w.p_value, 0.18744352315848112, 1e-10);
  EXPECT_NEAR(w.ci_low, -1.0155028097216117, 1e-10);
  EXPECT_NEAR(w.ci_high, 4.335502809721612, 1e-10);
  // scipy.stats.chisquare.
  EXPECT_NEAR(stats::sample_ratio_p_value({60, 40}, {0.5, 0.5}), 0.04550026389635857, 1e-12);
  EXPECT_NEAR(stats::sample_ratio_p_value({30, 50, 20}, {1.0, 1.0, 1.0}), 0.0009118819655545164, 1e-12);
}

TEST(ExperimentStats, FixedHorizonIntervalsCoverThePlantedEffect) {
  std::mt19937_64 random(2024);
  const int n = 3000, simulations = 1000;
  const double control_rate = 0.10, treatment_rate = 0.12;
  std::binomial_distribution<int64_t> control(n, control_rate), treatment(n, treatment_rate);
  std::normal_distribution<double> noise(0.0, 2.0);
  int covered = 0, means_covered = 0;
  for (int s = 0; s < simulations; ++s) {
    const stats::Comparison c = stats::compare_proportions(control(random), n, treatment(random), n, 0.05);
    covered += c.ci_low <= treatment_rate - control_rate && treatment_rate - control_rate <= c.ci_high;
    std::vector<double> x(200), y(150);
    for (double& v : x) v = 5.0 + noise(random);
    for (double& v : y) v = 5.5 + noise(random);
    const stats::Comparison m = stats::compare_means(stats::moments_of(x), stats::moments_of(y), 0.05);
    means_covered += m.ci_low <= 0.5 && 0.5 <= m.ci_high;
  }
  RecordProperty("covered", covered);
  RecordProperty("means_covered", means_covered);
  EXPECT_GE(covered, 930);
  EXPECT_LE(covered, 970);
  EXPECT_GE(means_covered, 930);
  EXPECT_LE(means_covered, 970);
}

TEST(ExperimentStats, DailyPeekingBreaksTheFixedTestButNotTheAlwaysValidOne) {
  std::mt19937_64 random(77);
  const int days = 30, per_day = 100, simulations = 500;
  auto run = [&](double control_rate, double treatment_rate, int& fixed_rejected, int& valid_rejected, int& valid_covered) {
    std::binomial_distribution<int64_t> control(per_day, control_rate), treatment(per_day, treatment_rate);
    int64_t xc = 0, xt = 0, n = 0;
    bool fixed_rejects = false;
    stats::AlwaysValid running(0.02, 0.05);
    for (int d = 0; d < days; ++d) {
      xc += control(random);
      xt += treatment(random);
      n += per_day;
      const stats::Comparison look = stats::compare_proportions(xc, n, xt, n, 0.05);
      fixed_rejects = fixed_rejects || look.p_value < 0.05;
      const double pc = static_cast<double>(xc) / n, pt = static_cast<double>(xt) / n;
      running.look(pt - pc, pc * (1 - pc) / n + pt * (1 - pt) / n);
    }
    fixed_rejected += fixed_rejects;
    valid_rejected += running.p_value() < 0.05;
    const double truth = treatment_rate - control_rate;
    valid_covered += running.low() <= truth && truth <= running.high();
  };
  int fixed_rejected = 0, valid_rejected = 0, valid_covered = 0;
  for (int s = 0; s < simulations; ++s) run(0.10, 0.10, fixed_rejected, valid_rejected, valid_covered);
  RecordProperty("fixed_rejected", fixed_rejected);
  RecordProperty("valid_rejected", valid_rejected);
  RecordProperty("valid_covered", valid_covered);
  // With no effect, looking every day rejects far more often than 5% with the fixed-horizon test...
  EXPECT_GT(fixed_rejected, simulations * 12 / 100);
  // ...but not with the always-valid one, whose running interval keeps covering the truth.
  EXPECT_LE(valid_rejected, simulations * 5 / 100);
  EXPECT_GE(valid_covered, simulations * 95 / 100);
  int effect_fixed = 0, effect_rejected = 0, effect_covered = 0;
  for (int s = 0; s < simulations; ++s) run(0.10, 0.13, effect_fixed, effect_rejected, effect_covered);
  RecordProperty("effect_covered", effect_covered);
  RecordProperty("effect_rejected", effect_rejected);
  EXPECT_GE(effect_covered, simulations * 95 / 100);
  EXPECT_GT(effect_rejected, simulations / 2);  // and it still finds a real 3-point effect
}

TEST(ExperimentStats, SampleRatioMismatchIsFoundWhenPlanted) {
  std::mt19937_64 random(5);
  std::bernoulli_distribution skewed(0.52), fair(0.5);
  std::vector<int64_t> planted(2, 0), even(2, 0);
  for (int i = 0; i < 20000; ++i) {
    ++planted[skewed(random) ? 0 : 1];
    ++even[fair(random) ? 0 : 1];
  }
  EXPECT_LT(stats::sample_ratio_p_value(planted, {0.5, 0.5}), 0.001);
  EXPECT_GT(stats::sample_ratio_p_value(even, {0.5, 0.5}), 0.001);
  EXPECT_GT(stats::sample_ratio_p_value(planted, {0.52, 0.48}), 0.001);  // the planned split explains it
}

TEST(ExperimentStats, CupedRemovesVarianceOnlyWhenTheCovariateCorrelates) {
  std::mt19937_64 random(11);
  std::uniform_real_distribution<double> propensity(0.0, 1.0);
  auto group = [&](double lift, bool correlated, std::vector<double>& y, std::vector<double>& x) {
    for (int i = 0; i < 4000; ++i) {
      const double u = propensity(random);
      // Past conversions out of 20 visits share the customer's propensity when `correlated`:
      // the best a covariate can remove from a 0/1 outcome is Var(u) / Var(y), a third here.
      std::binomial_distribution<int> past(20, correlated ? u : 0.5);
      x.push_back(past(random));
      std::bernoulli_distribution converts(std::min(1.0, u + lift));
      y.push_back(converts(random) ? 1.0 : 0.0);
    }
  };
  std::vector<double> yc, xc, yt, xt;
  group(0.0, true, yc, xc);
  group(0.03, true, yt, xt);
  const stats::Cuped adjusted = stats::cuped(yc, xc, yt, xt, 0.05);
  const stats::Comparison plain = stats::compare_means(stats::moments_of(yc), stats::moments_of(yt), 0.05);
  RecordProperty("variance_reduction", std::to_string(adjusted.variance_reduction));
  EXPECT_GT(adjusted.variance_reduction, 0.2);  // about 0.30 expected
  EXPECT_LT(adjusted.comparison.ci_high - adjusted.comparison.ci_low, plain.ci_high - plain.ci_low);
  EXPECT_NEAR(adjusted.comparison.difference, 0.03, 0.02);

  std::vector<double> yc2, xc2, yt2, xt2;
  group(0.0, false, yc2, xc2);
  group(0.03, false, yt2, xt2);
  EXPECT_LT(std::fabs(stats::cuped(yc2, xc2, yt2, xt2, 0.05).variance_reduction), 0.01);
}

// Journeys of customers c0..c(n-1): a pre-exposure journey (no variant), then an exposed journey
// carrying the variant; `converts(i)` decides its outcome.
template <typename Converts>
jm::JourneySet experiment_journeys(int n, const std::vector<std::string>& variant_of_customer, Converts converts) {
  jm::EventTable events;
  const int32_t web = events.channels.encode("web");
  jm::CodedColumn variant{"variant", {}, {}};
  for (int i = 0; i < n; ++i) {
    const auto customer = static_cast<uint32_t>(events.customers.encode("c" + std::to_string(i)));
    const int64_t t0 = 1'700'000'000'000 + int64_t{i} * 60'000;
    events.push_back(customer, t0, events.touchpoints.encode("home"), web, 0.0f, false);  // pre-exposure
    variant.codes.push_back(-1);
    const int32_t code = variant.values.encode(variant_of_customer[static_cast<size_t>(i)]);
    events.push_back(customer, t0 + 86'400'000, events.touchpoints.encode("landing"), web, 0.0f, false);
    variant.codes.push_back(code);
    if (converts(i)) {
      events.push_back(customer, t0 + 86'400'000 + 1000 * 60, events.touchpoints.encode("buy"), web, 10.0f, true);
      variant.codes.push_back(code);
    }
  }
  events.dimensions.push_back(variant);
  jm::OutcomeDefinition outcome;
  jm::JourneyOptions options;
  options.session_gap_seconds = 3600;  // the pre-exposure visit is its own journey
  return jm::build_outcome_journeys(jm::make_context(jm::Backend::Cpu), events, options, outcome).journeys;
}

TEST(Experiments, CustomersAreAssignedCountedAndCompared) {
  const int n = 600;
  std::vector<std::string> variant(n);
  for (int i = 0; i < n; ++i) variant[static_cast<size_t>(i)] = i % 2 == 0 ? "A" : "B";
  // A converts 1 in 5, B 1 in 3.
  const jm::JourneySet journeys =
      experiment_journeys(n, variant, [](int i) { return i % 2 == 0 ? i % 10 == 0 : i % 6 == 1; });
  jm::ExperimentOptions options;
  options.dimension = "variant";
  const jm::Context ctx = jm::make_context(jm::Backend::Cpu);
  const jm::ExperimentResult result = jm::analyse_experiment(ctx, journeys, options, {"landing"});
  ASSERT_EQ(result.variants.size(), 2u);
  EXPECT_EQ(result.options.control, "A");
  EXPECT_EQ(result.variants[0].customers, 300);
  EXPECT_EQ(result.variants[0].converted, 60);
  EXPECT_EQ(result.variants[1].converted, 100);
  EXPECT_EQ(result.variants[0].journeys, 300);  // the exposed journeys only
  EXPECT_DOUBLE_EQ(result.variants[1].value.mean, 10.0 * 100 / 300);
  ASSERT_EQ(result.comparisons.size(), 1u);
  const jm::ExperimentComparison& c = result.comparisons[0];
  const stats::Comparison expected = stats::compare_proportions(60, 300, 100, 300, 0.05);
  EXPECT_DOUBLE_EQ(c.conversion.difference, expected.difference);
  EXPECT_DOUBLE_EQ(c.conversion.p_value, expected.p_value);
  EXPECT_EQ(result.variants[0].funnel_reached, (std::vector<int64_t>{300}));
  EXPECT_GT(c.looks, 0);
  EXPECT_LE(c.always_valid_low, c.conversion.difference);
  EXPECT_GE(c.always_valid_high, c.conversion.difference);
  EXPECT_GT(result.sample_ratio_p, 0.5);  // 300 and 300
  EXPECT_EQ(result.customers_in_several_variants, 0);
}

TEST(Experiments, BadSetupsAreRefusedOrReported) {
  const jm::Context ctx = jm::make_context(jm::Backend::Cpu);
  std::vector<std::string> variant = {"A", "B", "B", "A", "C"};
  jm::JourneySet journeys = experiment_journeys(5, variant, [](int) { return false; });
  jm::ExperimentOptions options;
  options.dimension = "variant";
  options.control = "Z";
  EXPECT_THROW(jm::analyse_experiment(ctx, journeys, options, {}), jm::ConfigError);  // no such control
  options.control = "B";
  options.allocation = {{"D", 0.5}};
  EXPECT_THROW(jm::analyse_experiment(ctx, journeys, options, {}), jm::ConfigError);  // a planned variant without customers
  options.allocation.clear();
  EXPECT_EQ(jm::analyse_experiment(ctx, journeys, options, {}).comparisons.size(), 2u);
  options.dimension = "campaign";
  EXPECT_THROW(jm::analyse_experiment(ctx, journeys, options, {}), jm::ConfigError);  // no such dimension

  // A dimension with a value per customer is not a variant.
  std::vector<std::string> per_customer(150);
  for (size_t i = 0; i < per_customer.size(); ++i) per_customer[i] = "v" + std::to_string(i);
  journeys = experiment_journeys(150, per_customer, [](int) { return false; });
  options.dimension = "variant";
  options.control = "v0";
  try {
    jm::analyse_experiment(ctx, journeys, options, {});
    ADD_FAILURE() << "150 variants were accepted";
  } catch (const jm::ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("at most 100 variants"), std::string::npos) << error.what();
  }

  journeys = experiment_journeys(4, {"A", "A", "A", "A"}, [](int) { return false; });
  options.dimension = "variant";
  options.control.clear();
  EXPECT_THROW(jm::analyse_experiment(ctx, journeys, options, {}), jm::ConfigError);  // one variant

  // A customer seen in two variants is counted and left out.
  jm::JourneySet mixed = experiment_journeys(4, {"A", "B", "A", "B"}, [](int) { return false; });
  auto& codes = mixed.dimensions[0].journey_code;
  for (int64_t j = 0; j < mixed.size(); ++j)
    if (mixed.customers.name(mixed.customer[j]) == "c0" && codes[static_cast<size_t>(j)] < 0) codes[static_cast<size_t>(j)] = 1;
  const jm::ExperimentResult result = jm::analyse_experiment(ctx, mixed, options, {});
  EXPECT_EQ(result.customers_in_several_variants, 1);
  EXPECT_EQ(result.several_variant_examples, (std::vector<std::string>{"c0"}));
  EXPECT_EQ(result.variants[0].customers + result.variants[1].customers, 3);
  EXPECT_EQ(jm::experiment_warnings(result).size(), 1u);
}

TEST(Experiments, RunReadsTheExperimentTableAndWritesTheResult) {
  const auto dir = jm::testing::scratch_dir();
  std::string csv = "customer_id,timestamp,touchpoint,channel,conversion,arm\n";
  for (int i = 0; i < 400; ++i) {
    const std::string id = "c" + std::to_string(i), arm = i % 2 == 0 ? "control" : "new_checkout";
    const int64_t t = 1767225600 + int64_t{i} * 600;
    csv += id + "," + std::to_string(t) + ",home,web,0,\n";
    csv += id + "," + std::to_string(t + 86400) + ",landing,web,0," + arm + "\n";
    if (i % (i % 2 == 0 ? 8 : 4) == 1 || i % 8 == 0) csv += id + "," + std::to_string(t + 86500) + ",buy,web,1," + arm + "\n";
  }
  jm::RunConfig config;
  jm::apply_config_text(
      "[input]\n"
      "path = \"" + jm::testing::write_file(dir / "events.csv", csv) + "\"\n"
      "timestamp_format = \"epoch_s\"\n"
      "dimensions = [\"variant=arm\"]\n"
      "[journeys]\n"
      "session_gap_seconds = 3600\n"
      "[experiment]\n"
      "dimension = \"variant\"\n"
      "allocation = { control = 0.5, new_checkout = 0.5 }\n",
      "experiment.toml", config);
  EXPECT_EQ(config.experiment.allocation.size(), 2u);
  jm::RunConfig reread;
  jm::apply_config_text(jm::to_toml(config), "stored", reread);
  EXPECT_EQ(reread.experiment.dimension, "variant");
  EXPECT_EQ(reread.experiment.allocation, config.experiment.allocation);
  EXPECT_THROW(jm::apply_config_text("[experiment]\nalpha = 0.7\n", "t", reread), jm::ConfigError);
  EXPECT_THROW(jm::apply_config_text("[experiment]\nallocation = { A = 0 }\n", "t", reread), jm::ConfigError);
  config.device = jm::DeviceChoice::Cpu;
  config.progress = false;
  config.output_path = (dir / "result.h5").string();
  config.patterns_enabled = config.segments_enabled = config.model_enabled = config.anomalies_enabled = false;
  const jm::RunReport report = jm::run_pipeline(config);
  const jm::ResultReader result(config.output_path);
  EXPECT_EQ(result.read_strings("/experiments/variant"), (std::vector<std::string>{"control", "new_checkout"}));
  EXPECT_EQ(result.read_int64("/experiments/customers"), (std::vector<int64_t>{200, 200}));
  EXPECT_EQ(result.read_string_attribute("/experiments", "control"), "control");
  const auto summary = std::find_if(report.stage_summaries.begin(), report.stage_summaries.end(),
                                    [](const std::string& s) { return s.rfind("experiment on 'variant'", 0) == 0; });
  EXPECT_NE(summary, report.stage_summaries.end());
}

TEST(Experiments, TheGeneratorsPlantedTestIsRecovered) {
  const auto dir = jm::testing::scratch_dir();
  jm::GeneratorOptions generator;
  generator.journeys = 40000;
  generator.seed = 8;
  generator.num_threads = 2;
  generator.experiment_day = 45;  // B: +10 points of checkout purchases for researchers, +5 for comparers
  const std::string events_csv = (dir / "events.csv").string();
  jm::generate_dataset(generator, events_csv);
  // Each customer's planted segment, from the truth file, as a case attribute to split effects by.
  std::ifstream truth(jm::truth_csv_path_for(events_csv));
  std::string line, cases = "customer_id,segment\n";
  std::set<std::string> seen;
  std::getline(truth, line);
  while (std::getline(truth, line)) {
    std::vector<std::string> fields;
    std::stringstream row(line);
    for (std::string field; std::getline(row, field, ',');) fields.push_back(field);
    if (seen.insert(fields[0]).second) cases += fields[0] + "," + fields[5] + "\n";
  }
  jm::RunConfig config;
  config.input_path = events_csv;
  config.csv.columns.dimensions = {jm::parse_dimension_column("variant")};
  config.journeys.session_gap_seconds = jm::kGeneratedJourneyGapSeconds;
  config.case_attributes_path = jm::testing::write_file(dir / "cases.csv", cases);
  config.progress = false;
  const jm::Context ctx = jm::make_context(jm::Backend::Cpu);
  jm::IngestResult ingest = jm::read_configured_input(config, ctx);
  jm::JourneySet journeys =
      jm::build_outcome_journeys(ctx, ingest.events, config.journeys, jm::effective_outcome(config)).journeys;
  jm::attach_case_attributes(journeys, config.case_attributes_path, nullptr);
  jm::ExperimentOptions options;
  options.dimension = "variant";
  options.segment_by = "case:segment";
  const jm::ExperimentResult result = jm::analyse_experiment(ctx, journeys, options, {});
  ASSERT_EQ(result.variants.size(), 2u);
  EXPECT_EQ(result.variants[0].name, "A");
  EXPECT_GT(result.sample_ratio_p, 0.001);  // assigned half and half
  const jm::ExperimentComparison& b = result.comparisons.at(0);
  EXPECT_GT(b.conversion.difference, 0.0);
  EXPECT_LT(b.conversion.p_value, 0.01);
  EXPECT_GT(b.always_valid_low, 0.0);  // found however often it was looked at
  EXPECT_GT(b.cuped.variance_reduction, 0.0);  // pre-period conversions say something about later ones
  // By planted segment: the researchers (+10 points at checkout) gain most and significantly; the
  // segments with no planted effect show none.
  double researcher = 0.0, largest_other = -1.0;
  for (const jm::ExperimentSegmentEffect& effect : result.segments) {
    RecordProperty("segment_" + effect.segment, std::to_string(effect.conversion.difference) + " q " + std::to_string(effect.q_value));
    if (effect.segment == "researcher") {
      researcher = effect.conversion.difference;
      EXPECT_LT(effect.q_value, 0.05);
    } else {
      largest_other = std::max(largest_other, effect.conversion.difference);
    }
    if (effect.segment == "impulse" || effect.segment == "churner") EXPECT_GT(effect.q_value, 0.05) << effect.segment;
  }
  EXPECT_GT(researcher, largest_other);
}

}  // namespace
