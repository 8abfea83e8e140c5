// Several sources in one run: the generator's multi-source files stitch back into the true
// customers (exactly, with and without planted shared ids), sources of one id kind share customers,
// and bad sources fail with the source's name.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "journeymap/common.hpp"
#include "journeymap/generate.hpp"
#include "journeymap/pipeline.hpp"
#include "journeymap/run_config.hpp"
#include "journeymap/sources.hpp"
#include "test_helpers.hpp"

namespace {

using EventKey = std::tuple<int64_t, std::string, std::string, float, int>;

// Each customer's events as sorted (time, touchpoint, channel, value, conversion) lists, the lists
// sorted: equal for two tables exactly when they group the same events into the same customers.
std::vector<std::vector<EventKey>> customer_signatures(const jm::EventTable& events) {
  std::vector<std::vector<EventKey>> by_customer(static_cast<size_t>(events.customers.size()));
  for (size_t i = 0; i < events.size(); ++i)
    by_customer[events.customer[i]].emplace_back(events.timestamp_ms[i], events.touchpoints.name(events.touchpoint[i]),
                                                 events.channels.name(events.channel[i]), events.value[i],
                                                 events.is_conversion[i]);
  for (auto& list : by_customer) std::sort(list.begin(), list.end());
  std::sort(by_customer.begin(), by_customer.end());
  return by_customer;
}

struct MergeQuality {
  double precision = 0.0, recall = 0.0;
  int64_t ids = 0;  ///< ids of the truth file found stitched into a customer
  int64_t ids_without_customer = 0;
};

// Pairwise precision and recall of the stitched id map against ids.truth.csv: of the id pairs put in
// one customer, the share that truly belong together, and of the true pairs, the share put together.
MergeQuality merge_quality(const jm::SourcesReport& report, const std::string& truth_csv) {
  std::map<std::string, int32_t> predicted;
  for (size_t id = 0; id < report.id_value.size(); ++id)
    predicted[report.id_kinds[static_cast<size_t>(report.id_kind[id])] + ":" + report.id_value[id]] =
        report.id_customer[id];
  std::ifstream in(truth_csv);
  std::string line;
  std::getline(in, line);  // header
  std::map<std::pair<std::string, int32_t>, int64_t> joint;
  std::map<std::string, int64_t> per_true;
  std::map<int32_t, int64_t> per_predicted;
  MergeQuality quality;
  while (std::getline(in, line)) {
    const size_t first = line.find(','), second = line.find(',', first + 1);
    const std::string key = line.substr(0, first) + ":" + line.substr(first + 1, second - first - 1);
    const std::string customer = line.substr(second + 1);
    const auto found = predicted.find(key);
    const int32_t stitched = found == predicted.end() ? -1 : found->second;
    if (stitched < 0) {
      ++quality.ids_without_customer;
      continue;
    }
    ++quality.ids;
    ++joint[{customer, stitched}];
    ++per_true[customer];
    ++per_predicted[stitched];
  }
  auto pairs = [](int64_t n) { return static_cast<double>(n) * static_cast<double>(n - 1) / 2.0; };
  double together = 0.0, predicted_pairs = 0.0, true_pairs = 0.0;
  for (const auto& [cell, n] : joint) together += pairs(n);
  for (const auto& [customer, n] : per_predicted) predicted_pairs += pairs(n);
  for (const auto& [customer, n] : per_true) true_pairs += pairs(n);
  quality.precision = predicted_pairs > 0 ? together / predicted_pairs : 1.0;
  quality.recall = true_pairs > 0 ? together / true_pairs : 1.0;
  return quality;
}

struct GeneratedSources {
  std::string events_csv;
  jm::MultiSourceSummary split;
};

GeneratedSources generate_sources(const std::filesystem::path& dir, bool shared_ids) {
  jm::GeneratorOptions options;
  options.journeys = 2500;
  options.seed = 19;
  options.num_threads = 2;
  GeneratedSources out;
  out.events_csv = (dir / "events.csv").string();
  jm::generate_dataset(options, out.events_csv);
  out.split = jm::split_into_sources(out.events_csv, (dir / "sources").string(), options.seed, shared_ids);
  return out;
}

jm::IngestResult read_generated(const GeneratedSources& generated, int64_t max_links_per_id = 50) {
  jm::RunConfig config;
  jm::apply_config_file(generated.split.config_path, config);
  config.identity.max_links_per_id = max_links_per_id;
  return jm::read_configured_input(config, jm::make_context(jm::Backend::Cpu));
}

TEST(Sources, GeneratedSourcesStitchBackIntoTheTrueCustomers) {
  const auto dir = jm::testing::scratch_dir();
  const GeneratedSources generated = generate_sources(dir, false);
  EXPECT_GT(generated.split.events[0], 0);
  EXPECT_GT(generated.split.events[1], 0);
  EXPECT_GT(generated.split.events[2], 0);
  EXPECT_GT(generated.split.events[3], 0);
  const jm::IngestResult merged = read_generated(generated);
  ASSERT_TRUE(merged.sources);
  const jm::SourcesReport& report = *merged.sources;
  const MergeQuality quality = merge_quality(report, generated.split.folder + "/ids.truth.csv");
  EXPECT_EQ(quality.precision, 1.0);
  EXPECT_EQ(quality.recall, 1.0);
  EXPECT_EQ(quality.ids_without_customer, 0);
  EXPECT_EQ(quality.ids, static_cast<int64_t>(report.id_value.size()));  // every id, each once in the truth
  EXPECT_GT(quality.ids, 2 * report.customers);
  EXPECT_TRUE(report.identity.dropped.empty());

  // Same events, same customers as the single file they were split from (times through an epoch
  // column, a +02:00 offset and Europe/Berlin local times all come back to the same instants).
  const jm::IngestResult single = jm::read_events_csv(generated.events_csv, jm::CsvOptions{});
  EXPECT_EQ(report.customers, single.events.customers.size());
  EXPECT_EQ(customer_signatures(merged.events), customer_signatures(single.events));
  int64_t events = 0;
  for (const jm::SourceStats& source : report.sources) events += source.events;
  EXPECT_EQ(events, static_cast<int64_t>(single.events.size()));
  EXPECT_EQ(report.event_source.size(), merged.events.size());
}

TEST(Sources, SharedPlaceholderIdsAreDroppedAndReported) {
  const auto dir = jm::testing::scratch_dir();
  const GeneratedSources generated = generate_sources(dir, true);
  const std::string truth = generated.split.folder + "/ids.truth.csv";
  const jm::IngestResult guarded = read_generated(generated);
  const jm::SourcesReport& report = *guarded.sources;
  ASSERT_EQ(report.identity.dropped.size(), 2u);
  std::vector<std::string> dropped{report.identity.dropped[0].kind + ":" + report.identity.dropped[0].value,
                                   report.identity.dropped[1].kind + ":" + report.identity.dropped[1].value};
  std::sort(dropped.begin(), dropped.end());
  EXPECT_EQ(dropped, (std::vector<std::string>{"crm:0", "email:unknown"}));
  const MergeQuality quality = merge_quality(report, truth);
  EXPECT_GT(quality.ids, 2 * report.customers);
  EXPECT_EQ(quality.precision, 1.0);
  EXPECT_EQ(quality.recall, 1.0);
  const std::vector<std::string> warnings = jm::sources_warnings(report, jm::IdentityOptions{});
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("email:unknown"), std::string::npos);

