// The k-means driver shared by both backends: the k-means++ draws and the sampled silhouette run on
// the CPU (the k-means++ distances on the run's backend: seeding_distances.hpp), the Lloyd loop
// (centroid update, empty-cluster repair, convergence test) runs here on the host, and only the
// assignment pass (LloydStep) runs on the chosen backend.
//
// Why the update stays on the host: per-cluster sums come back as k x dims doubles (a few KiB), so
// the update is negligible next to the assignment pass, and one copy of it keeps the two backends
// from drifting apart.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <string>

#include "host/core/splitmix64.hpp"
#include "host/core/thread_pool.hpp"
#include "host/segments/kmeans_driver.hpp"
#include "host/segments/seeding_distances.hpp"
#include "host/segments/silhouette.hpp"
#include "journeymap/common.hpp"
#include "journeymap/segments.hpp"

namespace jm {
namespace {

using kmeans_detail::kSeedingRowsPerTask;
using kmeans_detail::uniform01;

// The seed of one restart's stream: the stream-th SplitMix64 output after `seed`.
uint64_t mix_seed(uint64_t seed, uint64_t stream) { return splitmix64_mix(seed + 0x9E3779B97F4A7C15ull * (stream + 1)); }

void validate_kmeans(int64_t n, int dims, int k, const KMeansOptions& options) {
  if (dims < 1) throw ConfigError("k-means needs at least one feature dimension");
  if (k < 1) throw ConfigError("k must be >= 1 (got " + std::to_string(k) + ")");
  if (k > n)
    throw ConfigError("k = " + std::to_string(k) + " exceeds the number of points (" + std::to_string(n) + ")");
  if (options.max_iterations < 1) throw ConfigError("k-means max_iterations must be >= 1");
  if (options.restarts < 1) throw ConfigError("k-means restarts must be >= 1");
  if (!(options.tolerance >= 0.0) || !std::isfinite(options.tolerance))
    throw ConfigError("k-means tolerance must be a finite number >= 0");
  if (options.init_sample < 1) throw ConfigError("k-means init_sample must be >= 1");
}

}  // namespace

namespace kmeans_detail {

void ColumnMoments::add(const float* points, int64_t n) {
  const auto dims = static_cast<int64_t>(sum_.size());
  for (int64_t j = 0; j < dims; ++j) {
    double sum = sum_[j], sum_sq = sum_sq_[j];
    for (int64_t i = 0; i < n; ++i) {
      const double x = points[i * dims + j];
      sum += x;
      sum_sq += x * x;
    }
    sum_[j] = sum, sum_sq_[j] = sum_sq;
  }
  rows_ += n;
}

double ColumnMoments::mean_variance() const {
  if (rows_ == 0) return 0.0;
  double total = 0.0;
  for (size_t j = 0; j < sum_.size(); ++j) {
    const double mean = sum_[j] / rows_;
    total += std::max(0.0, sum_sq_[j] / rows_ - mean * mean);
  }
  return total / static_cast<double>(sum_.size());
}

std::vector<int64_t> FarthestRows::choose(const std::vector<std::pair<double, int64_t>>& candidates, int count) {
  std::vector<std::pair<double, int64_t>> ranked;  // (-distance, row): the farthest first, lower row on ties
  ranked.reserve(candidates.size());
  for (const auto& [distance, row] : candidates) ranked.emplace_back(-distance, row);
  std::sort(ranked.begin(), ranked.end());
  chosen_.clear();
  std::vector<int64_t> rows;
  for (size_t c = 0; c < ranked.size() && static_cast<int>(rows.size()) < count; ++c) {
    rows.push_back(ranked[c].second);
    chosen_.emplace_back(ranked[c].second, -ranked[c].first);
  }
  return rows;
}

double FarthestRows::distance(int64_t row) const {
  for (const auto& [chosen, distance] : chosen_)
    if (chosen == row) return distance;
  return std::numeric_limits<double>::quiet_NaN();
}

void ColumnMoments::save(RecordWriter& out) const {
  out.value(rows_);
  out.values(sum_);
  out.values(sum_sq_);
}

void ColumnMoments::add_saved(RecordReader& in) {
  const auto rows = in.value<int64_t>();
  const std::vector<double> sum = in.values<double>(), sum_sq = in.values<double>();
  if (sum.size() != sum_.size() || sum_sq.size() != sum_sq_.size())
    throw Error("k-means: another process's column moments have other columns");
  for (size_t j = 0; j < sum_.size(); ++j) sum_[j] += sum[j], sum_sq_[j] += sum_sq[j];
  rows_ += rows;
}

double mean_variance(const float* points, int64_t n, int dims) {
  ColumnMoments moments(dims);
  moments.add(points, n);
  return moments.mean_variance();
}

std::unique_ptr<SeedingDistances> make_seeding_distances(const Context& ctx, const float* sample_points, int64_t s,
                                                         int dims) {
  return ctx.backend == Backend::Gpu ? cuda_impl::make_seeding_distances(ctx, sample_points, s, dims)
                                     : cpu_impl::make_seeding_distances(sample_points, s, dims, ctx.num_threads);
}

void add_task_sums(const std::vector<double>& task_sums, int64_t tasks, int count, std::vector<double>& potentials) {
  potentials.assign(size_t(count), 0.0);
  for (int64_t task = 0; task < tasks; ++task)
    for (int t = 0; t < count; ++t) potentials[t] += task_sums[size_t(task) * count + t];
}

std::unique_ptr<LloydStep> make_step(const Context& ctx, const float* points, int64_t n, int dims) {
  return ctx.backend == Backend::Gpu ? cuda_impl::make_lloyd_step(ctx, points, n, dims)
                                     : cpu_impl::make_lloyd_step(ctx, points, n, dims);
}

std::unique_ptr<LloydStep> make_step(const Context& ctx, const HostDeviceVector<float>& points, int64_t n, int dims) {
  return ctx.backend == Backend::Gpu ? cuda_impl::make_lloyd_step(ctx, points.device_view(ctx), n, dims)
                                     : cpu_impl::make_lloyd_step(ctx, points.host().data(), n, dims);
}

KMeansResult run_lloyd(LloydStep& step, const float* points, int64_t n, int dims, std::vector<float> centroids, int k,
                       const KMeansOptions& options, double absolute_tolerance, bool fetch_labels) {
  KMeansResult result;
  result.k = k;
  result.dims = dims;
  result.initial_centroids = centroids;
  std::vector<double> sums;
  std::vector<int64_t> counts;
  for (int iteration = 0; iteration < options.max_iterations; ++iteration) {
    step.assign_labels(centroids, k, sums, counts);
    std::vector<float> updated(centroids.size());
    std::vector<int> empty;
    for (int c = 0; c < k; ++c) {
      if (counts[c] == 0) {
        empty.push_back(c);
        continue;
      }
      for (int j = 0; j < dims; ++j)
        updated[size_t(c) * dims + j] = static_cast<float>(sums[size_t(c) * dims + j] / static_cast<double>(counts[c]));
    }
    if (!empty.empty()) {
      // Empty-cluster repair: an empty cluster restarts at one of the points worst served by the
      // current centroids (each empty cluster gets a different one).
      const std::vector<int64_t> far = step.farthest_points(static_cast<int>(empty.size()));
      for (size_t e = 0; e < empty.size(); ++e) {
        const int64_t source = far[std::min(e, far.size() - 1)];
        float* target = updated.data() + size_t(empty[e]) * dims;
        if (!step.copy_point(source, target)) std::copy(points + source * dims, points + (source + 1) * dims, target);
      }
      result.empty_clusters_repaired += static_cast<int>(empty.size());
    }
    double shift = 0.0;
    for (size_t i = 0; i < updated.size(); ++i) {
      const double diff = static_cast<double>(updated[i]) - centroids[i];
      shift += diff * diff;
    }
    centroids.swap(updated);
    result.iterations = iteration + 1;
    if (empty.empty() && shift <= absolute_tolerance) {
      result.converged = true;
      break;
    }
  }
  // Final assignment: labels and inertia belong to the returned centroids.
  result.inertia = step.assign(centroids, k, sums, counts);
  result.sizes = counts;
  result.centroids = std::move(centroids);
  if (fetch_labels) result.labels = step.labels();
  (void)n;
  return result;
}

KMeansResult run_kmeans(const Context& ctx, LloydStep& step, const float* points, int64_t n, int dims, int k,
                        const KMeansOptions& options, double absolute_tolerance) {
  KMeansResult best;
  for (int restart = 0; restart < options.restarts; ++restart) {
    std::vector<float> init = kmeans_plus_plus(ctx, points, n, dims, k, mix_seed(options.seed, static_cast<uint64_t>(restart)),
                                               options.init_sample);
    KMeansResult candidate = run_lloyd(step, points, n, dims, std::move(init), k, options, absolute_tolerance, false);
    // Strictly lower inertia wins, so the earliest restart wins ties (deterministic).
    if (restart == 0 || candidate.inertia < best.inertia) {
      candidate.labels = step.labels();
      best = std::move(candidate);
    }
  }
  return best;
}

}  // namespace kmeans_detail

std::vector<float> kmeans_plus_plus(const float* points, int64_t n, int dims, int k, uint64_t seed,
                                    int64_t init_sample, int num_threads) {
  Context cpu;
  cpu.num_threads = num_threads;
  return kmeans_plus_plus(cpu, points, n, dims, k, seed, init_sample);
}

std::vector<float> kmeans_plus_plus(const Context& ctx, const float* points, int64_t n, int dims, int k, uint64_t seed,
                                    int64_t init_sample) {
  if (n < 1 || k < 1) throw ConfigError("k-means++ needs at least one point and k >= 1");
  std::mt19937_64 rng(seed);
  // Sample with replacement: duplicates do no harm to D^2 sampling and keep this O(sample).
  std::vector<int64_t> sample;
  if (n <= init_sample) {
    sample.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) sample[i] = i;
  } else {
    sample.resize(static_cast<size_t>(init_sample));
    for (auto& index : sample) index = static_cast<int64_t>(uniform01(rng) * static_cast<double>(n));
  }
  const int64_t s = static_cast<int64_t>(sample.size());
  const int64_t tasks = (s + kSeedingRowsPerTask - 1) / kSeedingRowsPerTask;
  const int threads = resolve_thread_count(ctx.num_threads);
  const int trials = 2 + static_cast<int>(std::log(static_cast<double>(k)));
  // The sampled rows, copied once into sample order: every pass below then streams through memory
  // instead of jumping between random rows (cache misses dominated the passes).
  std::vector<float> sampled_rows;
  if (n > init_sample) {
    sampled_rows.resize(size_t(s) * dims);
    parallel_for(tasks, threads, [&](int64_t task) {
      for (int64_t i = task * kSeedingRowsPerTask, end = std::min(s, (task + 1) * kSeedingRowsPerTask); i < end; ++i)
        std::copy(points + sample[i] * dims, points + (sample[i] + 1) * dims, sampled_rows.begin() + i * dims);
    });
  }
  const float* sample_points = n > init_sample ? sampled_rows.data() : points;

