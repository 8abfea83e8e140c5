// `journeymap run` under a host memory budget ([run] host_memory_budget, `--memory-budget`): the
// input is spooled by customer (host/pipeline/journey_batches.hpp) and every stage works batch by
// batch of consecutive customers, keeping a partial that adds up to exactly what a run at once
// computes (docs/architecture.md, "Runs larger than memory"):
//   journeys     written batch after batch (the same /journeys as a run at once)
//   patterns     supports counted level by level over the batches (host/patterns/batched_mining.hpp)
//   flows        FlowTally sums; a funnel derived from the variants is counted in a second pass
//   attribution  AttributionTally in the second pass (its Markov pooling follows the first pass's touches)
//   features     the spec from the first pass, each batch's features in the second
//   segments     k searched on the run's sample, the final fit streamed (host/segments/batched_segments.hpp),
//                profiles and the funnel by segment in a third pass
//   alerts       AlertTally sums
//   model        trained and evaluated on a seeded sample of whole customers ([run] model_sample_events;
//                host/pipeline/model_sample.hpp): a run at once's model when every customer fits
//   anomalies    the anomaly columns in a scratch file, the detectors over rows read back a block at a
//                time (host/pipeline/batched_anomalies.hpp)
//   proposals    ProposalTally sums; anomaly clusters from each journey's conversion flag
//   summary      JourneySummaryTally (host/pipeline/summary_tally.hpp)
#pragma once

#include <cstdint>

#include "host/pipeline/stage_clock.hpp"
#include "journeymap/context.hpp"
#include "journeymap/pipeline.hpp"
#include "journeymap/result_file.hpp"
#include "journeymap/run_config.hpp"

namespace jm {

class ProcessGroup;

/// Host memory a batch costs per event it holds (its events, the journeys built from them, the
/// per-batch tallies and the HDF5 write buffers), measured on generated data (docs/benchmarks.md).
constexpr int64_t kHostBytesPerBatchEvent = 400;

/// Device memory a batch costs per event it holds on the GPU: the events uploaded for the journey
/// build and its sort buffers, the journeys' CSR columns and the feature rows (about 10 events a
/// journey). An estimate from the arrays' sizes, not a measurement on a GPU.
constexpr int64_t kDeviceBytesPerBatchEvent = 256;

/// Events one batch may hold under `budget_bytes`: a quarter of the budget goes to the batch, the
/// rest to what grows with the whole input (dictionaries, the spool's index, per-journey sums).
int64_t batch_events_for_budget(int64_t budget_bytes);

/// Events one batch of `config` may hold: under the host budget (batch_events_for_budget) and under
/// half the device budget at kDeviceBytesPerBatchEvent, each when set.
int64_t batch_events_for(const RunConfig& config);

/// The run of run_pipeline for config.host_memory_budget > 0, on `ctx`, into `report` (timed by
/// `clock`). Throws ConfigError for settings that are not applied in batches.
///
/// With `across` (a run started by an MPI launcher), this process is one of the group's: it reads a
/// share of the input, keeps its own customers (owner_of_customer) and runs every stage on their
/// journeys in batches; the tallies are summed over the processes after each pass
/// (host/distributed/tallies_across.hpp) and process 0 writes the one result file, its journeys in
/// rank order (docs/scale-out.md says how each stage is shared out). A failure on one process stops every process with its message (AgreedFailure) where it can, else ends
/// them all (the caller's ProcessGroup::abort).
void run_in_batches(const RunConfig& config, Context& ctx, RunReport& report, StageClock& clock,
                    ProcessGroup* across = nullptr);

/// /meta of a run: configuration, input files and rows, timings, rule and warnings so far.
RunMetadata describe_run(const RunConfig& config, const RunReport& report, const IngestResult& ingest);

}  // namespace jm
