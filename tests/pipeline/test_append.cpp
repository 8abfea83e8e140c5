// `run --append NEW --base RESULT.h5`: a base result over the events before a day, with the events
// from that day on appended, equals a run over all events in every dataset outside /meta (journeys
// that continue across the day, returning customers, new customers); another configuration and
// late events are refused with what differs.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "journeymap/common.hpp"
#include "journeymap/generate.hpp"
#include "journeymap/pipeline.hpp"
#include "journeymap/result_file.hpp"
#include "journeymap/run_config.hpp"
#include "journeymap/timestamp.hpp"
#include "pipeline/same_datasets.hpp"
#include "test_helpers.hpp"

namespace {

namespace fs = std::filesystem;
constexpr int64_t kDayMs = 86400000;

struct SplitEvents {
  std::string before, after, all;  // events before the day, from the day on, both (before's rows first)
  std::set<std::string> returning;  // customers with events on both sides
};

SplitEvents split_at_day(const fs::path& dir, const std::string& events, int64_t split_ms) {
  SplitEvents out{(dir / "before.csv").string(), (dir / "after.csv").string(), (dir / "all.csv").string(), {}};
  std::ifstream in(events);
  std::string header, line;
  std::getline(in, header);
  std::string before = header + "\n", after;
  std::set<std::string> seen_before, seen_after;
  while (std::getline(in, line)) {
    const size_t comma = line.find(','), next = line.find(',', comma + 1);
    const std::string customer = line.substr(0, comma);
    const int64_t time = *jm::parse_timestamp(line.substr(comma + 1, next - comma - 1));
    (time < split_ms ? before : after) += line + "\n";
    (time < split_ms ? seen_before : seen_after).insert(customer);
  }
  for (const std::string& customer : seen_after)
    if (seen_before.count(customer)) out.returning.insert(customer);
  jm::testing::write_file(out.before, before);
  jm::testing::write_file(out.after, header + "\n" + after);
  jm::testing::write_file(out.all, before + after);
  return out;
}

jm::RunConfig small_config(const std::string& input, const std::string& output) {
  jm::RunConfig config;
  config.input_path = input;
  config.output_path = output;
  config.threads = 2;
  config.device = jm::DeviceChoice::Cpu;
  config.progress = false;
  config.journeys.session_gap_seconds = jm::kGeneratedJourneyGapSeconds / 8;  // journeys cross the split day
  config.model_enabled = false;
  config.anomalies.journeys_enabled = false;
  config.segments.k = 3;
  return config;
}

TEST(Append, BasePlusNewEventsEqualsARunOverAllEvents) {
  const fs::path dir = jm::testing::scratch_dir();
  jm::GeneratorOptions generator;
  generator.journeys = 6000;
  generator.seed = 11;
  generator.num_threads = 2;
  const std::string events = (dir / "events.csv").string();
  jm::generate_dataset(generator, events);
  const int64_t split_ms = *jm::parse_timestamp(generator.start_date) + 60 * kDayMs + 20 * 3600000LL;
  const SplitEvents split = split_at_day(dir, events, split_ms);
  ASSERT_GT(split.returning.size(), 100u);

  jm::run_pipeline(small_config(split.all, (dir / "full.h5").string()));
  jm::run_pipeline(small_config(split.before, (dir / "base.h5").string()));
  jm::RunConfig append = small_config(split.after, (dir / "appended.h5").string());
  append.append_base = (dir / "base.h5").string();
  const jm::RunReport report = jm::run_pipeline(append);

  const jm::ResultReader full((dir / "full.h5").string()), appended((dir / "appended.h5").string());
  jm::testing::expect_same_datasets(full, appended, "", /*attributes=*/true);
  // A journey of the base continued with the new events: some journey of the result starts before
  // the split and ends after it.
  const auto starts = appended.read_int64("/journeys/start_ms"), ends = appended.read_int64("/journeys/end_ms");
  int64_t crossing = 0;
  for (size_t j = 0; j < starts.size(); ++j) crossing += starts[j] < split_ms && ends[j] >= split_ms;
  EXPECT_GT(crossing, 0);
  // The record says where the history came from.
  const auto inputs = appended.read_strings("/meta/input_files");
  EXPECT_EQ(inputs, (std::vector<std::string>{split.before, split.after}));
  EXPECT_EQ(appended.read_int_attribute("/meta", "rows_read"), full.read_int_attribute("/meta", "rows_read"));
  bool said = false, patterns_updated = false, flows_updated = false;
  for (const std::string& warning : report.warnings) {
    EXPECT_EQ(warning.find("holds no"), std::string::npos) << warning;  // every tally came from the base
    said = said || warning.find("appended") != std::string::npos;
    patterns_updated = patterns_updated || warning.find("patterns: updated, not mined again") != std::string::npos;
    flows_updated = flows_updated || warning.find("flows: updated from the base's flow tally") != std::string::npos;
  }
  EXPECT_TRUE(said);
  EXPECT_TRUE(patterns_updated) << "the patterns were mined again instead of updated";
  EXPECT_TRUE(flows_updated) << "the flows were counted again instead of updated";

  // Without segments nothing of the flows needs counting again when the funnel is named.
  jm::RunConfig plain_full = small_config(split.all, (dir / "plain_full.h5").string());
  jm::RunConfig plain_base = small_config(split.before, (dir / "plain_base.h5").string());
  jm::RunConfig plain_append = small_config(split.after, (dir / "plain_appended.h5").string());
  for (jm::RunConfig* config : {&plain_full, &plain_base, &plain_append}) {
    config->segments_enabled = config->patterns_enabled = config->anomalies_enabled = false;
    config->flows.funnel = {"home", "product_view", "add_to_cart"};
  }
  jm::run_pipeline(plain_full);
  jm::run_pipeline(plain_base);
  plain_append.append_base = plain_base.output_path;
  const jm::RunReport plain_report = jm::run_pipeline(plain_append);
  jm::testing::expect_same_datasets(jm::ResultReader(plain_full.output_path), jm::ResultReader(plain_append.output_path),
                                    "", /*attributes=*/true);
  bool counted_again = true;
  for (const std::string& warning : plain_report.warnings)
    if (warning.find("flows: updated from the base's flow tally") != std::string::npos)
      counted_again = warning.find("not counted again") == std::string::npos;
  EXPECT_FALSE(counted_again) << "the flows of a named funnel without segments were counted again";

  // The base may be replaced in place: the result is written beside it and renamed over it.
  jm::RunConfig in_place = small_config(split.after, (dir / "base.h5").string());
  in_place.append_base = in_place.output_path;
  jm::run_pipeline(in_place);
  jm::testing::expect_same_datasets(full, jm::ResultReader((dir / "base.h5").string()), "", /*attributes=*/true);
}

TEST(Append, AnotherConfigurationOrLateEventsAreRefused) {
  const fs::path dir = jm::testing::scratch_dir();
  jm::GeneratorOptions generator;
  generator.journeys = 1500;
  generator.seed = 12;
  generator.num_threads = 2;
  const std::string events = (dir / "events.csv").string();
  jm::generate_dataset(generator, events);
  const SplitEvents split = split_at_day(dir, events, *jm::parse_timestamp(generator.start_date) + 45 * kDayMs);
  jm::run_pipeline(small_config(split.before, (dir / "base.h5").string()));

  jm::RunConfig other = small_config(split.after, (dir / "other.h5").string());
  other.append_base = (dir / "base.h5").string();
  other.anomalies.alerts.k_sigma = 4.0;
  other.segments.k = 4;
  try {
    jm::run_pipeline(other);
    ADD_FAILURE() << "another configuration was accepted";
  } catch (const jm::ConfigError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("anomalies.k_sigma: base 5.0, now 4.0"), std::string::npos) << message;
    EXPECT_NE(message.find("segments.k: base 3, now 4"), std::string::npos) << message;
  }
  EXPECT_FALSE(fs::exists(dir / "other.h5"));

