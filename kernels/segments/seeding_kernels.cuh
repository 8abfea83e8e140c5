// Kernels of the GPU k-means++ distances (launched from cuda/segments/seeding_cuda.cu).
#pragma once

#include <cstdint>

#include "journeymap/kmeans_rules.hpp"

namespace jm::kernels {

constexpr int kSeedingBlockThreads = 256;

/// One thread per (candidate t, sampled point i), grid-stride: the point's closest distance if
/// candidate t were added, written to candidate_closest[t * s + i].
__global__ void __launch_bounds__(kSeedingBlockThreads)
    seeding_candidate_distances(const float* __restrict__ points, int64_t s, int dims,
                                const float* __restrict__ candidates, int count, const double* __restrict__ closest,
                                double* __restrict__ candidate_closest) {
  const int64_t total = s * count;
  for (int64_t idx = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; idx < total;
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t t = idx / s, i = idx - t * s;
    const double d = kmeans_rules::squared_distance_in_double(points + i * dims, candidates + t * dims, dims);
    candidate_closest[idx] = kmeans_rules::nearer(closest[i], d);
  }
}

/// One thread per (task, candidate t): the task's rows of candidate_closest summed in row order
/// (as the CPU's task does), written to task_sums[task * count + t].
__global__ void __launch_bounds__(kSeedingBlockThreads)
    seeding_task_sums(const double* __restrict__ candidate_closest, int64_t s, int count, int64_t rows_per_task,
                      int64_t tasks, double* __restrict__ task_sums) {
  const int64_t total = tasks * count;
  for (int64_t idx = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; idx < total;
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t task = idx / count, t = idx - task * count;
    const int64_t begin = task * rows_per_task, end = begin + rows_per_task < s ? begin + rows_per_task : s;
    const double* row = candidate_closest + t * s;
    double sum = 0.0;
    for (int64_t i = begin; i < end; ++i) sum += row[i];
    task_sums[idx] = sum;
  }
}

}  // namespace jm::kernels
