// Journeys of an input larger than memory, batch by batch (journey_batches.hpp).
#include "host/pipeline/journey_batches.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "host/ingest/spooled_input.hpp"
#include "host/pipeline/append_run.hpp"
#include "journeymap/common.hpp"

namespace jm {
void require_batchable_input(const RunConfig& config) {
  const OutcomeDefinition outcome = effective_outcome(config);
  if (!config.sources.empty()) throw ConfigError("batches: read one input file, not [[source]] tables");
  if (!config.taxonomy.file.empty()) throw ConfigError("batches: a [taxonomy] is not applied to batched input");
  if (!config.csv.columns.dimensions.empty() || !config.csv.columns.extra.empty())
    throw ConfigError("batches: custom dimensions are not kept in batched input");
  if (!outcome.label_file.empty()) throw ConfigError("batches: an outcome label file is not applied to batched input");
  // A window rule labels a journey "open" against the end of all the data, which one batch does not see.
  if (outcome.window_days > 0.0) throw ConfigError("batches: an outcome window rule is not applied to batched input");
}

JourneyBatches::JourneyBatches(const Context& ctx, const RunConfig& config, int64_t max_events,
                               const std::string& spool_directory, size_t spool_buffer_bytes)
    : ctx_(ctx), journey_options_(config.journeys), outcome_(effective_outcome(config)) {
  if (max_events < 1) throw ConfigError("batches: a batch must hold at least one event");
  require_batchable_input(config);
  shards_ = std::make_unique<CustomerShards>(spool_directory, 1024, spool_buffer_bytes);
  CsvOptions csv = config.csv;
  csv.num_threads = config.threads;
  csv.on_events = [this](const EventTable& block) { shards_->add(block); };
  const SpooledInput input(config.input_path);  // a pipe or FIFO is read from a temporary copy
  try {
    switch (config.input_format) {
      case InputFormat::Spmf: ingest_ = read_events_spmf(input.path(), config.threads, csv.on_events); break;
      case InputFormat::Csv: ingest_ = read_events_csv(input.path(), csv); break;
      case InputFormat::Parquet: ingest_ = read_events_parquet(input.path(), csv); break;
      default: ingest_ = read_events(input.path(), csv);
    }
  } catch (const InputError& error) {
    if (!input.spooled()) throw;
    throw InputError(config.input_path, error.line(), error.column(), error.value(), error.reason());
  }
  ingest_.file = config.input_path;
  plan(max_events, spool_directory);
}

JourneyBatches::JourneyBatches(const Context& ctx, const RunConfig& config, IngestResult read, int64_t max_events,
                               const std::string& spool_directory, size_t spool_buffer_bytes)
    : ctx_(ctx), journey_options_(config.journeys), outcome_(effective_outcome(config)) {
  if (max_events < 1) throw ConfigError("batches: a batch must hold at least one event");
  require_batchable_input(config);
  shards_ = std::make_unique<CustomerShards>(spool_directory, 1024, spool_buffer_bytes);
  shards_->add(read.events);
  ingest_ = std::move(read);
  // The events live in the shards now; the vocabularies and counts stay.
  EventTable vocabularies;
  vocabularies.touchpoints = std::move(ingest_.events.touchpoints);
  vocabularies.channels = std::move(ingest_.events.channels);
  vocabularies.customers = std::move(ingest_.events.customers);
  ingest_.events = std::move(vocabularies);
  plan(max_events, spool_directory);
}

void JourneyBatches::plan(int64_t max_events, const std::string& spool_directory) {
  shards_->flush();
  batches_ = shards_->plan(max_events);
  counted_.assign(batches_.size(), 0);
  sequences_ = std::make_unique<SpoolFile>(spool_directory, ".jm-sequences");
  stored_.assign(batches_.size(), StoredSequences{});
}

JourneySet JourneyBatches::sequences(int64_t b) {
  StoredSequences& stored = stored_.at(static_cast<size_t>(b));
  JourneySet out;
  out.touchpoints = ingest_.events.touchpoints;
  if (stored.offset < 0) {
    const JourneySet built = journeys(b);
    out.offsets = built.offsets;
    out.converted = built.converted;
    out.touchpoint = built.touchpoint;
    return out;
  }
  std::vector<int64_t> offsets(static_cast<size_t>(stored.journeys) + 1);
  std::vector<uint8_t> converted(static_cast<size_t>(stored.journeys));
  std::vector<int32_t> touchpoint(static_cast<size_t>(stored.events));
  int64_t at = stored.offset;
  sequences_->read(at, offsets.data(), offsets.size() * sizeof(int64_t));
  at += static_cast<int64_t>(offsets.size() * sizeof(int64_t));
  sequences_->read(at, converted.data(), converted.size());
  at += static_cast<int64_t>(converted.size());
  sequences_->read(at, touchpoint.data(), touchpoint.size() * sizeof(int32_t));
  out.offsets = std::move(offsets);
  out.converted = std::move(converted);
  out.touchpoint = std::move(touchpoint);
  return out;
}

void JourneyBatches::store_sequences(StoredSequences& stored, const JourneySet& built) {
  // Offsets, then converted flags, then touchpoints, one after the other.
  stored.journeys = built.size();
  stored.events = built.num_events();
  stored.offset = sequences_->append(built.offsets.host().data(), built.offsets.size() * sizeof(int64_t));
  sequences_->append(built.converted.host().data(), built.converted.size());
  sequences_->append(built.touchpoint.host().data(), built.touchpoint.size() * sizeof(int32_t));
}

uint32_t JourneyBatches::first_customer(int64_t b) const {
  return static_cast<uint32_t>(batches_.at(static_cast<size_t>(b)).first * shards_->customers_per_shard());
}

JourneySet JourneyBatches::journeys(int64_t b, std::vector<int64_t>* customer_last_ms) {
  const auto [first, end] = batches_.at(static_cast<size_t>(b));
  EventTable events;
  events.touchpoints = ingest_.events.touchpoints;
  events.channels = ingest_.events.channels;
  shards_->load(first, end, events);
  // The batch's customers are the ids [first x per shard, end x per shard): numbered from 0 here,
  // with their own names, so a batch costs its own customers, not the whole dictionary.
  const int64_t first_customer = first * shards_->customers_per_shard();
  const int64_t end_customer =
      std::min<int64_t>(end * shards_->customers_per_shard(), ingest_.events.customers.size());
  for (int64_t c = first_customer; c < end_customer; ++c)
    events.customers.encode(ingest_.events.customers.name(static_cast<int32_t>(c)));
  for (uint32_t& customer : events.customer) customer -= static_cast<uint32_t>(first_customer);
  if (customer_last_ms) *customer_last_ms = customer_last_event_ms(events);
  OutcomeJourneys built = build_outcome_journeys(ctx_, events, journey_options_, outcome_);
  StoredSequences& stored = stored_[static_cast<size_t>(b)];
  if (keep_sequences_ && stored.offset < 0) store_sequences(stored, built.journeys);
  if (!counted_[static_cast<size_t>(b)]) {
    counted_[static_cast<size_t>(b)] = 1;
    add_outcome_stats(outcome_stats_, built.stats, ingest_.events.touchpoints);
    journeys_built_ += built.journeys.size();
    events_in_journeys_ += built.journeys.num_events();
  }
  return std::move(built.journeys);
}

}  // namespace jm
