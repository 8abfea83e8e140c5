// CPU twin of journey building.
//
// Customers are dense ids, so grouping is a stable counting sort (O(n), no comparisons). Each
// customer's events are then sorted by time in parallel, and journeys are cut in two parallel
// passes over customer chunks: count, prefix-sum, fill. The cut rules are the shared
// journey_rules functions that the GPU kernels call too.
#include <algorithm>
#include <numeric>
#include <vector>

#include "host/core/thread_pool.hpp"
#include "journeymap/journey_rules.hpp"
#include "journeymap/journeys.hpp"

namespace jm::cpu_impl {
namespace {

using journey_rules::EventView;

EventView view_of(const EventTable& events, int64_t i) {
  return EventView{events.customer[i], events.timestamp_ms[i], events.touchpoint[i],
                   events.channel[i],  events.value[i],        events.is_conversion[i]};
}

// Counting sort by customer; stable, so ties keep input order.
std::vector<int64_t> group_by_customer(const EventTable& events, std::vector<int64_t>& customer_begin) {
  const size_t n_customers = static_cast<size_t>(events.customers.size());
  customer_begin.assign(n_customers + 1, 0);
  for (uint32_t c : events.customer) ++customer_begin[c + 1];
  std::partial_sum(customer_begin.begin(), customer_begin.end(), customer_begin.begin());
  std::vector<int64_t> cursor(customer_begin.begin(), customer_begin.end() - 1);
  std::vector<int64_t> order(events.size());
  for (size_t i = 0; i < events.size(); ++i) order[cursor[events.customer[i]]++] = static_cast<int64_t>(i);
  return order;
}

// Chunks of consecutive customers holding roughly equal numbers of events.
std::vector<int64_t> customer_chunks(const std::vector<int64_t>& customer_begin, int num_threads) {
  const int64_t n_customers = static_cast<int64_t>(customer_begin.size()) - 1;
  const int64_t n_events = customer_begin.back();
  const int64_t target_chunks = std::max<int64_t>(1, std::min<int64_t>(n_customers, int64_t{num_threads} * 16));
  const int64_t events_per_chunk = std::max<int64_t>(1, n_events / target_chunks);
  std::vector<int64_t> bounds{0};
  int64_t next_cut = events_per_chunk;
  for (int64_t c = 1; c < n_customers; ++c)
    if (customer_begin[c] >= next_cut) {
      bounds.push_back(c);
      next_cut = customer_begin[c] + events_per_chunk;
    }
  bounds.push_back(n_customers);
  return bounds;
}

struct ChunkTotals {
  int64_t journeys = 0;
  int64_t events = 0;
  int64_t duplicates = 0;
  int64_t truncated = 0;
};

// Walks the customers [first, last) of a chunk and calls emit(kept, begin, first_kept, end) for every
// journey: `kept` holds the event indices of the customer after duplicate removal; the journey is
// kept[begin, end) and its events from kept[first_kept] on survive the length cap.
template <typename Emit>
void walk_journeys(const EventTable& events, const std::vector<int64_t>& order,
                   const std::vector<int64_t>& customer_begin, int64_t first_customer, int64_t last_customer,
                   const JourneyOptions& options, ChunkTotals& totals, Emit&& emit) {
  const int64_t gap_ms = static_cast<int64_t>(options.session_gap_seconds * 1000.0);
  std::vector<int64_t> kept;
  for (int64_t c = first_customer; c < last_customer; ++c) {
    kept.clear();
    for (int64_t p = customer_begin[c]; p < customer_begin[c + 1]; ++p) {
      const int64_t event = order[p];
      if (options.drop_duplicates && !kept.empty() &&
          journey_rules::identical_events(view_of(events, kept.back()), view_of(events, event))) {
        ++totals.duplicates;
        continue;
      }
      kept.push_back(event);
    }
    int64_t begin = 0;
    for (int64_t k = 1; k <= static_cast<int64_t>(kept.size()); ++k) {
      const bool at_end = k == static_cast<int64_t>(kept.size());
      if (!at_end && !journey_rules::starts_new_journey(view_of(events, kept[k - 1]), view_of(events, kept[k]),
                                                        options.split_at_conversion, gap_ms))
        continue;
      const int64_t first_kept = journey_rules::first_kept_event(begin, k, options.max_length);
      totals.journeys += 1;
      totals.events += k - first_kept;
      totals.truncated += first_kept - begin;
      emit(kept, begin, first_kept, k);
      begin = k;
    }
  }
}

}  // namespace

JourneySet build_journeys(const Context& ctx, const EventTable& events, const JourneyOptions& options) {
  JourneySet out;
  out.customers = events.customers;
  out.touchpoints = events.touchpoints;
  out.channels = events.channels;
  out.stats.input_events = static_cast<int64_t>(events.size());

  std::vector<int64_t> customer_begin;
  std::vector<int64_t> order = group_by_customer(events, customer_begin);
  const std::vector<int64_t> chunks = customer_chunks(customer_begin, ctx.num_threads);
  const int64_t n_chunks = static_cast<int64_t>(chunks.size()) - 1;

  // Within a customer: time order; with drop_duplicates also content order so that identical
  // events are adjacent (the GPU radix passes produce the same order); then input order.
  auto earlier = [&](int64_t a, int64_t b) {
    if (events.timestamp_ms[a] != events.timestamp_ms[b]) return events.timestamp_ms[a] < events.timestamp_ms[b];
    if (!options.drop_duplicates) return false;
    const uint64_t key_a = journey_rules::content_sort_key(events.touchpoint[a], events.channel[a], events.is_conversion[a]);
    const uint64_t key_b = journey_rules::content_sort_key(events.touchpoint[b], events.channel[b], events.is_conversion[b]);
    if (key_a != key_b) return key_a < key_b;
    return journey_rules::float_bits(events.value[a]) < journey_rules::float_bits(events.value[b]);
  };
  // Logs are often written in time order already (an SPMF file always is): a customer whose events
  // are in order keeps them, since a stable sort of a sorted range changes nothing.
  parallel_for(n_chunks, ctx.num_threads, [&](int64_t chunk) {
    for (int64_t c = chunks[chunk]; c < chunks[chunk + 1]; ++c) {
      const auto first = order.begin() + customer_begin[c], last = order.begin() + customer_begin[c + 1];
      if (last - first > 1 && !std::is_sorted(first, last, earlier)) std::stable_sort(first, last, earlier);
    }
  });

  // Pass 1: how many journeys and events each chunk produces.
  std::vector<ChunkTotals> totals(static_cast<size_t>(n_chunks));
  parallel_for(n_chunks, ctx.num_threads, [&](int64_t chunk) {
    walk_journeys(events, order, customer_begin, chunks[chunk], chunks[chunk + 1], options, totals[chunk],
                  [](const std::vector<int64_t>&, int64_t, int64_t, int64_t) {});
  });
  std::vector<int64_t> journey_base(static_cast<size_t>(n_chunks) + 1, 0), event_base(journey_base);
  for (int64_t chunk = 0; chunk < n_chunks; ++chunk) {
    journey_base[chunk + 1] = journey_base[chunk] + totals[chunk].journeys;
    event_base[chunk + 1] = event_base[chunk] + totals[chunk].events;
    out.stats.duplicates_dropped += totals[chunk].duplicates;
    out.stats.events_truncated += totals[chunk].truncated;
  }
  const int64_t n_journeys = journey_base.back(), n_events = event_base.back();
  // The columns are filled on the host: write through their host vectors.
  std::vector<int64_t>& offsets = out.offsets.host_mut();
  std::vector<int32_t>& touchpoint = out.touchpoint.host_mut();
  std::vector<int32_t>& channel = out.channel.host_mut();
  std::vector<int64_t>& timestamp_ms = out.timestamp_ms.host_mut();
  std::vector<float>& value = out.value.host_mut();
  std::vector<uint32_t>& customer = out.customer.host_mut();
  std::vector<uint8_t>& converted = out.converted.host_mut();
  std::vector<float>& conversion_value = out.conversion_value.host_mut();
  std::vector<int64_t>& start_ms = out.start_ms.host_mut();
  std::vector<int64_t>& end_ms = out.end_ms.host_mut();
  std::vector<int64_t>& event_row = out.event_row.host_mut();
  if (options.keep_event_rows) event_row.resize(n_events);
  offsets.resize(static_cast<size_t>(n_journeys) + 1);
  offsets[n_journeys] = n_events;
  touchpoint.resize(n_events);
  channel.resize(n_events);
  timestamp_ms.resize(n_events);
  value.resize(n_events);
  customer.resize(n_journeys);
  converted.resize(n_journeys);
  conversion_value.resize(n_journeys);
  start_ms.resize(n_journeys);
  end_ms.resize(n_journeys);

  // Pass 2: fill each chunk's slice of the CSR.
  parallel_for(n_chunks, ctx.num_threads, [&](int64_t chunk) {
    int64_t journey = journey_base[chunk], cursor = event_base[chunk];
    ChunkTotals unused;
    walk_journeys(events, order, customer_begin, chunks[chunk], chunks[chunk + 1], options, unused,
                  [&](const std::vector<int64_t>& kept, int64_t begin, int64_t first_kept, int64_t end) {
                    journey_rules::JourneyOutcome outcome;
                    for (int64_t k = begin; k < end; ++k)
                      journey_rules::add_to_outcome(outcome, events.is_conversion[kept[k]], events.value[kept[k]]);
                    offsets[journey] = cursor;
                    customer[journey] = events.customer[kept[begin]];
                    converted[journey] = outcome.converted;
                    conversion_value[journey] = outcome.conversion_value;
                    start_ms[journey] = events.timestamp_ms[kept[first_kept]];
                    end_ms[journey] = events.timestamp_ms[kept[end - 1]];
                    for (int64_t k = first_kept; k < end; ++k, ++cursor) {
                      const int64_t e = kept[k];
                      touchpoint[cursor] = events.touchpoint[e];
                      channel[cursor] = events.channel[e];
                      timestamp_ms[cursor] = events.timestamp_ms[e];
                      value[cursor] = events.value[e];
                      if (options.keep_event_rows) event_row[cursor] = e;
                    }
                    ++journey;
                  });
  });
  return out;
}

}  // namespace jm::cpu_impl
