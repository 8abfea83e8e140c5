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

int grid_for(int64_t n) {
  const int64_t blocks = (n + kJourneyBlockThreads - 1) / kJourneyBlockThreads;
  return static_cast<int>(std::clamp<int64_t>(blocks, 1, 65535 * 8));
}

template <typename T>
rmm::device_uvector<T> gather(const rmm::device_uvector<int64_t>& permutation, const rmm::device_uvector<T>& source,
                              rmm::cuda_stream_view stream) {
  const auto n = static_cast<int64_t>(permutation.size());
  rmm::device_uvector<T> out(permutation.size(), stream);
  if (n > 0) {
    kernels::gather_by_permutation<<<grid_for(n), kJourneyBlockThreads, 0, stream.value()>>>(permutation.data(),
                                                                                             source.data(), out.data(), n);
    JM_CUDA_CHECK_LAUNCH();
  }
  return out;
}

// One stable radix pass: reorders `permutation` by key_of_event[permutation[i]] on bits [0, end_bit).
template <typename Key>
void stable_sort_by_key(rmm::device_uvector<int64_t>& permutation, const rmm::device_uvector<Key>& key_of_event,
                        int end_bit, rmm::cuda_stream_view stream) {
  const auto n = static_cast<int64_t>(permutation.size());
  rmm::device_uvector<Key> keys = gather(permutation, key_of_event, stream);
  rmm::device_uvector<Key> keys_alt(permutation.size(), stream);
  rmm::device_uvector<int64_t> permutation_alt(permutation.size(), stream);
  cub::DoubleBuffer<Key> key_buffers(keys.data(), keys_alt.data());
  cub::DoubleBuffer<int64_t> value_buffers(permutation.data(), permutation_alt.data());
  size_t temp_bytes = 0;
  JM_CUDA_TRY(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, key_buffers, value_buffers, n, 0, end_bit, stream.value()));
  rmm::device_buffer temp(temp_bytes, stream);
  JM_CUDA_TRY(cub::DeviceRadixSort::SortPairs(temp.data(), temp_bytes, key_buffers, value_buffers, n, 0, end_bit, stream.value()));
  if (value_buffers.Current() != permutation.data()) permutation = std::move(permutation_alt);
}

// Indices i in [0, n) with flags[i] != 0; `extra` more slots are left at the end for the caller.
rmm::device_uvector<int64_t> select_flagged_positions(const rmm::device_uvector<uint8_t>& flags, int64_t extra,
                                                      rmm::cuda_stream_view stream) {
  const auto n = static_cast<int64_t>(flags.size());
  rmm::device_uvector<int64_t> selected(flags.size() + extra, stream);
  rmm::device_scalar<int64_t> n_selected(0, stream);
  size_t temp_bytes = 0;
  thrust::counting_iterator<int64_t> positions(0);
  JM_CUDA_TRY(cub::DeviceSelect::Flagged(nullptr, temp_bytes, positions, flags.data(), selected.data(),
                                         n_selected.data(), n, stream.value()));
  rmm::device_buffer temp(temp_bytes, stream);
  JM_CUDA_TRY(cub::DeviceSelect::Flagged(temp.data(), temp_bytes, positions, flags.data(), selected.data(),
                                         n_selected.data(), n, stream.value()));
  // The host needs the count to size the next arrays: this value() call synchronizes the stream.
  const int64_t count = n_selected.value(stream);
  selected.resize(count + extra, stream);
  return selected;
}

int bits_for(uint64_t max_value) {
  int bits = 1;
  while (bits < 64 && (max_value >> bits) != 0) ++bits;
  return bits;
}

}  // namespace

DeviceEventTable upload_events(const EventTable& events, rmm::cuda_stream_view stream) {
  DeviceEventTable device_events(stream);
  device_events.customer = upload(events.customer, stream);
  device_events.timestamp_ms = upload(events.timestamp_ms, stream);
  device_events.touchpoint = upload(events.touchpoint, stream);
  device_events.channel = upload(events.channel, stream);
  device_events.value = upload(events.value, stream);
  device_events.is_conversion = upload(events.is_conversion, stream);
  device_events.n_customers = events.customers.size();
  return device_events;
}

