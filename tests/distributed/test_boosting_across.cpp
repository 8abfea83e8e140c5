// XGBoost's collective across processes (played by threads: XGBoost's communicator belongs to the
// thread that joins it): process 0 deals each boosting job out, every process boosts its share.
// With bins that hold every distinct value the collective grows the trees one process grows (its
// summed histograms are the same sums); with sketched bins a model as good. A failure on process 0
// before any job releases the others; too few rows stay on process 0.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <random>
#include <vector>

#include "distributed/thread_process_group.hpp"
#include "host/model/boosting.hpp"
#include "host/model/boosting_across.hpp"
#include "journeymap/common.hpp"
#include "journeymap/model.hpp"
#include "test_helpers.hpp"

namespace {

using jm::testing::run_on_threads;

// Rows with a planted rule, logit = 1.5 x0 - x1 x2 + noise; `levels` > 0 rounds every value to one
// of `levels` steps (bins then hold each distinct value), 0 keeps them continuous.
struct Rows {
  int64_t rows = 0, cols = 5;
  std::vector<float> values, labels;
  std::vector<uint32_t> customer;
  std::vector<int64_t> time;
  std::vector<std::string> names{"x0", "x1", "x2", "noise3", "noise4"};
};

Rows planted(int64_t rows, int levels, uint64_t seed) {
  Rows d;
  d.rows = rows;
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  for (int64_t i = 0; i < rows; ++i) {
    float row[5];
    for (float& value : row) {
      value = normal(rng);
      if (levels > 0) value = std::round(std::clamp(value, -2.0f, 2.0f) * static_cast<float>(levels) / 4.0f);
    }
    const float z = 1.5f * row[0] - row[1] * row[2] - 0.5f;
    d.values.insert(d.values.end(), row, row + 5);
    d.labels.push_back(uniform(rng) < 1.0f / (1.0f + std::exp(-z)) ? 1.0f : 0.0f);
    d.customer.push_back(static_cast<uint32_t>(i));
    d.time.push_back(i);
  }
  return d;
}

jm::ModelOptions options(int max_depth) {
  jm::ModelOptions o;
  o.rounds = 60;
  o.early_stopping_rounds = 10;
  o.max_depth = max_depth;
  o.learning_rate = 0.2;
  o.prefix_max_events = 0;
  return o;
}

struct Trained {
  std::vector<float> predictions;
  jm::TrainingHistory history;
  int rounds = 0;
};

// Trains `jobs` models one after another (as the model stage trains its prefix models) on
// `processes` threads-as-processes; process 0's models, predicting every row. `joined` receives how
// many jobs each process ran inside XGBoost's collective.
std::vector<Trained> train_across(const Rows& d, const std::vector<jm::ModelOptions>& jobs, int processes,
                                  std::vector<int64_t>* joined = nullptr) {
  std::vector<Trained> out;
  std::vector<int64_t> joined_by(static_cast<size_t>(processes), -1);
  std::mutex mutex;
  run_on_threads(processes, [&](jm::ProcessGroup& group) {
    const jm::Context ctx = jm::make_context(jm::Backend::Cpu, 1);
    joined_by[static_cast<size_t>(group.rank())] = jm::with_boosting_peers(ctx, group, [&](jm::model_detail::BoostingPeers* peers) {
      const jm::MatrixView all{d.values.data(), d.rows, d.cols};
      for (const jm::ModelOptions& o : jobs) {
        const auto roles = jm::split_rows(d.customer, d.labels, d.time, o, {});
        Trained trained;
        const jm::Model model = jm::model_detail::train_model(ctx, all, d.names, d.labels, roles, o, &trained.history, peers);
        trained.predictions = jm::predict(ctx, model, all);
        trained.rounds = model.rounds_trained;
        const std::lock_guard<std::mutex> lock(mutex);
        out.push_back(std::move(trained));
      }
    });
  });
  if (joined) *joined = joined_by;
  return out;
}

class BoostingAcross : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!jm::xgboost_available()) GTEST_SKIP() << "built without XGBoost (scripts/setup_xgboost.sh)";
  }
};

