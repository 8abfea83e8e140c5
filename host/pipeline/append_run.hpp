// `journeymap run --append NEW --base RESULT.h5`: new events added to an earlier result without
// reading the history again. The base result's journeys (its /journeys CSR and vocabularies) stand
// for the history; only the new events are read and cut into journeys:
//  * a customer the base does not know: journeys from the new events alone;
//  * a returning customer: the base's last journey of that customer (its events and its outcome
//    event, rebuilt from the stored label, value and time) is cut again together with the new
//    events, so a journey still open continues and an outcome ends it exactly as a run over all
//    events would; the customer's earlier journeys are closed and kept.
// Patterns are updated from the base's (host/patterns/pattern_update.hpp) and flows from the base's
// flow tally (host/flows/flow_tally.hpp); the other stages run over the merged journeys (docs/reliability.md, "Appending new data").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/events.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/outcome.hpp"
#include "journeymap/run_config.hpp"
#include "host/anomalies/alert_tally.hpp"
#include "host/flows/flow_tally.hpp"
#include "host/patterns/pattern_update.hpp"

namespace jm {

/// Per customer id, the time of the customer's last event among `events`, outcome events and events
/// the outcome cut removes included (INT64_MIN for a customer without events): what a later append
/// compares new events with. Written as /journeys/customer_last_ms.
std::vector<int64_t> customer_last_event_ms(const EventTable& events);

struct AppendBase {
  std::string path;
  JourneySet journeys;
  std::vector<int64_t> customer_last_ms;  ///< /journeys/customer_last_ms
  std::vector<std::string> input_files;  ///< the base's inputs, in order
  std::vector<uint64_t> input_bytes;
  int64_t rows_read = 0;
  int64_t rows_skipped = 0;
  std::optional<StoredPatterns> patterns;  ///< /patterns, when the base has them
  std::optional<FlowTally> flows;          ///< /flows/tally, when the base has it
  std::optional<AlertTally> alerts;        ///< /alerts/tally, when the base has it
};

/// Refuses settings whose journeys the base result cannot stand for (several sources, a label
/// file, custom dimensions, a taxonomy, a filter, a window rule): ConfigError naming the setting.
void require_appendable(const RunConfig& config);

/// Reads the base result. Throws ConfigError when it was made with another configuration (every
/// difference listed, apart from the input, the output, threads, device and progress) or another
/// result format, or holds no journeys.
AppendBase read_append_base(const std::string& path, const RunConfig& config);

struct AppendedJourneys {
  OutcomeJourneys built;                  ///< outcome statistics: those of the new events
  std::vector<int64_t> customer_last_ms;  ///< the base's, updated with the new events
  JourneySet removed;  ///< the base's journeys the new events continue (replaced in the merged set)
  JourneySet added;    ///< journeys of the new events, continued ones included
};

/// The journeys of the base and of `new_events` together, as a run over all events would cut them.
/// Throws ConfigError when a customer's new events are not later than the customer's last event in
/// the base, outcomes and cut events included (late events would change journeys the base closed).
AppendedJourneys append_journeys(const Context& ctx, const AppendBase& base, EventTable& new_events,
                                 const RunConfig& config);

}  // namespace jm
