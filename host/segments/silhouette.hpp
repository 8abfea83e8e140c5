// The sampled silhouette of the k search. The sample does not depend on the labelling, so it is
// drawn once and every k is scored against it. Scoring runs on the run's backend: the CPU keeps the
// sample's pairwise distances (when they fit kMaxMatrixBytes), so that a score is a pass of
// additions per sampled point; the GPU keeps the sampled points on the device and measures the
// distances again at every score, one thread per sampled point. Both give the same bits: every
// distance is sqrt(kmeans_rules::squared_distance_in_double), each point's distance sums are added
// in sample order, its score is kmeans_rules::silhouette_of_point, and the scores are added in
// sample order on the host.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "journeymap/context.hpp"

namespace jm {

namespace silhouette_detail {

// Scores of the sampled points under one labelling, on one backend.
class SilhouetteScorer {
 public:
  virtual ~SilhouetteScorer() = default;
  /// scores[a] = kmeans_rules::silhouette_of_point for sampled point a, given each sampled point's
  /// cluster (sample_label [s], clusters 0..k-1) and the clusters' sizes in the sample.
  virtual void point_scores(const std::vector<int32_t>& sample_label, const std::vector<int64_t>& cluster_size, int k,
                            std::vector<double>& scores) = 0;
};

}  // namespace silhouette_detail

class SilhouetteSample {
 public:
  /// Draws up to `sample_size` distinct points of `points` [n x dims] (seeded; all of them when
  /// n <= sample_size) and prepares their scoring on the backend of `ctx`.
  SilhouetteSample(const Context& ctx, const float* points, int64_t n, int dims, int64_t sample_size, uint64_t seed);
  ~SilhouetteSample();

  /// Mean silhouette of the sample under `labels` [n] with clusters 0..k-1; 0 when fewer than two
  /// clusters are present in the sample. The same bits on both backends.
  double score(const std::vector<int32_t>& labels, int k) const;

  /// Above this the CPU measures the distances at every score instead of storing them (about 5,800 points).
  static constexpr int64_t kMaxMatrixBytes = int64_t(256) << 20;

 private:
  std::vector<int64_t> sample_;  // row of each sampled point, in index order
  std::unique_ptr<silhouette_detail::SilhouetteScorer> scorer_;
};

namespace cpu_impl {
/// The sampled points [s x dims], gathered in sample order, are kept by the scorer.
std::unique_ptr<silhouette_detail::SilhouetteScorer> make_silhouette_scorer(std::vector<float> sample_points, int64_t s,
                                                                            int dims, int num_threads);
}  // namespace cpu_impl

namespace cuda_impl {
/// Copies the sampled points to the device once; each score uploads the sample's labels and brings
/// back one score per sampled point.
std::unique_ptr<silhouette_detail::SilhouetteScorer> make_silhouette_scorer(const Context& ctx,
                                                                            const std::vector<float>& sample_points,
                                                                            int64_t s, int dims);
}  // namespace cuda_impl

}  // namespace jm
