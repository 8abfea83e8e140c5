// Kernels of feature extraction (launched from cuda/features/features_cuda.cu).
#pragma once

#include <cstdint>

#include "journeymap/feature_rules.hpp"

namespace jm::kernels {

constexpr int kFeatureBlockThreads = 128;

/// Row stride of the shared-memory tile: odd, so that the threads of a warp, each writing its own
/// row, hit different banks.
__host__ __device__ inline int32_t feature_tile_stride(int32_t n_columns) { return n_columns | 1; }

/// Dynamic shared memory of compute_journey_features for a layout (0: rows go straight to global memory).
inline size_t feature_tile_bytes(int32_t n_columns, size_t shared_budget_bytes) {
  const size_t bytes = size_t{kFeatureBlockThreads} * feature_tile_stride(n_columns) * sizeof(float);
  return bytes <= shared_budget_bytes ? bytes : 0;
}

/// One thread per journey: finds its feature window and writes its row of `features`
/// [n_journeys x layout.n_columns]. With a tile (dynamic shared memory of feature_tile_bytes), each
/// thread builds its row in shared memory (the formulas update the row's columns many times) and
/// the block then writes its rows, which are contiguous in `features`, with coalesced stores;
/// without one, each thread writes its row directly. Grid-stride over groups of blockDim journeys.
__global__ void __launch_bounds__(kFeatureBlockThreads)
    compute_journey_features(const int64_t* __restrict__ offsets, const int32_t* __restrict__ touchpoint,
                             const int32_t* __restrict__ channel, const int64_t* __restrict__ timestamp_ms,
                             const float* __restrict__ customer_journey_number,
                             int64_t n_journeys, feature_rules::FeatureLayout layout, bool use_tile,
                             float* __restrict__ features) {
  extern __shared__ float tile[];
  const int32_t n_columns = layout.n_columns;
  const int32_t stride = feature_tile_stride(n_columns);
  for (int64_t first = blockIdx.x * static_cast<int64_t>(blockDim.x); first < n_journeys;
       first += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t j = first + threadIdx.x;
    if (j < n_journeys) {
      const int64_t begin = offsets[j];
      const int64_t end = feature_rules::feature_window_end(timestamp_ms, begin, offsets[j + 1], layout);
      float* row = use_tile ? tile + threadIdx.x * stride : features + j * n_columns;
      feature_rules::journey_features(touchpoint, channel, timestamp_ms, begin, end, customer_journey_number[j], layout,
                                      row);
    }
    if (!use_tile) continue;  // uniform across the block
    __syncthreads();
    const int64_t rows = n_journeys - first < blockDim.x ? n_journeys - first : blockDim.x;
    float* out = features + first * n_columns;
    for (int64_t i = threadIdx.x; i < rows * n_columns; i += blockDim.x)
      out[i] = tile[(i / n_columns) * stride + i % n_columns];
    __syncthreads();  // the tile is reused by the next group
  }
}

constexpr int kScalingBlockThreads = 256;

/// One thread per value of the scaled matrix [n_rows x dims] (grid-stride): value (r, i) is
/// feature_rules::standardise of matrix column column_index[i] of row r of `features` [n_rows x
/// n_columns]. Consecutive threads write consecutive values.
__global__ void __launch_bounds__(kScalingBlockThreads)
    standardise_columns(const float* __restrict__ features, int64_t n_rows, int32_t n_columns, int32_t dims,
                        const int32_t* __restrict__ column_index, const uint8_t* __restrict__ transform,
                        const float* __restrict__ mean, const float* __restrict__ scale, float* __restrict__ scaled) {
  const int64_t total = n_rows * dims;
  for (int64_t v = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; v < total; v += int64_t{gridDim.x} * blockDim.x) {
    const int64_t r = v / dims;
    const int32_t i = static_cast<int32_t>(v - r * dims);
    scaled[v] = feature_rules::standardise(features[r * n_columns + column_index[i]], transform[i], mean[i], scale[i]);
  }
}

}  // namespace jm::kernels
