// The k-means driver shared by both backends: k-means++ starts and the sampled silhouette run on
// the CPU, the Lloyd loop (centroid update, empty-cluster repair, convergence test) runs here on the
// host, and only the assignment pass (LloydStep) runs on the chosen backend.
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
#include "journeymap/common.hpp"
#include "journeymap/segments.hpp"

namespace jm {
namespace {

constexpr int64_t kRowsPerTask = 4096;

// Uniform double in [0, 1) from a fully specified engine (std distributions are not portable).
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// The seed of one restart's stream: the stream-th SplitMix64 output after `seed`.
uint64_t mix_seed(uint64_t seed, uint64_t stream) { return splitmix64_mix(seed + 0x9E3779B97F4A7C15ull * (stream + 1)); }

double squared_distance(const float* a, const float* b, int dims) {
  double sum = 0.0;
  for (int i = 0; i < dims; ++i) {
    const double diff = static_cast<double>(a[i]) - static_cast<double>(b[i]);
    sum += diff * diff;
  }
  return sum;
}

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

double mean_variance(const float* points, int64_t n, int dims) {
  if (n == 0) return 0.0;
  double total = 0.0;
  for (int j = 0; j < dims; ++j) {
    double sum = 0.0, sum_sq = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const double x = points[i * dims + j];
      sum += x;
      sum_sq += x * x;
    }
    const double mean = sum / n;
    total += std::max(0.0, sum_sq / n - mean * mean);
  }
  return total / dims;
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
    step.assign(centroids, k, sums, counts);
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
        std::copy(points + source * dims, points + (source + 1) * dims, updated.begin() + size_t(empty[e]) * dims);
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

KMeansResult run_kmeans(LloydStep& step, const float* points, int64_t n, int dims, int k, const KMeansOptions& options,
                        double absolute_tolerance, int num_threads) {
  KMeansResult best;
  for (int restart = 0; restart < options.restarts; ++restart) {
    std::vector<float> init = kmeans_plus_plus(points, n, dims, k, mix_seed(options.seed, static_cast<uint64_t>(restart)),
                                               options.init_sample, num_threads);
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
  const int64_t tasks = (s + kRowsPerTask - 1) / kRowsPerTask;
  const int threads = resolve_thread_count(num_threads);
  const int trials = 2 + static_cast<int>(std::log(static_cast<double>(k)));

  std::vector<float> centroids;
  centroids.reserve(size_t(k) * dims);
  auto add_centroid = [&](int64_t point) { centroids.insert(centroids.end(), points + point * dims, points + (point + 1) * dims); };

  // Distance of every sampled point to the nearest chosen centroid, with deterministic sums
  // (per fixed-size task, added in task order).
  std::vector<double> closest(static_cast<size_t>(s));
  std::vector<double> task_sum(static_cast<size_t>(tasks));
  auto potential_with = [&](int64_t candidate, std::vector<double>* out) {
    const float* c = points + candidate * dims;
    parallel_for(tasks, threads, [&](int64_t t) {
      double sum = 0.0;
      for (int64_t i = t * kRowsPerTask, end = std::min(s, (t + 1) * kRowsPerTask); i < end; ++i) {
        const double d = std::min(closest[i], squared_distance(points + sample[i] * dims, c, dims));
        if (out) (*out)[i] = d;
        sum += d;
      }
      task_sum[t] = sum;
    });
    double total = 0.0;
    for (double v : task_sum) total += v;
    return total;
  };

  const int64_t first = sample[static_cast<size_t>(uniform01(rng) * static_cast<double>(s))];
  add_centroid(first);
  std::fill(closest.begin(), closest.end(), std::numeric_limits<double>::infinity());
  double potential = potential_with(first, &closest);

  std::vector<double> cumulative(static_cast<size_t>(s));
  for (int c = 1; c < k; ++c) {
    std::partial_sum(closest.begin(), closest.end(), cumulative.begin());
    int64_t best_candidate = -1;
    double best_potential = 0.0;
    for (int t = 0; t < trials; ++t) {
      int64_t pick;
      if (potential > 0.0) {
        const double target = uniform01(rng) * cumulative.back();
        pick = std::upper_bound(cumulative.begin(), cumulative.end(), target) - cumulative.begin();
        pick = std::min(pick, s - 1);
      } else {
        pick = static_cast<int64_t>(uniform01(rng) * static_cast<double>(s));  // every point is a centroid already
      }
      const double candidate_potential = potential_with(sample[pick], nullptr);
      if (best_candidate < 0 || candidate_potential < best_potential) {
        best_candidate = pick;
        best_potential = candidate_potential;
      }
    }
    add_centroid(sample[best_candidate]);
    potential = potential_with(sample[best_candidate], &closest);
  }
  return centroids;
}

double sampled_silhouette(const float* points, int64_t n, int dims, const std::vector<int32_t>& labels, int k,
                          int64_t sample_size, uint64_t seed, int num_threads) {
  if (n < 2 || k < 2) return 0.0;
  std::vector<int64_t> sample;
  if (n <= sample_size) {
    sample.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) sample[i] = i;
  } else {
    // Distinct points by rejection (sample_size < n), then in index order.
    std::mt19937_64 rng(seed);
    std::vector<bool> taken(static_cast<size_t>(n), false);
    while (static_cast<int64_t>(sample.size()) < sample_size) {
      const int64_t i = static_cast<int64_t>(uniform01(rng) * static_cast<double>(n));
      if (taken[i]) continue;
      taken[i] = true;
      sample.push_back(i);
    }
    std::sort(sample.begin(), sample.end());
  }
  const int64_t s = static_cast<int64_t>(sample.size());
  std::vector<int64_t> cluster_size(static_cast<size_t>(k), 0);
  for (int64_t i : sample) ++cluster_size[labels[i]];
  int present = 0;
  for (int64_t size : cluster_size) present += size > 0;
  if (present < 2) return 0.0;

  std::vector<double> score(static_cast<size_t>(s), 0.0);
  parallel_for(s, resolve_thread_count(num_threads), [&](int64_t a) {
    std::vector<double> distance_sum(static_cast<size_t>(k), 0.0);
    const float* x = points + sample[a] * dims;
    for (int64_t b = 0; b < s; ++b) {
      if (b == a) continue;
      distance_sum[labels[sample[b]]] += std::sqrt(squared_distance(x, points + sample[b] * dims, dims));
    }
    const int own = labels[sample[a]];
    if (cluster_size[own] < 2) return;  // a singleton scores 0 by convention
    const double within = distance_sum[own] / static_cast<double>(cluster_size[own] - 1);
    double nearest_other = std::numeric_limits<double>::infinity();
    for (int c = 0; c < k; ++c)
      if (c != own && cluster_size[c] > 0)
        nearest_other = std::min(nearest_other, distance_sum[c] / static_cast<double>(cluster_size[c]));
    const double larger = std::max(within, nearest_other);
    score[a] = larger > 0.0 ? (nearest_other - within) / larger : 0.0;
  });
  double total = 0.0;
  for (double v : score) total += v;
  return total / static_cast<double>(s);
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
  return kmeans_detail::run_kmeans(*step, points, n, dims, k, options, tolerance, ctx.num_threads);
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
