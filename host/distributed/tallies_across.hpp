// The tallies of a run in batches summed over the processes of a run (docs/scale-out.md): each
// process tallies the journeys of its own customers; after a pass, every process holds the tally
// of all journeys, its parts added in rank order (the order of the journeys in the result file).
// Counts come out as one process counts them; sums of floating-point values may differ from one
// process's in their last bits (they are added in another grouping).
//
// Each process receives every other's tally (MPI_Allgatherv): the flow variants and the journey
// durations grow with the journeys, so those tallies cost every process what one process holding
// every journey's tally costs.
#pragma once

#include "host/anomalies/alert_tally.hpp"
#include "host/features/feature_tallies.hpp"
#include "host/flows/attribution_tally.hpp"
#include "host/flows/flow_tally.hpp"
#include "host/pipeline/summary_tally.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/proposals.hpp"

namespace jm {

class ProcessGroup;

void sum_over_processes(ProcessGroup& group, JourneySummaryTally& tally);
void sum_over_processes(ProcessGroup& group, JourneyBuildStats& stats);
void sum_over_processes(ProcessGroup& group, ProposalTally& tally);
/// A process that tallied no journeys passes the tally it started with (FlowTally{}, AlertTally{},
/// FunnelTally{}); it is left out of the sum.
void sum_over_processes(ProcessGroup& group, FlowTally& tally);
void sum_over_processes(ProcessGroup& group, FunnelTally& tally);
void sum_over_processes(ProcessGroup& group, AlertTally& tally);
/// `empty`: a tally made as `tally` was (same options and touches) that took no journeys.
void sum_over_processes(ProcessGroup& group, AttributionTally& tally, AttributionTally empty);
void sum_over_processes(ProcessGroup& group, FeatureSpecTally& tally, const FeatureOptions& options);
void sum_over_processes(ProcessGroup& group, FeatureColumnStats& stats);
void sum_over_processes(ProcessGroup& group, ScalingTally& tally);

namespace tallies_across_detail {
/// The records of a tally and the tally read back from them (tested on their own).
std::string save_flow_tally(const FlowTally& tally);
FlowTally read_flow_tally_records(const std::string& bytes);
std::string save_alert_tally(const AlertTally& tally);
AlertTally read_alert_tally_records(const std::string& bytes);
}  // namespace tallies_across_detail

}  // namespace jm