DeviceJourneySet build_device_journeys(const Context& ctx, const DeviceEventTable& events, const JourneyOptions& options) {
  rmm::cuda_stream_view stream = device_stream(ctx.cuda_device);
  DeviceJourneySet out(stream);
  const int64_t n = events.size();
  out.stats.input_events = n;
  if (n == 0) {
    out.offsets.resize(1, stream);
    JM_CUDA_TRY(cudaMemsetAsync(out.offsets.data(), 0, sizeof(int64_t), stream.value()));
    return out;
  }
  const auto& customer = events.customer;
  const auto& timestamp = events.timestamp_ms;
  const auto& touchpoint = events.touchpoint;
  const auto& channel = events.channel;
  const auto& value = events.value;
  const auto& is_conversion = events.is_conversion;

  // 1. Sort a permutation: stable LSD radix passes, least significant key first.
  rmm::device_uvector<int64_t> order(n, stream);
  kernels::fill_identity<<<grid_for(n), kJourneyBlockThreads, 0, stream.value()>>>(order.data(), n);
  JM_CUDA_CHECK_LAUNCH();
  if (options.drop_duplicates) {
    rmm::device_uvector<uint64_t> content_key(n, stream);
    rmm::device_uvector<uint32_t> value_bits(n, stream);
    kernels::compute_content_keys<<<grid_for(n), kJourneyBlockThreads, 0, stream.value()>>>(
        touchpoint.data(), channel.data(), is_conversion.data(), value.data(), content_key.data(), value_bits.data(), n);
    JM_CUDA_CHECK_LAUNCH();
    stable_sort_by_key(order, value_bits, 32, stream);
    stable_sort_by_key(order, content_key, 64, stream);
  }
  stable_sort_by_key(order, timestamp, 64, stream);
  const auto n_customers = static_cast<uint64_t>(std::max<int64_t>(events.n_customers, 1));
  stable_sort_by_key(order, customer, bits_for(n_customers - 1), stream);

  auto sorted_customer = gather(order, customer, stream);
  auto sorted_timestamp = gather(order, timestamp, stream);
  auto sorted_touchpoint = gather(order, touchpoint, stream);
  auto sorted_channel = gather(order, channel, stream);
  auto sorted_value = gather(order, value, stream);
  auto sorted_conversion = gather(order, is_conversion, stream);
  const kernels::SortedEvents sorted{sorted_customer.data(), sorted_timestamp.data(), sorted_touchpoint.data(),
                                     sorted_channel.data(),  sorted_value.data(),     sorted_conversion.data()};

  // 2. Kept events (duplicates removed) and journey starts among them.
  rmm::device_uvector<uint8_t> flags(n, stream);
  kernels::mark_kept_events<<<grid_for(n), kJourneyBlockThreads, 0, stream.value()>>>(sorted, options.drop_duplicates,
                                                                                    flags.data(), n);
  JM_CUDA_CHECK_LAUNCH();
  rmm::device_uvector<int64_t> kept = select_flagged_positions(flags, 0, stream);
  const auto n_kept = static_cast<int64_t>(kept.size());
  out.stats.duplicates_dropped = n - n_kept;

  const auto gap_ms = static_cast<int64_t>(options.session_gap_seconds * 1000.0);
  flags.resize(n_kept, stream);
  kernels::mark_journey_starts<<<grid_for(n_kept), kJourneyBlockThreads, 0, stream.value()>>>(
      sorted, kept.data(), options.split_at_conversion, gap_ms, flags.data(), n_kept);
  JM_CUDA_CHECK_LAUNCH();
  rmm::device_uvector<int64_t> journey_start = select_flagged_positions(flags, 1, stream);
  const int64_t n_journeys = static_cast<int64_t>(journey_start.size()) - 1;
  kernels::set_scalar<<<1, 1, 0, stream.value()>>>(journey_start.data() + n_journeys, n_kept);
  JM_CUDA_CHECK_LAUNCH();

  // 3. Length cap, then CSR offsets by an exclusive scan of the surviving lengths.
  rmm::device_uvector<int64_t> first_kept(n_journeys, stream);
  rmm::device_uvector<int64_t> kept_length(n_journeys + 1, stream);
  kernels::apply_length_cap<<<grid_for(n_journeys + 1), kJourneyBlockThreads, 0, stream.value()>>>(
      journey_start.data(), options.max_length, first_kept.data(), kept_length.data(), n_journeys);
  JM_CUDA_CHECK_LAUNCH();
  out.offsets.resize(n_journeys + 1, stream);
  size_t temp_bytes = 0;
  JM_CUDA_TRY(cub::DeviceScan::ExclusiveSum(nullptr, temp_bytes, kept_length.data(), out.offsets.data(), n_journeys + 1,
                                            stream.value()));
  {
    rmm::device_buffer temp(temp_bytes, stream);
    JM_CUDA_TRY(cub::DeviceScan::ExclusiveSum(temp.data(), temp_bytes, kept_length.data(), out.offsets.data(),
                                              n_journeys + 1, stream.value()));
  }
  int64_t n_out_events = 0;
  JM_CUDA_TRY(cudaMemcpyAsync(&n_out_events, out.offsets.data() + n_journeys, sizeof(int64_t), cudaMemcpyDeviceToHost,
                              stream.value()));
  // The host sizes the event arrays from this count.
  JM_CUDA_TRY(cudaStreamSynchronize(stream.value()));
  out.stats.events_truncated = n_kept - n_out_events;

  // 4. Outcomes and events of every journey.
  out.touchpoint.resize(n_out_events, stream);
  out.channel.resize(n_out_events, stream);
  out.timestamp_ms.resize(n_out_events, stream);
  out.value.resize(n_out_events, stream);
  out.customer.resize(n_journeys, stream);
  out.converted.resize(n_journeys, stream);
  out.conversion_value.resize(n_journeys, stream);
  out.start_ms.resize(n_journeys, stream);
  out.end_ms.resize(n_journeys, stream);
  kernels::write_journeys<<<grid_for(n_journeys), kJourneyBlockThreads, 0, stream.value()>>>(
      sorted, kept.data(), journey_start.data(), first_kept.data(), out.offsets.data(), n_journeys,
      out.touchpoint.data(), out.channel.data(), out.timestamp_ms.data(), out.value.data(), out.customer.data(),
      out.converted.data(), out.conversion_value.data(), out.start_ms.data(), out.end_ms.data());
  JM_CUDA_CHECK_LAUNCH();
  return out;
}

