#include "bench/bench_event_tables.hpp"

#include <map>
#include <memory>
#include <random>
#include <string>

namespace jm::bench {

const EventTable& cached_event_table(int64_t n_events) {
  static std::map<int64_t, std::unique_ptr<EventTable>> cache;
  auto& slot = cache[n_events];
  if (slot) return *slot;
  slot = std::make_unique<EventTable>();
  EventTable& events = *slot;
  const int64_t n_customers = std::max<int64_t>(1, n_events / 10);
  for (int64_t c = 0; c < n_customers; ++c) events.customers.encode("c" + std::to_string(c));
  for (int t = 0; t < 12; ++t) events.touchpoints.encode("touchpoint_" + std::to_string(t));
  for (int c = 0; c < 6; ++c) events.channels.encode("channel_" + std::to_string(c));
  std::mt19937_64 rng(20260105);
  events.reserve(static_cast<size_t>(n_events));
  const int64_t period_ms = int64_t{90} * 86400 * 1000;
  for (int64_t i = 0; i < n_events; ++i) {
    const bool conversion = rng() % 32 == 0;
    events.push_back(static_cast<uint32_t>(rng() % n_customers), static_cast<int64_t>(rng() % period_ms),
                     static_cast<int32_t>(rng() % 12), static_cast<int32_t>(rng() % 6), conversion ? 42.0f : 0.0f,
                     conversion);
  }
  return events;
}

}  // namespace jm::bench
