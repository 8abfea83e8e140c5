// Model monitoring and retraining: the stability index equals its formula, the training profile
// survives saving, device drift planted from day 30 is reported from the buckets it reaches and not
// before, data without drift gives no alarm, a model saved without a profile is refused clearly; the
// rolling window keeps the latest journeys, a stronger challenger replaces a weaker champion on
// journeys the champion never saw and a weaker one does not, and the lineage survives saving.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "journeymap/common.hpp"
#include "journeymap/context.hpp"
#include "journeymap/generate.hpp"
#include "journeymap/model.hpp"
#include "journeymap/monitoring.hpp"
#include "journeymap/outcome.hpp"
#include "journeymap/pipeline.hpp"
#include "journeymap/retraining.hpp"
#include "journeymap/run_config.hpp"
#include "test_helpers.hpp"

namespace {

jm::JourneySet generated_journeys(uint64_t seed, int drift_day) {
  const auto dir = jm::testing::scratch_dir();
  jm::GeneratorOptions generator;
  generator.journeys = 20000;
  generator.seed = seed;
  generator.num_threads = 2;
  generator.days = 56;
  generator.spike_day = -1;
  generator.drift_day = drift_day;
  const std::string csv = (dir / ("events_" + std::to_string(seed) + ".csv")).string();
  jm::generate_dataset(generator, csv);
  jm::RunConfig config;
  config.input_path = csv;
  config.journeys.session_gap_seconds = jm::kGeneratedJourneyGapSeconds;
  config.progress = false;
  const jm::Context ctx = jm::make_context(jm::Backend::Cpu, 2);
  jm::IngestResult ingest = jm::read_configured_input(config, ctx);
  return jm::build_outcome_journeys(ctx, ingest.events, config.journeys, jm::effective_outcome(config)).journeys;
}

// A model trained on drift-free data, with its training profile, saved and loaded back; built once
// and freed when the suite ends (before static destruction, when XGBoost may be gone already).
std::unique_ptr<jm::Model>& cached_model() {
  static std::unique_ptr<jm::Model> model;
  return model;
}

const jm::Model& monitored_model() {
  if (cached_model()) return *cached_model();
  cached_model() = std::make_unique<jm::Model>([] {
    const jm::Context ctx = jm::make_context(jm::Backend::Cpu, 2);
    const jm::JourneySet journeys = generated_journeys(1, -1);
    jm::ModelOptions options;
    options.rounds = 60;
    options.learning_rate = 0.3;
    options.max_depth = 4;
    options.prefix_max_events = 0;
    jm::ModelResult result = jm::train_journey_model(ctx, journeys, options);
    const jm::FeatureMatrix features = jm::extract_features(ctx, journeys, result.model.feature_spec);
    jm::attach_model_reference(result.model, jm::fit_model_reference(ctx, result.model, journeys, features, result));
    const std::string path = (jm::testing::scratch_dir() / "monitored.ubj").string();
    jm::save_model(result.model, path);
    return jm::load_model(path);
  }());
  return *cached_model();
}

class Monitoring : public ::testing::Test {
 protected:
  static void TearDownTestSuite() { cached_model().reset(); }
  void SetUp() override {
    if (!jm::xgboost_available()) GTEST_SKIP() << "built without XGBoost (scripts/setup_xgboost.sh)";
  }
};

TEST(PopulationStability, EqualsItsFormula) {
  EXPECT_DOUBLE_EQ(jm::population_stability({0.2, 0.3, 0.5}, {0.2, 0.3, 0.5}), 0.0);
  EXPECT_NEAR(jm::population_stability({0.5, 0.5}, {0.6, 0.4}), 0.1 * std::log(1.2) - 0.1 * std::log(0.8), 1e-12);
  // An empty bin counts as 1e-4, so a share that appears from nothing is finite and large.
  EXPECT_NEAR(jm::population_stability({1.0, 0.0}, {0.5, 0.5}), (0.5 - 1.0) * std::log(0.5) + (0.5 - 1e-4) * std::log(0.5 / 1e-4),
              1e-12);
}

TEST_F(Monitoring, TheProfileSurvivesSavingAndCoversEveryFeature) {
  const jm::Model& model = monitored_model();
  const std::optional<jm::ModelReference> reference = jm::model_reference(model);
  ASSERT_TRUE(reference.has_value());
  ASSERT_EQ(reference->columns.size(), model.feature_names.size());
  for (const jm::ModelReference::Column& column : reference->columns) {
    double total = 0.0;
    for (double share : column.shares) total += share;
    EXPECT_NEAR(total, 1.0, 1e-9) << column.name;
  }
  EXPECT_GT(reference->holdout_auc, 0.8);  // the generated conversions are learnable
  EXPECT_GE(reference->journeys, 19000);  // every journey of the training data was profiled
}

TEST_F(Monitoring, PlantedDriftIsReportedWhereItIsAndNowhereElse) {
  const jm::Context ctx = jm::make_context(jm::Backend::Cpu, 2);
  const jm::MonitoringResult drifted = jm::monitor_model(ctx, monitored_model(), generated_journeys(2, 30), {});
  ASSERT_EQ(drifted.buckets.size(), 8u);  // 56 days in weeks
  EXPECT_EQ(drifted.recommendation, "retrain");
  for (size_t b = 0; b < drifted.buckets.size(); ++b) {
    const jm::MonitoringBucket& bucket = drifted.buckets[b];
    if (b < 4) {  // days 0-27: before the drift
      EXPECT_EQ(bucket.status, "ok") << "bucket " << b << ": " << (bucket.reasons.empty() ? "" : bucket.reasons[0]);
    } else if (b >= 5) {  // days 35 on: every journey drifted
      EXPECT_EQ(bucket.status, "retrain") << "bucket " << b;
      EXPECT_EQ(bucket.max_feature.rfind("channel_share:", 0), 0u) << bucket.max_feature;
    }
  }
  const jm::MonitoringResult same = jm::monitor_model(ctx, monitored_model(), generated_journeys(3, -1), {});
  EXPECT_EQ(same.recommendation, "no action") << (same.reasons.empty() ? "" : same.reasons[0]);
  for (const jm::MonitoringBucket& bucket : same.buckets) {
    EXPECT_LT(bucket.score_psi, 0.1);
    if (std::isfinite(bucket.auc)) EXPECT_GT(bucket.auc, same.reference.holdout_auc - 0.05);
  }
}

TEST_F(Monitoring, AModelWithoutAProfileIsRefusedClearly) {
  const jm::Context ctx = jm::make_context(jm::Backend::Cpu, 2);
  const jm::JourneySet journeys = generated_journeys(4, -1);
  jm::ModelOptions options;
  options.rounds = 5;
  options.prefix_max_events = 0;
  const jm::ModelResult result = jm::train_journey_model(ctx, journeys, options);
  const std::string path = (jm::testing::scratch_dir() / "bare.ubj").string();
  jm::save_model(result.model, path);
  try {
    jm::monitor_model(ctx, jm::load_model(path), journeys, {});
    FAIL() << "a model without a profile was accepted";
  } catch (const jm::ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("no reference profile"), std::string::npos) << error.what();
  }
  jm::MonitoringOptions bad;
  bad.psi_watch = 0.5;  // above psi_retrain
  EXPECT_THROW(jm::monitor_model(ctx, monitored_model(), journeys, bad), jm::ConfigError);
  jm::MonitoringOptions tiny;
  tiny.bucket_days = 0.001;  // 56 days in 86-second buckets: far too many
  try {
    jm::monitor_model(ctx, monitored_model(), journeys, tiny);
    FAIL() << "56,000 buckets were accepted";
  } catch (const jm::ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("outlier timestamps"), std::string::npos) << error.what();
  }
}

