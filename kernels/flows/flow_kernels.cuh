// Kernels of the GPU flows twin. Each applies a shared flow_rules function, so the GPU counts
// exactly what the CPU twin counts. Launchers live in cuda/flows/flows_cuda.cu.
#pragma once

#include <cstdint>

#include "journeymap/flow_rules.hpp"

namespace jm::kernels {

/// Threads per block of every flows kernel (launchers size grids with it).
constexpr int kFlowBlockThreads = 256;

/// Counters are int64 on the host; the device adds into the same bits as unsigned long long.
struct AtomicIncrement {
  __device__ void operator()(unsigned long long* counters, int64_t index) const { atomicAdd(counters + index, 1ULL); }
};

/// Pass 1: one thread per journey (grid-stride) applies flow_rules::count_journey. When
/// `privatise` is set, the block counts into dynamic shared memory (n_counters slots, sized by the
/// launcher) and flushes non-zero slots to `counters` once; otherwise it adds to global memory.
__global__ void __launch_bounds__(kFlowBlockThreads)
    count_flow_journeys(const int64_t* offsets, const int32_t* touchpoint, const int32_t* channel,
                        const uint8_t* converted, int64_t n_journeys, flow_rules::FlowShape shape,
                        flow_rules::FlowCounterLayout layout, unsigned long long* counters, bool privatise) {
  extern __shared__ unsigned long long block_counters[];
  const int64_t n_counters = layout.total;
  unsigned long long* target = privatise ? block_counters : counters;
  if (privatise) {
    for (int64_t k = threadIdx.x; k < n_counters; k += blockDim.x) block_counters[k] = 0;
    __syncthreads();
  }
  for (int64_t j = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; j < n_journeys; j += int64_t{gridDim.x} * blockDim.x) {
    const int64_t begin = offsets[j];
    flow_rules::count_journey(touchpoint + begin, channel + begin, offsets[j + 1] - begin, converted[j] != 0, shape,
                              layout, target, AtomicIncrement{});
  }
  if (privatise) {
    __syncthreads();
    for (int64_t k = threadIdx.x; k < n_counters; k += blockDim.x)
      if (block_counters[k] != 0) atomicAdd(counters + k, block_counters[k]);
  }
}

/// Pass 2: Sankey links per journey (flow_rules::count_journey_links), privatised like pass 1.
/// `label_of` is [max_steps x n_touchpoints].
__global__ void __launch_bounds__(kFlowBlockThreads)
    count_flow_links(const int64_t* offsets, const int32_t* touchpoint, const uint8_t* converted, int64_t n_journeys,
                     flow_rules::FlowShape shape, const int32_t* label_of, unsigned long long* links, int64_t n_links,
                     bool privatise) {
  extern __shared__ unsigned long long block_links[];
  unsigned long long* target = privatise ? block_links : links;
  if (privatise) {
    for (int64_t k = threadIdx.x; k < n_links; k += blockDim.x) block_links[k] = 0;
    __syncthreads();
  }
  for (int64_t j = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; j < n_journeys; j += int64_t{gridDim.x} * blockDim.x) {
    const int64_t begin = offsets[j];
    flow_rules::count_journey_links(touchpoint + begin, offsets[j + 1] - begin, converted[j] != 0, shape, label_of,
                                    target, AtomicIncrement{});
  }
  if (privatise) {
    __syncthreads();
    for (int64_t k = threadIdx.x; k < n_links; k += blockDim.x)
      if (block_links[k] != 0) atomicAdd(links + k, block_links[k]);
  }
}

/// Funnel matching: one thread per journey (grid-stride) writes its depth and the times of its
/// matched steps (funnel_time_ms is [n_journeys x n_funnel]).
__global__ void __launch_bounds__(kFlowBlockThreads)
    match_funnel_journeys(const int64_t* offsets, const int32_t* touchpoint, const int64_t* timestamp_ms,
                          int64_t n_journeys, const int32_t* funnel, int32_t n_funnel, uint8_t* funnel_depth,
                          int64_t* funnel_time_ms) {
  for (int64_t j = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; j < n_journeys; j += int64_t{gridDim.x} * blockDim.x) {
    const int64_t begin = offsets[j];
    funnel_depth[j] = static_cast<uint8_t>(flow_rules::match_funnel(touchpoint + begin, timestamp_ms + begin,
                                                                    offsets[j + 1] - begin, funnel, n_funnel,
                                                                    funnel_time_ms + j * n_funnel));
  }
}

}  // namespace jm::kernels
