// GPU twin of the flow counting passes: uploads the journeys once, runs pass 1 (transitions, step
// visits, heatmaps), folds rare Sankey nodes on the host with the shared fold_rare_nodes, runs pass 2
// (links) and the funnel matching, and copies the counters back. Counters are privatised per block
// in shared memory when they fit (the usual case: a few hundred touchpoint x step cells), else the
// kernels add straight into global memory.
#include <algorithm>
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

// Streaming multiprocessors of the current device (queried once).
int64_t multiprocessors() {
  static const int64_t count = [] {
    int device = 0, sms = 0;
    JM_CUDA_TRY(cudaGetDevice(&device));
    JM_CUDA_TRY(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    return static_cast<int64_t>(std::max(sms, 1));
  }();
  return count;
}

int grid_for(int64_t n) {
  const int64_t blocks = (n + kFlowBlockThreads - 1) / kFlowBlockThreads;
  // Privatised blocks pay a zero + flush per block, so cap the grid at 16 blocks per
  // multiprocessor and let threads stride.
  return static_cast<int>(std::clamp<int64_t>(blocks, 1, multiprocessors() * 16));
}

rmm::device_uvector<unsigned long long> zeroed_counters(int64_t n, rmm::cuda_stream_view stream) {
  rmm::device_uvector<unsigned long long> counters(static_cast<size_t>(n), stream);
  if (n > 0) JM_CUDA_TRY(cudaMemsetAsync(counters.data(), 0, n * sizeof(unsigned long long), stream.value()));
  return counters;
}

// unsigned long long and int64_t have the same size and the counts are far below 2^63.
std::vector<int64_t> download_counts(const rmm::device_uvector<unsigned long long>& device, rmm::cuda_stream_view stream) {
  std::vector<int64_t> host(device.size());
  static_assert(sizeof(int64_t) == sizeof(unsigned long long), "counter width");
  if (!host.empty())
    JM_CUDA_TRY(cudaMemcpyAsync(host.data(), device.data(), host.size() * sizeof(int64_t), cudaMemcpyDeviceToHost,
                                stream.value()));
  return host;
}

}  // namespace

FlowCounts count_flows(const Context& ctx, const JourneySet& journeys, int32_t max_steps, double other_threshold,
                       const std::vector<int32_t>& funnel) {
  rmm::cuda_stream_view stream = device_stream(ctx.cuda_device);
  flow_rules::FlowShape shape = flow_rules::make_shape(journeys.touchpoints.size(), journeys.channels.size(), max_steps,
                                                       static_cast<int32_t>(funnel.size()));
  const flow_rules::FlowCounterLayout layout = flow_rules::make_layout(shape);
  const int64_t n_journeys = journeys.size();

  const auto offsets = upload(journeys.offsets, stream);
  const auto touchpoint = upload(journeys.touchpoint, stream);
  const auto channel = upload(journeys.channel, stream);
  const auto converted = upload(journeys.converted, stream);

  FlowCounts result;
  auto counters = zeroed_counters(layout.total, stream);
  if (n_journeys > 0) {
    const size_t bytes = static_cast<size_t>(layout.total) * sizeof(unsigned long long);
    const bool privatise = bytes <= kMaxPrivateCounterBytes;
    kernels::count_flow_journeys<<<grid_for(n_journeys), kFlowBlockThreads, privatise ? bytes : 0, stream.value()>>>(
        offsets.data(), touchpoint.data(), channel.data(), converted.data(), n_journeys, shape, layout, counters.data(),
        privatise);
    JM_CUDA_CHECK_LAUNCH();
  }
  result.counters = download_counts(counters, stream);
  // The host folds rare nodes from the step visits before pass 2 can run: wait for the copy.
  JM_CUDA_TRY(cudaStreamSynchronize(stream.value()));

  const std::vector<int64_t> step_visits(result.counters.begin() + layout.step_visits,
                                         result.counters.begin() + layout.step_conversions);
  FoldedNodes folded = fold_rare_nodes(step_visits, max_steps, shape.n_touchpoints, other_threshold);
  result.label_of = std::move(folded.label_of);
  result.label_touchpoint = std::move(folded.label_touchpoint);
  shape.n_link_labels = static_cast<int32_t>(result.label_touchpoint.size());  // pass 2 counts dense labels
  const int64_t n_links = flow_rules::n_link_counters(shape);
  const auto label_of = upload(result.label_of, stream);
  auto links = zeroed_counters(n_links, stream);
  if (n_journeys > 0) {
    const size_t bytes = static_cast<size_t>(n_links) * sizeof(unsigned long long);
    const bool privatise = bytes <= kMaxPrivateCounterBytes;
    kernels::count_flow_links<<<grid_for(n_journeys), kFlowBlockThreads, privatise ? bytes : 0, stream.value()>>>(
        offsets.data(), touchpoint.data(), converted.data(), n_journeys, shape, label_of.data(), links.data(), n_links,
        privatise);
    JM_CUDA_CHECK_LAUNCH();
  }

  const int32_t n_funnel = shape.n_funnel;
  rmm::device_uvector<uint8_t> funnel_depth(static_cast<size_t>(n_journeys), stream);
  rmm::device_uvector<int64_t> funnel_time(static_cast<size_t>(n_journeys * n_funnel), stream);
  if (n_journeys > 0)
    JM_CUDA_TRY(cudaMemsetAsync(funnel_depth.data(), 0, funnel_depth.size(), stream.value()));
  if (funnel_time.size() > 0)
    JM_CUDA_TRY(cudaMemsetAsync(funnel_time.data(), 0, funnel_time.size() * sizeof(int64_t), stream.value()));
  const auto funnel_ids = upload(funnel, stream);
  const auto timestamp_ms = n_funnel > 0 ? upload(journeys.timestamp_ms, stream) : rmm::device_uvector<int64_t>(0, stream);
  if (n_journeys > 0 && n_funnel > 0) {
    kernels::match_funnel_journeys<<<grid_for(n_journeys), kFlowBlockThreads, 0, stream.value()>>>(
        offsets.data(), touchpoint.data(), timestamp_ms.data(), n_journeys, funnel_ids.data(), n_funnel,
        funnel_depth.data(), funnel_time.data());
    JM_CUDA_CHECK_LAUNCH();
  }
  result.links = download_counts(links, stream);
  download(funnel_depth, result.funnel_depth, stream);
  download(funnel_time, result.funnel_time_ms, stream);
  // The results are read on the host right after return.
  JM_CUDA_TRY(cudaStreamSynchronize(stream.value()));
  return result;
}

}  // namespace jm::cuda_impl
