// Conversion-model training cost: 100 boosting rounds on a synthetic journey-like feature matrix
// (61 columns, the default feature layout's width) with a planted rule, CPU and GPU side by side,
// plus the time of our own code around XGBoost: the feature handoff (row gather + DMatrix build,
// including the upload on the GPU) and the holdout evaluation (predict + metrics).
//
//   bench_model --benchmark_filter='Train/.*/1000000'      # 1M journeys, both backends
//   bench_model --benchmark_filter='Train/Gpu/10000000'    # 10M journeys on the GPU
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <random>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/model.hpp"

namespace {

constexpr int64_t kColumns = 61;

struct Data {
  std::vector<float> values, labels;
  std::vector<std::string> names;
  std::vector<jm::RowRole> roles;
};

// Deterministic data, generated once per size: a few informative columns, the rest noise.
const Data& data(int64_t rows) {
  static int64_t cached_rows = -1;
  static Data d;
  if (cached_rows == rows) return d;
  d = Data{};
  d.values.resize(static_cast<size_t>(rows * kColumns));
  d.labels.resize(static_cast<size_t>(rows));
  d.roles.resize(static_cast<size_t>(rows));
  std::mt19937_64 rng(123);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  for (int64_t i = 0; i < rows; ++i) {
    float* row = d.values.data() + i * kColumns;
    for (int64_t c = 0; c < kColumns; ++c) row[c] = normal(rng);
    const float z = 2.0f * row[0] - 1.5f * row[1] * row[2] + row[3] - 1.0f;
    d.labels[static_cast<size_t>(i)] = uniform(rng) < 1.0f / (1.0f + std::exp(-z)) ? 1.0f : 0.0f;
    const uint64_t slot = rng() % 20;  // 80% train, 5% early stop (evaluated each round), 15% test
    d.roles[static_cast<size_t>(i)] = slot < 16 ? jm::RowRole::Train : slot < 17 ? jm::RowRole::EarlyStop : jm::RowRole::Test;
  }
  for (int64_t c = 0; c < kColumns; ++c) d.names.push_back("f" + std::to_string(c));
  cached_rows = rows;
  return d;
}

void train(benchmark::State& state, jm::Backend backend) {
  if (!jm::xgboost_available()) {
    state.SkipWithError("built without XGBoost (scripts/setup_xgboost.sh)");
    return;
  }
  if (backend == jm::Backend::Gpu && !jm::gpu_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const int64_t rows = state.range(0);
  const Data& d = data(rows);
  const jm::Context ctx = jm::make_context(backend);
  jm::ModelOptions options;
  options.rounds = 100;
  options.early_stopping_rounds = 0;  // always 100 rounds
  options.max_depth = 6;
  const jm::MatrixView view{d.values.data(), rows, kColumns};
  double handoff = 0, boosting = 0, evaluation = 0;
  for (auto _ : state) {
    jm::TrainingHistory history;
    const jm::Model model = jm::train_model(ctx, view, d.names, d.labels, d.roles, options, &history);
    const auto start = std::chrono::steady_clock::now();
    const std::vector<float> scores = jm::predict(ctx, model, view);
    std::vector<float> test_labels, test_scores;
    for (size_t i = 0; i < d.roles.size(); ++i)
      if (d.roles[i] == jm::RowRole::Test) {
        test_labels.push_back(d.labels[i]);
        test_scores.push_back(scores[i]);
      }
    benchmark::DoNotOptimize(jm::evaluate_binary(test_labels, test_scores).roc_auc);
    evaluation += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    handoff += history.handoff_seconds;
    boosting += history.boosting_seconds;
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["boosting_s"] = boosting / n;
  state.counters["handoff_s"] = handoff / n;
  state.counters["evaluation_s"] = evaluation / n;
  state.counters["handoff_pct"] = 100.0 * handoff / boosting;
  state.SetItemsProcessed(state.iterations() * rows);
}

void BM_Train_Cpu(benchmark::State& state) { train(state, jm::Backend::Cpu); }
void BM_Train_Gpu(benchmark::State& state) { train(state, jm::Backend::Gpu); }

}  // namespace

BENCHMARK(BM_Train_Cpu)->Name("Train/Cpu")->Arg(100000)->Arg(1000000)->Arg(10000000)->Unit(benchmark::kSecond)->Iterations(1);
BENCHMARK(BM_Train_Gpu)->Name("Train/Gpu")->Arg(100000)->Arg(1000000)->Arg(10000000)->Unit(benchmark::kSecond)->Iterations(1);

BENCHMARK_MAIN();
