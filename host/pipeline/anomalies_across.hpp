// Journey anomaly scores of a run across processes (docs/scale-out.md). Each process keeps the
// anomaly columns of its own journeys (a FeatureColumnsFile, as a run in batches does), the rows
// numbered in rank order. Process 0 runs the detectors of a run at once (score_journey_anomalies):
// the rows it trains on (the autoencoder's sample, the forest's tree samples) and the raw values of
// the top journeys' reasons are fetched from the processes that hold them, and every scoring pass
// runs where the rows are: process 0 sends each model it trains to every process, each scores its
// own rows and sends the scores back. Process 0 then holds every score, as one process would.
#pragma once

#include "host/features/feature_columns_file.hpp"
#include "journeymap/anomalies.hpp"
#include "journeymap/context.hpp"

namespace jm {

class ProcessGroup;

/// anomalies_in_batches over the rows of every process; every process calls it at the same step,
/// with its own rows in `inputs` (their scaling tally already summed over the processes). Returns
/// the result on process 0, an empty one on the others. A failure on process 0 stops every
/// process with its message (AgreedFailure); a failure while a process answers ends the run
/// (ProcessGroup::abort).
JourneyAnomalies anomalies_across_processes(const Context& ctx, ProcessGroup& group, const FeatureColumnsFile& inputs,
                                            const JourneyAnomalyOptions& options);

}  // namespace jm
