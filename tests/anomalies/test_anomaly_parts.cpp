// The detectors over rows that need not all be in memory (host/anomalies/anomaly_parts.hpp): rows
// read a block at a time, training samples fetched by row index and the forest built from the rows
// its trees sample give exactly what the detectors compute on every row in memory.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "host/anomalies/anomaly_parts.hpp"
#include "journeymap/anomalies.hpp"
#include "journeymap/common.hpp"

namespace {

// Rows with a few clusters and some far points, [n x dims].
std::vector<float> clustered_rows(int64_t n, int dims, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  std::vector<float> rows(static_cast<size_t>(n * dims));
  for (int64_t r = 0; r < n; ++r)
    for (int c = 0; c < dims; ++c) {
      const float centre = static_cast<float>((r % 3) * 2 - 2) * (c % 2 == 0 ? 1.0f : -0.5f);
      rows[static_cast<size_t>(r * dims + c)] = centre + noise(rng) * (r % 97 == 0 ? 6.0f : 0.4f);
    }
  return rows;
}

// The same rows handed over in blocks of `block_rows`, each a HostDeviceVector of its own.
class RowsInBlocks final : public jm::ScaledRows {
 public:
  RowsInBlocks(const std::vector<float>& rows, int64_t n, int dims, int64_t block_rows)
      : rows_(rows), n_(n), dims_(dims), block_rows_(block_rows) {}
  int64_t rows() const override { return n_; }
  int dims() const override { return dims_; }
  std::vector<float> gather(const std::vector<int64_t>& indices) const override {
    EXPECT_TRUE(std::is_sorted(indices.begin(), indices.end()));
    std::vector<float> out;
    for (const int64_t i : indices) out.insert(out.end(), rows_.begin() + i * dims_, rows_.begin() + (i + 1) * dims_);
    return out;
  }
  void for_each_block(const BlockVisitor& visit) const override {
    for (int64_t first = 0; first < n_; first += block_rows_) {
      const int64_t count = std::min(block_rows_, n_ - first);
      const jm::HostDeviceVector<float> block(rows_.begin() + first * dims_, rows_.begin() + (first + count) * dims_);
      visit(first, count, block);
    }
  }

