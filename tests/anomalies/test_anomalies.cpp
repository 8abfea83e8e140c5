// Journey anomalies end to end: the generator's planted anomalous journeys are recovered by the
// autoencoder (precision at k = number planted), the isolation forest finds planted outliers, the
// thresholds match brute-force definitions, /anomalies and /alerts round-trip through HDF5, the
// `detect` command runs, bad options fail clearly, and the GPU reproduces the CPU's ranking.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "anomalies/generated_data.hpp"
#include "host/cli/command_detect.hpp"
#include "journeymap/anomalies.hpp"
#include "journeymap/common.hpp"
#include "journeymap/features.hpp"
#include "journeymap/result_file.hpp"
#include "test_helpers.hpp"

namespace {

using jm::Backend;

std::vector<int64_t> top_k(const std::vector<float>& scores, int64_t k) {
  std::vector<int64_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return scores[a] > scores[b]; });
  order.resize(static_cast<size_t>(std::min<int64_t>(k, static_cast<int64_t>(order.size()))));
  return order;
}

double precision_at(const std::vector<float>& scores, const std::vector<std::string>& truth, int64_t k) {
  int64_t hits = 0;
  for (int64_t j : top_k(scores, k)) hits += !truth[j].empty();
  return static_cast<double>(hits) / static_cast<double>(k);
}

class JourneyAnomalies : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::Gpu && !jm::gpu_available()) GTEST_SKIP() << "no CUDA device";
    ctx_ = jm::make_context(GetParam(), 2);
  }
  jm::Context ctx_;
};

TEST_P(JourneyAnomalies, RecoversPlantedAnomalousJourneys) {
  jm::GeneratorOptions generator;
  generator.journeys = 20000;
  generator.seed = 7;
  generator.anomaly_fraction = 0.005;
  const auto data = jm::testing::generate_journeys(jm::testing::scratch_dir(), generator);
  const int64_t planted = std::count_if(data.anomaly.begin(), data.anomaly.end(), [](const auto& a) { return !a.empty(); });
  ASSERT_GT(planted, 50);

  const jm::FeatureMatrix features = jm::extract_features(ctx_, data.journeys, jm::FeatureOptions{});
  jm::JourneyAnomalyOptions options;  // defaults: d -> 64 -> 16 -> 64 -> d, 20 epochs
  const jm::JourneyAnomalies result = jm::detect_journey_anomalies(ctx_, data.journeys, features, options);
  ASSERT_EQ(result.score.size(), static_cast<size_t>(data.journeys.size()));
  EXPECT_LT(result.loss_per_epoch.back(), result.loss_per_epoch.front());

  const double precision = precision_at(result.score, data.anomaly, planted);
  const double forest_precision = precision_at(result.forest_score, data.anomaly, planted);
  std::printf("planted %lld: precision@k autoencoder %.3f, isolation forest %.3f; flagged %lld (forest %lld)\n",
              static_cast<long long>(planted), precision, forest_precision,
              static_cast<long long>(result.comparison.flagged_autoencoder),
              static_cast<long long>(result.comparison.flagged_forest));
  EXPECT_GE(precision, 0.8);

  // Every planted kind is among the top k (none is systematically missed).
  std::set<std::string> kinds_found;
  for (int64_t j : top_k(result.score, planted))
    if (!data.anomaly[j].empty()) kinds_found.insert(data.anomaly[j]);
  EXPECT_EQ(kinds_found, (std::set<std::string>{"abrupt_falloff", "bot_burst", "navigation_loop"}));

  // The threshold flags the planted journeys (recall) without flagging a large share of the rest.
  int64_t flagged_planted = 0, flagged_normal = 0;
  for (int64_t j = 0; j < data.journeys.size(); ++j) {
    flagged_planted += result.flagged[j] && !data.anomaly[j].empty();
    flagged_normal += result.flagged[j] && data.anomaly[j].empty();
  }
  EXPECT_GE(flagged_planted, 0.9 * planted);
  EXPECT_LE(flagged_normal, data.journeys.size() / 20);

  // The top list: highest scores first, reasons that carry most of the error, readable paths.
  ASSERT_EQ(result.top.size(), 20u);
  for (size_t i = 0; i < result.top.size(); ++i) {
    const jm::AnomalousJourney& item = result.top[i];
    EXPECT_EQ(item.score, result.score[item.journey]);
    if (i > 0) EXPECT_LE(item.score, result.top[i - 1].score);
    ASSERT_EQ(item.reasons.size(), 3u);
    EXPECT_GE(item.reasons[0].error_share, item.reasons[1].error_share);
    EXPECT_GT(item.reasons[0].error_share, 0.0);
    const int64_t j = item.journey;
    EXPECT_EQ(item.path.rfind(data.journeys.touchpoints.name(data.journeys.touchpoint[data.journeys.offsets[j]]), 0), 0u)
        << item.path;
    EXPECT_EQ(item.forest_rank >= 0, true);
  }

  // The comparison: both detectors see the planted journeys, so their rankings agree positively.
  EXPECT_TRUE(result.comparison.ran);
  EXPECT_GT(result.comparison.spearman, 0.0);
  EXPECT_GT(result.comparison.top_k_overlap, 0.0);
  EXPECT_LE(result.comparison.top_k_overlap, 1.0);
  EXPECT_EQ(result.comparison.top_k, result.comparison.flagged_autoencoder);
  EXPECT_LE(result.comparison.flagged_both,
            std::min(result.comparison.flagged_autoencoder, result.comparison.flagged_forest));
}

