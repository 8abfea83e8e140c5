// The sampled silhouette of the k search. The sample and its pairwise distances do not depend on
// the labelling, so they are computed once and every k is scored against them: scoring is then a
// pass of additions per sampled point, with no distance arithmetic.
#pragma once

#include <cstdint>
#include <vector>

namespace jm {

class SilhouetteSample {
 public:
  /// Draws up to `sample_size` distinct points of `points` [n x dims] (seeded; all of them when
  /// n <= sample_size) and, when the matrix fits kMaxMatrixBytes, their pairwise distances.
  SilhouetteSample(const float* points, int64_t n, int dims, int64_t sample_size, uint64_t seed, int num_threads);

  /// Mean silhouette of the sample under `labels` [n] with clusters 0..k-1; 0 when fewer than two
  /// clusters are present in the sample. The same bits as recomputing every distance.
  double score(const std::vector<int32_t>& labels, int k) const;

  /// Above this the distances are recomputed at every score instead of stored (about 5,800 points).
  static constexpr int64_t kMaxMatrixBytes = int64_t(256) << 20;

 private:
  // Distances from sampled point a to every sampled point: the stored row, or `scratch` filled.
  const double* distances_from(int64_t a, std::vector<double>& scratch) const;

  const float* points_;
  int dims_;
  int num_threads_;
  std::vector<int64_t> sample_;   // row of each sampled point, in index order
  std::vector<double> matrix_;    // [s x s] distances, symmetric with a zero diagonal; empty when too large
};

}  // namespace jm
