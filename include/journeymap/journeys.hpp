// Journeys: the events of each customer, ordered in time and cut into journeys, in CSR form.
//
//   JourneySet journeys = jm::build_journeys(ctx, events, jm::JourneyOptions{});
//   for (int64_t j = 0; j < journeys.size(); ++j)
//     for (int64_t e = journeys.offsets[j]; e < journeys.offsets[j + 1]; ++e)
//       use(journeys.touchpoint[e]);
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/events.hpp"
#include "journeymap/host_device_vector.hpp"
#include "journeymap/vocabulary.hpp"

namespace jm {

/// How events become journeys. Defaults: a journey ends at its first conversion, nothing else.
struct JourneyOptions {
  /// A journey ends with its first conversion event; later events of the customer start a new one.
  bool split_at_conversion = true;
  /// When > 0, an inactivity gap strictly longer than this many seconds starts a new journey.
  double session_gap_seconds = 0.0;
  /// Drop events identical to another event of the same customer in every field. To make the
  /// duplicates adjacent, events with equal timestamps are then ordered by (touchpoint, channel,
  /// conversion flag, value bits) before input order; without it, ties keep input order.
  bool drop_duplicates = false;
  /// When > 0, journeys longer than this keep only their last `max_length` events: the ones that
  /// lead to the outcome. The journey's outcome is unchanged; dropped events are counted.
  int64_t max_length = 0;
  /// Fill JourneySet::event_row (the input row of every journey event), which custom dimensions
  /// need to follow the events into their journeys.
  bool keep_event_rows = false;
};

/// Counts of what journey building changed, for the run summary and /meta.
struct JourneyBuildStats {
  int64_t input_events = 0;
  int64_t duplicates_dropped = 0;
  int64_t events_truncated = 0;  ///< events removed by max_length
};

/// Static attributes of customers or cases (a requested loan amount, a plan, a region), read from a
/// file keyed by customer id (see read_case_attributes in case_attributes.hpp). Numeric columns hold
/// numbers; categorical columns hold a code into `categories` (most frequent first). NaN: missing.
struct CaseAttributes {
  std::vector<std::string> names;                    ///< [A]
  std::vector<uint8_t> categorical;                  ///< [A] 1 for a categorical column
  std::vector<std::vector<std::string>> categories;  ///< [A] category names by code (empty for numeric)
  int64_t n_customers = 0;
  std::vector<float> values;                         ///< [n_customers x A], row = customer id

  int32_t size() const { return static_cast<int32_t>(names.size()); }
  bool empty() const { return names.empty(); }
  float at(uint32_t customer, int32_t attribute) const {
    return values[static_cast<size_t>(customer) * names.size() + static_cast<size_t>(attribute)];
  }
};

/// A custom dimension of the events (campaign, device, country, experiment variant, source) carried
/// into the journeys: the code of every journey event, and per journey its first value (the value
/// at first touch, known from the journey's start on, so it is also a fair in-flight model input).
struct JourneyDimension {
  std::string name;
  std::vector<std::string> values;    ///< value names by code
  std::vector<int32_t> event_code;    ///< [n_events] code of each journey event; -1: none
  std::vector<int32_t> journey_code;  ///< [n_journeys] first code among the journey's events; -1: none

  /// The journey's value, "(none)" when it has none.
  const std::string& journey_value(int64_t j) const;
};

struct CovariateTable;

/// A set of journeys in CSR form. Every column is a HostDeviceVector: journeys built on the GPU stay
/// there for the GPU stages and are copied to the host once, when host code first reads them.
/// Journeys are ordered by customer id, then by time.
/// Events inside a journey are ordered by timestamp; ties keep input order (see docs/architecture.md).
struct JourneySet {
  HostDeviceVector<int64_t> offsets;       ///< [n_journeys + 1] event range of journey j: [offsets[j], offsets[j+1])
  HostDeviceVector<int32_t> touchpoint;    ///< [n_events] touchpoint id
  HostDeviceVector<int32_t> channel;       ///< [n_events] channel id
  HostDeviceVector<int64_t> timestamp_ms;  ///< [n_events] event time
  HostDeviceVector<float> value;           ///< [n_events] event value
  /// [n_events] row of the event in the EventTable it was built from; empty unless
  /// JourneyOptions::keep_event_rows.
  HostDeviceVector<int64_t> event_row;

