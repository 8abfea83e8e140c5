// The per-point k-means math both Lloyd steps use: squared norms accumulated in the same order,
// the GEMM expansion of the squared distance, the arg-min tie rule and the order of the centroid
// sums. The GPU translation unit is compiled with --fmad=false, so these round exactly as on the CPU.
#pragma once

#include <cstdint>

#include "journeymap/common.hpp"

namespace jm {
namespace kmeans_rules {

/// ||x||^2, summed left to right in float (the same order on both backends).
JM_HD inline float squared_norm(const float* x, int dims) {
  float sum = 0.0f;
  for (int i = 0; i < dims; ++i) sum += x[i] * x[i];
  return sum;
}

/// ||x - c||^2 = ||x||^2 + ||c||^2 - 2 x.c, clamped at 0 (cancellation can make it slightly negative).
JM_HD inline float squared_distance_from_dot(float point_norm, float centroid_norm, float dot) {
  const float d = point_norm + centroid_norm - 2.0f * dot;
  return d > 0.0f ? d : 0.0f;
}

/// True when cluster `c` at distance `d` beats the best so far; ties go to the lower cluster index.
/// Bitwise operators, not short-circuit ones: no branch to mispredict in the arg-min loop.
JM_HD inline bool closer(float d, int32_t c, float best_d, int32_t best_c) {
  return (d < best_d) | ((d == best_d) & (c < best_c));
}

/// ||x - c||^2 in double, summed over the dimensions in order (k-means++ and the silhouette; the
/// CPU's k-means++ compares four candidates side by side with the same chain of adds for each).
JM_HD inline double squared_distance_in_double(const float* x, const float* c, int dims) {
  double sum = 0.0;
  for (int j = 0; j < dims; ++j) {
    const double diff = static_cast<double>(x[j]) - static_cast<double>(c[j]);
    sum += diff * diff;
  }
  return sum;
}

/// A point's closest distance once a centroid at distance `d` is added (std::min's rule: `d` only
/// when strictly nearer).
JM_HD inline double nearer(double closest, double d) { return d < closest ? d : closest; }

/// The silhouette of one sampled point in cluster `own`: `distance_sum[c * stride]` holds the sum
/// of its distances to the other sampled points of cluster c (added in sample order), and
/// `cluster_size[c]` how many sampled points cluster c has. (b - a) / max(a, b) with a the mean
/// distance within its own cluster and b the smallest mean distance to another non-empty one; a
/// point alone in its cluster scores 0, as does a point with a = b = 0.
JM_HD inline double silhouette_of_point(const double* distance_sum, int64_t stride, const int64_t* cluster_size, int k,
                                        int own) {
  if (cluster_size[own] < 2) return 0.0;
  const double within = distance_sum[own * stride] / static_cast<double>(cluster_size[own] - 1);
  double nearest_other = 0.0;
  bool found = false;
  for (int c = 0; c < k; ++c) {
    if (c == own || cluster_size[c] == 0) continue;
    const double mean = distance_sum[c * stride] / static_cast<double>(cluster_size[c]);
    if (!found || mean < nearest_other) nearest_other = mean;
    found = true;
  }
  if (!found) return 0.0;
  const double larger = within > nearest_other ? within : nearest_other;
  return larger > 0.0 ? (nearest_other - within) / larger : 0.0;
}

/// Rows per partial-sum block. Both backends sum each block's points per cluster in row order, then
/// add the blocks' partial sums in block order, so the centroid sums have the same bits on any number
/// of threads, on the GPU and on the CPU (given the same labels): no atomics decide an order.
constexpr int64_t kSumBlockRows = 8192;

/// Adds coordinates first_dim, first_dim + dim_step, ... of point x to its cluster's sums (a GPU
/// thread owns one stride of dimensions; the CPU passes 0 and 1).
JM_HD inline void add_to_cluster_sum(const float* x, int dims, int first_dim, int dim_step, double* cluster_sum) {
  for (int j = first_dim; j < dims; j += dim_step) cluster_sum[j] += static_cast<double>(x[j]);
}

}  // namespace kmeans_rules
}  // namespace jm
