// GPU twin of feature extraction: uploads the journey CSR and the lookup tables (the repeat links are
// built on the host by make_tables, one linear pass), runs one thread per
// journey over the shared formulas (feature_rules.hpp) and copies the matrix back.
#include <algorithm>

#include <rmm/device_uvector.hpp>

#include "cuda/core/cuda_check.cuh"
#include "cuda/core/device_copy.cuh"
#include "cuda/core/device_runtime.cuh"
#include "host/features/feature_tables.hpp"
#include "journeymap/features.hpp"
#include "kernels/features/feature_kernels.cuh"

namespace jm::cuda_impl {

FeatureMatrix extract_features(const Context& ctx, const JourneySet& journeys, const FeatureSpec& spec) {
  const rmm::cuda_stream_view stream = device_stream(ctx.cuda_device);
  feature_detail::FeatureTables tables = feature_detail::make_tables(journeys, spec, ctx.num_threads);

  FeatureMatrix out;
  out.spec = spec;
  out.n_rows = journeys.size();
  const int64_t f = out.num_features();
  out.values.assign(static_cast<size_t>(out.n_rows * f), 0.0f);
  if (out.n_rows == 0) return out;

  auto offsets = upload(journeys.offsets, stream);
  auto touchpoint = upload(journeys.touchpoint, stream);
  auto channel = upload(journeys.channel, stream);
  auto timestamp_ms = upload(journeys.timestamp_ms, stream);
  auto customer_journey_number = upload(tables.customer_journey_number, stream);
  auto touchpoint_slot = upload(tables.touchpoint_slot, stream);
  auto channel_slot = upload(tables.channel_slot, stream);
  auto touchpoint_hash = upload(tables.touchpoint_hash, stream);
  auto next_same_touchpoint = upload(tables.next_same_touchpoint, stream);
  auto next_same_channel = upload(tables.next_same_channel, stream);
  auto first_occurrence = upload(tables.first_occurrence, stream);
  rmm::device_uvector<float> features(out.values.size(), stream);

  feature_rules::FeatureLayout layout = tables.layout;
  layout.touchpoint_slot = touchpoint_slot.data();
  layout.channel_slot = channel_slot.data();
  layout.touchpoint_hash = touchpoint_hash.data();
  layout.next_same_touchpoint = next_same_touchpoint.data();
  layout.next_same_channel = next_same_channel.data();
  layout.first_occurrence = first_occurrence.data();

  const int64_t blocks = std::min<int64_t>((out.n_rows + kFeatureBlockThreads - 1) / kFeatureBlockThreads, 1 << 20);
  constexpr size_t kSharedBudgetBytes = 48 * 1024;  // default dynamic shared memory limit
  const size_t tile_bytes = feature_tile_bytes(layout.n_columns, kSharedBudgetBytes);
  compute_journey_features<<<static_cast<unsigned>(blocks), kFeatureBlockThreads, tile_bytes, stream.value()>>>(
      offsets.data(), touchpoint.data(), channel.data(), timestamp_ms.data(), customer_journey_number.data(),
      out.n_rows, layout, tile_bytes > 0, features.data());
  JM_CUDA_CHECK_LAUNCH();
  JM_CUDA_TRY(cudaMemcpyAsync(out.values.data(), features.data(), out.values.size() * sizeof(float),
                              cudaMemcpyDeviceToHost, stream.value()));
  // The host reads the matrix next.
  stream.synchronize();
  return out;
}

}  // namespace jm::cuda_impl
