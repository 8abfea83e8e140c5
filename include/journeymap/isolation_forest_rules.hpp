// Isolation-forest scoring, written once for both backends: the CPU scores rows in blocks of its
// thread pool, the GPU kernel (kernels/anomalies/isolation_forest_kernels.cuh) one row per thread.
// Trees are built on the CPU (small: trees x sample_size rows) and stored flat: every node of every
// tree in one array, children as absolute indices, so the same bytes serve both backends.
#pragma once

#include <math.h>  // exp2, log: the global overloads nvcc also provides on the device

#include <cstdint>

#include "journeymap/common.hpp"

namespace jm {
namespace isolation_forest_rules {

struct ForestNode {
  int32_t feature = -1;     ///< split column; -1 marks a leaf
  float threshold = 0.0f;   ///< rows with x[feature] < threshold go left
  int32_t left = -1;        ///< absolute node indices of the children
  int32_t right = -1;
  float leaf_path = 0.0f;   ///< leaves: c(rows that reached it), the expected depth still to go
};

/// Average path length of an unsuccessful search in a binary search tree of n points: the
/// normaliser c(n) of the isolation-forest paper (Liu, Ting & Zhou 2008).
JM_HD inline double average_path_length(int64_t n) {
  if (n <= 1) return 0.0;
  if (n == 2) return 1.0;
  const double harmonic = log(static_cast<double>(n - 1)) + 0.5772156649015329;
  return 2.0 * harmonic - 2.0 * static_cast<double>(n - 1) / static_cast<double>(n);
}

/// Path length of row x in the tree rooted at `root`: cuts until a leaf, plus the leaf's c(size).
JM_HD inline double path_length(const ForestNode* nodes, int32_t root, const float* x) {
  int32_t node = root;
  int depth = 0;
  while (nodes[node].feature >= 0) {
    node = x[nodes[node].feature] < nodes[node].threshold ? nodes[node].left : nodes[node].right;
    ++depth;
  }
  return depth + static_cast<double>(nodes[node].leaf_path);
}

/// Score s = 2^(-E[h(x)] / c(sample_size)) in (0, 1] from the sum of a row's path lengths over
/// every tree (summed in tree order, in double).
JM_HD inline float score_of_total_path(double total, int trees, double normaliser) {
  return static_cast<float>(exp2(-(total / trees) / normaliser));
}

/// The score of row x over every tree (summed in tree order, in double, so both backends agree to
/// the last float bit but for exp2's rounding).
JM_HD inline float isolation_score(const ForestNode* nodes, const int32_t* roots, int trees, double normaliser,
                                   const float* x) {
  double total = 0.0;
  for (int t = 0; t < trees; ++t) total += path_length(nodes, roots[t], x);
  return score_of_total_path(total, trees, normaliser);
}

}  // namespace isolation_forest_rules
}  // namespace jm