  // Without the guard the placeholders merge unrelated customers.
  const jm::IngestResult unguarded = read_generated(generated, 0);
  EXPECT_TRUE(unguarded.sources->identity.dropped.empty());
  EXPECT_LT(merge_quality(*unguarded.sources, truth).precision, 0.5);
  EXPECT_LT(unguarded.sources->customers, report.customers / 2);
}

TEST(Sources, SourcesOfOneKindShareCustomersAndKeepTheirSettings) {
  const auto dir = jm::testing::scratch_dir();
  jm::SourceSpec web;
  web.name = "web";
  web.paths = {jm::testing::write_file(dir / "web.csv",
                                       "visitor;when;page\n"
                                       "u1;2026-01-05T10:00:00Z;home\n"
                                       "u2;2026-01-05T11:00:00Z;search\n")};
  web.csv.delimiter = ';';
  web.csv.columns.customer = "visitor";
  web.csv.columns.timestamp = "when";
  web.csv.columns.touchpoint = "page";
  web.channel = "web";
  jm::SourceSpec shop;
  shop.name = "shop";
  jm::testing::write_file(dir / "shop_1.csv", "customer_id,timestamp,touchpoint,value\nu1,1767610800,purchase,12.5\n");
  jm::testing::write_file(dir / "shop_2.csv", "customer_id,timestamp,touchpoint,value\nu3,2026-01-05T12:30:00,visit,0\n");
  shop.paths = {(dir / "shop_*.csv").string()};
  shop.csv.time_zone = "+01:00";
  const jm::IngestResult merged =
      jm::read_sources(jm::make_context(jm::Backend::Cpu), {web, shop}, jm::IdentityOptions{}, 1);
  const jm::EventTable& events = merged.events;
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events.customers.names(), (std::vector<std::string>{"u1", "u2", "u3"}));
  EXPECT_EQ(events.customer, (std::vector<uint32_t>{0, 1, 0, 2}));
  EXPECT_EQ(events.channels.names(), (std::vector<std::string>{"web", "unknown"}));
  EXPECT_EQ(events.timestamp_ms[2], 1767610800000);
  EXPECT_EQ(events.timestamp_ms[3], 1767612600000);  // 12:30 at +01:00 is 11:30 UTC
  EXPECT_EQ(merged.sources->sources[1].files.size(), 2u);
  EXPECT_EQ(merged.sources->sources[1].ids, 2);
  EXPECT_EQ(merged.sources->event_source, (std::vector<uint8_t>{0, 0, 1, 1}));
}

