// Custom dimensions: values follow their events into the journeys on both backends (checked
// against a value planted as a function of the event time), a journey's value is its first, the
// model column of a prefix sees only the prefix, every run over several sources gets a "source"
// dimension, breakdowns partition the journeys exactly, and bad dimensions are refused by name.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "journeymap/breakdowns.hpp"
#include "journeymap/common.hpp"
#include "journeymap/context.hpp"
#include "journeymap/features.hpp"
#include "journeymap/generate.hpp"
#include "journeymap/pipeline.hpp"
#include "journeymap/result_file.hpp"
#include "journeymap/run_config.hpp"
#include "journeymap/sources.hpp"
#include "test_helpers.hpp"

namespace {

// The planted value of an event at `seconds`: missing on every fifth second, else one of three.
std::string device_at(int64_t seconds) { return seconds % 5 == 0 ? "" : "d" + std::to_string(seconds % 3); }

// 200 customers, 1-12 events each at distinct seconds (some duplicated rows), rows shuffled.
std::string planted_csv(const std::filesystem::path& dir) {
  std::mt19937 random(7);
  std::vector<std::string> rows;
  const char* touchpoints[] = {"home", "search", "product", "cart", "checkout"};
  int64_t seconds = 1700000000;
  for (int c = 0; c < 200; ++c) {
    const int n = 1 + static_cast<int>(random() % 12);
    for (int k = 0; k < n; ++k) {
      seconds += 1 + static_cast<int64_t>(random() % 4000);
      const bool converts = k == n - 1 && random() % 3 == 0;
      const std::string row = "c" + std::to_string(c) + "," + std::to_string(seconds) + "," +
                              (converts ? "purchase" : touchpoints[random() % 5]) + ",web," + (converts ? "1" : "0") + "," +
                              device_at(seconds) + ",x" + std::to_string(c % 2);
      rows.push_back(row);
      if (random() % 10 == 0) rows.push_back(row);  // an exact duplicate
    }
  }
  std::shuffle(rows.begin(), rows.end(), random);
  std::string text = "customer_id,timestamp,touchpoint,channel,conversion,device,experiment\n";
  for (const std::string& row : rows) text += row + "\n";
  return jm::testing::write_file(dir / "events.csv", text);
}

jm::RunConfig planted_config(const std::string& csv) {
  jm::RunConfig config;
  config.input_path = csv;
  config.csv.timestamp_format = jm::TimestampFormat::EpochSeconds;
  config.csv.columns.dimensions = {jm::parse_dimension_column("device"), jm::parse_dimension_column("variant=experiment")};
  config.csv.conversion_touchpoint = "purchase";
  config.progress = false;
  return config;
}

jm::JourneySet planted_journeys(const jm::RunConfig& config, jm::Backend backend, const jm::JourneyOptions& options) {
  const jm::Context ctx = jm::make_context(backend);
  jm::IngestResult ingest = jm::read_configured_input(config, ctx);
  return jm::build_outcome_journeys(ctx, ingest.events, options, jm::effective_outcome(config)).journeys;
}

void expect_planted_values(const jm::JourneySet& journeys) {
  ASSERT_EQ(journeys.dimensions.size(), 2u);
  const jm::JourneyDimension& device = journeys.dimensions[0];
  EXPECT_EQ(device.name, "device");
  EXPECT_EQ(journeys.dimensions[1].name, "variant");
  EXPECT_TRUE(journeys.event_row.empty());  // kept only while the dimensions were attached
  jm::check_journey_set(journeys);
  for (int64_t j = 0; j < journeys.size(); ++j) {
    std::string first;
    for (int64_t e = journeys.offsets[j]; e < journeys.offsets[j + 1]; ++e) {
      const std::string planted = device_at(journeys.timestamp_ms[e] / 1000);
      const int32_t code = device.event_code[static_cast<size_t>(e)];
      ASSERT_EQ(code < 0 ? std::string() : device.values[static_cast<size_t>(code)], planted) << "event " << e;
      if (first.empty()) first = planted;
    }
    EXPECT_EQ(device.journey_value(j), first.empty() ? "(none)" : first) << "journey " << j;
    const std::string customer = journeys.customers.name(journeys.customer[j]);
    EXPECT_EQ(journeys.dimensions[1].journey_value(j), "x" + std::to_string(std::stoi(customer.substr(1)) % 2));
  }
}

TEST(Dimensions, ValuesFollowTheirEventsIntoTheJourneys) {
  const auto dir = jm::testing::scratch_dir();
  const jm::RunConfig config = planted_config(planted_csv(dir));
  jm::JourneyOptions options;
  expect_planted_values(planted_journeys(config, jm::Backend::Cpu, options));
  options.drop_duplicates = true;  // duplicates removed and journeys capped: rows still line up
  options.max_length = 4;
  options.session_gap_seconds = 3000;
  const jm::JourneySet cpu = planted_journeys(config, jm::Backend::Cpu, options);
  expect_planted_values(cpu);
  EXPECT_GT(cpu.stats.duplicates_dropped, 0);
  EXPECT_GT(cpu.stats.events_truncated, 0);
}

TEST(Dimensions, GpuBuildGivesTheCpuCodes) {
  if (!jm::gpu_available()) GTEST_SKIP() << "no CUDA device: " << jm::gpu_description();
  const auto dir = jm::testing::scratch_dir();
  const jm::RunConfig config = planted_config(planted_csv(dir));
  jm::JourneyOptions options;
  options.drop_duplicates = true;
  options.max_length = 4;
  options.session_gap_seconds = 3000;
  const jm::JourneySet cpu = planted_journeys(config, jm::Backend::Cpu, options);
  const jm::JourneySet gpu = planted_journeys(config, jm::Backend::Gpu, options);
  ASSERT_EQ(gpu.dimensions.size(), cpu.dimensions.size());
  for (size_t d = 0; d < cpu.dimensions.size(); ++d) {
    EXPECT_EQ(gpu.dimensions[d].event_code, cpu.dimensions[d].event_code);
    EXPECT_EQ(gpu.dimensions[d].journey_code, cpu.dimensions[d].journey_code);
  }
}

TEST(Dimensions, ModelColumnOfAPrefixSeesOnlyThePrefix) {
  jm::EventTable events;
  const uint32_t customer = static_cast<uint32_t>(events.customers.encode("c"));
  const int32_t web = events.channels.encode("web");
  jm::CodedColumn campaign{"campaign", {}, {}};
  const int32_t spring = campaign.values.encode("spring");
  for (int k = 0; k < 5; ++k) {
    events.push_back(customer, 1000 * (k + 1), events.touchpoints.encode("t" + std::to_string(k)), web, 0.0f, false);
    campaign.codes.push_back(k == 2 ? spring : -1);  // only the third event carries the campaign
  }
  events.dimensions.push_back(campaign);
  const jm::Context ctx = jm::make_context(jm::Backend::Cpu);
  jm::OutcomeDefinition outcome;
  const jm::JourneySet journeys = jm::build_outcome_journeys(ctx, events, jm::JourneyOptions{}, outcome).journeys;
  const jm::FeatureSpec whole = jm::fit_feature_spec(journeys, jm::FeatureOptions{});
  const int column = whole.column("dim:campaign");
  ASSERT_GE(column, 0);
  EXPECT_EQ(whole.kinds[static_cast<size_t>(column)], jm::FeatureKind::Categorical);
  EXPECT_EQ(jm::extract_features(ctx, journeys, whole).at(0, column), 0.0f);  // rank 0: spring
  for (const int64_t k : {1, 2, 3}) {
    jm::FeatureSpec prefix = whole;
    prefix.options.prefix_events = k;
    const float value = jm::extract_features(ctx, journeys, prefix).at(0, column);
    if (k < 3) EXPECT_TRUE(std::isnan(value)) << k;
    else EXPECT_EQ(value, 0.0f);
  }
}

TEST(Dimensions, SeveralSourcesGiveASourceDimension) {
  const auto dir = jm::testing::scratch_dir();
  jm::GeneratorOptions generator;
  generator.journeys = 600;
  generator.seed = 11;
  generator.num_threads = 2;
  const std::string events_csv = (dir / "events.csv").string();
  jm::generate_dataset(generator, events_csv);
  const jm::MultiSourceSummary split = jm::split_into_sources(events_csv, (dir / "sources").string(), 11, false);
  jm::RunConfig config;
  jm::apply_config_file(split.config_path, config);
  const jm::IngestResult merged = jm::read_configured_input(config, jm::make_context(jm::Backend::Cpu));
  ASSERT_EQ(merged.events.dimensions.size(), 1u);
  const jm::CodedColumn& source = merged.events.dimensions[0];
  EXPECT_EQ(source.name, "source");
  merged.events.check_consistent();
  ASSERT_EQ(source.values.size(), static_cast<int32_t>(merged.sources->sources.size()));
  std::vector<int64_t> per_source(static_cast<size_t>(source.values.size()), 0);
  for (const int32_t code : source.codes) ++per_source[static_cast<size_t>(code)];
  for (size_t s = 0; s < per_source.size(); ++s) {
    EXPECT_EQ(source.values.name(static_cast<int32_t>(s)), merged.sources->sources[s].name);
    EXPECT_EQ(per_source[s], merged.sources->sources[s].events) << s;
  }
}

TEST(Dimensions, BreakdownsPartitionTheJourneysExactly) {
  const auto dir = jm::testing::scratch_dir();
  const jm::RunConfig config = planted_config(planted_csv(dir));
  const jm::Context ctx = jm::make_context(jm::Backend::Cpu);
  const jm::JourneySet journeys = planted_journeys(config, jm::Backend::Cpu, jm::JourneyOptions{});
  jm::BreakdownOptions options;
  options.max_values = 2;  // d0..d2 exist: one of them folds into "(other)"
  const jm::AttributionOptions attribution;
  const jm::BreakdownResult result = jm::compute_breakdowns(ctx, journeys, options, {}, attribution);
  ASSERT_EQ(result.breakdowns.size(), 2u);
  const jm::Breakdown& device = result.breakdowns[0];
  EXPECT_EQ(device.dimension, "device");
  EXPECT_EQ(device.distinct_values, 3);
  std::vector<std::string> names;
  for (const jm::BreakdownGroup& group : device.groups) names.push_back(group.value);
  ASSERT_EQ(names.size(), 4u);
  EXPECT_EQ(names[2], "(other)");
  EXPECT_EQ(names[3], "(none)");

  // Every group's numbers are those of its journeys, and counts add up to the whole set's.
  jm::FlowOptions flow_options;
  flow_options.funnel = result.funnel;
  const jm::FlowResult all = jm::compute_flows(ctx, journeys, flow_options);
  const jm::AttributionResult all_credit = jm::compute_attribution(ctx, journeys, attribution);
  int64_t journeys_sum = 0, converted_sum = 0;
  std::vector<int64_t> reached_sum(result.funnel.size(), 0);
  std::vector<double> last_touch_sum(result.channels.size(), 0.0);
  const jm::JourneyDimension& dimension = *jm::find_dimension(journeys, "device");
  for (const jm::BreakdownGroup& group : device.groups) {
    int64_t expected_journeys = 0, expected_converted = 0;
    for (int64_t j = 0; j < journeys.size(); ++j) {
      const std::string& value = dimension.journey_value(j);
      const bool shown = value == device.groups[0].value || value == device.groups[1].value;
      const bool member = group.value == "(other)" ? !shown && value != "(none)" : value == group.value;
      if (!member) continue;
      ++expected_journeys;
      expected_converted += journeys.converted[j];
    }
    EXPECT_EQ(group.journeys, expected_journeys) << group.value;
    EXPECT_EQ(group.converted, expected_converted) << group.value;
    journeys_sum += group.journeys;
    converted_sum += group.converted;
    for (size_t k = 0; k < reached_sum.size(); ++k) reached_sum[k] += group.funnel_reached[k];
    for (size_t c = 0; c < last_touch_sum.size(); ++c) last_touch_sum[c] += group.channel_last_touch[c];
    EXPECT_LE(group.top_paths.size(), static_cast<size_t>(options.top_paths));
  }
  EXPECT_EQ(journeys_sum, journeys.size());
  EXPECT_EQ(converted_sum, all.n_converted);
  EXPECT_EQ(reached_sum, all.funnel.reached);
  for (size_t c = 0; c < last_touch_sum.size(); ++c)
    EXPECT_NEAR(last_touch_sum[c], all_credit.by_channel.last_touch[c], 1e-9) << c;

  options.dimensions = {"nope"};
  EXPECT_THROW(jm::compute_breakdowns(ctx, journeys, options, {}, attribution), jm::ConfigError);
}

TEST(Dimensions, RunWritesThemAndBadDimensionsAreRefused) {
  const auto dir = jm::testing::scratch_dir();
  jm::RunConfig config = planted_config(planted_csv(dir));
  config.device = jm::DeviceChoice::Cpu;
  config.output_path = (dir / "result.h5").string();
  config.patterns_enabled = config.segments_enabled = config.anomalies_enabled = false;
  const jm::RunReport report = jm::run_pipeline(config);
  {
    const jm::ResultReader result(config.output_path);
    EXPECT_EQ(result.read_strings("/dimensions/names"), (std::vector<std::string>{"device", "variant"}));
    EXPECT_EQ(result.read_int32("/dimensions/0/event_code").size(), static_cast<size_t>(report.summary.events));
    EXPECT_EQ(result.read_int32("/dimensions/1/journey_code").size(), static_cast<size_t>(report.summary.journeys));
    EXPECT_EQ(result.read_strings("/breakdowns/dimensions"), (std::vector<std::string>{"device", "variant"}));
    EXPECT_EQ(result.read_string_attribute("/breakdowns/1", "dimension"), "variant");
  }
  jm::RunConfig reread;
  jm::apply_config_text(jm::to_toml(config), "stored", reread);
  ASSERT_EQ(reread.csv.columns.dimensions.size(), 2u);
  EXPECT_EQ(reread.csv.columns.dimensions[1].name, "variant");
  EXPECT_EQ(reread.csv.columns.dimensions[1].column, "experiment");

  const jm::Context ctx = jm::make_context(jm::Backend::Cpu);
  jm::RunConfig bad = planted_config(config.input_path);
  bad.csv.columns.dimensions = {jm::parse_dimension_column("campaign")};  // not in the header
  try {
    jm::read_configured_input(bad, ctx);
    ADD_FAILURE() << "a missing dimension column was accepted";
  } catch (const jm::InputError& error) {
    EXPECT_EQ(error.file(), config.input_path);
    EXPECT_NE(std::string(error.what()).find("campaign"), std::string::npos) << error.what();
  }
  bad.csv.columns.dimensions = {jm::parse_dimension_column("d=touchpoint")};  // an event field
  EXPECT_THROW(jm::read_configured_input(bad, ctx), jm::ConfigError);
  bad.csv.columns.dimensions = {jm::parse_dimension_column("device"), jm::parse_dimension_column("device=experiment")};
  EXPECT_THROW(jm::read_configured_input(bad, ctx), jm::ConfigError);
  EXPECT_THROW(jm::parse_dimension_column("=x"), jm::ConfigError);
  EXPECT_THROW(jm::parse_dimension_column("x="), jm::ConfigError);
  EXPECT_THROW(jm::apply_config_text("[input]\ndimensions = [\"a=\"]\n", "t", reread), jm::ConfigError);
  EXPECT_THROW(jm::apply_config_text("[breakdowns]\nmax_values = 0\n", "t", reread), jm::ConfigError);
  const std::string spmf = jm::testing::write_file(dir / "paths.spmf", "1 -1 2 -1 -2\n");
  bad = jm::RunConfig{};
  bad.input_path = spmf;
  bad.csv.columns.dimensions = {jm::parse_dimension_column("device")};
  EXPECT_THROW(jm::read_configured_input(bad, ctx), jm::ConfigError);
}

}  // namespace
