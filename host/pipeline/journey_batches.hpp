// The journeys of an input larger than memory, one batch of customers at a time: the input is read
// block by block into customer shards on disk (host/ingest/customer_shards.hpp), batches of
// consecutive customers are planned under an event budget, and each batch's journeys are built on
// demand, cut at their outcomes as a run over all events cuts them. Batch after batch, they are
// exactly the journeys of reading everything at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "host/core/spool_file.hpp"
#include "host/ingest/customer_shards.hpp"
#include "journeymap/context.hpp"
#include "journeymap/ingest.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/outcome.hpp"
#include "journeymap/run_config.hpp"

namespace jm {

/// ConfigError naming what batches cannot apply (several sources, a taxonomy, custom dimensions, a
/// label file, an outcome window rule): checked by JourneyBatches, and before reading anything by
/// a run across processes.
void require_batchable_input(const RunConfig& config);

class JourneyBatches {
 public:
  /// Reads the configured input (one CSV, SPMF or Parquet file; several sources, a taxonomy, custom
  /// dimensions, a label file and an outcome window rule are refused by name) into shards under
  /// `spool_directory`, in batches of at most
  /// `max_events` events (a single customer shard with more is a batch of its own), buffering at most
  /// `spool_buffer_bytes` of events before they go to the spool.
  JourneyBatches(const Context& ctx, const RunConfig& config, int64_t max_events, const std::string& spool_directory,
                 size_t spool_buffer_bytes = CustomerShards::kDefaultBufferedBytes);

  /// The same for events already read (one process's own customers in a run across processes,
  /// read_own_customers): `read`'s events go to the shards, its counts and vocabularies are kept.
  JourneyBatches(const Context& ctx, const RunConfig& config, IngestResult read, int64_t max_events,
                 const std::string& spool_directory, size_t spool_buffer_bytes = CustomerShards::kDefaultBufferedBytes);

  int64_t size() const { return static_cast<int64_t>(batches_.size()); }
  /// Batch b's journeys, in the vocabularies of the whole input (customers: the batch's own names,
  /// numbered from 0; first_customer(b) is the first one's id in the whole input). The first build
  /// of a batch also keeps its touch sequences for sequences(b). With `customer_last_ms`, receives
  /// each of the batch's customers' last event time (outcome events included), as
  /// customer_last_event_ms gives it over all events.
  JourneySet journeys(int64_t b, std::vector<int64_t>* customer_last_ms = nullptr);
  uint32_t first_customer(int64_t b) const;
  /// Whether the first build of a batch keeps its touch sequences (default: yes). A run without
  /// patterns never reads them back.
  void keep_sequences(bool keep) { keep_sequences_ = keep; }
  /// Batch b's journeys as touch sequences alone (offsets, touchpoints, converted flags and the
  /// touchpoint vocabulary): what pattern counting reads. Built from the events the first time and
  /// kept in a scratch file, so later passes read a few bytes an event instead of the events and a
  /// journey build.
  JourneySet sequences(int64_t b);

  /// What was read: rows, bytes, the touchpoint and channel vocabularies (no events).
  const IngestResult& ingest() const { return ingest_; }
  const OutcomeDefinition& outcome() const { return outcome_; }
  /// Summed over the batches built at least once.
  const OutcomeStats& outcome_stats() const { return outcome_stats_; }
  int64_t journeys_built() const { return journeys_built_; }
  int64_t events_in_journeys() const { return events_in_journeys_; }

 private:
  const Context& ctx_;
  JourneyOptions journey_options_;
  OutcomeDefinition outcome_;
  IngestResult ingest_;
  std::unique_ptr<CustomerShards> shards_;
  std::vector<std::pair<int64_t, int64_t>> batches_;  ///< [first shard, end shard)
  std::vector<uint8_t> counted_;                      ///< batch already in the sums below
  struct StoredSequences {
    int64_t offset = -1, journeys = 0, events = 0;  ///< in sequences_; offset -1: not stored yet
  };
  std::unique_ptr<SpoolFile> sequences_;
  std::vector<StoredSequences> stored_;
  void store_sequences(StoredSequences& stored, const JourneySet& built);
  bool keep_sequences_ = true;
  /// Plans the batches once the shards hold every event.
  void plan(int64_t max_events, const std::string& spool_directory);
  OutcomeStats outcome_stats_;
  int64_t journeys_built_ = 0, events_in_journeys_ = 0;
};

}  // namespace jm
