// Events handed over block by block and spooled by customer range: the batches' journeys, one
// after the other, are exactly the journeys of reading everything at once (outcome cut included),
// whatever the block, shard and batch sizes; the reader keeps only vocabularies; bad uses are
// refused.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "host/ingest/customer_shards.hpp"
#include "journeymap/common.hpp"
#include "journeymap/generate.hpp"
#include "journeymap/ingest.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/outcome.hpp"
#include "test_helpers.hpp"

namespace {

namespace fs = std::filesystem;

jm::OutcomeJourneys journeys_of(jm::EventTable& events) {
  jm::Context ctx;
  ctx.num_threads = 2;
  jm::JourneyOptions options;
  options.session_gap_seconds = jm::kGeneratedJourneyGapSeconds / 8;  // some customers have several journeys
  return jm::build_outcome_journeys(ctx, events, options, jm::OutcomeDefinition{});
}

// `part`'s journeys appended to `all` (offsets shifted); the vocabularies are `all`'s.
void append(jm::JourneySet& all, const jm::JourneySet& part) {
  const int64_t base = all.offsets.empty() ? 0 : all.offsets.host().back();
  if (all.offsets.empty()) all.offsets.push_back(0);
  for (int64_t j = 0; j < part.size(); ++j) all.offsets.push_back(base + part.offsets[j + 1]);
  const auto extend = [](auto& to, const auto& from) {
    to.host_mut().insert(to.host_mut().end(), from.host().begin(), from.host().end());
  };
  extend(all.touchpoint, part.touchpoint);
  extend(all.channel, part.channel);
  extend(all.timestamp_ms, part.timestamp_ms);
  extend(all.value, part.value);
  extend(all.customer, part.customer);
  extend(all.converted, part.converted);
  extend(all.conversion_value, part.conversion_value);
  extend(all.start_ms, part.start_ms);
  extend(all.end_ms, part.end_ms);
}

TEST(CustomerShards, BatchesOfCustomersGiveTheJourneysOfAllEvents) {
  const fs::path dir = jm::testing::scratch_dir();
  jm::GeneratorOptions generator;
  generator.journeys = 4000;
  generator.seed = 23;
  generator.num_threads = 2;
  const std::string events_csv = (dir / "events.csv").string();
  jm::generate_dataset(generator, events_csv);

  jm::CsvOptions whole_options;
  whole_options.num_threads = 2;
  jm::IngestResult whole = jm::read_events_csv(events_csv, whole_options);
  const jm::OutcomeJourneys expected = journeys_of(whole.events);

  for (const int64_t customers_per_shard : {int64_t{7}, int64_t{300}, int64_t{1024}, int64_t{1} << 18}) {
    SCOPED_TRACE(customers_per_shard);
    jm::CustomerShards shards(dir.string(), customers_per_shard);
    jm::CsvOptions options = whole_options;
    options.block_bytes = 64 << 10;  // many blocks
    int64_t blocks = 0;
    options.on_events = [&](const jm::EventTable& block) {
      ++blocks;
      shards.add(block);
    };
    const jm::IngestResult read = jm::read_events_csv(events_csv, options);
    EXPECT_EQ(read.events.size(), 0u) << "the rows were handed over, not kept";
    EXPECT_GT(blocks, 10);
    EXPECT_EQ(read.rows_read, whole.rows_read);
    EXPECT_EQ(shards.n_events(), static_cast<int64_t>(whole.events.size()));
    EXPECT_EQ(read.events.customers.names(), whole.events.customers.names());
    EXPECT_EQ(read.events.touchpoints.names(), whole.events.touchpoints.names());
    shards.flush();

    const auto batches = shards.plan(static_cast<int64_t>(whole.events.size()) / 9);
    if (customers_per_shard < 1000) EXPECT_GE(batches.size(), 5u);
    jm::JourneySet joined;
    jm::JourneyBuildStats stats;
    int64_t converted = 0;
    for (const auto& [first, end] : batches) {
      jm::EventTable batch;
      batch.customers = read.events.customers;
      batch.touchpoints = read.events.touchpoints;
      batch.channels = read.events.channels;
      shards.load(first, end, batch);
      jm::OutcomeJourneys built = journeys_of(batch);
      append(joined, built.journeys);
      converted += built.stats.outcome_events;
      stats.input_events += built.journeys.stats.input_events;
    }
    EXPECT_EQ(joined.offsets.host(), expected.journeys.offsets.host());
    EXPECT_EQ(joined.touchpoint.host(), expected.journeys.touchpoint.host());
    EXPECT_EQ(joined.channel.host(), expected.journeys.channel.host());
    EXPECT_EQ(joined.timestamp_ms.host(), expected.journeys.timestamp_ms.host());
    EXPECT_EQ(joined.value.host(), expected.journeys.value.host());
    EXPECT_EQ(joined.customer.host(), expected.journeys.customer.host());
    EXPECT_EQ(joined.converted.host(), expected.journeys.converted.host());
    EXPECT_EQ(joined.conversion_value.host(), expected.journeys.conversion_value.host());
    EXPECT_EQ(joined.start_ms.host(), expected.journeys.start_ms.host());
    EXPECT_EQ(joined.end_ms.host(), expected.journeys.end_ms.host());
    EXPECT_EQ(converted, expected.stats.outcome_events);
    EXPECT_EQ(stats.input_events, expected.journeys.stats.input_events);
  }
  // No spool file is left behind.
  for (const auto& entry : fs::directory_iterator(dir))
    EXPECT_EQ(entry.path().filename().string().rfind(".jm-shards.", 0), std::string::npos) << entry.path();
}

TEST(CustomerShards, BadUsesAreRefused) {
  const fs::path dir = jm::testing::scratch_dir();
  const std::string csv = (dir / "events.csv").string();
  jm::testing::write_file(csv, "customer_id,timestamp,touchpoint,campaign\nc1,2026-01-01T00:00:00Z,home,spring\n");
  jm::CsvOptions options;
  options.columns.extra = {"campaign"};
  options.on_events = [](const jm::EventTable&) {};
  EXPECT_THROW(jm::read_events_csv(csv, options), jm::ConfigError);

  jm::CustomerShards shards(dir.string(), 4);
  EXPECT_THROW(shards.plan(0), jm::ConfigError);
  EXPECT_THROW(jm::CustomerShards(dir.string(), 0), jm::ConfigError);
  jm::EventTable events;
  events.customers.encode("c1");
  events.push_back(0, 0, 0, 0, 0.0f, false);
  shards.add(events);
  jm::EventTable out;
  EXPECT_THROW(shards.load(0, 1, out), jm::Error) << "loading before flush";
  shards.flush();
  EXPECT_THROW(shards.load(0, 2, out), jm::Error) << "no such shard";
  shards.load(0, 1, out);
  EXPECT_EQ(out.size(), 1u);
}

}  // namespace
