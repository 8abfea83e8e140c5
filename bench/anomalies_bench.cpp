// Autoencoder throughput on a synthetic standardised feature matrix [rows x 24] (a 4-dimensional
// latent structure plus noise, shaped like the default anomaly columns), CPU and GPU side by side:
//   autoencoder_train_epoch/<backend>/<rows>  one epoch, d -> 64 -> 16 -> 64 -> d, batch 256, Adam;
//                                             items/s = training rows per second. The GPU figure
//                                             includes uploading the matrix once per run.
//   autoencoder_score/<backend>/<rows>        reconstruction error of every row (host in, host out)
//   isolation_forest/<rows>                   the comparison detector (100 trees, 256 samples), CPU
// Sizes: 1M rows; 10M with JM_BENCH_LARGE=1 (about 1 GB of host memory per matrix).
// Same architecture in scikit-learn: scripts/bench_autoencoder_peers.py.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <map>
#include <random>
#include <vector>

#include "journeymap/anomalies.hpp"

namespace {

constexpr int kDims = 24;

const std::vector<float>& cached_rows(int64_t n) {
  static std::map<int64_t, std::vector<float>> cache;
  auto found = cache.find(n);
  if (found != cache.end()) return found->second;
  std::mt19937_64 rng(2024);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> basis(4 * kDims);
  for (float& b : basis) b = normal(rng) * 0.5f;
  std::vector<float> rows(static_cast<size_t>(n) * kDims);
  for (int64_t r = 0; r < n; ++r) {
    float z[4];
    for (float& v : z) v = normal(rng);
    for (int c = 0; c < kDims; ++c)
      rows[r * kDims + c] =
          z[0] * basis[c] + z[1] * basis[kDims + c] + z[2] * basis[2 * kDims + c] + z[3] * basis[3 * kDims + c] +
          0.1f * normal(rng);
  }
  return cache.emplace(n, std::move(rows)).first->second;
}

jm::Context context(benchmark::State& state, jm::Backend backend, bool& skip) {
  skip = backend == jm::Backend::Gpu && !jm::gpu_available();
  if (skip) {
    state.SkipWithError("no CUDA device");
    return jm::make_context(jm::Backend::Cpu);
  }
  return jm::make_context(backend);
}

void train_epoch(benchmark::State& state, jm::Backend backend) {
  bool skip = false;
  const jm::Context ctx = context(state, backend, skip);
  if (skip) return;
  const int64_t n = state.range(0);
  const std::vector<float>& rows = cached_rows(n);
  jm::AutoencoderOptions options;
  options.epochs = 1;
  options.max_train_rows = 0;
  const jm::AutoencoderModel initial = jm::init_autoencoder(kDims, options.hidden, 1);
  for (auto _ : state) {
    const auto training = jm::train_autoencoder(ctx, rows.data(), n, kDims, initial, options);
    benchmark::DoNotOptimize(training.loss_per_epoch.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}

void score(benchmark::State& state, jm::Backend backend) {
  bool skip = false;
  const jm::Context ctx = context(state, backend, skip);
  if (skip) return;
  const int64_t n = state.range(0);
  const std::vector<float>& rows = cached_rows(n);
  const jm::AutoencoderModel model = jm::init_autoencoder(kDims, {64, 16, 64}, 1);
  for (auto _ : state) {
    const std::vector<float> errors = jm::reconstruction_errors(ctx, model, rows.data(), n);
    benchmark::DoNotOptimize(errors.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}

void isolation_forest(benchmark::State& state) {
  const int64_t n = state.range(0);
  const std::vector<float>& rows = cached_rows(n);
  for (auto _ : state) {
    const std::vector<float> scores = jm::isolation_forest_scores(rows.data(), n, kDims, jm::IsolationForestOptions{}, 0);
    benchmark::DoNotOptimize(scores.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}

void sizes(benchmark::internal::Benchmark* b) {
  b->Arg(1'000'000);
  if (std::getenv("JM_BENCH_LARGE")) b->Arg(10'000'000);
  b->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
}

BENCHMARK_CAPTURE(train_epoch, cpu, jm::Backend::Cpu)->Apply(sizes);
BENCHMARK_CAPTURE(train_epoch, gpu, jm::Backend::Gpu)->Apply(sizes);
BENCHMARK_CAPTURE(score, cpu, jm::Backend::Cpu)->Apply(sizes);
BENCHMARK_CAPTURE(score, gpu, jm::Backend::Gpu)->Apply(sizes);
BENCHMARK(isolation_forest)->Apply(sizes);

}  // namespace

BENCHMARK_MAIN();
