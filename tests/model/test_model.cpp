// Training, prediction and persistence through XGBoost on a generic matrix with a planted signal.
// One body per backend: Cpu always runs; Gpu skips without a device and is compared with the Cpu
// result. Every test skips when the build has no XGBoost (scripts/setup_xgboost.sh).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <vector>

#include "journeymap/common.hpp"
#include "journeymap/model.hpp"
#include "test_helpers.hpp"

namespace {

using jm::Backend;

// Rows with a planted conversion rule: logit = 2.5 x0 - 2 x1 x2 + 1.5 [cat == 2] - 1, where x3..x6
// are noise and column 7 ("channel_slot") is a 4-valued category. Labels are drawn from the rule,
// so the Bayes AUC is well below 1 but far above a rate-by-category baseline.
struct PlantedData {
  int64_t rows = 0, cols = 8;
  std::vector<float> values, labels, logit;
  std::vector<uint32_t> customer;
  std::vector<int64_t> time;
  std::vector<std::string> names{"x0", "x1", "x2", "noise3", "noise4", "noise5", "noise6", "channel_slot"};
};

PlantedData planted(int64_t rows, uint64_t seed) {
  PlantedData d;
  d.rows = rows;
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  for (int64_t i = 0; i < rows; ++i) {
    float row[8];
    for (int c = 0; c < 7; ++c) row[c] = normal(rng);
    row[7] = static_cast<float>(rng() % 4);
    const float z = 2.5f * row[0] - 2.0f * row[1] * row[2] + (row[7] == 2.0f ? 1.5f : 0.0f) - 1.0f;
    d.values.insert(d.values.end(), row, row + 8);
    d.logit.push_back(z);
    d.labels.push_back(uniform(rng) < 1.0f / (1.0f + std::exp(-z)) ? 1.0f : 0.0f);
    d.customer.push_back(static_cast<uint32_t>(i / 2));  // two rows per customer
    d.time.push_back(i);
  }
  return d;
}

jm::MatrixView view(const PlantedData& d) { return jm::MatrixView{d.values.data(), d.rows, d.cols}; }

std::vector<float> rows_of(const std::vector<float>& v, const std::vector<jm::RowRole>& roles, jm::RowRole role) {
  std::vector<float> out;
  for (size_t i = 0; i < roles.size(); ++i)
    if (roles[i] == role) out.push_back(v[i]);
  return out;
}

jm::ModelOptions fast_options() {
  jm::ModelOptions o;
  o.rounds = 120;
  o.early_stopping_rounds = 15;
  o.max_depth = 4;
  o.learning_rate = 0.15;
  o.prefix_max_events = 0;
  return o;
}

class Model : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (!jm::xgboost_available()) GTEST_SKIP() << "built without XGBoost (scripts/setup_xgboost.sh)";
    if (GetParam() == Backend::Gpu && !jm::gpu_available()) GTEST_SKIP() << "no CUDA device";
    ctx_ = jm::make_context(GetParam(), 2);
  }
  jm::Context ctx_;
};

TEST_P(Model, LearnsPlantedSignalAndBeatsBaseline) {
  const PlantedData d = planted(8000, 11);
  const jm::ModelOptions options = fast_options();
  const auto roles = jm::split_rows(d.customer, d.labels, d.time, options);
  jm::TrainingHistory history;
  const jm::Model model = jm::train_model(ctx_, view(d), d.names, d.labels, roles, options, &history);
  EXPECT_GT(model.rounds_trained, 5);
  EXPECT_EQ(model.rounds_trained, history.best_round + 1);
  EXPECT_EQ(history.train_loss.size(), history.early_stop_loss.size());
  EXPECT_LT(history.train_loss.back(), history.train_loss.front());

  const auto predictions = jm::predict(ctx_, model, view(d));
  const auto baseline = jm::category_rate_baseline(view(d), 7, d.labels, roles);
  const auto test_labels = rows_of(d.labels, roles, jm::RowRole::Test);
  const double model_auc = jm::evaluate_binary(test_labels, rows_of(predictions, roles, jm::RowRole::Test)).roc_auc;
  const double baseline_auc = jm::evaluate_binary(test_labels, rows_of(baseline, roles, jm::RowRole::Test)).roc_auc;
  // The true logit reaches AUC ~0.87 on this rule; the category alone ~0.6.
  const double oracle_auc = jm::evaluate_binary(test_labels, rows_of(d.logit, roles, jm::RowRole::Test)).roc_auc;
  EXPECT_GT(model_auc, 0.80);
  EXPECT_GT(model_auc, baseline_auc + 0.15);
  EXPECT_GT(model_auc, oracle_auc - 0.05);

  // Gain puts the planted columns first; noise columns rank below all of them.
  const auto gain = jm::feature_importance(model, "gain");
  const auto cover = jm::feature_importance(model, "cover");
  ASSERT_EQ(gain.size(), 8u);
  ASSERT_EQ(cover.size(), 8u);
  for (int noise = 3; noise <= 6; ++noise) {
    EXPECT_GT(gain[0], gain[noise]);
    EXPECT_GT(gain[1], gain[noise]);
    EXPECT_GT(gain[2], gain[noise]);
  }
}