  HostDeviceVector<uint32_t> customer;         ///< [n_journeys] customer id
  /// [n_journeys] 1 when the journey's outcome is the positive label. Straight from build_journeys
  /// (before cut_at_outcomes) it holds the label id of the journey's first outcome event, 0 for none.
  HostDeviceVector<uint8_t> converted;
  HostDeviceVector<float> conversion_value;    ///< [n_journeys] value of its (positive) outcome events
  HostDeviceVector<int64_t> start_ms;          ///< [n_journeys] time of its first event
  HostDeviceVector<int64_t> end_ms;            ///< [n_journeys] time of its last event

  /// Outcomes (filled by cut_at_outcomes, see outcome.hpp; empty straight from build_journeys).
  HostDeviceVector<uint8_t> outcome;           ///< [n_journeys] label id in `outcome_labels`; 0 = none seen
  HostDeviceVector<int64_t> outcome_ms;        ///< [n_journeys] time of the outcome event; 0 when none
  Vocabulary outcome_labels;              ///< label names; id 0 is "none"
  int32_t positive_outcome = 1;           ///< the label that `converted` marks

  Vocabulary customers;
  Vocabulary touchpoints;
  Vocabulary channels;
  CaseAttributes case_attributes;  ///< optional: per-customer attributes, model inputs as case:<name>
  std::vector<JourneyDimension> dimensions;  ///< optional: custom dimensions (attach_dimensions)
  /// Optional: external factors per time bucket (covariates.hpp), model inputs as cov:<factor>.
  std::shared_ptr<const CovariateTable> covariates;
  JourneyBuildStats stats;

  int64_t size() const { return offsets.empty() ? 0 : static_cast<int64_t>(offsets.size()) - 1; }
  int64_t num_events() const { return static_cast<int64_t>(touchpoint.size()); }
  int64_t length(int64_t j) const { return offsets[j + 1] - offsets[j]; }
  bool has_outcomes() const { return !outcome.empty(); }
  /// The journey's outcome label ("none" when it has none or outcomes were not cut).
  const std::string& outcome_name(int64_t j) const;
};

/// Groups `events` per customer, orders them by time and cuts them into journeys.
/// Runs on the backend chosen in `ctx`; both backends return identical arrays.
/// Throws ConfigError on invalid options and GpuUnavailableError when the GPU backend is unusable.
JourneySet build_journeys(const Context& ctx, const EventTable& events, const JourneyOptions& options);

/// Fills `journeys.dimensions` from the dimensions of the `events` they were built from (built with
/// JourneyOptions::keep_event_rows). Throws std::logic_error when event rows are missing.
void attach_dimensions(JourneySet& journeys, const EventTable& events);

/// The dimension named `name`, or nullptr.
const JourneyDimension* find_dimension(const JourneySet& journeys, const std::string& name);

/// The journeys at `rows` (indices into `journeys`, in the order given) as a new set with the same
/// vocabularies; build statistics are not carried over.
JourneySet select_journeys(const JourneySet& journeys, const std::vector<int64_t>& rows);

/// The same with only the first lengths[i] events (1 .. length) of journey rows[i]: journeys as they
/// stood at a point inside them. Labels stay the whole journey's; end_ms is the last kept event's.
JourneySet journey_prefixes(const JourneySet& journeys, const std::vector<int64_t>& rows,
                            const std::vector<int64_t>& lengths);

/// Checks the invariants every consumer relies on (monotone offsets, sorted times, column sizes).
/// Throws std::logic_error naming the first violation. Without `event_times`, a set read without
/// its event times and values (both empty) is checked for everything else.
void check_journey_set(const JourneySet& journeys, bool event_times = true);

namespace cpu_impl {
JourneySet build_journeys(const Context& ctx, const EventTable& events, const JourneyOptions& options);
}  // namespace cpu_impl

namespace cuda_impl {
/// GPU twin of cpu_impl::build_journeys: sorts with CUB on the device and copies the CSR back.
JourneySet build_journeys(const Context& ctx, const EventTable& events, const JourneyOptions& options);
}  // namespace cuda_impl

}  // namespace jm
