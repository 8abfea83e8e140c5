// Each process of a run keeps the events of the customers it owns (owner_of_customer), so that a
// customer's journeys are built, whole, by exactly one process.
#pragma once

#include "journeymap/events.hpp"
#include "journeymap/outcome.hpp"

namespace jm {

class ProcessGroup;

/// Drops, in place, the events of customers other processes own; the rows kept stay in order and
/// the vocabularies stay whole (every process numbers touchpoints, channels and customers alike).
/// Returns the events kept.
int64_t keep_own_customers(EventTable& events, int process, int processes);

/// The outcome cut's counts over every process's journeys: each process passes its own, cut with
/// the touchpoint dictionary every process shares; all get the total, as one process would count it.
OutcomeStats outcome_stats_of_all(ProcessGroup& group, const OutcomeStats& own, const Vocabulary& touchpoints);

}  // namespace jm
