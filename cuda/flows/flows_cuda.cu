// GPU twin of the flow counting passes: reads the journeys where they live on the device, runs pass 1 (transitions, step
// visits, heatmaps), folds rare Sankey nodes on the host with the shared fold_rare_nodes, runs pass 2
// (links) and the funnel matching, and copies the counters back. Counters are privatised per block
// in shared memory when they fit (the usual case: a few hundred touchpoint x step cells), else the
// kernels add straight into global memory.
#include <cstdint>
#include <vector>

#include <rmm/device_uvector.hpp>

#include "cuda/core/cuda_check.cuh"
#include "cuda/core/device_copy.cuh"
#include "cuda/core/device_runtime.cuh"
#include "journeymap/flow_rules.hpp"
#include "journeymap/flows.hpp"
#include "kernels/flows/flow_kernels.cuh"

namespace jm::cuda_impl {
namespace {

using kernels::kFlowBlockThreads;

// Dynamic shared memory we allow one block for privatised counters (the default 48 KiB limit).
constexpr size_t kMaxPrivateCounterBytes = 48 * 1024;

// Privatised blocks pay a zero + flush per block, so the grid is capped at 16 blocks per
// multiprocessor and threads stride.
unsigned grid_for(int64_t n, const CudaResources& resources) {
  return resources.grid_for(n, kFlowBlockThreads, /*blocks_per_sm=*/16);
}

rmm::device_uvector<unsigned long long> zeroed_counters(int64_t n, CudaResources& resources) {
  rmm::device_uvector<unsigned long long> counters(static_cast<size_t>(n), resources.stream(), resources.memory());
  if (n > 0)
    JM_CUDA_TRY(cudaMemsetAsync(counters.data(), 0, n * sizeof(unsigned long long), resources.stream().value()));
  return counters;
}

// unsigned long long and int64_t have the same size and the counts are far below 2^63.
std::vector<int64_t> download_counts(const rmm::device_uvector<unsigned long long>& device, CudaResources& resources) {
  static_assert(sizeof(int64_t) == sizeof(unsigned long long), "counter width");
  std::vector<int64_t> host(device.size());
  resources.copy_to_host(host.data(), device.data(), host.size() * sizeof(int64_t));
  return host;
}

}  // namespace

FlowCounts count_flows(const Context& ctx, const JourneySet& journeys, int32_t max_steps, double other_threshold,
                       const std::vector<int32_t>& funnel) {
  CudaResources& resources = cuda_resources(ctx);
  const cudaStream_t stream = resources.stream().value();
  flow_rules::FlowShape shape = flow_rules::make_shape(journeys.touchpoints.size(), journeys.channels.size(), max_steps,
                                                       static_cast<int32_t>(funnel.size()));
  const flow_rules::FlowCounterLayout layout = flow_rules::make_layout(shape);
  const int64_t n_journeys = journeys.size();

  const int64_t* offsets = journeys.offsets.device_view(ctx).data;
  const int32_t* touchpoint = journeys.touchpoint.device_view(ctx).data;
  const int32_t* channel = journeys.channel.device_view(ctx).data;
  const uint8_t* converted = journeys.converted.device_view(ctx).data;

  FlowCounts result;
  auto counters = zeroed_counters(layout.total, resources);
  if (n_journeys > 0) {
    const size_t bytes = static_cast<size_t>(layout.total) * sizeof(unsigned long long);
    const bool privatise = bytes <= kMaxPrivateCounterBytes;
    kernels::count_flow_journeys<<<grid_for(n_journeys, resources), kFlowBlockThreads, privatise ? bytes : 0, stream>>>(
        offsets, touchpoint, channel, converted, n_journeys, shape, layout, counters.data(), privatise);
    JM_CUDA_CHECK_LAUNCH();
  }
  // The host folds rare nodes from the step visits before pass 2 can run (the copy waits for them).
  result.counters = download_counts(counters, resources);

  const std::vector<int64_t> step_visits(result.counters.begin() + layout.step_visits,
                                         result.counters.begin() + layout.step_conversions);
  FoldedNodes folded = fold_rare_nodes(step_visits, max_steps, shape.n_touchpoints, other_threshold);
  result.label_of = std::move(folded.label_of);
  result.label_touchpoint = std::move(folded.label_touchpoint);
  shape.n_link_labels = static_cast<int32_t>(result.label_touchpoint.size());  // pass 2 counts dense labels
  const int64_t n_links = flow_rules::n_link_counters(shape);
  const auto label_of = upload(result.label_of, resources);
  auto links = zeroed_counters(n_links, resources);
  if (n_journeys > 0) {
    const size_t bytes = static_cast<size_t>(n_links) * sizeof(unsigned long long);
    const bool privatise = bytes <= kMaxPrivateCounterBytes;
    kernels::count_flow_links<<<grid_for(n_journeys, resources), kFlowBlockThreads, privatise ? bytes : 0, stream>>>(
        offsets, touchpoint, converted, n_journeys, shape, label_of.data(), links.data(), n_links, privatise);
    JM_CUDA_CHECK_LAUNCH();
  }

  const int32_t n_funnel = shape.n_funnel;
  rmm::device_uvector<uint8_t> funnel_depth(static_cast<size_t>(n_journeys), resources.stream(), resources.memory());
  rmm::device_uvector<int64_t> funnel_time(static_cast<size_t>(n_journeys * n_funnel), resources.stream(),
                                           resources.memory());
  if (n_journeys > 0) JM_CUDA_TRY(cudaMemsetAsync(funnel_depth.data(), 0, funnel_depth.size(), stream));
  if (funnel_time.size() > 0)
    JM_CUDA_TRY(cudaMemsetAsync(funnel_time.data(), 0, funnel_time.size() * sizeof(int64_t), stream));
  if (n_journeys > 0 && n_funnel > 0) {
    const auto funnel_ids = upload(funnel, resources);
    kernels::match_funnel_journeys<<<grid_for(n_journeys, resources), kFlowBlockThreads, 0, stream>>>(
        offsets, touchpoint, journeys.timestamp_ms.device_view(ctx).data, n_journeys, funnel_ids.data(), n_funnel,
        funnel_depth.data(), funnel_time.data());
    JM_CUDA_CHECK_LAUNCH();
  }
  result.links = download_counts(links, resources);
  download(funnel_depth, result.funnel_depth, resources);
  download(funnel_time, result.funnel_time_ms, resources);
  return result;
}

}  // namespace jm::cuda_impl
