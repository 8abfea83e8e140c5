// Public entry of journey building: validates, then dispatches to the CPU or GPU twin.
#include <cmath>
#include <stdexcept>
#include <string>

#include "host/journeys/append_journey.hpp"
#include "journeymap/common.hpp"
#include "journeymap/journeys.hpp"

namespace jm {

JourneySet build_journeys(const Context& ctx, const EventTable& events, const JourneyOptions& options) {
  if (!(options.session_gap_seconds >= 0.0) || !std::isfinite(options.session_gap_seconds))
    throw ConfigError("session_gap_seconds must be a finite number >= 0");
  if (options.max_length < 0) throw ConfigError("max_length must be >= 0 (0 = no cap)");
  if (events.size() >= (size_t{1} << 40)) throw ConfigError("more than 2^40 events are not supported");
  return ctx.backend == Backend::Gpu ? cuda_impl::build_journeys(ctx, events, options)
                                     : cpu_impl::build_journeys(ctx, events, options);
}

JourneySet select_journeys(const JourneySet& journeys, const std::vector<int64_t>& rows) {
  std::vector<int64_t> lengths(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) lengths[i] = journeys.length(rows[i]);
  return journey_prefixes(journeys, rows, lengths);
}

JourneySet journey_prefixes(const JourneySet& journeys, const std::vector<int64_t>& rows,
                            const std::vector<int64_t>& lengths) {
  if (lengths.size() != rows.size()) throw std::logic_error("journey_prefixes: one length per row expected");
  JourneySet out;
  out.customers = journeys.customers;
  out.touchpoints = journeys.touchpoints;
  out.channels = journeys.channels;
  out.outcome_labels = journeys.outcome_labels;
  out.positive_outcome = journeys.positive_outcome;
  out.case_attributes = journeys.case_attributes;
  out.covariates = journeys.covariates;
  for (const JourneyDimension& dimension : journeys.dimensions)
    out.dimensions.push_back(JourneyDimension{dimension.name, dimension.values, {}, {}});
  out.offsets.reserve(rows.size() + 1);
  out.offsets.push_back(0);
  for (size_t i = 0; i < rows.size(); ++i) {
    if (lengths[i] < 1 || lengths[i] > journeys.length(rows[i]))
      throw std::logic_error("journey_prefixes: a prefix must keep 1 .. length events");
    append_journey(out, journeys, rows[i], lengths[i]);
  }
  return out;
}

void append_journey(JourneySet& out, const JourneySet& from, int64_t j, int64_t length) {
  const int64_t first = from.offsets[j], last = first + length;
  const bool has_event_rows = !from.event_row.empty();
  for (int64_t e = first; e < last; ++e) {
    out.touchpoint.push_back(from.touchpoint[e]);
    out.channel.push_back(from.channel[e]);
    out.timestamp_ms.push_back(from.timestamp_ms[e]);
    out.value.push_back(from.value[e]);
    if (has_event_rows) out.event_row.push_back(from.event_row[e]);
    for (size_t d = 0; d < from.dimensions.size(); ++d)
      out.dimensions[d].event_code.push_back(from.dimensions[d].event_code[static_cast<size_t>(e)]);
  }
  const bool whole = last == from.offsets[j + 1];
  for (size_t d = 0; d < from.dimensions.size(); ++d) {
    // A prefix's value is the first among its own events (the whole journey's when it is whole).
    int32_t code = from.dimensions[d].journey_code[static_cast<size_t>(j)];
    if (!whole) {
      const std::vector<int32_t>& events = from.dimensions[d].event_code;
      code = -1;
      for (int64_t e = first; e < last && code < 0; ++e) code = events[static_cast<size_t>(e)];
    }
    out.dimensions[d].journey_code.push_back(code);
  }
  out.offsets.push_back(static_cast<int64_t>(out.touchpoint.size()));
  out.customer.push_back(from.customer[j]);
  out.converted.push_back(from.converted[j]);
  out.conversion_value.push_back(from.conversion_value[j]);
  out.start_ms.push_back(from.start_ms[j]);
  out.end_ms.push_back(whole ? from.end_ms[j] : from.timestamp_ms[last - 1]);
  if (from.has_outcomes()) {
    out.outcome.push_back(from.outcome[j]);
    out.outcome_ms.push_back(from.outcome_ms[j]);
  }
}

const std::string& JourneySet::outcome_name(int64_t j) const {
  static const std::string kNone = "none";
  if (!has_outcomes() || outcome[static_cast<size_t>(j)] == 0) return kNone;
  return outcome_labels.name(outcome[static_cast<size_t>(j)]);
}

void check_journey_set(const JourneySet& journeys, bool event_times) {
  auto fail = [](const std::string& what) { throw std::logic_error("JourneySet invariant violated: " + what); };
  if (journeys.offsets.empty()) fail("offsets is empty (must hold n_journeys + 1 entries)");
  const int64_t n_journeys = journeys.size();
  const int64_t n_events = journeys.num_events();
  if (journeys.offsets.front() != 0 || journeys.offsets.back() != n_events) fail("offsets do not span the events");
  const auto timed_events = event_times ? n_events : 0;
  if (static_cast<int64_t>(journeys.channel.size()) != n_events ||
      static_cast<int64_t>(journeys.timestamp_ms.size()) != timed_events ||
      static_cast<int64_t>(journeys.value.size()) != timed_events)
    fail("event columns differ in length");
  if (static_cast<int64_t>(journeys.customer.size()) != n_journeys ||
      static_cast<int64_t>(journeys.converted.size()) != n_journeys ||
      static_cast<int64_t>(journeys.conversion_value.size()) != n_journeys ||
      static_cast<int64_t>(journeys.start_ms.size()) != n_journeys ||
      static_cast<int64_t>(journeys.end_ms.size()) != n_journeys)
    fail("journey columns differ in length");
  if (!journeys.event_row.empty() && static_cast<int64_t>(journeys.event_row.size()) != n_events)
    fail("event_row differs in length from the events");
  for (const JourneyDimension& dimension : journeys.dimensions)
    if (static_cast<int64_t>(dimension.event_code.size()) != n_events ||
        static_cast<int64_t>(dimension.journey_code.size()) != n_journeys)
      fail("dimension '" + dimension.name + "' differs in length from the events or journeys");
  if (journeys.has_outcomes() && (static_cast<int64_t>(journeys.outcome.size()) != n_journeys ||
                                  static_cast<int64_t>(journeys.outcome_ms.size()) != n_journeys))
    fail("outcome columns differ in length");
  for (int64_t j = 0; j < n_journeys; ++j) {
    const int64_t begin = journeys.offsets[j], end = journeys.offsets[j + 1];
    if (end <= begin) fail("journey " + std::to_string(j) + " is empty");
    if (j > 0 && journeys.customer[j] < journeys.customer[j - 1]) fail("journeys are not ordered by customer");
    if (!event_times) continue;
    for (int64_t e = begin + 1; e < end; ++e)
      if (journeys.timestamp_ms[e] < journeys.timestamp_ms[e - 1])
        fail("events of journey " + std::to_string(j) + " are not in time order");
    if (journeys.start_ms[j] != journeys.timestamp_ms[begin] || journeys.end_ms[j] != journeys.timestamp_ms[end - 1])
      fail("start/end of journey " + std::to_string(j) + " disagree with its events");
  }
}

}  // namespace jm
