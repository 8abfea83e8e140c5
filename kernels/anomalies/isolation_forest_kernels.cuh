// Isolation-forest scoring kernel (launched from cuda/anomalies/isolation_forest_cuda.cu). The
// traversal and the score are isolation_forest_rules.hpp, shared with the CPU scorer.
#pragma once

#include <cstdint>

#include "journeymap/isolation_forest_rules.hpp"

namespace jm::kernels {

constexpr int kForestBlockThreads = 256;

/// scores[r] = isolation score of row r of `rows` [n x dims]; grid-stride over rows. The nodes are
/// read through the read-only cache: every thread walks the same few hundred KB of trees.
__global__ void __launch_bounds__(kForestBlockThreads)
    isolation_forest_score_rows(const isolation_forest_rules::ForestNode* __restrict__ nodes,
                                const int32_t* __restrict__ roots, int trees, double normaliser,
                                const float* __restrict__ rows, int64_t n, int dims, float* __restrict__ scores) {
  for (int64_t r = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; r < n;
       r += static_cast<int64_t>(gridDim.x) * blockDim.x)
    scores[r] = isolation_forest_rules::isolation_score(nodes, roots, trees, normaliser, rows + r * dims);
}

}  // namespace jm::kernels