TEST_P(Model, ContributionsSumToTheMargin) {
  const PlantedData d = planted(2000, 12);
  jm::ModelOptions options = fast_options();
  options.rounds = 30;
  const auto roles = jm::split_rows(d.customer, d.labels, d.time, options);
  const jm::Model model = jm::train_model(ctx_, view(d), d.names, d.labels, roles, options);
  const auto p = jm::predict(ctx_, model, view(d));
  const auto contributions = jm::predict_contributions(ctx_, model, view(d));
  ASSERT_EQ(contributions.size(), static_cast<size_t>(d.rows * (d.cols + 1)));
  for (int64_t r = 0; r < d.rows; r += 97) {
    double margin = 0;
    for (int64_t c = 0; c <= d.cols; ++c) margin += contributions[static_cast<size_t>(r * (d.cols + 1) + c)];
    // TreeSHAP is exact up to float summation over ~30 trees x depth 4 paths.
    EXPECT_NEAR(1.0 / (1.0 + std::exp(-margin)), p[static_cast<size_t>(r)], 1e-4) << "row " << r;
  }
}

TEST_P(Model, SaveLoadPredictIsIdentical) {
  const PlantedData d = planted(3000, 13);
  const jm::ModelOptions options = fast_options();
  const auto roles = jm::split_rows(d.customer, d.labels, d.time, options);
  jm::Model model = jm::train_model(ctx_, view(d), d.names, d.labels, roles, options);
  const auto dir = jm::testing::scratch_dir();
  const std::string path = (dir / "model.ubj").string();
  jm::save_model(model, path);
  const jm::Model loaded = jm::load_model(path);
  EXPECT_EQ(loaded.feature_names, d.names);
  EXPECT_EQ(loaded.rounds_trained, model.rounds_trained);
  EXPECT_EQ(loaded.target, jm::ModelTarget::Conversion);
  EXPECT_EQ(jm::predict(ctx_, loaded, view(d)), jm::predict(ctx_, model, view(d)));  // bit-identical
}

TEST_P(Model, SingleClassLabelsAreAClearError) {
  PlantedData d = planted(500, 14);
  std::fill(d.labels.begin(), d.labels.end(), 0.0f);
  const jm::ModelOptions options = fast_options();
  const auto roles = jm::split_rows(d.customer, d.labels, d.time, options);
  try {
    jm::train_model(ctx_, view(d), d.names, d.labels, roles, options);
    FAIL() << "expected ConfigError";
  } catch (const jm::ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("single-class"), std::string::npos) << error.what();
  }
}

TEST_P(Model, ValueRegressionLearnsPlantedValue) {
  PlantedData d = planted(4000, 15);
  for (int64_t i = 0; i < d.rows; ++i) d.labels[static_cast<size_t>(i)] = 10.0f * d.values[static_cast<size_t>(i * d.cols)] + 3.0f;
  jm::ModelOptions options = fast_options();
  options.target = jm::ModelTarget::Value;
  const auto roles = jm::split_rows(d.customer, d.labels, d.time, options);
  const jm::Model model = jm::train_model(ctx_, view(d), d.names, d.labels, roles, options);
  const auto p = jm::predict(ctx_, model, view(d));
  const auto m = jm::evaluate_regression(rows_of(d.labels, roles, jm::RowRole::Test), rows_of(p, roles, jm::RowRole::Test));
  EXPECT_GT(m.r2, 0.95);  // a step function of one column approximates the line closely
}

