// GPU twin of journey building.
//
// Order: a permutation of event indices is sorted by stable LSD radix passes (CUB), least
// significant key first: [value bits, content key] (drop_duplicates only), timestamp, customer.
// That is the CPU twin's order: customer, time, [content], input position. Then flags + selects
// find kept events and journey starts, a scan gives the CSR offsets, and one thread per journey
// writes its outcome and events.
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>
#include <cub/device/device_select.cuh>
#include <rmm/device_buffer.hpp>
#include <rmm/device_scalar.hpp>
#include <rmm/device_uvector.hpp>
#include <thrust/iterator/counting_iterator.h>

#include <algorithm>
#include <vector>

#include "cuda/core/cuda_check.cuh"
#include "cuda/core/device_copy.cuh"
#include "cuda/core/device_runtime.cuh"
#include "cuda/journeys/device_journeys.cuh"
#include "kernels/journeys/journey_kernels.cuh"

namespace jm::cuda_impl {
namespace {

using kernels::kJourneyBlockThreads;

// Temporary device arrays of this build, all in the context's pool on its stream.
template <typename T>
rmm::device_uvector<T> scratch(size_t n, CudaResources& resources) {
  return rmm::device_uvector<T>(n, resources.stream(), resources.memory());
}

unsigned grid_for(int64_t n, const CudaResources& resources) { return resources.grid_for(n, kJourneyBlockThreads); }

template <typename T>
rmm::device_uvector<T> gather(const rmm::device_uvector<int64_t>& permutation, const rmm::device_uvector<T>& source,
                              CudaResources& resources) {
  const auto n = static_cast<int64_t>(permutation.size());
  rmm::device_uvector<T> out = scratch<T>(permutation.size(), resources);
  if (n > 0) {
    kernels::gather_by_permutation<<<grid_for(n, resources), kJourneyBlockThreads, 0, resources.stream().value()>>>(
        permutation.data(), source.data(), out.data(), n);
    JM_CUDA_CHECK_LAUNCH();
  }
  return out;
}

// One stable radix pass: reorders `permutation` by key_of_event[permutation[i]] on bits [0, end_bit).
template <typename Key>
void stable_sort_by_key(rmm::device_uvector<int64_t>& permutation, const rmm::device_uvector<Key>& key_of_event,
                        int end_bit, CudaResources& resources) {
  const auto n = static_cast<int64_t>(permutation.size());
  const cudaStream_t stream = resources.stream().value();
  rmm::device_uvector<Key> keys = gather(permutation, key_of_event, resources);
  rmm::device_uvector<Key> keys_alt = scratch<Key>(permutation.size(), resources);
  rmm::device_uvector<int64_t> permutation_alt = scratch<int64_t>(permutation.size(), resources);
  cub::DoubleBuffer<Key> key_buffers(keys.data(), keys_alt.data());
  cub::DoubleBuffer<int64_t> value_buffers(permutation.data(), permutation_alt.data());
  size_t temp_bytes = 0;
  JM_CUDA_TRY(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, key_buffers, value_buffers, n, 0, end_bit, stream));
  rmm::device_buffer temp(temp_bytes, resources.stream(), resources.memory());
  JM_CUDA_TRY(cub::DeviceRadixSort::SortPairs(temp.data(), temp_bytes, key_buffers, value_buffers, n, 0, end_bit, stream));
  if (value_buffers.Current() != permutation.data()) permutation = std::move(permutation_alt);
}

// Indices i in [0, n) with flags[i] != 0; `extra` more slots are left at the end for the caller.
rmm::device_uvector<int64_t> select_flagged_positions(const rmm::device_uvector<uint8_t>& flags, int64_t extra,
                                                      CudaResources& resources) {
  const auto n = static_cast<int64_t>(flags.size());
  const cudaStream_t stream = resources.stream().value();
  rmm::device_uvector<int64_t> selected = scratch<int64_t>(flags.size() + extra, resources);
  rmm::device_scalar<int64_t> n_selected(0, resources.stream(), resources.memory());
  size_t temp_bytes = 0;
  thrust::counting_iterator<int64_t> positions(0);
  JM_CUDA_TRY(cub::DeviceSelect::Flagged(nullptr, temp_bytes, positions, flags.data(), selected.data(),
                                         n_selected.data(), n, stream));
  rmm::device_buffer temp(temp_bytes, resources.stream(), resources.memory());
  JM_CUDA_TRY(cub::DeviceSelect::Flagged(temp.data(), temp_bytes, positions, flags.data(), selected.data(),
                                         n_selected.data(), n, stream));
  // The host needs the count to size the next arrays.
  int64_t count = 0;
  resources.copy_to_host(&count, n_selected.data(), sizeof(count));
  selected.resize(count + extra, resources.stream());
  return selected;
}

int bits_for(uint64_t max_value) {
  int bits = 1;
  while (bits < 64 && (max_value >> bits) != 0) ++bits;
  return bits;
}

}  // namespace

