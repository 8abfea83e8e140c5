#include "host/segments/silhouette.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include "host/core/thread_pool.hpp"
#include "host/segments/kmeans_driver.hpp"
#include "journeymap/kmeans_rules.hpp"

namespace jm {
namespace {

std::vector<int64_t> draw_sample(int64_t n, int64_t sample_size, uint64_t seed) {
  std::vector<int64_t> sample;
  if (n <= sample_size) {
    sample.resize(static_cast<size_t>(std::max<int64_t>(n, 0)));
    for (int64_t i = 0; i < n; ++i) sample[i] = i;
    return sample;
  }
  // Distinct points by rejection (sample_size < n), then in index order.
  std::mt19937_64 rng(seed);
  std::vector<bool> taken(static_cast<size_t>(n), false);
  while (static_cast<int64_t>(sample.size()) < sample_size) {
    const int64_t i = static_cast<int64_t>(kmeans_detail::uniform01(rng) * static_cast<double>(n));
    if (taken[i]) continue;
    taken[i] = true;
    sample.push_back(i);
  }
  std::sort(sample.begin(), sample.end());
  return sample;
}

double distance_between(const float* a, const float* b, int dims) {
  return std::sqrt(kmeans_rules::squared_distance_in_double(a, b, dims));
}

}  // namespace

SilhouetteSample::SilhouetteSample(const Context& ctx, const float* points, int64_t n, int dims, int64_t sample_size,
                                   uint64_t seed)
    : sample_(draw_sample(n, sample_size, seed)) {
  const int64_t s = static_cast<int64_t>(sample_.size());
  if (s < 2) return;
  std::vector<float> sample_points(static_cast<size_t>(s) * dims);
  for (int64_t a = 0; a < s; ++a)
    std::copy(points + sample_[a] * dims, points + (sample_[a] + 1) * dims, sample_points.begin() + a * dims);
  scorer_ = ctx.backend == Backend::Gpu ? cuda_impl::make_silhouette_scorer(ctx, sample_points, s, dims)
                                        : cpu_impl::make_silhouette_scorer(std::move(sample_points), s, dims, ctx.num_threads);
}

SilhouetteSample::~SilhouetteSample() = default;

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

  std::vector<double> scores;
  scorer_->point_scores(sample_label, cluster_size, k, scores);
  double total = 0.0;
  for (double v : scores) total += v;
  return total / static_cast<double>(s);
}

namespace cpu_impl {
namespace {

class CpuSilhouetteScorer final : public silhouette_detail::SilhouetteScorer {
 public:
  CpuSilhouetteScorer(std::vector<float> sample_points, int64_t s, int dims, int num_threads)
      : points_(std::move(sample_points)), s_(s), dims_(dims), num_threads_(resolve_thread_count(num_threads)) {
    if (s_ * s_ > SilhouetteSample::kMaxMatrixBytes / static_cast<int64_t>(sizeof(double))) return;
    // Each pair once (the distance is symmetric to the bit: (a - b)^2 == (b - a)^2), mirrored.
    matrix_.assign(static_cast<size_t>(s_ * s_), 0.0);
    parallel_for(s_, num_threads_, [&](int64_t a) {
      for (int64_t b = a + 1; b < s_; ++b) matrix_[a * s_ + b] = distance_between(point(a), point(b), dims_);
    });
    parallel_for(s_, num_threads_, [&](int64_t a) {
      for (int64_t b = 0; b < a; ++b) matrix_[a * s_ + b] = matrix_[b * s_ + a];
    });
  }

  void point_scores(const std::vector<int32_t>& sample_label, const std::vector<int64_t>& cluster_size, int k,
                    std::vector<double>& scores) override {
    scores.assign(static_cast<size_t>(s_), 0.0);
    parallel_for(s_, num_threads_, [&](int64_t a) {
      const int own = sample_label[a];
      if (cluster_size[own] < 2) return;  // a singleton scores 0; no distances needed
      thread_local std::vector<double> scratch;
      const double* distance = distances_from(a, scratch);
      std::vector<double> distance_sum(static_cast<size_t>(k), 0.0);
      // In sample order, skipping a itself: the order fixes the rounding of each sum.
      for (int64_t b = 0; b < s_; ++b)
        if (b != a) distance_sum[sample_label[b]] += distance[b];
      scores[a] = kmeans_rules::silhouette_of_point(distance_sum.data(), 1, cluster_size.data(), k, own);
    });
  }

 private:
  const float* point(int64_t a) const { return points_.data() + a * dims_; }

  // Distances from sampled point a to every sampled point: the stored row, or `scratch` filled.
  const double* distances_from(int64_t a, std::vector<double>& scratch) const {
    if (!matrix_.empty()) return matrix_.data() + a * s_;
    scratch.resize(static_cast<size_t>(s_));
    for (int64_t b = 0; b < s_; ++b) scratch[b] = b == a ? 0.0 : distance_between(point(a), point(b), dims_);
    return scratch.data();
  }

  std::vector<float> points_;  // [s x dims], the sampled points in sample order
  int64_t s_;
  int dims_;
  int num_threads_;
  std::vector<double> matrix_;  // [s x s] distances, symmetric with a zero diagonal; empty when too large
};

}  // namespace

std::unique_ptr<silhouette_detail::SilhouetteScorer> make_silhouette_scorer(std::vector<float> sample_points, int64_t s,
                                                                            int dims, int num_threads) {
  return std::make_unique<CpuSilhouetteScorer>(std::move(sample_points), s, dims, num_threads);
}

}  // namespace cpu_impl
}  // namespace jm
