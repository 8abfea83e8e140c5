// Taxonomy: every event's new touchpoint equals a brute-force lookup of its raw name (exact names
// before patterns, patterns in file order, the path cut at the level), the automatic level is the
// deepest within the bound, unmapped names are counted, and bad files fail naming file and line.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "journeymap/common.hpp"
#include "journeymap/generate.hpp"
#include "journeymap/pipeline.hpp"
#include "journeymap/result_file.hpp"
#include "journeymap/run_config.hpp"
#include "journeymap/taxonomy.hpp"
#include "test_helpers.hpp"

namespace {

jm::EventTable events_named(const std::vector<std::string>& names) {
  jm::EventTable events;
  const uint32_t customer = static_cast<uint32_t>(events.customers.encode("c"));
  const int32_t channel = events.channels.encode("web");
  int64_t time = 0;
  for (const std::string& name : names) events.push_back(customer, time += 1000, events.touchpoints.encode(name), channel, 0.0f, false);
  return events;
}

std::vector<std::string> touchpoint_names(const jm::EventTable& events) {
  std::vector<std::string> names;
  for (const int32_t t : events.touchpoint) names.push_back(events.touchpoints.name(t));
  return names;
}

const char* const kTaxonomy =
    "name,touchpoint\n"
    "/product/phones/42,product_view > electronics > phones > flagship\n"
    "/product/phones/*,product_view > electronics > phones\n"
    "/product/*,product_view > other\n"
    "/product/tv/*,product_view > electronics > tv\n"  // never used: /product/* comes first
    "\"add,to,cart\",cart > add\n"
    "checkout_?,cart > checkout\n";

TEST(Taxonomy, EveryEventGetsItsRulesPathCutAtTheLevel) {
  const auto dir = jm::testing::scratch_dir();
  const jm::Taxonomy taxonomy = jm::read_taxonomy(jm::testing::write_file(dir / "taxonomy.csv", kTaxonomy));
  ASSERT_EQ(taxonomy.rules.size(), 6u);
  EXPECT_EQ(taxonomy.max_depth, 4);
  EXPECT_TRUE(taxonomy.rules[1].is_pattern);
  EXPECT_FALSE(taxonomy.rules[4].is_pattern);
  EXPECT_EQ(taxonomy.rules[4].name, "add,to,cart");

  const std::vector<std::string> raw = {"/product/phones/42", "/product/phones/7", "/product/tv/1", "add,to,cart",
                                        "checkout_1",         "checkout_12",       "/product/phones/7", "home"};
  // By hand: the rule of each raw name (exact first, then the first pattern that matches).
  const std::map<std::string, std::vector<std::string>> path_of = {
      {"/product/phones/42", {"product_view", "electronics", "phones", "flagship"}},
      {"/product/phones/7", {"product_view", "electronics", "phones"}},
      {"/product/tv/1", {"product_view", "other"}},
      {"add,to,cart", {"cart", "add"}},
      {"checkout_1", {"cart", "checkout"}}};
  for (int level = 1; level <= 4; ++level) {
    jm::EventTable events = events_named(raw);
    jm::TaxonomyOptions options;
    options.level = level;
    const jm::TaxonomyReport report = jm::apply_taxonomy(events, taxonomy, options);
    events.check_consistent();
    std::vector<std::string> expected;
    for (const std::string& name : raw) {
      const auto found = path_of.find(name);
      if (found == path_of.end()) {
        expected.push_back(name);  // unmapped, kept
        continue;
      }
      std::string path;
      for (size_t l = 0; l < std::min(found->second.size(), static_cast<size_t>(level)); ++l)
        path += (l == 0 ? "" : " > ") + found->second[l];
      expected.push_back(path);
    }
    EXPECT_EQ(touchpoint_names(events), expected) << "level " << level;
    EXPECT_EQ(report.level, level);
    EXPECT_EQ(report.raw_names, 7);
    EXPECT_EQ(report.unmapped_names, 2);  // checkout_12 (? is one character) and home
    EXPECT_EQ(report.unmapped_events, 2);
    EXPECT_EQ(report.unused_rules, 1);
    ASSERT_EQ(report.unused_rule_lines.size(), 1u);
    EXPECT_EQ(report.unused_rule_lines[0], 5);
  }
}

TEST(Taxonomy, AutomaticLevelIsTheDeepestWithinTheBoundAndUnmappedCanBeGrouped) {
  const auto dir = jm::testing::scratch_dir();
  const jm::Taxonomy taxonomy = jm::read_taxonomy(jm::testing::write_file(dir / "taxonomy.csv", kTaxonomy));
  const std::vector<std::string> raw = {"/product/phones/42", "/product/phones/7", "/product/tv/1", "add,to,cart",
                                        "checkout_1",         "home",              "about"};
  // Distinct touchpoints per level with unmapped names kept: 1: product_view, cart, home, about = 4;
  // 2: +electronics/other, add/checkout = 6; 3: phones twice -> 6; 4: flagship splits phones = 7.
  jm::EventTable events = events_named(raw);
  jm::TaxonomyOptions options;
  options.max_touchpoints = 6;
  jm::TaxonomyReport report = jm::apply_taxonomy(events, taxonomy, options);
  EXPECT_EQ(report.touchpoints_per_level, (std::vector<int64_t>{4, 6, 6, 7}));
  EXPECT_TRUE(report.level_automatic);
  EXPECT_EQ(report.level, 3);
  EXPECT_EQ(report.touchpoints, 6);

  events = events_named(raw);
  options.max_touchpoints = 2;  // no level fits: the coarsest
  EXPECT_EQ(jm::apply_taxonomy(events, taxonomy, options).level, 1);

  events = events_named(raw);
  options.unmapped = "group";
  options.level = 1;
  report = jm::apply_taxonomy(events, taxonomy, options);
  EXPECT_EQ(touchpoint_names(events), (std::vector<std::string>{"product_view", "product_view", "product_view", "cart",
                                                                "cart", "(unmapped)", "(unmapped)"}));
  EXPECT_EQ(report.unmapped_names, 2);
  ASSERT_EQ(report.top_unmapped.size(), 2u);
  EXPECT_EQ(report.top_unmapped[0].first, "about");  // equal counts: by name

  options.unmapped = "drop";
  EXPECT_THROW(jm::apply_taxonomy(events, taxonomy, options), jm::ConfigError);
}

void expect_bad_file(const std::string& content, int64_t line, const std::string& reason_part) {
  const auto dir = jm::testing::scratch_dir();
  const std::string path = jm::testing::write_file(dir / "taxonomy.csv", content);
  try {
    jm::read_taxonomy(path);
    ADD_FAILURE() << "accepted: " << content;
  } catch (const jm::InputError& error) {
    EXPECT_EQ(error.file(), path);
    EXPECT_EQ(error.line(), line) << error.what();
    EXPECT_NE(error.reason().find(reason_part), std::string::npos) << error.what();
  }
}

TEST(Taxonomy, BadFilesNameTheFileAndLine) {
  expect_bad_file("", 1, "empty");
  expect_bad_file("raw,path\na,b\n", 1, "header");
  expect_bad_file("name,touchpoint\n", 1, "no rule");
  expect_bad_file("name,touchpoint\na,b\nc,d,e\n", 3, "expected 2 fields");
  expect_bad_file("name,touchpoint\na,b\na,c\n", 3, "listed twice (first on line 2)");
  expect_bad_file("name,touchpoint\na,b > > c\n", 2, "empty level");
  expect_bad_file("name,touchpoint\n,b\n", 2, "empty name");
  expect_bad_file("name,touchpoint\na,b\n\xff\xfe,c\n", 3, "UTF-8");
  std::string deep = "name,touchpoint\na,l";
  for (int l = 0; l < 16; ++l) deep += " > l";
  expect_bad_file(deep + "\n", 2, "more than 16 levels");
  EXPECT_THROW(jm::read_taxonomy("/nonexistent/taxonomy.csv"), jm::InputError);
}

TEST(Taxonomy, RunWorksAtTheLevelAndWritesTheMapping) {
  const auto dir = jm::testing::scratch_dir();
  jm::GeneratorOptions generator;
  generator.journeys = 400;
  generator.seed = 5;
  generator.num_threads = 2;
  const std::string events_csv = (dir / "events.csv").string();
  jm::generate_dataset(generator, events_csv);
  const std::string taxonomy_csv = jm::testing::write_file(dir / "taxonomy.csv",
                                                           "name,touchpoint\n"
                                                           "product_view,browse > product\n"
                                                           "category,browse > category\n"
                                                           "search,browse > search\n"
                                                           "add_to_cart,cart > add\n"
                                                           "checkout,cart > checkout\n"
                                                           "purchase,order\n");
  jm::RunConfig config;
  config.input_path = events_csv;
  config.device = jm::DeviceChoice::Cpu;
  config.progress = false;
  config.output_path = (dir / "result.h5").string();
  config.patterns_enabled = config.segments_enabled = config.model_enabled = config.anomalies_enabled = false;
  config.csv.conversion_touchpoint = "purchase";  // an outcome named by its raw name keeps it
  const jm::RunReport plain = jm::run_pipeline(config);
  config.taxonomy.file = taxonomy_csv;
  config.taxonomy.level = 1;
  const jm::RunReport mapped = jm::run_pipeline(config);
  // Renaming touchpoints changes neither the events nor the journeys.
  EXPECT_EQ(mapped.summary.journeys, plain.summary.journeys);
  EXPECT_EQ(mapped.summary.events, plain.summary.events);
  EXPECT_EQ(mapped.summary.converted_journeys, plain.summary.converted_journeys);
  EXPECT_GT(plain.summary.converted_journeys, 0);

  const jm::ResultReader result(config.output_path);
  const std::vector<std::string> touchpoints = result.read_strings("/vocab/touchpoints");
  for (const char* gone : {"product_view", "category", "search", "add_to_cart", "checkout"})
    EXPECT_EQ(std::count(touchpoints.begin(), touchpoints.end(), gone), 0) << gone;
  EXPECT_EQ(std::count(touchpoints.begin(), touchpoints.end(), "order"), 0);
  for (const char* merged : {"browse", "cart", "purchase"})
    EXPECT_EQ(std::count(touchpoints.begin(), touchpoints.end(), merged), 1) << merged;
  EXPECT_EQ(result.read_int_attribute("/taxonomy", "level"), 1);
  const std::vector<std::string> raw = result.read_strings("/taxonomy/raw_name");
  const std::vector<std::string> to = result.read_strings("/taxonomy/touchpoint");
  ASSERT_EQ(raw.size(), to.size());
  const auto search = std::find(raw.begin(), raw.end(), "search");
  ASSERT_NE(search, raw.end());
  EXPECT_EQ(to[static_cast<size_t>(search - raw.begin())], "browse");
  const std::vector<int32_t> rule_line = result.read_int32("/taxonomy/rule_line");
  const auto purchase = std::find(raw.begin(), raw.end(), "purchase");
  ASSERT_NE(purchase, raw.end());
  EXPECT_EQ(rule_line[static_cast<size_t>(purchase - raw.begin())], -1);
  // The names the file leaves out (home, reviews, ...) are named in a warning.
  const auto warned = std::find_if(mapped.warnings.begin(), mapped.warnings.end(),
                                   [](const std::string& w) { return w.rfind("taxonomy: ", 0) == 0; });
  ASSERT_NE(warned, mapped.warnings.end());
  EXPECT_NE(warned->find("'home'"), std::string::npos) << *warned;

  // The config table round-trips through the stored TOML.
  jm::RunConfig reread;
  jm::apply_config_text(jm::to_toml(config), "stored", reread);
  EXPECT_EQ(reread.taxonomy.file, taxonomy_csv);
  EXPECT_EQ(reread.taxonomy.level, 1);
  EXPECT_THROW(jm::apply_config_text("[taxonomy]\nlevel = -1\n", "t", reread), jm::ConfigError);
  EXPECT_THROW(jm::apply_config_text("[taxonomy]\nunmapped = \"drop\"\n", "t", reread), jm::ConfigError);
  EXPECT_THROW(jm::apply_config_text("[taxonomy]\nfiles = \"x\"\n", "t", reread), jm::ConfigError);
}

}  // namespace