  std::vector<float> centroids;
  centroids.reserve(size_t(k) * dims);
  auto add_centroid = [&](int64_t point) { centroids.insert(centroids.end(), points + point * dims, points + (point + 1) * dims); };

  // The distances and potentials run on the backend; the draws below stay here.
  const std::unique_ptr<kmeans_detail::SeedingDistances> distances =
      kmeans_detail::make_seeding_distances(ctx, sample_points, s, dims);
  std::vector<float> candidate_rows;
  std::vector<double> potentials;
  auto evaluate = [&](const std::vector<int64_t>& candidates) {
    candidate_rows.clear();
    for (const int64_t row : candidates) candidate_rows.insert(candidate_rows.end(), points + row * dims, points + (row + 1) * dims);
    distances->evaluate(candidate_rows.data(), static_cast<int>(candidates.size()), potentials);
  };
  auto accept = [&](int t) {
    distances->accept(t);
    return potentials[t];
  };

  const int64_t first = sample[static_cast<size_t>(uniform01(rng) * static_cast<double>(s))];
  add_centroid(first);
  evaluate({first});
  double potential = accept(0);

  std::vector<double> cumulative(static_cast<size_t>(s));
  std::vector<int64_t> picks(static_cast<size_t>(trials));
  std::vector<int64_t> candidates(static_cast<size_t>(trials));
  for (int c = 1; c < k; ++c) {
    const std::vector<double>& closest = distances->closest();
    std::partial_sum(closest.begin(), closest.end(), cumulative.begin());
    // The draws do not depend on the evaluations, so all candidates are drawn first.
    for (int t = 0; t < trials; ++t) {
      int64_t pick;
      if (potential > 0.0) {
        const double target = uniform01(rng) * cumulative.back();
        pick = std::upper_bound(cumulative.begin(), cumulative.end(), target) - cumulative.begin();
        pick = std::min(pick, s - 1);
      } else {
        pick = static_cast<int64_t>(uniform01(rng) * static_cast<double>(s));  // every point is a centroid already
      }
      picks[t] = pick;
      candidates[t] = sample[pick];
    }
    evaluate(candidates);
    // The lowest potential wins; strictly lower, so the earliest candidate wins ties.
    int best = 0;
    for (int t = 1; t < trials; ++t)
      if (potentials[t] < potentials[best]) best = t;
    add_centroid(sample[picks[best]]);
    potential = accept(best);
  }
  return centroids;
}