INSTANTIATE_TEST_SUITE_P(Backends, JourneyAnomalies, ::testing::Values(Backend::Cpu, Backend::Gpu),
                         [](const auto& info) { return std::string(jm::to_string(info.param)); });

TEST(IsolationForest, FindsPlantedOutliers) {
  // 3000 points of a 5-d standard normal cloud, 10 points far outside it along random directions.
  std::mt19937_64 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int dims = 5;
  const int64_t n = 3010;
  std::vector<float> rows(static_cast<size_t>(n) * dims);
  for (float& v : rows) v = normal(rng);
  std::vector<std::string> truth(static_cast<size_t>(n));
  for (int64_t r = 3000; r < n; ++r) {
    truth[r] = "outlier";
    for (int c = 0; c < dims; ++c) rows[r * dims + c] *= 6.0f;
    rows[r * dims + (r % dims)] = 8.0f;  // at least one coordinate far out
  }
  jm::IsolationForestOptions options;
  const std::vector<float> scores = jm::isolation_forest_scores(rows.data(), n, dims, options, 2);
  ASSERT_EQ(scores.size(), static_cast<size_t>(n));
  EXPECT_EQ(precision_at(scores, truth, 10), 1.0);
  for (float s : scores) {
    EXPECT_GT(s, 0.0f);
    EXPECT_LE(s, 1.0f);
  }
  // Inliers score around 0.5 or below, as the paper's normalisation intends.
  std::vector<float> inliers(scores.begin(), scores.begin() + 3000);
  std::nth_element(inliers.begin(), inliers.begin() + 1500, inliers.end());
  EXPECT_LT(inliers[1500], 0.5f);
  // Deterministic for a seed, whatever the thread count, and the same through a CPU context.
  EXPECT_EQ(jm::isolation_forest_scores(rows.data(), n, dims, options, 1), scores);
  jm::Context cpu;
  cpu.num_threads = 1;
  EXPECT_EQ(jm::isolation_forest_scores(cpu, rows.data(), n, dims, options), scores);
  EXPECT_THROW(jm::isolation_forest_scores(rows.data(), n, dims, jm::IsolationForestOptions{0, 256, 1}, 1),
               jm::ConfigError);
}

