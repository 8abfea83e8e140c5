// Kernels of feature extraction (launched from cuda/features/features_cuda.cu).
#pragma once

#include <cstdint>

#include "journeymap/feature_rules.hpp"

namespace jm::cuda_impl {

constexpr int kFeatureBlockThreads = 128;

/// One thread per journey: finds its feature window and writes its row of `features`
/// [n_journeys x layout.n_columns]. Rows are independent, so any grid size works (grid-stride loop).
__global__ void __launch_bounds__(kFeatureBlockThreads)
    compute_journey_features(const int64_t* __restrict__ offsets, const int32_t* __restrict__ touchpoint,
                             const int32_t* __restrict__ channel, const int64_t* __restrict__ timestamp_ms,
                             const float* __restrict__ customer_journey_number,
                             int64_t n_journeys, feature_rules::FeatureLayout layout, float* __restrict__ features) {
  for (int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; j < n_journeys;
       j += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t begin = offsets[j];
    const int64_t end = feature_rules::feature_window_end(timestamp_ms, begin, offsets[j + 1], layout);
    feature_rules::journey_features(touchpoint, channel, timestamp_ms, begin, end, customer_journey_number[j], layout,
                                    features + j * layout.n_columns);
  }
}

}  // namespace jm::cuda_impl
