// GPU twin of feature extraction: reads the journey CSR where it lives on the device (uploaded only
// if it is not there yet), uploads the lookup tables (the repeat links are built on the host by
// make_tables, one linear pass), runs one thread per journey over the shared formulas
// (feature_rules.hpp) and leaves the matrix on the device for the stages that read it next. The
// standardised columns that segments and anomalies read are computed there too (apply_scaling).
#include <rmm/device_uvector.hpp>

#include "cuda/core/cuda_check.cuh"
#include "cuda/core/device_copy.cuh"
#include "cuda/core/device_runtime.cuh"
#include "host/features/feature_tables.hpp"
#include "journeymap/features.hpp"
#include "kernels/features/feature_kernels.cuh"

namespace jm::cuda_impl {

FeatureMatrix extract_features(const Context& ctx, const JourneySet& journeys, const FeatureSpec& spec) {
  CudaResources& resources = cuda_resources(ctx);
  feature_detail::FeatureTables tables = feature_detail::make_tables(journeys, spec, ctx.num_threads);

  FeatureMatrix out;
  out.spec = spec;
  out.n_rows = journeys.size();
  const int64_t f = out.num_features();
  if (out.n_rows == 0) return out;

  auto customer_journey_number = upload(tables.customer_journey_number, resources);
  auto touchpoint_slot = upload(tables.touchpoint_slot, resources);
  auto channel_slot = upload(tables.channel_slot, resources);
  auto touchpoint_hash = upload(tables.touchpoint_hash, resources);
  auto next_same_touchpoint = upload(tables.next_same_touchpoint, resources);
  auto next_same_channel = upload(tables.next_same_channel, resources);
  auto first_occurrence = upload(tables.first_occurrence, resources);

  feature_rules::FeatureLayout layout = tables.layout;
  layout.touchpoint_slot = touchpoint_slot.data();
  layout.channel_slot = channel_slot.data();
  layout.touchpoint_hash = touchpoint_hash.data();
  layout.next_same_touchpoint = next_same_touchpoint.data();
  layout.next_same_channel = next_same_channel.data();
  layout.first_occurrence = first_occurrence.data();

  float* features = out.values.resize_on_device(ctx, static_cast<size_t>(out.n_rows * f)).data;
  constexpr size_t kSharedBudgetBytes = 48 * 1024;  // default dynamic shared memory limit
  const size_t tile_bytes = kernels::feature_tile_bytes(layout.n_columns, kSharedBudgetBytes);
  kernels::compute_journey_features<<<resources.grid_for(out.n_rows, kernels::kFeatureBlockThreads), kernels::kFeatureBlockThreads, tile_bytes,
                             resources.stream().value()>>>(
      journeys.offsets.device_view(ctx).data, journeys.touchpoint.device_view(ctx).data,
      journeys.channel.device_view(ctx).data, journeys.timestamp_ms.device_view(ctx).data,
      customer_journey_number.data(), out.n_rows, layout, tile_bytes > 0, features);
  JM_CUDA_CHECK_LAUNCH();
  return out;
}

void apply_scaling(const Context& ctx, const FeatureMatrix& features, const std::vector<int32_t>& column_index,
                   const FeatureScaling& scaling, HostDeviceVector<float>& out) {
  CudaResources& resources = cuda_resources(ctx);
  const int32_t dims = static_cast<int32_t>(column_index.size());
  const int64_t total = features.n_rows * dims;
  float* scaled = out.resize_on_device(ctx, static_cast<size_t>(total)).data;
  if (total == 0) return;
  const auto index = upload(column_index, resources);
  const auto transform = upload(scaling.transform, resources);
  const auto mean = upload(scaling.mean, resources);
  const auto scale = upload(scaling.scale, resources);
  kernels::standardise_columns<<<resources.grid_for(total, kernels::kScalingBlockThreads), kernels::kScalingBlockThreads, 0,
                        resources.stream().value()>>>(
      features.values.device_view(ctx).data, features.n_rows, static_cast<int32_t>(features.num_features()), dims,
      index.data(), transform.data(), mean.data(), scale.data(), scaled);
  JM_CUDA_CHECK_LAUNCH();
}

}  // namespace jm::cuda_impl
