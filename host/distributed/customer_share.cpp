#include "host/distributed/customer_share.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "host/distributed/process_group.hpp"

namespace jm {

int64_t keep_own_customers(EventTable& events, int process, int processes) {
  if (processes <= 1) return static_cast<int64_t>(events.size());
  std::vector<uint8_t> own(events.customers.size());
  for (size_t c = 0; c < own.size(); ++c)
    own[c] = owner_of_customer(events.customers.name(static_cast<int32_t>(c)), processes) == process;
  size_t kept = 0;
  for (size_t row = 0; row < events.size(); ++row) {
    if (!own[events.customer[row]]) continue;
    if (kept != row) events.move_row(row, kept);
    ++kept;
  }
  events.truncate(kept);
  return static_cast<int64_t>(kept);
}

OutcomeStats outcome_stats_of_all(ProcessGroup& group, const OutcomeStats& own, const Vocabulary& touchpoints) {
  std::vector<int64_t> counts = {own.outcome_events,       own.same_instant_events,        own.events_after_outcome,
                                 own.events_after_window,  own.journeys_without_events,    own.journeys_labelled_by_file,
                                 own.journeys_unlabelled};
  // One count per touchpoint on every process, whatever it cut (a process that cut nothing has none).
  std::vector<int64_t> per_touchpoint(static_cast<size_t>(touchpoints.size()), 0);
  std::copy(own.same_instant_by_touchpoint.begin(),
            own.same_instant_by_touchpoint.begin() +
                static_cast<std::ptrdiff_t>(std::min(own.same_instant_by_touchpoint.size(), per_touchpoint.size())),
            per_touchpoint.begin());
  counts.insert(counts.end(), per_touchpoint.begin(), per_touchpoint.end());
  group.sum(counts);
  OutcomeStats total;
  total.outcome_events = counts[0];
  total.same_instant_events = counts[1];
  total.events_after_outcome = counts[2];
  total.events_after_window = counts[3];
  total.journeys_without_events = counts[4];
  total.journeys_labelled_by_file = counts[5];
  total.journeys_unlabelled = counts[6];
  // The label file is read whole by every process: its row and unmatched counts are everyone's.
  total.label_file_rows = own.label_file_rows;
  total.label_file_unmatched = own.label_file_unmatched;
  total.same_instant_by_touchpoint.assign(counts.begin() + 7, counts.end());
  list_most_cut_touchpoints(total, touchpoints);
  return total;
}

}  // namespace jm