  jm::RunConfig late = small_config(split.before, (dir / "late.h5").string());
  late.append_base = (dir / "base.h5").string();
  try {
    jm::run_pipeline(late);
    ADD_FAILURE() << "late events were accepted";
  } catch (const jm::ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("not later than their customer's last event"), std::string::npos)
        << error.what();
  }
  EXPECT_FALSE(fs::exists(dir / "late.h5"));

  // An outcome-only journey (dropped from /journeys) still settles its customer's history: a new
  // event before it is late.
  {
    const std::string header = "customer_id,timestamp,touchpoint,channel,value,conversion\n";
    const std::string history = header +
                                "x,2026-01-01T10:00:00Z,home,web,0,0\n"
                                "x,2026-01-01T11:00:00Z,purchase,web,5,1\n"
                                "x,2026-01-20T10:00:00Z,purchase,web,5,1\n"
                                "y,2026-01-02T10:00:00Z,home,web,0,0\n";
    jm::RunConfig small = small_config(jm::testing::write_file(dir / "x_before.csv", history), (dir / "x_base.h5").string());
    small.patterns_enabled = small.segments_enabled = small.anomalies_enabled = small.flows_enabled = false;
    small.attribution_enabled = small.proposals_enabled = false;
    jm::run_pipeline(small);
    small.input_path = jm::testing::write_file(dir / "x_after.csv", header + "x,2026-01-10T10:00:00Z,search,web,0,0\n");
    small.append_base = (dir / "x_base.h5").string();
    small.output_path = (dir / "x_appended.h5").string();
    try {
      jm::run_pipeline(small);
      ADD_FAILURE() << "an event before an outcome-only journey was accepted";
    } catch (const jm::ConfigError& error) {
      EXPECT_NE(std::string(error.what()).find("base history until 2026-01-20T10:00:00Z"), std::string::npos)
          << error.what();
    }
  }

  // Only a result of `run` can be continued.
  jm::RunConfig from_mine = small_config(split.after, (dir / "mined.h5").string());
  {
    jm::ResultWriter writer((dir / "mine.h5").string());
    jm::RunMetadata meta;
    meta.command = "mine";
    meta.config_toml = jm::to_toml(from_mine);
    writer.write_meta(meta);
    writer.write("/journeys/offsets", std::vector<int64_t>{0});
    writer.commit();
  }
  from_mine.append_base = (dir / "mine.h5").string();
  try {
    jm::run_pipeline(from_mine);
    ADD_FAILURE() << "a mine result was continued";
  } catch (const jm::ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("written by `journeymap mine`"), std::string::npos) << error.what();
  }

  jm::RunConfig with_filter = small_config(split.after, (dir / "filtered.h5").string());
  with_filter.append_base = (dir / "base.h5").string();
  with_filter.filter.channels = {"web"};
  EXPECT_THROW(jm::run_pipeline(with_filter), jm::ConfigError);
}

}  // namespace