TEST_F(BoostingAcross, ExactBinsGiveTheModelsOfOneProcess) {
  const Rows d = planted(6000, 12, 3);  // 13 distinct values a column, far below max_bin
  const std::vector<jm::ModelOptions> jobs{options(4), options(2)};
  const std::vector<Trained> alone = train_across(d, jobs, 1);
  ASSERT_EQ(alone.size(), 2u);
  for (int processes : {2, 3}) {
    SCOPED_TRACE(std::to_string(processes) + " processes");
    std::vector<int64_t> joined;
    const std::vector<Trained> across = train_across(d, jobs, processes, &joined);
    ASSERT_EQ(across.size(), 2u);  // process 0 alone keeps models
    EXPECT_EQ(joined, std::vector<int64_t>(static_cast<size_t>(processes), 2)) << "every process boosts both jobs";
    for (size_t job = 0; job < jobs.size(); ++job) {
      EXPECT_EQ(across[job].rounds, alone[job].rounds);
      EXPECT_EQ(across[job].history.best_round, alone[job].history.best_round);
      ASSERT_EQ(across[job].history.early_stop_loss.size(), alone[job].history.early_stop_loss.size());
      for (size_t r = 0; r < alone[job].history.early_stop_loss.size(); ++r)
        EXPECT_NEAR(across[job].history.early_stop_loss[r], alone[job].history.early_stop_loss[r], 1e-6);
      for (size_t i = 0; i < alone[job].predictions.size(); ++i)
        ASSERT_NEAR(across[job].predictions[i], alone[job].predictions[i], 1e-5) << "row " << i;
    }
  }
}

TEST_F(BoostingAcross, SketchedBinsGiveAModelAsGoodAsOneProcesses) {
  const Rows d = planted(6000, 0, 5);
  const jm::ModelOptions o = options(4);
  const auto roles = jm::split_rows(d.customer, d.labels, d.time, o, {});
  auto test_auc = [&](const std::vector<float>& predictions) {
    std::vector<float> labels, scores;
    for (size_t i = 0; i < roles.size(); ++i)
      if (roles[i] == jm::RowRole::Test) labels.push_back(d.labels[i]), scores.push_back(predictions[i]);
    return jm::evaluate_binary(labels, scores).roc_auc;
  };
  const Trained alone = train_across(d, {o}, 1).at(0);
  std::vector<int64_t> joined;
  const Trained across = train_across(d, {o}, 3, &joined).at(0);
  EXPECT_EQ(joined, std::vector<int64_t>(3, 1));
  EXPECT_GT(test_auc(alone.predictions), 0.75);
  EXPECT_NEAR(test_auc(across.predictions), test_auc(alone.predictions), 0.01);
  // Early stopping may settle on another round (24 and 44 here), so the scores agree less than the
  // quality does.
  EXPECT_GT(jm::testing::correlation(across.predictions, alone.predictions), 0.95);
}

TEST_F(BoostingAcross, TooFewRowsStayOnTheFirstProcess) {
  const Rows d = planted(12, 0, 7);  // 2 early-stopping rows for 3 processes
  const std::vector<jm::ModelOptions> jobs{options(3)};
  std::vector<int64_t> joined;
  const std::vector<Trained> alone = train_across(d, jobs, 1), across = train_across(d, jobs, 3, &joined);
  ASSERT_EQ(across.size(), 1u);
  EXPECT_EQ(joined, std::vector<int64_t>(3, 0)) << "no process joined a collective";
  EXPECT_EQ(across[0].predictions, alone[0].predictions);
}

TEST_F(BoostingAcross, AFailureOnTheFirstProcessBeforeAnyJobReleasesTheOthers) {
  Rows d = planted(600, 0, 9);
  std::fill(d.labels.begin(), d.labels.end(), 0.0f);  // one class: train_model refuses
  std::vector<std::string> failures(3);
  run_on_threads(3, [&](jm::ProcessGroup& group) {
    const jm::Context ctx = jm::make_context(jm::Backend::Cpu, 1);
    try {
      jm::with_boosting_peers(ctx, group, [&](jm::model_detail::BoostingPeers* peers) {
        const jm::ModelOptions o = options(3);
        const auto roles = jm::split_rows(d.customer, d.labels, d.time, o, {});
        jm::model_detail::train_model(ctx, jm::MatrixView{d.values.data(), d.rows, d.cols}, d.names, d.labels, roles, o,
                                      nullptr, peers);
      });
    } catch (const jm::ConfigError& error) {
      failures[static_cast<size_t>(group.rank())] = error.what();
    }
  });
  EXPECT_NE(failures[0].find("single-class"), std::string::npos) << failures[0];
  EXPECT_EQ(failures[1], "");  // released: they return, and the run agrees on process 0's failure
  EXPECT_EQ(failures[2], "");
}

}  // namespace
