// The per-point k-means math both Lloyd steps use: squared norms accumulated in the same order,
// the GEMM expansion of the squared distance and the arg-min tie rule. The GPU translation unit is
// compiled with --fmad=false, so these round exactly as on the CPU.
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
JM_HD inline bool closer(float d, int32_t c, float best_d, int32_t best_c) {
  return d < best_d || (d == best_d && c < best_c);
}

}  // namespace kmeans_rules
}  // namespace jm
