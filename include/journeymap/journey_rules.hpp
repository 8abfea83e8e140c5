// The per-event rules of journey building, written once for both backends.
// The CPU builder calls them in a loop; the GPU kernels call them once per thread.
#pragma once

#include <cstdint>
#include <cstring>

#include "journeymap/common.hpp"

namespace jm {
namespace journey_rules {

/// The fields of one event that journey building looks at.
struct EventView {
  uint32_t customer;
  int64_t timestamp_ms;
  int32_t touchpoint;
  int32_t channel;
  float value;
  uint8_t is_conversion;
};

/// Bit pattern of a float, so that "identical events" compares values exactly (and -0 != +0,
/// NaN == NaN with the same payload), the same way on CPU and GPU.
JM_HD inline uint32_t float_bits(float x) {
  uint32_t bits;
  memcpy(&bits, &x, sizeof bits);
  return bits;
}

/// True when two events agree in every field (the duplicate rule).
JM_HD inline bool identical_events(const EventView& a, const EventView& b) {
  return a.customer == b.customer && a.timestamp_ms == b.timestamp_ms && a.touchpoint == b.touchpoint &&
         a.channel == b.channel && a.is_conversion == b.is_conversion &&
         float_bits(a.value) == float_bits(b.value);
}

/// True when `current` starts a new journey, given the event before it in sorted order.
/// `session_gap_ms` <= 0 disables sessionization.
JM_HD inline bool starts_new_journey(const EventView& previous, const EventView& current,
                                     bool split_at_conversion, int64_t session_gap_ms) {
  if (previous.customer != current.customer) return true;
  if (split_at_conversion && previous.is_conversion) return true;
  if (session_gap_ms > 0 && current.timestamp_ms - previous.timestamp_ms > session_gap_ms) return true;
  return false;
}

/// First event kept of a journey spanning [begin, end) under a length cap (0 = no cap).
/// The cap keeps the last events: the ones that lead to the outcome.
JM_HD inline int64_t first_kept_event(int64_t begin, int64_t end, int64_t max_length) {
  return (max_length > 0 && end - begin > max_length) ? end - max_length : begin;
}

/// Outcome of one journey, accumulated event by event in journey order. Both backends add the
/// values in the same order, so conversion values agree bit for bit. `is_conversion` is an outcome
/// label id (0: an ordinary event); the journey keeps the label of its first outcome event.
struct JourneyOutcome {
  uint8_t converted = 0;
  float conversion_value = 0.0f;
};

JM_HD inline void add_to_outcome(JourneyOutcome& outcome, uint8_t is_conversion, float value) {
  if (is_conversion) {
    if (outcome.converted == 0) outcome.converted = is_conversion;
    outcome.conversion_value += value;
  }
}

/// Sort key that puts identical events of one timestamp next to each other (drop_duplicates):
/// touchpoint, then channel, then the conversion flag. Ids are non-negative int32.
JM_HD inline uint64_t content_sort_key(int32_t touchpoint, int32_t channel, uint8_t is_conversion) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(touchpoint)) << 33) |
         (static_cast<uint64_t>(static_cast<uint32_t>(channel)) << 1) | (is_conversion ? 1u : 0u);
}

}  // namespace journey_rules
}  // namespace jm