JourneySet to_host(const DeviceJourneySet& device_journeys, const EventTable& events, rmm::cuda_stream_view stream) {
  JourneySet out;
  out.customers = events.customers;
  out.touchpoints = events.touchpoints;
  out.channels = events.channels;
  out.stats = device_journeys.stats;
  download(device_journeys.offsets, out.offsets, stream);
  download(device_journeys.touchpoint, out.touchpoint, stream);
  download(device_journeys.channel, out.channel, stream);
  download(device_journeys.timestamp_ms, out.timestamp_ms, stream);
  download(device_journeys.value, out.value, stream);
  download(device_journeys.customer, out.customer, stream);
  download(device_journeys.converted, out.converted, stream);
  download(device_journeys.conversion_value, out.conversion_value, stream);
  download(device_journeys.start_ms, out.start_ms, stream);
  download(device_journeys.end_ms, out.end_ms, stream);
  // The host reads the vectors next.
  JM_CUDA_TRY(cudaStreamSynchronize(stream.value()));
  return out;
}

JourneySet build_journeys(const Context& ctx, const EventTable& events, const JourneyOptions& options) {
  const rmm::cuda_stream_view stream = device_stream(ctx.cuda_device);
  DeviceJourneySet device_journeys = build_device_journeys(ctx, upload_events(events, stream), options);
  return to_host(device_journeys, events, stream);
}

}  // namespace jm::cuda_impl
