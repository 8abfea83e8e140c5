// Kernel of the GPU sampled silhouette (launched from cuda/segments/silhouette_cuda.cu).
#pragma once

#include <cstdint>

#include "journeymap/kmeans_rules.hpp"

namespace jm::kernels {

constexpr int kSilhouetteBlockThreads = 128;

/// One thread per sampled point a, grid-stride: its distances to every other sampled point,
/// measured in sample order and added to its cluster's sum (distance_sums[c * s + a], so that a
/// warp's adds are coalesced), then its score. Every thread reads the same point b at a time,
/// which the cache serves once per warp.
__global__ void __launch_bounds__(kSilhouetteBlockThreads)
    silhouette_point_scores(const float* __restrict__ points, int64_t s, int dims, const int32_t* __restrict__ label,
                            const int64_t* __restrict__ cluster_size, int k, double* __restrict__ distance_sums,
                            double* __restrict__ scores) {
  for (int64_t a = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; a < s;
       a += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int own = label[a];
    if (cluster_size[own] < 2) {  // a singleton scores 0; no distances needed
      scores[a] = 0.0;
      continue;
    }
    double* sums = distance_sums + a;
    for (int c = 0; c < k; ++c) sums[c * s] = 0.0;
    const float* x = points + a * dims;
    for (int64_t b = 0; b < s; ++b) {
      if (b == a) continue;
      sums[label[b] * s] += sqrt(kmeans_rules::squared_distance_in_double(x, points + b * dims, dims));
    }
    scores[a] = kmeans_rules::silhouette_of_point(sums, s, cluster_size, k, own);
  }
}

}  // namespace jm::kernels