// Journeys that start before `day` (0-based from the data's first day) or from it on.
jm::JourneySet split_at_day(const jm::JourneySet& journeys, int day, bool before) {
  int64_t first = journeys.start_ms[0];
  for (int64_t j = 0; j < journeys.size(); ++j) first = std::min(first, journeys.start_ms[j]);
  const int64_t cut = (first / 86400000) * 86400000 + int64_t{day} * 86400000;
  std::vector<int64_t> rows;
  for (int64_t j = 0; j < journeys.size(); ++j)
    if ((journeys.start_ms[j] < cut) == before) rows.push_back(j);
  return jm::select_journeys(journeys, rows);
}

jm::Model trained(const jm::JourneySet& journeys, bool strong) {
  const jm::Context ctx = jm::make_context(jm::Backend::Cpu, 2);
  jm::ModelOptions options;
  options.prefix_max_events = 0;
  options.rounds = strong ? 60 : 1;
  options.max_depth = strong ? 4 : 1;
  options.learning_rate = 0.3;
  jm::ModelResult result = jm::train_journey_model(ctx, journeys, options);
  jm::ModelLineage lineage;
  lineage.created_utc = "2026-12-06T00:00:00Z";
  int64_t last_end = 0;
  for (int64_t j = 0; j < journeys.size(); ++j) last_end = std::max(last_end, journeys.end_ms[j]);
  lineage.last_end_ms = last_end;
  lineage.journeys = journeys.size();
  jm::attach_model_lineage(result.model, lineage);
  return result.model;
}