DeviceEventTable upload_events(const Context& ctx, const EventTable& events) {
  CudaResources& resources = cuda_resources(ctx);
  DeviceEventTable device_events(resources);
  device_events.customer = upload(events.customer, resources);
  device_events.timestamp_ms = upload(events.timestamp_ms, resources);
  device_events.touchpoint = upload(events.touchpoint, resources);
  device_events.channel = upload(events.channel, resources);
  device_events.value = upload(events.value, resources);
  device_events.is_conversion = upload(events.is_conversion, resources);
  device_events.n_customers = events.customers.size();
  return device_events;
}

void build_device_journeys(const Context& ctx, const DeviceEventTable& events, const JourneyOptions& options,
                           JourneySet& out) {
  CudaResources& resources = cuda_resources(ctx);
  const cudaStream_t stream = resources.stream().value();
  const int64_t n = events.size();
  out.stats = JourneyBuildStats{};
  out.stats.input_events = n;
  if (n == 0) {
    out.offsets = std::vector<int64_t>{0};
    return;
  }
  const auto& customer = events.customer;
  const auto& timestamp = events.timestamp_ms;
  const auto& touchpoint = events.touchpoint;
  const auto& channel = events.channel;
  const auto& value = events.value;
  const auto& is_conversion = events.is_conversion;

  // 1. Sort a permutation: stable LSD radix passes, least significant key first.
  rmm::device_uvector<int64_t> order = scratch<int64_t>(n, resources);
  kernels::fill_identity<<<grid_for(n, resources), kJourneyBlockThreads, 0, stream>>>(order.data(), n);
  JM_CUDA_CHECK_LAUNCH();
  if (options.drop_duplicates) {
    rmm::device_uvector<uint64_t> content_key = scratch<uint64_t>(n, resources);
    rmm::device_uvector<uint32_t> value_bits = scratch<uint32_t>(n, resources);
    kernels::compute_content_keys<<<grid_for(n, resources), kJourneyBlockThreads, 0, stream>>>(
        touchpoint.data(), channel.data(), is_conversion.data(), value.data(), content_key.data(), value_bits.data(), n);
    JM_CUDA_CHECK_LAUNCH();
    stable_sort_by_key(order, value_bits, 32, resources);
    stable_sort_by_key(order, content_key, 64, resources);
  }
  stable_sort_by_key(order, timestamp, 64, resources);
  const auto n_customers = static_cast<uint64_t>(std::max<int64_t>(events.n_customers, 1));
  stable_sort_by_key(order, customer, bits_for(n_customers - 1), resources);

  auto sorted_customer = gather(order, customer, resources);
  auto sorted_timestamp = gather(order, timestamp, resources);
  auto sorted_touchpoint = gather(order, touchpoint, resources);
  auto sorted_channel = gather(order, channel, resources);
  auto sorted_value = gather(order, value, resources);
  auto sorted_conversion = gather(order, is_conversion, resources);
  const kernels::SortedEvents sorted{sorted_customer.data(), sorted_timestamp.data(), sorted_touchpoint.data(),
                                     sorted_channel.data(),  sorted_value.data(),     sorted_conversion.data()};

  // 2. Kept events (duplicates removed) and journey starts among them.
  rmm::device_uvector<uint8_t> flags = scratch<uint8_t>(n, resources);
  kernels::mark_kept_events<<<grid_for(n, resources), kJourneyBlockThreads, 0, stream>>>(
      sorted, options.drop_duplicates, flags.data(), n);
  JM_CUDA_CHECK_LAUNCH();
  rmm::device_uvector<int64_t> kept = select_flagged_positions(flags, 0, resources);
  const auto n_kept = static_cast<int64_t>(kept.size());
  out.stats.duplicates_dropped = n - n_kept;

  const auto gap_ms = static_cast<int64_t>(options.session_gap_seconds * 1000.0);
  flags.resize(n_kept, resources.stream());
  kernels::mark_journey_starts<<<grid_for(n_kept, resources), kJourneyBlockThreads, 0, stream>>>(
      sorted, kept.data(), options.split_at_conversion, gap_ms, flags.data(), n_kept);
  JM_CUDA_CHECK_LAUNCH();
  rmm::device_uvector<int64_t> journey_start = select_flagged_positions(flags, 1, resources);
  const int64_t n_journeys = static_cast<int64_t>(journey_start.size()) - 1;
  kernels::set_scalar<<<1, 1, 0, stream>>>(journey_start.data() + n_journeys, n_kept);
  JM_CUDA_CHECK_LAUNCH();

  // 3. Length cap, then CSR offsets by an exclusive scan of the surviving lengths.
  rmm::device_uvector<int64_t> first_kept = scratch<int64_t>(n_journeys, resources);
  rmm::device_uvector<int64_t> kept_length = scratch<int64_t>(n_journeys + 1, resources);
  kernels::apply_length_cap<<<grid_for(n_journeys + 1, resources), kJourneyBlockThreads, 0, stream>>>(
      journey_start.data(), options.max_length, first_kept.data(), kept_length.data(), n_journeys);
  JM_CUDA_CHECK_LAUNCH();
  int64_t* offsets = out.offsets.resize_on_device(ctx, n_journeys + 1).data;
  size_t temp_bytes = 0;
  JM_CUDA_TRY(cub::DeviceScan::ExclusiveSum(nullptr, temp_bytes, kept_length.data(), offsets, n_journeys + 1, stream));
  {
    rmm::device_buffer temp(temp_bytes, resources.stream(), resources.memory());
    JM_CUDA_TRY(cub::DeviceScan::ExclusiveSum(temp.data(), temp_bytes, kept_length.data(), offsets, n_journeys + 1, stream));
  }
  // The host sizes the event arrays from this count.
  int64_t n_out_events = 0;
  resources.copy_to_host(&n_out_events, offsets + n_journeys, sizeof(n_out_events));
  out.stats.events_truncated = n_kept - n_out_events;

  // 4. Outcomes and events of every journey, written straight into the journey set's device columns.
  kernels::write_journeys<<<grid_for(n_journeys, resources), kJourneyBlockThreads, 0, stream>>>(
      sorted, kept.data(), journey_start.data(), first_kept.data(), offsets, n_journeys,
      out.touchpoint.resize_on_device(ctx, n_out_events).data, out.channel.resize_on_device(ctx, n_out_events).data,
      out.timestamp_ms.resize_on_device(ctx, n_out_events).data, out.value.resize_on_device(ctx, n_out_events).data,
      out.customer.resize_on_device(ctx, n_journeys).data, out.converted.resize_on_device(ctx, n_journeys).data,
      out.conversion_value.resize_on_device(ctx, n_journeys).data, out.start_ms.resize_on_device(ctx, n_journeys).data,
      out.end_ms.resize_on_device(ctx, n_journeys).data, order.data(),
      options.keep_event_rows ? out.event_row.resize_on_device(ctx, n_out_events).data : nullptr);
  JM_CUDA_CHECK_LAUNCH();
}

JourneySet build_journeys(const Context& ctx, const EventTable& events, const JourneyOptions& options) {
  JourneySet out;
  build_device_journeys(ctx, upload_events(ctx, events), options, out);
  out.customers = events.customers;
  out.touchpoints = events.touchpoints;
  out.channels = events.channels;
  return out;
}

}  // namespace jm::cuda_impl
