#include "host/distributed/customer_share.hpp"

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

OutcomeStats outcome_stats_of_all(ProcessGroup& group, const OutcomeStats& own) {
  std::vector<int64_t> counts = {own.outcome_events,          own.same_instant_events,    own.events_after_outcome,
                                 own.events_after_window,     own.journeys_without_events, own.journeys_labelled_by_file,
                                 own.journeys_unlabelled};
  group.sum(counts);
  // The label file is read whole by every process: its row and unmatched counts are everyone's.
  OutcomeStats total = own;
  total.outcome_events = counts[0];
  total.same_instant_events = counts[1];
  total.events_after_outcome = counts[2];
  total.events_after_window = counts[3];
  total.journeys_without_events = counts[4];
  total.journeys_labelled_by_file = counts[5];
  total.journeys_unlabelled = counts[6];
  // Each process's listed touchpoints as "<name bytes> <events> <name>" records (names are
  // untrusted text: any byte may occur), merged in rank order.
  std::string listed;
  for (const auto& [name, events] : own.same_instant_touchpoints)
    listed += std::to_string(name.size()) + ' ' + std::to_string(events) + ' ' + name;
  total.same_instant_touchpoints.clear();
  for (const std::string& part : group.all_gather(listed)) {
    OutcomeStats listed_part;
    for (size_t at = 0; at < part.size();) {
      size_t used = 0;
      const size_t length = std::stoull(part.substr(at), &used);
      at += used + 1;
      const int64_t events = std::stoll(part.substr(at), &used);
      at += used + 1;
      listed_part.same_instant_touchpoints.emplace_back(part.substr(at, length), events);
      at += length;
    }
    add_listed_touchpoints(total, listed_part);
  }
  return total;
}

}  // namespace jm
