// Kernels of the GPU Lloyd step (launched from cuda/segments/kmeans_cuda.cu).
#pragma once

#include <cstdint>

#include "journeymap/kmeans_rules.hpp"

namespace jm::kernels {

constexpr int kNormBlockThreads = 256;
constexpr int kAssignBlockThreads = 256;
constexpr int kAssignWarpsPerBlock = kAssignBlockThreads / 32;
constexpr unsigned kFullWarpMask = 0xFFFFFFFFu;

/// One thread per point: ||x||^2 with the shared formula (same summation order as the CPU twin).
__global__ void __launch_bounds__(kNormBlockThreads)
    compute_point_norms(const float* __restrict__ points, int64_t n, int dims, float* __restrict__ norms) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    norms[i] = kmeans_rules::squared_norm(points + i * dims, dims);
}

/// Arg-min for one chunk of `rows` points. One warp per point (grid-stride over the chunk): lanes
/// read the point's k GEMM dot products (coalesced) and a shuffle reduction keeps the nearest
/// centroid (ties: lower index, an exact total order). Writes labels and distances only; the sums
/// follow in a fixed order (sum_clusters_per_block).
__global__ void __launch_bounds__(kAssignBlockThreads)
    assign_nearest(const float* __restrict__ point_norms, const float* __restrict__ dots,
                   const float* __restrict__ centroid_norms, int64_t rows, int k, int32_t* __restrict__ labels,
                   float* __restrict__ distances) {
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * kAssignWarpsPerBlock + warp; row < rows;
       row += static_cast<int64_t>(gridDim.x) * kAssignWarpsPerBlock) {
    const float norm = point_norms[row];
    float best_d = __int_as_float(0x7f800000);  // +inf
    int32_t best_c = 0x7fffffff;
    for (int c = lane; c < k; c += 32) {
      const float d = kmeans_rules::squared_distance_from_dot(norm, centroid_norms[c], dots[row * k + c]);
      if (kmeans_rules::closer(d, c, best_d, best_c)) {
        best_d = d;
        best_c = c;
      }
    }
    for (int offset = 16; offset > 0; offset >>= 1) {
      const float other_d = __shfl_down_sync(kFullWarpMask, best_d, offset);
      const int32_t other_c = __shfl_down_sync(kFullWarpMask, best_c, offset);
      if (kmeans_rules::closer(other_d, other_c, best_d, best_c)) {
        best_d = other_d;
        best_c = other_c;
      }
    }
    if (lane == 0) {
      labels[row] = best_c;
      distances[row] = best_d;
    }
  }
}

/// Partial sums of sum blocks first_block, first_block + 1, ... (one CUDA block each, of
/// kmeans_rules::kSumBlockRows rows): each thread owns a stride of dimensions and adds the block's
/// rows to their cluster's sums in row order, as the CPU twin does, so no two threads touch one sum
/// and no atomic decides an order. Thread 0 also counts the rows per cluster and sums their
/// distances in row order. With `shared_sums` the block's k x dims sums live in shared memory
/// (8 bytes x k x dims of dynamic shared memory) and are copied out at the end; otherwise they are
/// accumulated in place in `partial_sums`. Outputs per block g of the group: partial_sums[g][k][dims],
/// partial_counts[g][k], partial_inertia[g].
__global__ void sum_clusters_per_block(const float* __restrict__ points, const int32_t* __restrict__ labels,
                                       const float* __restrict__ distances, int64_t n, int k, int dims,
                                       int64_t first_block, bool shared_sums, double* __restrict__ partial_sums,
                                       long long* __restrict__ partial_counts, double* __restrict__ partial_inertia) {
  extern __shared__ double shared_block_sums[];
  const int64_t group_index = blockIdx.x;
  const int64_t first_row = (first_block + group_index) * kmeans_rules::kSumBlockRows;
  const int64_t end_row = first_row + kmeans_rules::kSumBlockRows < n ? first_row + kmeans_rules::kSumBlockRows : n;
  const int sum_slots = k * dims;
  double* global_sums = partial_sums + group_index * sum_slots;
  double* sums = shared_sums ? shared_block_sums : global_sums;
  for (int i = threadIdx.x; i < sum_slots; i += blockDim.x) sums[i] = 0.0;
  __syncthreads();
  if (static_cast<int>(threadIdx.x) < dims) {
    for (int64_t row = first_row; row < end_row; ++row)
      kmeans_rules::add_to_cluster_sum(points + row * dims, dims, threadIdx.x, blockDim.x,
                                       sums + static_cast<int64_t>(labels[row]) * dims);
  }
  if (threadIdx.x == 0) {
    long long* counts = partial_counts + group_index * k;
    for (int c = 0; c < k; ++c) counts[c] = 0;
    double inertia = 0.0;
    for (int64_t row = first_row; row < end_row; ++row) {
      ++counts[labels[row]];
      inertia += distances[row];
    }
    partial_inertia[group_index] = inertia;
  }
  if (shared_sums) {
    __syncthreads();
    for (int i = threadIdx.x; i < sum_slots; i += blockDim.x) global_sums[i] = sums[i];
  }
}

/// Adds a group of `blocks` partial results to the running totals in block order: index i < k x dims
/// is a sum, the next k indices are counts, the last one is the inertia. Totals start at zero, so
/// the result is the CPU twin's sum of block partials, bit for bit.
__global__ void add_block_partials_in_order(const double* __restrict__ partial_sums,
                                            const long long* __restrict__ partial_counts,
                                            const double* __restrict__ partial_inertia, int64_t blocks, int k,
                                            int dims, double* __restrict__ sums, long long* __restrict__ counts,
                                            double* __restrict__ inertia) {
  const int64_t sum_slots = static_cast<int64_t>(k) * dims;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < sum_slots) {
    double total = sums[i];
    for (int64_t b = 0; b < blocks; ++b) total += partial_sums[b * sum_slots + i];
    sums[i] = total;
  } else if (i < sum_slots + k) {
    const int64_t c = i - sum_slots;
    long long total = counts[c];
    for (int64_t b = 0; b < blocks; ++b) total += partial_counts[b * k + c];
    counts[c] = total;
  } else if (i == sum_slots + k) {
    double total = *inertia;
    for (int64_t b = 0; b < blocks; ++b) total += partial_inertia[b];
    *inertia = total;
  }
}

}  // namespace jm::kernels
