// Reading the input across the processes of a run. Where it can, each process reads a share of
// the file (the lines that begin in its byte range) and no more:
// - one CSV file: the processes agree on the touchpoint and channel dictionaries and every event
//   is sent to the process that owns its customer (owner_of_customer); each process then holds its
//   own customers' events, numbered as one process reading the whole file numbers them;
// - one SPMF file: each line is a customer of its own, so a share's sequences stay where they
//   were read, renumbered as in the file, their items numbered as one reading would number them;
// - one Parquet file: shared by row groups instead of bytes, then exchanged as CSV is.
// Other inputs (several sources, a taxonomy, custom dimensions, a label file, case
// attributes) are read whole by every process, which keeps its own customers' events.
#pragma once

#include <string>

#include "journeymap/context.hpp"
#include "journeymap/events.hpp"
#include "journeymap/ingest.hpp"
#include "journeymap/run_config.hpp"

namespace jm {

class ProcessGroup;

/// Whether the configured input is read in shares (one CSV, SPMF or Parquet file); when not, `why_not` says why.
bool readable_in_shares(const RunConfig& config, std::string* why_not = nullptr);

/// The events of the customers this process owns (the dictionaries of touchpoints and channels
/// whole and alike on every process; customers: this process's own), with the counts of the whole
/// input (rows read and skipped, the first bad rows with their line in the file). Every process
/// calls it; a failure on any stops every one with the failing process's message (AgreedFailure),
/// bad rows named by their line in the whole file.
IngestResult read_own_customers(const RunConfig& config, const Context& ctx, ProcessGroup& group);

/// Sends every event of `share` (read by this process, with its own dictionaries) to the process
/// that owns its customer; returns the events this process owns. Touchpoints and channels are
/// renumbered as one reading of the shares in rank order would number them (names in order of
/// first appearance); each customer's events keep their order. Every process calls it.
EventTable exchange_events(ProcessGroup& group, const EventTable& share);

}  // namespace jm