double sampled_silhouette(const float* points, int64_t n, int dims, const std::vector<int32_t>& labels, int k,
                          int64_t sample_size, uint64_t seed, int num_threads) {
  if (n < 2 || k < 2) return 0.0;
  return SilhouetteSample(make_context(Backend::Cpu, num_threads), points, n, dims, sample_size, seed).score(labels, k);
}

namespace {

// NaN or infinity would leave a point without a nearest centroid (the GPU kernel would then index
// past the centroids): refuse at the boundary, on both backends.
void require_finite(const float* values, int64_t n, int dims, const char* what) {
  for (int64_t i = 0; i < n * dims; ++i)
    if (!std::isfinite(values[i]))
      throw Error(std::string(what) + " holds a non-finite value (" + std::to_string(values[i]) + ") at row " +
                  std::to_string(i / dims) + ", dimension " + std::to_string(i % dims));
}

}  // namespace

KMeansResult kmeans(const Context& ctx, const float* points, int64_t n, int dims, int k, const KMeansOptions& options) {
  validate_kmeans(n, dims, k, options);
  require_finite(points, n, dims, "k-means input");
  const double tolerance = options.tolerance * kmeans_detail::mean_variance(points, n, dims);
  auto step = kmeans_detail::make_step(ctx, points, n, dims);
  return kmeans_detail::run_kmeans(ctx, *step, points, n, dims, k, options, tolerance);
}

KMeansResult lloyd(const Context& ctx, const float* points, int64_t n, int dims,
                   const std::vector<float>& initial_centroids, int k, const KMeansOptions& options) {
  validate_kmeans(n, dims, k, options);
  if (initial_centroids.size() != size_t(k) * dims)
    throw ConfigError("initial centroids must hold k x dims = " + std::to_string(size_t(k) * dims) + " values (got " +
                      std::to_string(initial_centroids.size()) + ")");
  require_finite(points, n, dims, "k-means input");
  require_finite(initial_centroids.data(), k, dims, "initial centroids");
  const double tolerance = options.tolerance * kmeans_detail::mean_variance(points, n, dims);
  auto step = kmeans_detail::make_step(ctx, points, n, dims);
  return kmeans_detail::run_lloyd(*step, points, n, dims, initial_centroids, k, options, tolerance, true);
}

}  // namespace jm