TEST(RecentWindow, KeepsTheJourneysOfTheLastDays) {
  const jm::JourneySet journeys = generated_journeys(5, -1);
  int64_t latest = 0;
  for (int64_t j = 0; j < journeys.size(); ++j) latest = std::max(latest, journeys.start_ms[j]);
  int64_t expected = 0;
  for (int64_t j = 0; j < journeys.size(); ++j) expected += journeys.start_ms[j] >= latest - 14 * int64_t{86400000};
  const jm::JourneySet recent = jm::recent_window(journeys, 14);
  EXPECT_EQ(recent.size(), expected);
  EXPECT_GT(expected, 0);
  EXPECT_LT(expected, journeys.size());
  EXPECT_EQ(jm::recent_window(journeys, 0).size(), journeys.size());
}

TEST_F(Monitoring, AStrongerChallengerReplacesTheChampionAndAWeakerOneDoesNot) {
  const jm::Context ctx = jm::make_context(jm::Backend::Cpu, 2);
  const jm::JourneySet journeys = generated_journeys(6, -1);
  const jm::JourneySet earlier = split_at_day(journeys, 28, true);
  jm::ModelOptions options;
  options.prefix_max_events = 0;
  options.rounds = 60;
  options.max_depth = 4;
  options.learning_rate = 0.3;
  options.split = jm::SplitMode::Time;  // the held-out journeys are the latest ones
  const jm::ModelResult challenger = jm::train_journey_model(ctx, journeys, options);
  const jm::ChampionChallenger against_weak = jm::compare_champion(
      ctx, trained(earlier, false), challenger.model, journeys, challenger.test_journeys, challenger.test_labels, 0.0);
  EXPECT_TRUE(against_weak.unseen_by_champion) << against_weak.reason;
  EXPECT_GE(against_weak.journeys, 200);
  EXPECT_GT(against_weak.challenger_auc, against_weak.champion_auc + 0.01) << against_weak.reason;
  EXPECT_TRUE(against_weak.replaced);

  options.rounds = 1;
  options.max_depth = 1;
  const jm::ModelResult weak = jm::train_journey_model(ctx, journeys, options);
  const jm::ChampionChallenger against_strong = jm::compare_champion(
      ctx, trained(earlier, true), weak.model, journeys, weak.test_journeys, weak.test_labels, 0.0);
  EXPECT_TRUE(against_strong.unseen_by_champion);
  EXPECT_LT(against_strong.challenger_auc, against_strong.champion_auc) << against_strong.reason;
  EXPECT_FALSE(against_strong.replaced);
  EXPECT_NE(against_strong.reason.find("the champion is kept"), std::string::npos);

  // The decision travels with the model.
  jm::ModelLineage lineage;
  lineage.created_utc = "2026-12-06T01:00:00Z";
  lineage.parent = "champion.ubj";
  lineage.has_decision = true;
  lineage.decision = against_weak;
  jm::attach_model_lineage(challenger.model, lineage);
  const std::string path = (jm::testing::scratch_dir() / "challenger.ubj").string();
  jm::save_model(challenger.model, path);
  const std::optional<jm::ModelLineage> loaded = jm::model_lineage(jm::load_model(path));
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->parent, "champion.ubj");
  ASSERT_TRUE(loaded->has_decision);
  EXPECT_DOUBLE_EQ(loaded->decision.challenger_auc, against_weak.challenger_auc);
  EXPECT_TRUE(loaded->decision.replaced);
}

}  // namespace