TEST(Sources, BadSourcesNameTheSource) {
  const auto dir = jm::testing::scratch_dir();
  const jm::Context cpu = jm::make_context(jm::Backend::Cpu);
  jm::SourceSpec app;
  app.name = "app";
  app.paths = {jm::testing::write_file(dir / "app.csv", "device,timestamp,touchpoint\nd1,2026-01-05,home\n")};
  try {
    jm::read_sources(cpu, {app}, jm::IdentityOptions{}, 1);
    ADD_FAILURE() << "a source without its id column was accepted";
  } catch (const jm::InputError& error) {
    EXPECT_NE(error.reason().find("source 'app'"), std::string::npos) << error.reason();
    EXPECT_NE(error.file().find("app.csv"), std::string::npos);
    EXPECT_EQ(error.column(), "customer_id");
  }
  app.csv.columns.customer = "device";
  jm::SourceSpec nothing = app;
  nothing.name = "nothing";
  nothing.paths = {(dir / "none_*.csv").string()};
  EXPECT_THROW(jm::read_sources(cpu, {app, nothing}, jm::IdentityOptions{}, 1), jm::ConfigError);
  EXPECT_THROW(jm::read_sources(cpu, {app, app}, jm::IdentityOptions{}, 1), jm::ConfigError);
  jm::SourceSpec linked = app;
  linked.linked_ids = {{"crm", "crm_id"}};
  EXPECT_THROW(jm::read_sources(cpu, {linked}, jm::IdentityOptions{}, 1), jm::InputError);  // no such column
  linked.format = jm::InputFormat::Spmf;
  EXPECT_THROW(jm::read_sources(cpu, {linked}, jm::IdentityOptions{}, 1), jm::ConfigError);
  jm::SourceSpec zone = app;
  zone.csv.time_zone = "Mars/Olympus";
  EXPECT_THROW(jm::read_sources(cpu, {zone}, jm::IdentityOptions{}, 1), jm::ConfigError);
}