TEST(IsolationForest, GpuScoresEqualCpuScores) {
  if (!jm::gpu_available()) GTEST_SKIP() << "no CUDA device: " << jm::gpu_description();
  std::mt19937_64 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int dims = 7;
  const int64_t n = 50000;
  std::vector<float> rows(static_cast<size_t>(n) * dims);
  for (float& v : rows) v = normal(rng);
  for (int64_t r = 0; r < n; r += 997) rows[r * dims + r % dims] = 9.0f;  // some clear outliers
  jm::IsolationForestOptions options;
  const jm::Context cpu = jm::make_context(Backend::Cpu, 2), gpu = jm::make_context(Backend::Gpu, 2);
  const std::vector<float> expected = jm::isolation_forest_scores(cpu, rows.data(), n, dims, options);
  const std::vector<float> actual = jm::isolation_forest_scores(gpu, rows.data(), n, dims, options);
  ASSERT_EQ(actual.size(), expected.size());
  // Same trees, same traversal (isolation_forest_rules.hpp); only exp2's last bit may differ.
  for (int64_t r = 0; r < n; ++r) ASSERT_NEAR(actual[r], expected[r], 1e-6f) << "row " << r;
}

TEST(AnomalyThreshold, MatchesDefinitions) {
  std::vector<float> scores = {5, 1, 3, 2, 4, 100, 2.5f};
  // Percentile with linear interpolation between closest ranks: sorted 1 2 2.5 3 4 5 100,
  // position 0.5 x 6 = 3 -> 3; position 0.9 x 6 = 5.4 -> 5 + 0.4 x 95 = 43.
  EXPECT_DOUBLE_EQ(jm::anomaly_threshold(scores, jm::ThresholdRule::Percentile, 50.0, 0.0), 3.0);
  EXPECT_NEAR(jm::anomaly_threshold(scores, jm::ThresholdRule::Percentile, 90.0, 0.0), 43.0, 1e-9);
  // Robust: median 3, absolute deviations 2 2 0 1 1 97 0.5 -> MAD 1; 3 + 2 x 1.4826 x 1.
  EXPECT_NEAR(jm::anomaly_threshold(scores, jm::ThresholdRule::Robust, 0.0, 2.0), 3.0 + 2.0 * 1.4826, 1e-9);
  EXPECT_THROW(jm::anomaly_threshold(scores, jm::ThresholdRule::Percentile, 100.0, 0.0), jm::ConfigError);
  EXPECT_THROW(jm::anomaly_threshold(scores, jm::ThresholdRule::Robust, 0.0, 0.0), jm::ConfigError);
  // Log scale: the logs of 1 2 2.5 3 4 5 100 have median log 3; the deviations |log(x / 3)| sorted
  // are log of 1, 1.2, 4/3, 1.5, 5/3, 3, 33.3, so the MAD is log 1.5 and the limit 3 x 1.5^(2 x 1.4826).
  EXPECT_NEAR(jm::anomaly_threshold(scores, jm::ThresholdRule::LogRobust, 0.0, 2.0),
              3.0 * std::pow(1.5, 2.0 * 1.4826), 1e-9);
  EXPECT_EQ(jm::parse_threshold_rule("log_robust"), jm::ThresholdRule::LogRobust);
  EXPECT_EQ(jm::parse_threshold_rule("percentile"), jm::ThresholdRule::Percentile);
  EXPECT_THROW(jm::parse_threshold_rule("sigma"), jm::ConfigError);
}

