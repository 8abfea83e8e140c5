// Kernels of the GPU Lloyd step (launched from cuda/segments/kmeans_cuda.cu).
#pragma once

#include <cstdint>

#include "journeymap/kmeans_rules.hpp"

namespace jm::cuda_impl {

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

/// Fused arg-min and centroid sums for one chunk of `rows` points. One warp per point (grid-stride
/// over the chunk): lanes read the point's k GEMM dot products (coalesced), a shuffle reduction
/// keeps the nearest centroid (ties: lower index, an exact total order), then lanes add the point's
/// coordinates into the block's cluster sums, one dimension per lane. With `shared_sums` the sums
/// live in shared memory (k x dims doubles) and are flushed with one atomic per value at the end;
/// otherwise they go straight to the global sums. Dynamic shared memory: 8 bytes x
/// ((shared_sums ? k x dims : 0) + k + 1).
__global__ void __launch_bounds__(kAssignBlockThreads)
    assign_nearest_and_accumulate(const float* __restrict__ points, const float* __restrict__ point_norms,
                                  const float* __restrict__ dots, const float* __restrict__ centroid_norms,
                                  int64_t rows, int k, int dims, bool shared_sums, int32_t* __restrict__ labels,
                                  float* __restrict__ distances, double* __restrict__ sums,
                                  unsigned long long* __restrict__ counts, double* __restrict__ inertia) {
  extern __shared__ unsigned long long shared_words[];
  const int sum_slots = shared_sums ? k * dims : 0;
  double* block_sums = reinterpret_cast<double*>(shared_words);
  unsigned long long* block_counts = shared_words + sum_slots;
  double* block_inertia = reinterpret_cast<double*>(shared_words + sum_slots + k);
  for (int i = threadIdx.x; i < sum_slots + k + 1; i += blockDim.x) shared_words[i] = 0ull;  // all-zero bits = 0.0
  __syncthreads();

  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  double warp_inertia = 0.0;
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
    best_c = __shfl_sync(kFullWarpMask, best_c, 0);
    if (lane == 0) {
      labels[row] = best_c;
      distances[row] = best_d;
      warp_inertia += best_d;
      atomicAdd(&block_counts[best_c], 1ull);
    }
    const float* x = points + row * dims;
    double* target = shared_sums ? block_sums + best_c * dims : sums + static_cast<int64_t>(best_c) * dims;
    for (int j = lane; j < dims; j += 32) atomicAdd(&target[j], static_cast<double>(x[j]));
  }
  if (lane == 0) atomicAdd(block_inertia, warp_inertia);
  __syncthreads();
  for (int i = threadIdx.x; i < sum_slots; i += blockDim.x)
    if (block_sums[i] != 0.0) atomicAdd(&sums[i], block_sums[i]);
  for (int c = threadIdx.x; c < k; c += blockDim.x)
    if (block_counts[c] != 0ull) atomicAdd(&counts[c], block_counts[c]);
  if (threadIdx.x == 0) atomicAdd(inertia, *block_inertia);
}

}  // namespace jm::cuda_impl