TEST_P(Model, GpuAndCpuReachTheSameAuc) {
  if (GetParam() == Backend::Cpu) GTEST_SKIP() << "the Gpu instantiation compares itself with the Cpu";
  const PlantedData d = planted(8000, 11);
  const jm::ModelOptions options = fast_options();
  const auto roles = jm::split_rows(d.customer, d.labels, d.time, options);
  const jm::Context cpu = jm::make_context(Backend::Cpu, 2);
  const auto test_labels = rows_of(d.labels, roles, jm::RowRole::Test);
  auto auc = [&](const jm::Context& ctx) {
    const jm::Model model = jm::train_model(ctx, view(d), d.names, d.labels, roles, options);
    return jm::evaluate_binary(test_labels, rows_of(jm::predict(ctx, model, view(d)), roles, jm::RowRole::Test)).roc_auc;
  };
  // Both use hist with the same bins; GPU sums gradients in a different order (and in float with
  // rounding), so splits can tie-break differently: the bound is 0.01 AUC.
  EXPECT_NEAR(auc(ctx_), auc(cpu), 0.01);
}

INSTANTIATE_TEST_SUITE_P(Backends, Model, ::testing::Values(Backend::Cpu, Backend::Gpu),
                         [](const auto& info) { return info.param == Backend::Cpu ? "Cpu" : "Gpu"; });

TEST(ModelFile, BadFilesAreClearErrors) {
  if (!jm::xgboost_available()) GTEST_SKIP() << "built without XGBoost";
  const auto dir = jm::testing::scratch_dir();
  EXPECT_THROW(jm::load_model((dir / "missing.ubj").string()), jm::InputError);
  const std::string garbage = jm::testing::write_file(dir / "garbage.ubj", "this is not a model\n");
  try {
    jm::load_model(garbage);
    FAIL() << "expected InputError";
  } catch (const jm::InputError& error) {
    EXPECT_EQ(error.file(), garbage);
    EXPECT_NE(std::string(error.what()).find("not a valid XGBoost model"), std::string::npos) << error.what();
  }
  EXPECT_THROW(jm::load_model(jm::testing::write_file(dir / "empty.ubj", "")), jm::InputError);
}

TEST(ModelFile, ShapeMismatchIsAClearError) {
  if (!jm::xgboost_available()) GTEST_SKIP() << "built without XGBoost";
  const PlantedData d = planted(600, 16);
  jm::Context ctx;
  jm::ModelOptions options = fast_options();
  options.rounds = 5;
  const auto roles = jm::split_rows(d.customer, d.labels, d.time, options);
  const jm::Model model = jm::train_model(ctx, view(d), d.names, d.labels, roles, options);
  const std::vector<float> narrow(10 * 3, 0.5f);
  EXPECT_THROW(jm::predict(ctx, model, jm::MatrixView{narrow.data(), 10, 3}), jm::ConfigError);
  EXPECT_THROW(jm::train_model(ctx, view(d), {"too", "few"}, d.labels, roles, options), jm::ConfigError);
}

}  // namespace

namespace {

// A build configured without XGBoost (-DJM_WITH_XGBOOST=OFF or before scripts/setup_xgboost.sh)
// must fail with a message that says how to install it, not crash.
TEST(ModelWithoutXgboost, EntryPointsNameTheSetupScript) {
  if (jm::xgboost_available()) GTEST_SKIP() << "this build has XGBoost";
  const PlantedData d = planted(200, 17);
  jm::Context ctx;
  const jm::ModelOptions options = fast_options();
  const auto roles = jm::split_rows(d.customer, d.labels, d.time, options);
  try {
    jm::train_model(ctx, view(d), d.names, d.labels, roles, options);
    FAIL() << "expected jm::Error";
  } catch (const jm::Error& error) {
    EXPECT_NE(std::string(error.what()).find("scripts/setup_xgboost.sh"), std::string::npos) << error.what();
  }
  const auto path = jm::testing::write_file(jm::testing::scratch_dir() / "m.ubj", "x");
  EXPECT_THROW(jm::load_model(path), jm::Error);
  EXPECT_NE(jm::xgboost_description().find("setup_xgboost.sh"), std::string::npos);
}

}  // namespace