TEST(Anomalies, WritesHdf5SummaryAndRunsTheCommand) {
  const auto dir = jm::testing::scratch_dir();
  jm::GeneratorOptions generator;
  generator.journeys = 4000;
  generator.seed = 11;
  generator.days = 30;
  generator.spike_day = 20;
  generator.anomaly_fraction = 0.01;
  const auto data = jm::testing::generate_journeys(dir, generator);
  jm::Context ctx;
  ctx.num_threads = 2;
  const jm::FeatureMatrix features = jm::extract_features(ctx, data.journeys, jm::FeatureOptions{});
  jm::AnomaliesOptions options;
  options.journeys.autoencoder.epochs = 3;
  options.journeys.top_n = 5;
  options.alerts.min_support = 10;
  const jm::AnomaliesResult result = jm::detect_anomalies(ctx, data.journeys, features, options);
  ASSERT_TRUE(result.has_journeys && result.has_alerts);

  const std::string path = (dir / "anomalies.h5").string();
  {
    jm::ResultWriter writer(path);
    jm::write_anomalies_results(writer, result);
    writer.commit();
  }
  jm::ResultReader reader(path);
  EXPECT_EQ(reader.read_float("/anomalies/score"), result.journeys.score);
  EXPECT_EQ(reader.read_uint8("/anomalies/flagged"), result.journeys.flagged);
  EXPECT_EQ(reader.read_strings("/anomalies/columns"), result.journeys.scaling.columns);
  EXPECT_DOUBLE_EQ(reader.read_double_attribute("/anomalies", "threshold"), result.journeys.threshold);
  EXPECT_EQ(reader.read_int64("/anomalies/top/journey").size(), 5u);
  EXPECT_EQ(reader.read_strings("/anomalies/top/path")[0], result.journeys.top[0].path);
  EXPECT_EQ(reader.read_float("/anomalies/comparison/forest_score"), result.journeys.forest_score);
  EXPECT_DOUBLE_EQ(reader.read_double_attribute("/anomalies/comparison", "spearman"), result.journeys.comparison.spearman);
  const auto& alerts = result.alerts;
  EXPECT_EQ(reader.read_int64("/alerts/bucket_start_ms"), alerts.bucket_start_ms);
  EXPECT_EQ(reader.shape("/alerts/observed"),
            (std::vector<uint64_t>{alerts.series.size(), alerts.bucket_start_ms.size()}));
  EXPECT_EQ(reader.read_strings("/alerts/list/metric").size(), alerts.alerts.size());

  const std::string summary = jm::format_anomalies_summary(result);
  EXPECT_NE(summary.find("anomalous journeys:"), std::string::npos) << summary;
  EXPECT_NE(summary.find("metric alerts:"), std::string::npos) << summary;
  EXPECT_NE(summary.find(" > "), std::string::npos) << summary;  // paths in touchpoint names

  // The `detect` command through its CLI registration.
  CLI::App app;
  std::function<int()> handler;
  jm::add_detect_command(app, handler);
  const std::string out = (dir / "detect.h5").string();
  std::vector<std::string> args = {"detect", "--input", data.csv, "--out", out, "--device", "cpu", "--threads", "2",
                                   "--session-gap", "172800", "--epochs", "2", "--min-support", "10"};
  std::vector<const char*> argv = {"journeymap"};
  for (const auto& a : args) argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), const_cast<char**>(argv.data()));
  ASSERT_TRUE(handler);
  testing::internal::CaptureStdout();
  EXPECT_EQ(handler(), 0);
  const std::string printed = testing::internal::GetCapturedStdout();
  EXPECT_NE(printed.find("anomalous journeys:"), std::string::npos) << printed;
  jm::ResultReader detect_reader(out);
  EXPECT_EQ(detect_reader.read_float("/anomalies/score").size(), static_cast<size_t>(data.journeys.size()));
  EXPECT_TRUE(detect_reader.exists("/alerts/list/metric"));
}

TEST(Anomalies, BadOptionsFailClearly) {
  jm::JourneySet journeys;
  journeys.offsets = {0};
  jm::FeatureMatrix features;
  features.n_rows = 3;  // does not match the journeys
  jm::Context ctx;
  EXPECT_THROW(jm::detect_journey_anomalies(ctx, journeys, features, jm::JourneyAnomalyOptions{}), jm::ConfigError);
  jm::JourneyAnomalyOptions options;
  options.threshold_rule = jm::ThresholdRule::Percentile;
  options.percentile = 0.0;
  EXPECT_THROW(jm::detect_journey_anomalies(ctx, journeys, features, options), jm::ConfigError);
}

}  // namespace
