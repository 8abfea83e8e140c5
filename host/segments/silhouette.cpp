#include "host/segments/silhouette.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "host/core/thread_pool.hpp"
#include "host/segments/kmeans_driver.hpp"

namespace jm {

SilhouetteSample::SilhouetteSample(const float* points, int64_t n, int dims, int64_t sample_size, uint64_t seed,
                                   int num_threads)
    : points_(points), dims_(dims), num_threads_(resolve_thread_count(num_threads)) {
  if (n <= sample_size) {
    sample_.resize(static_cast<size_t>(std::max<int64_t>(n, 0)));
    for (int64_t i = 0; i < n; ++i) sample_[i] = i;
  } else {
    // Distinct points by rejection (sample_size < n), then in index order.
    std::mt19937_64 rng(seed);
    std::vector<bool> taken(static_cast<size_t>(n), false);
    while (static_cast<int64_t>(sample_.size()) < sample_size) {
      const int64_t i = static_cast<int64_t>(kmeans_detail::uniform01(rng) * static_cast<double>(n));
      if (taken[i]) continue;
      taken[i] = true;
      sample_.push_back(i);
    }
    std::sort(sample_.begin(), sample_.end());
  }
  const int64_t s = static_cast<int64_t>(sample_.size());
  if (s < 2 || s * s > kMaxMatrixBytes / static_cast<int64_t>(sizeof(double))) return;
  // Each pair once (the distance is symmetric to the bit: (a - b)^2 == (b - a)^2), mirrored.
  matrix_.assign(static_cast<size_t>(s * s), 0.0);
  parallel_for(s, num_threads_, [&](int64_t a) {
    const float* x = points_ + sample_[a] * dims_;
    for (int64_t b = a + 1; b < s; ++b)
      matrix_[a * s + b] = std::sqrt(kmeans_detail::squared_distance(x, points_ + sample_[b] * dims_, dims_));
  });
  parallel_for(s, num_threads_, [&](int64_t a) {
    for (int64_t b = 0; b < a; ++b) matrix_[a * s + b] = matrix_[b * s + a];
  });
}

const double* SilhouetteSample::distances_from(int64_t a, std::vector<double>& scratch) const {
  const int64_t s = static_cast<int64_t>(sample_.size());
  if (!matrix_.empty()) return matrix_.data() + a * s;
  scratch.resize(static_cast<size_t>(s));
  const float* x = points_ + sample_[a] * dims_;
  for (int64_t b = 0; b < s; ++b)
    scratch[b] = b == a ? 0.0 : std::sqrt(kmeans_detail::squared_distance(x, points_ + sample_[b] * dims_, dims_));
  return scratch.data();
}

double SilhouetteSample::score(const std::vector<int32_t>& labels, int k) const {
  const int64_t s = static_cast<int64_t>(sample_.size());
  if (s < 2 || k < 2) return 0.0;
  std::vector<int32_t> sample_label(static_cast<size_t>(s));
  std::vector<int64_t> cluster_size(static_cast<size_t>(k), 0);
  for (int64_t a = 0; a < s; ++a) {
    sample_label[a] = labels[sample_[a]];
    ++cluster_size[sample_label[a]];
  }
  int present = 0;
  for (int64_t size : cluster_size) present += size > 0;
  if (present < 2) return 0.0;

  std::vector<double> score(static_cast<size_t>(s), 0.0);
  parallel_for(s, num_threads_, [&](int64_t a) {
    const int own = sample_label[a];
    if (cluster_size[own] < 2) return;  // a singleton scores 0 by convention
    thread_local std::vector<double> scratch;
    const double* distance = distances_from(a, scratch);
    std::vector<double> distance_sum(static_cast<size_t>(k), 0.0);
    // In sample order, skipping a itself: the order fixes the rounding of each sum.
    for (int64_t b = 0; b < s; ++b)
      if (b != a) distance_sum[sample_label[b]] += distance[b];
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

}  // namespace jm