TEST(Sources, ConfigTablesRoundTrip) {
  jm::RunConfig config;
  jm::apply_config_text(R"(
[input]
delimiter = ";"
[[source]]
name = "web"
path = ["a.csv", "b/*.csv"]
id_kind = "cookie"
time_zone = "Europe/Paris"
[source.columns]
customer = "cookie_id"
[source.linked_ids]
email = "email_sha"
[[source]]
name = "crm"
path = "crm.csv"
channel = "store"
format = "csv"
delimiter = ","
[identity]
files = ["ids.csv"]
max_links_per_id = 7
)",
                        "multi.toml", config);
  ASSERT_EQ(config.sources.size(), 2u);
  EXPECT_EQ(config.sources[0].paths, (std::vector<std::string>{"a.csv", "b/*.csv"}));
  EXPECT_EQ(config.sources[0].csv.delimiter, ';');  // from [input]
  EXPECT_EQ(config.sources[1].csv.delimiter, ',');
  EXPECT_EQ(config.sources[0].linked_ids, (std::vector<std::pair<std::string, std::string>>{{"email", "email_sha"}}));
  EXPECT_EQ(config.identity.max_links_per_id, 7);
  EXPECT_EQ(jm::describe_input(config), "sources web, crm");

  jm::RunConfig reread;
  jm::apply_config_text(jm::to_toml(config), "stored", reread);
  ASSERT_EQ(reread.sources.size(), 2u);
  EXPECT_EQ(reread.sources[0].csv.time_zone, "Europe/Paris");
  EXPECT_EQ(reread.sources[0].csv.columns.customer, "cookie_id");
  EXPECT_EQ(reread.sources[1].channel, "store");
  EXPECT_EQ(reread.sources[1].format, jm::InputFormat::Csv);
  EXPECT_EQ(reread.identity.files, config.identity.files);

  auto rejects = [](const std::string& text) {
    jm::RunConfig bad;
    EXPECT_THROW(jm::apply_config_text(text, "bad.toml", bad), jm::ConfigError) << text;
  };
  rejects("[[source]]\npath = \"a.csv\"\n");                          // no name
  rejects("[[source]]\nname = \"x\"\n");                               // no path
  rejects("[[source]]\nname = \"x\"\npath = \"a\"\ntime_zone = \"Nowhere/City\"\n");
  rejects("[[source]]\nname = \"x\"\npath = \"a\"\nid = \"cookie\"\n");  // unknown key
  rejects("[identity]\nmax_links_per_id = -1\n");
  rejects("source = 3\n");
}

TEST(Sources, RunWritesIdentityAndKeepsOneInputSource) {
  const auto dir = jm::testing::scratch_dir();
  const GeneratedSources generated = generate_sources(dir, true);
  jm::RunConfig config;
  jm::apply_config_file(generated.split.config_path, config);
  config.device = jm::DeviceChoice::Cpu;
  config.output_path = (dir / "result.h5").string();
  config.progress = false;
  config.patterns_enabled = config.segments_enabled = config.model_enabled = config.anomalies_enabled = false;
  const jm::RunReport report = jm::run_pipeline(config);
  EXPECT_EQ(report.input_path, "sources web, app, email, crm");
  EXPECT_TRUE(std::filesystem::exists(config.output_path));
  const auto warned = std::find_if(report.warnings.begin(), report.warnings.end(),
                                   [](const std::string& w) { return w.rfind("identity: 2 shared ids", 0) == 0; });
  EXPECT_NE(warned, report.warnings.end());

  config.input_path = generated.events_csv;  // an input file and sources: refused
  EXPECT_THROW(jm::run_pipeline(config), jm::ConfigError);
}

}  // namespace