 private:
  const std::vector<float>& rows_;
  int64_t n_;
  int dims_;
  int64_t block_rows_;
};

jm::RowGather gather_from(const std::vector<float>& rows, int dims) {
  return [&rows, dims](const std::vector<int64_t>& indices) {
    std::vector<float> out;
    for (const int64_t i : indices) out.insert(out.end(), rows.begin() + i * dims, rows.begin() + (i + 1) * dims);
    return out;
  };
}

jm::FeatureScaling unit_scaling(int dims) {
  jm::FeatureScaling scaling;
  for (int c = 0; c < dims; ++c) {
    scaling.columns.push_back("c" + std::to_string(c));
    scaling.transform.push_back(static_cast<uint8_t>(jm::FeatureTransform::Identity));
    scaling.mean.push_back(0.0f);
    scaling.scale.push_back(1.0f);
  }
  return scaling;
}

TEST(AnomalyParts, TrainingOnFetchedRowsEqualsTrainingOnTheRows) {
  const int dims = 6;
  const int64_t n = 2500;
  const std::vector<float> rows = clustered_rows(n, dims, 3);
  const jm::Context cpu = jm::make_context(jm::Backend::Cpu, 2);
  const jm::AutoencoderModel initial = jm::init_autoencoder(dims, {8, 3, 8}, 5);
  for (const int64_t max_rows : {int64_t{0}, int64_t{700}, int64_t{5000}}) {
    jm::AutoencoderOptions options;
    options.epochs = 3;
    options.max_train_rows = max_rows;
    const jm::AutoencoderTraining direct = jm::train_autoencoder(cpu, rows.data(), n, dims, initial, options);
    const jm::AutoencoderTraining fetched = jm::train_autoencoder(cpu, n, dims, gather_from(rows, dims), initial, options);
    EXPECT_EQ(fetched.model.parameters, direct.model.parameters) << max_rows;
    EXPECT_EQ(fetched.loss_per_epoch, direct.loss_per_epoch) << max_rows;
    EXPECT_EQ(fetched.train_rows, max_rows == 700 ? 700 : n);
  }
}

TEST(AnomalyParts, ForestFromTheSampledRowsEqualsTheForestOnEveryRow) {
  const int dims = 5;
  const int64_t n = 4000;
  const std::vector<float> rows = clustered_rows(n, dims, 11);
  const jm::Context cpu = jm::make_context(jm::Backend::Cpu, 2);
  for (const int64_t sample_size : {int64_t{256}, int64_t{6000}}) {  // below n, and every row
    jm::IsolationForestOptions options;
    options.trees = 40;
    options.sample_size = sample_size;
    const std::vector<float> direct = jm::isolation_forest_scores(cpu, rows.data(), n, dims, options);
    const jm::anomalies_detail::FlatForest forest = jm::fit_isolation_forest(n, dims, options, 2, gather_from(rows, dims));
    EXPECT_EQ(jm::isolation_forest_scores(cpu, forest, RowsInBlocks(rows, n, dims, 999)), direct) << sample_size;
  }
}

// Blocks of 999 rows (the scores, flags and explanations of each block land at its offset) against
// one block of every row.
TEST(AnomalyParts, RowsInBlocksScoreAsRowsInMemory) {
  const int dims = 7;
  const int64_t n = 3500;
  const std::vector<float> rows = clustered_rows(n, dims, 19);
  const jm::HostDeviceVector<float> all(rows);
  const jm::Context cpu = jm::make_context(jm::Backend::Cpu, 2);
  jm::JourneyAnomalyOptions options;
  options.autoencoder.hidden = {8, 3, 8};
  options.autoencoder.epochs = 3;
  options.autoencoder.max_train_rows = 1200;
  options.trim_rounds = 2;
  options.trim_epochs = 1;
  options.forest.trees = 30;
  options.top_n = 8;
  options.threshold_rule = jm::ThresholdRule::Percentile;  // the top 2%: flagged rows in every block
  options.percentile = 98.0;
  options.top_features = 3;
  const jm::JourneyAnomalies memory =
      jm::score_journey_anomalies(cpu, jm::ScaledRowsInMemory(all, n, dims), unit_scaling(dims), options);
  const jm::JourneyAnomalies blocks =
      jm::score_journey_anomalies(cpu, RowsInBlocks(rows, n, dims, 999), unit_scaling(dims), options);
  EXPECT_EQ(blocks.score, memory.score);
  EXPECT_EQ(blocks.forest_score, memory.forest_score);
  EXPECT_EQ(blocks.flagged, memory.flagged);
  EXPECT_EQ(blocks.flagged_feature, memory.flagged_feature);
  EXPECT_EQ(blocks.flagged_direction, memory.flagged_direction);
  EXPECT_EQ(blocks.trimmed_per_round, memory.trimmed_per_round);
  EXPECT_EQ(blocks.threshold, memory.threshold);
  EXPECT_EQ(blocks.comparison.spearman, memory.comparison.spearman);
  EXPECT_GT(std::count(memory.flagged.begin(), memory.flagged.end(), uint8_t{1}), 10);
  ASSERT_EQ(blocks.top.size(), 8u);
  for (size_t i = 0; i < blocks.top.size(); ++i) {
    EXPECT_EQ(blocks.top[i].journey, memory.top[i].journey);
    ASSERT_EQ(blocks.top[i].reasons.size(), 3u);
    for (size_t r = 0; r < 3; ++r) {
      EXPECT_EQ(blocks.top[i].reasons[r].feature, memory.top[i].reasons[r].feature);
      EXPECT_EQ(blocks.top[i].reasons[r].reconstructed, memory.top[i].reasons[r].reconstructed);
      // The raw value is the caller's to fill (it needs the raw features).
      EXPECT_TRUE(std::isnan(blocks.top[i].reasons[r].value));
    }
  }
}

}  // namespace
