// Random event tables for the suites that need many small, messy journeys.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "journeymap/events.hpp"

namespace jm::testing {

// Random events: few customers, coarse timestamps (many ties), repeated rows (duplicates).
inline EventTable random_events(uint64_t seed, int n_events, int n_customers, int n_touchpoints = 6) {
  std::mt19937_64 rng(seed);
  EventTable events;
  for (int c = 0; c < n_customers; ++c) events.customers.encode("cust" + std::to_string(c));
  for (int t = 0; t < n_touchpoints; ++t) events.touchpoints.encode("tp" + std::to_string(t));
  for (int ch = 0; ch < 3; ++ch) events.channels.encode("ch" + std::to_string(ch));
  for (int i = 0; i < n_events; ++i) {
    if (i > 0 && rng() % 7 == 0) {  // an exact duplicate of an earlier row
      const size_t src = rng() % events.size();
      events.push_back(events.customer[src], events.timestamp_ms[src], events.touchpoint[src], events.channel[src],
                       events.value[src], events.is_conversion[src]);
      continue;
    }
    const bool conversion = rng() % 9 == 0;
    events.push_back(static_cast<uint32_t>(rng() % n_customers), static_cast<int64_t>(rng() % 40) * 60000 - 600000,
                     static_cast<int32_t>(rng() % n_touchpoints), static_cast<int32_t>(rng() % 3),
                     conversion ? static_cast<float>(rng() % 1000) / 7.0f : 0.0f, conversion);
  }
  return events;
}

}  // namespace jm::testing
