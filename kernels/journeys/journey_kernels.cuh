// Kernels of GPU journey building. Each applies a shared journey_rules function, so the GPU cuts
// journeys by exactly the rules the CPU twin uses. Launchers live in cuda/journeys/journeys_cuda.cu.
#pragma once

#include <cstdint>

#include "journeymap/journey_rules.hpp"

namespace jm::kernels {

/// Threads per block of every journey-building kernel (launchers size grids with it).
constexpr int kJourneyBlockThreads = 256;

/// The sorted event columns the kernels read, indexed by sorted position.
struct SortedEvents {
  const uint32_t* customer;
  const int64_t* timestamp_ms;
  const int32_t* touchpoint;
  const int32_t* channel;
  const float* value;
  const uint8_t* is_conversion;

  __device__ journey_rules::EventView operator[](int64_t i) const {
    return journey_rules::EventView{customer[i], timestamp_ms[i], touchpoint[i], channel[i], value[i], is_conversion[i]};
  }
};

/// destination[i] = source[permutation[i]]. One thread per output element, grid-stride.
template <typename T>
__global__ void __launch_bounds__(kJourneyBlockThreads)
    gather_by_permutation(const int64_t* permutation, const T* source, T* destination, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x)
    destination[i] = source[permutation[i]];
}

/// Per event, the keys of the drop_duplicates ordering: content key and value bits.
__global__ void __launch_bounds__(kJourneyBlockThreads)
    compute_content_keys(const int32_t* touchpoint, const int32_t* channel, const uint8_t* is_conversion,
                         const float* value, uint64_t* content_key, uint32_t* value_bits, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    content_key[i] = journey_rules::content_sort_key(touchpoint[i], channel[i], is_conversion[i]);
    value_bits[i] = journey_rules::float_bits(value[i]);
  }
}

/// permutation[i] = i.
__global__ void __launch_bounds__(kJourneyBlockThreads) fill_identity(int64_t* permutation, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x)
    permutation[i] = i;
}

/// keep[i] = 0 when sorted event i duplicates event i-1 (only with drop_duplicates), else 1.
__global__ void __launch_bounds__(kJourneyBlockThreads)
    mark_kept_events(SortedEvents events, bool drop_duplicates, uint8_t* keep, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x)
    keep[i] = !(drop_duplicates && i > 0 && journey_rules::identical_events(events[i - 1], events[i]));
}

/// starts[k] = 1 when kept event k (sorted position kept[k]) starts a journey.
__global__ void __launch_bounds__(kJourneyBlockThreads)
    mark_journey_starts(SortedEvents events, const int64_t* kept, bool split_at_conversion, int64_t session_gap_ms,
                        uint8_t* starts, int64_t n_kept) {
  for (int64_t k = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; k < n_kept; k += int64_t{gridDim.x} * blockDim.x)
    starts[k] = k == 0 || journey_rules::starts_new_journey(events[kept[k - 1]], events[kept[k]],
                                                            split_at_conversion, session_gap_ms);
}

/// Per journey j spanning kept[journey_start[j], journey_start[j+1]): the first event that survives
/// the length cap and the number of surviving events (kept_length[n_journeys] is set to 0 so that an
/// exclusive scan of kept_length yields the CSR offsets).
__global__ void __launch_bounds__(kJourneyBlockThreads)
    apply_length_cap(const int64_t* journey_start, int64_t max_length, int64_t* first_kept, int64_t* kept_length,
                     int64_t n_journeys) {
  for (int64_t j = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; j <= n_journeys; j += int64_t{gridDim.x} * blockDim.x) {
    if (j == n_journeys) {
      kept_length[j] = 0;
      continue;
    }
    const int64_t first = journey_rules::first_kept_event(journey_start[j], journey_start[j + 1], max_length);
    first_kept[j] = first;
    kept_length[j] = journey_start[j + 1] - first;
  }
}

/// Writes journey j's outcome and its surviving events into the CSR (and, when out_event_row is
/// set, each event's input row: order[] maps sorted positions to input rows). One thread per journey: the
/// outcome is summed sequentially in journey order, exactly as on the CPU, so values match bitwise.
__global__ void __launch_bounds__(kJourneyBlockThreads)
    write_journeys(SortedEvents events, const int64_t* kept, const int64_t* journey_start, const int64_t* first_kept,
                   const int64_t* offsets, int64_t n_journeys, int32_t* out_touchpoint, int32_t* out_channel,
                   int64_t* out_timestamp_ms, float* out_value, uint32_t* out_customer, uint8_t* out_converted,
                   float* out_conversion_value, int64_t* out_start_ms, int64_t* out_end_ms, const int64_t* order,
                   int64_t* out_event_row) {
  for (int64_t j = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; j < n_journeys; j += int64_t{gridDim.x} * blockDim.x) {
    const int64_t begin = journey_start[j], end = journey_start[j + 1], first = first_kept[j];
    journey_rules::JourneyOutcome outcome;
    for (int64_t k = begin; k < end; ++k) journey_rules::add_to_outcome(outcome, events.is_conversion[kept[k]], events.value[kept[k]]);
    out_customer[j] = events.customer[kept[begin]];
    out_converted[j] = outcome.converted;
    out_conversion_value[j] = outcome.conversion_value;
    out_start_ms[j] = events.timestamp_ms[kept[first]];
    out_end_ms[j] = events.timestamp_ms[kept[end - 1]];
    int64_t cursor = offsets[j];
    for (int64_t k = first; k < end; ++k, ++cursor) {
      const int64_t e = kept[k];
      out_touchpoint[cursor] = events.touchpoint[e];
      out_channel[cursor] = events.channel[e];
      out_timestamp_ms[cursor] = events.timestamp_ms[e];
      out_value[cursor] = events.value[e];
      if (out_event_row != nullptr) out_event_row[cursor] = order[e];
    }
  }
}

/// *target = value (used to append the end sentinel of journey_start without a host round trip).
__global__ void set_scalar(int64_t* target, int64_t value) { *target = value; }

}  // namespace jm::kernels
