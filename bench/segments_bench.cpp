// One Lloyd iteration (assignment by GEMM + arg-min + cluster sums) at d = 64, k = 32 on Gaussian
// blobs, points resident on the backend: CPU (OpenBLAS, all threads) and, in CUDA builds, GPU
// (cuBLAS + fused kernel; includes the centroid upload, the k x d sums download and the stream sync
// that a real iteration needs). n = 1M by default, 10M with JM_BENCH_LARGE=1.
// scripts/bench_kmeans_sklearn.py times scikit-learn's Lloyd iteration on the same data.
// k_search: the segments stage's search over k = 2..8 with 4 restarts each (k-means++ and every Lloyd
// iteration) on 200k points in 55 dimensions, three overlapping blobs as in generated journeys, so
// that the k above 3 take tens of iterations (scikit-learn's equivalent: scripts/peers.py).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <map>
#include <random>
#include <vector>

#include "journeymap/segments.hpp"

namespace {

constexpr int kDims = 64;
constexpr int kClusters = 32;

// Blobs: 32 random centres in [-5, 5]^64, unit Gaussian noise (never all-zero data).
const std::vector<float>& cached_points(int64_t n) {
  static std::map<int64_t, std::vector<float>> cache;
  auto& points = cache[n];
  if (!points.empty()) return points;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<float> centre(-5.0f, 5.0f);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  std::vector<float> centres(kClusters * kDims);
  for (float& c : centres) c = centre(rng);
  points.resize(static_cast<size_t>(n) * kDims);
  for (int64_t i = 0; i < n; ++i)
    for (int j = 0; j < kDims; ++j) points[i * kDims + j] = centres[(i % kClusters) * kDims + j] + noise(rng);
  return points;
}

void lloyd_iteration(benchmark::State& state, jm::Backend backend) {
  if (backend == jm::Backend::Gpu && !jm::gpu_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const int64_t n = state.range(0);
  const std::vector<float>& points = cached_points(n);
  const jm::Context ctx = jm::make_context(backend == jm::Backend::Gpu ? jm::DeviceChoice::Gpu : jm::DeviceChoice::Cpu);
  auto step = backend == jm::Backend::Gpu ? jm::cuda_impl::make_lloyd_step(ctx, points.data(), n, kDims)
                                          : jm::cpu_impl::make_lloyd_step(ctx, points.data(), n, kDims);
  // Initial centroids: the first k points (spread over all blobs).
  std::vector<float> centroids(points.begin(), points.begin() + kClusters * kDims);
  std::vector<double> sums;
  std::vector<int64_t> counts;
  step->assign(centroids, kClusters, sums, counts);  // warm-up (cuBLAS/OpenBLAS setup, pool growth)
  for (auto _ : state) {
    const double inertia = step->assign(centroids, kClusters, sums, counts);
    benchmark::DoNotOptimize(inertia);
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.SetBytesProcessed(state.iterations() * n * kDims * static_cast<int64_t>(sizeof(float)));
  state.counters["threads"] = ctx.num_threads;
}

void sizes(benchmark::internal::Benchmark* b) {
  b->Arg(1'000'000)->Unit(benchmark::kMillisecond)->UseRealTime();
  if (std::getenv("JM_BENCH_LARGE")) b->Arg(10'000'000);
}

BENCHMARK_CAPTURE(lloyd_iteration, cpu, jm::Backend::Cpu)->Apply(sizes);
BENCHMARK_CAPTURE(lloyd_iteration, gpu, jm::Backend::Gpu)->Apply(sizes);

// Three overlapping blobs in 55 dimensions, 200k points.
const std::vector<float>& search_points() {
  static std::vector<float> points;
  if (!points.empty()) return points;
  constexpr int64_t n = 200'000;
  constexpr int dims = 55;
  std::mt19937_64 rng(31);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  std::vector<float> centres(3 * dims);
  for (float& c : centres) c = 1.5f * noise(rng);
  points.resize(static_cast<size_t>(n) * dims);
  for (int64_t i = 0; i < n; ++i)
    for (int j = 0; j < dims; ++j) points[i * dims + j] = centres[(i % 3) * dims + j] + noise(rng);
  return points;
}

void k_search(benchmark::State& state, jm::Backend backend) {
  if (backend == jm::Backend::Gpu && !jm::gpu_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const std::vector<float>& points = search_points();
  const int64_t n = 200'000;
  const jm::Context ctx = jm::make_context(backend == jm::Backend::Gpu ? jm::DeviceChoice::Gpu : jm::DeviceChoice::Cpu);
  jm::KMeansOptions options;  // defaults: 4 restarts, up to 100 iterations
  for (auto _ : state) {
    double inertia = 0.0;
    for (int k = 2; k <= 8; ++k) inertia += jm::kmeans(ctx, points.data(), n, 55, k, options).inertia;
    benchmark::DoNotOptimize(inertia);
  }
  state.counters["threads"] = ctx.num_threads;
}

BENCHMARK_CAPTURE(k_search, cpu, jm::Backend::Cpu)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK_CAPTURE(k_search, gpu, jm::Backend::Gpu)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
