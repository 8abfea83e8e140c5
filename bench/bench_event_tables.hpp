// Synthetic in-memory event tables for the journey-building benchmarks (no file I/O).
#pragma once

#include <cstdint>

#include "journeymap/events.hpp"

namespace jm::bench {

/// `n_events` events of n_events/10 customers (10 events each on average), shuffled as in a log,
/// timestamps spread over 90 days, ~3% conversions. Deterministic.
const EventTable& cached_event_table(int64_t n_events);

}  // namespace jm::bench
