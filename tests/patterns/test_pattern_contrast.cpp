// Outcome contrast: the statistics against hand-computed values, planted motifs of the generator in
// the headline lists, and the `mine` command's HDF5 output.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <functional>

#include "host/cli/command_mine.hpp"
#include "host/patterns/pattern_contrast.hpp"
#include "journeymap/common.hpp"
#include "journeymap/compare.hpp"
#include "journeymap/generate.hpp"
#include "journeymap/ingest.hpp"
#include "journeymap/outcome.hpp"
#include "journeymap/patterns.hpp"
#include "journeymap/result_file.hpp"
#include "patterns/pattern_test_support.hpp"
#include "test_helpers.hpp"

namespace jm {
namespace {

TEST(PatternContrastTest, ChiSquareMatchesHandComputedValues) {
  // Table [[10, 20], [30, 40]]: chi2 = 100 * (400 - 600)^2 / (30 * 70 * 40 * 60) = 0.79365,
  // p = P(chi2_1 > 0.79365) = 0.372998 (tables / scipy.stats.chi2.sf).
  EXPECT_NEAR(patterns_detail::chi_square_p_value(30, 10, 100, 40), 0.3729985, 1e-6);
  // A strong association gives a tiny p-value; an empty margin gives 1.
  EXPECT_LT(patterns_detail::chi_square_p_value(500, 300, 10000, 1000), 1e-100);
  EXPECT_EQ(patterns_detail::chi_square_p_value(100, 10, 100, 10), 1.0);  // every journey contains it
  EXPECT_EQ(patterns_detail::chi_square_p_value(10, 0, 100, 0), 1.0);     // nobody converted
}

TEST(PatternContrastTest, BenjaminiHochbergAdjustment) {
  const std::vector<double> adjusted = jm::benjamini_hochberg({0.01, 0.04, 0.03, 0.005});
  const std::vector<double> expected = {0.02, 0.04, 0.04, 0.02};
  ASSERT_EQ(adjusted.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(adjusted[i], expected[i], 1e-12);
  EXPECT_TRUE(jm::benjamini_hochberg({}).empty());
}

TEST(PatternContrastTest, RatesLiftAndHeadlineLists) {
  // 200 journeys: "0 > 1" converts 45 of 50 times, "2" converts 2 of 60 times, "3" is neutral.
  std::vector<testing::Sequence> sequences;
  std::vector<uint8_t> converted;
  for (int j = 0; j < 50; ++j) sequences.push_back({0, 3, 1}), converted.push_back(j < 45);
  for (int j = 0; j < 60; ++j) sequences.push_back({2, 3}), converted.push_back(j < 2);
  for (int j = 0; j < 90; ++j) sequences.push_back({3}), converted.push_back(j < 30);
  const JourneySet journeys = testing::journeys_from(sequences, 4, converted);
  PatternOptions options;
  options.min_support = MinSupport::count(20);
  options.contrast_top_k = 3;
  const PatternResult result = mine_patterns(Context{}, journeys, options);

  ASSERT_EQ(result.n_journeys, 200);
  ASSERT_EQ(result.n_converted, 77);
  const double base = 77.0 / 200.0;
  EXPECT_DOUBLE_EQ(result.base_conversion_rate, base);
  for (int64_t p = 0; p < result.size(); ++p) {
    EXPECT_DOUBLE_EQ(result.conversion_rate(p), double(result.converted_support[p]) / double(result.support[p]));
    EXPECT_DOUBLE_EQ(result.lift(p), result.conversion_rate(p) / base);
    EXPECT_DOUBLE_EQ(result.score(p), (double(result.converted_support[p]) - double(result.support[p]) * base) / 200.0);
    EXPECT_GE(result.p_adjusted[p], result.p_value(p));
  }
  // Conversion: the patterns of the first group score equally (50 journeys, 45 converted); ties
  // keep the canonical order, so the single items 0 and 1 come first, and every longer pattern of
  // the group covers the same journeys as one of them: a repeat, not listed. Abandonment: "2"
  // (its repeat "2 > 3" is not listed); "3" is in every group's journeys and says nothing.
  ASSERT_EQ(result.top_conversion.size(), 2u);
  EXPECT_EQ(pattern_text(result, result.top_conversion[0], journeys), "t0");
  EXPECT_EQ(pattern_text(result, result.top_conversion[1], journeys), "t1");
  ASSERT_EQ(result.top_abandonment.size(), 1u);
  EXPECT_EQ(pattern_text(result, result.top_abandonment[0], journeys), "t2");
  const std::string summary = format_patterns_summary(result, journeys);
  EXPECT_NE(summary.find("leading to conversion"), std::string::npos);
  EXPECT_NE(summary.find("1. t2  (support 60, conversion 3.3% vs 38.5%"), std::string::npos) << summary;
}

// The generator plants "search > reviews > add_to_cart" (conversion) and "add_to_cart >
// support_chat" (abandonment) and records, in the truth JSON, how many journeys contain each motif
// as a subsequence and how many of those converted: exactly our support and converted support.
TEST(PatternContrastTest, PlantedMotifsAreFoundAndLead) {
  const auto dir = testing::scratch_dir();
  GeneratorOptions generator;
  generator.journeys = 20000;
  generator.seed = 11;
  generator.num_threads = 2;
  const GeneratorSummary generated = generate_dataset(generator, (dir / "events.csv").string());
  CsvOptions csv;
  csv.num_threads = 2;
  IngestResult ingest = read_events_csv(generated.csv_path, csv);
  JourneyOptions journey_options;
  journey_options.session_gap_seconds = kGeneratedJourneyGapSeconds;
  // Journeys as every command builds them: cut before the purchase (flagged in the CSV).
  const JourneySet journeys =
      jm::build_outcome_journeys(Context{}, ingest.events, journey_options, jm::OutcomeDefinition{}).journeys;
  ASSERT_EQ(journeys.size(), 20000);

  PatternOptions options;
  options.min_support = MinSupport::fraction(0.02);
  options.max_length = 4;
  Context ctx;
  ctx.num_threads = 2;
  const PatternResult result = mine_patterns(ctx, journeys, options);
  const std::string summary = format_patterns_summary(result, journeys);

  std::ifstream truth_file(generated.truth_json_path);
  const nlohmann::json truth = nlohmann::json::parse(truth_file);
  int checked = 0;
  for (const auto& motif : truth.at("motifs")) {
    std::string text;
    for (const auto& item : motif.at("items")) text += (text.empty() ? "" : " > ") + item.get<std::string>();
    SCOPED_TRACE(text);
    int64_t found = -1;
    for (int64_t p = 0; p < result.size(); ++p)
      if (pattern_text(result, p, journeys) == text) found = p;
    ASSERT_GE(found, 0) << "planted motif not frequent";
    EXPECT_EQ(result.support[found], motif.at("observed").at("journeys_with").get<int64_t>());
    EXPECT_EQ(result.converted_support[found], motif.at("observed").at("conversions_with").get<int64_t>());
    EXPECT_LT(result.p_adjusted[found], 1e-10);
    const bool conversion = motif.at("effect") == "conversion";
    EXPECT_TRUE(conversion ? result.lift(found) > 2.0 : result.lift(found) < 0.5) << result.lift(found);
    // In the headline list of its effect: the motif itself, or a listed pattern nested with it
    // that carries the same effect (the list reports the simplest pattern of a near-repeat pair).
    const auto& list = conversion ? result.top_conversion : result.top_abandonment;
    const bool listed = std::any_of(list.begin(), list.end(), [&](int64_t p) {
      const std::string listed_text = pattern_text(result, p, journeys);
      return listed_text == text || text.find(listed_text) != std::string::npos;
    });
    EXPECT_TRUE(listed) << summary;
    ++checked;
  }
  EXPECT_EQ(checked, 2);
  // The conversion motif leads its list: within the top 3 sits the motif itself or the simpler
  // pattern the list reports for it (e.g. "reviews > add_to_cart", nested in the motif, when the
  // journeys separating the two convert alike); only "checkout", the funnel step right before
  // purchase, and the path into the cart may score higher on this data.
  const std::string motif_text = "search > reviews > add_to_cart";
  const auto top3_end = result.top_conversion.begin() + std::min<size_t>(3, result.top_conversion.size());
  EXPECT_TRUE(std::any_of(result.top_conversion.begin(), top3_end, [&](int64_t p) {
    const std::string listed_text = pattern_text(result, p, journeys);
    return listed_text == motif_text || (result.length(p) >= 2 && motif_text.find(listed_text) != std::string::npos);
  })) << summary;
  // And the motif's own contrast score is in the top 5% of all frequent patterns.
  int64_t motif = -1;
  for (int64_t p = 0; p < result.size(); ++p)
    if (pattern_text(result, p, journeys) == motif_text) motif = p;
  ASSERT_GE(motif, 0);
  int64_t better = 0;
  for (int64_t p = 0; p < result.size(); ++p) better += result.score(p) > result.score(motif);
  EXPECT_LT(better, result.size() / 20) << "motif score rank " << better << " of " << result.size();
  // The conversion event itself is never mined: the outcome cut removed it.
  for (int64_t p = 0; p < result.size(); ++p)
    ASSERT_EQ(pattern_text(result, p, journeys).find("purchase"), std::string::npos);
}

// The statistics /patterns writes (computed slice by slice) are the member functions' values, bit
// for bit, and the adjusted p-values the Benjamini-Hochberg adjustment of those p-values.
TEST(PatternContrastTest, WrittenStatisticsAreTheResultsOwn) {
  std::vector<testing::Sequence> sequences;
  std::vector<uint8_t> converted;
  for (int j = 0; j < 400; ++j) {
    sequences.push_back({j % 5, (j / 5) % 4, (j * 7) % 6, j % 3});
    converted.push_back(j % 5 == 1 || j % 11 == 0);
  }
  const JourneySet journeys = testing::journeys_from(sequences, 6, converted);
  PatternOptions options;
  options.min_support = MinSupport::count(3);
  const PatternResult result = mine_patterns(Context{}, journeys, options);
  ASSERT_GT(result.size(), 50);
  const auto file = testing::scratch_dir() / "statistics.h5";
  {
    ResultWriter writer(file.string());
    write_patterns_results(writer, result, journeys);
    writer.commit();
  }
  ResultReader reader(file.string());
  const std::vector<double> rate = reader.read_double("/patterns/conversion_rate");
  const std::vector<double> lift = reader.read_double("/patterns/lift");
  const std::vector<double> p_value = reader.read_double("/patterns/p_value");
  const std::vector<double> score = reader.read_double("/patterns/score");
  ASSERT_EQ(rate.size(), static_cast<size_t>(result.size()));
  ASSERT_EQ(lift.size(), rate.size());
  ASSERT_EQ(p_value.size(), rate.size());
  ASSERT_EQ(score.size(), rate.size());
  for (int64_t p = 0; p < result.size(); ++p) {
    const auto i = static_cast<size_t>(p);
    EXPECT_EQ(rate[i], result.conversion_rate(p)) << p;
    EXPECT_EQ(lift[i], result.lift(p)) << p;
    EXPECT_EQ(p_value[i], result.p_value(p)) << p;
    EXPECT_EQ(score[i], result.score(p)) << p;
  }
  EXPECT_EQ(reader.read_double("/patterns/p_adjusted"), benjamini_hochberg(p_value));
  EXPECT_EQ(reader.read_double("/patterns/p_adjusted"), result.p_adjusted);
}

TEST(PatternContrastTest, MineCommandWritesPatternsGroup) {
  const auto dir = testing::scratch_dir();
  const std::string input = testing::write_file(dir / "db.txt",
                                                "1 -1 2 -1 3 -1 -2\n"
                                                "1 -1 3 -1 -2\n"
                                                "2 -1 3 -1 1 -1 -2\n"
                                                "4 -1 -2\n");
  const std::string output = (dir / "out" / "result.h5").string();
  CLI::App app;
  std::function<int()> handler;
  CLI::App* mine = add_patterns_command(app, handler);
  std::vector<std::string> args = {"journeymap", "mine", "--input", input, "--out", output, "--min-support", "2",
                                   "--device",   "cpu",  "--quiet"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  app.parse(static_cast<int>(argv.size()), argv.data());
  ASSERT_TRUE(mine->parsed());
  ASSERT_EQ(handler(), 0);

  ResultReader reader(output);
  EXPECT_EQ(reader.read_string_attribute("/meta", "command"), "mine");
  const std::vector<int64_t> support = reader.read_int64("/patterns/support");
  const std::vector<int64_t> offsets = reader.read_int64("/patterns/offsets");
  const std::vector<int32_t> items = reader.read_int32("/patterns/items");
  const std::vector<std::string> names = reader.read_strings("/vocab/touchpoints");
  // Frequent with support >= 2: 1 (3), 3 (3), 2 (2), 1>3 (2), 2>3 (2).
  ASSERT_EQ(support, (std::vector<int64_t>{3, 3, 2, 2, 2}));
  ASSERT_EQ(offsets.size(), 6u);
  std::vector<std::string> texts;
  for (size_t p = 0; p + 1 < offsets.size(); ++p) {
    std::string text;
    for (int64_t i = offsets[p]; i < offsets[p + 1]; ++i) text += (text.empty() ? "" : " ") + names[items[i]];
    texts.push_back(text);
  }
  EXPECT_EQ(texts, (std::vector<std::string>{"1", "3", "2", "1 3", "2 3"}));
  EXPECT_EQ(reader.read_int_attribute("/patterns", "min_support_count"), 2);
  EXPECT_TRUE(reader.exists("/patterns/top_conversion/pattern"));
  EXPECT_TRUE(reader.exists("/patterns/top_abandonment/text"));
  EXPECT_EQ(reader.read_double("/patterns/lift").size(), 5u);

  // A bad minimum support is a configuration error.
  std::vector<std::string> bad = {"journeymap", "mine", "--input", input, "--out", output, "--min-support", "1.5"};
  std::vector<char*> bad_argv;
  for (auto& a : bad) bad_argv.push_back(a.data());
  CLI::App app2;
  std::function<int()> handler2;
  add_patterns_command(app2, handler2);
  app2.parse(static_cast<int>(bad_argv.size()), bad_argv.data());
  EXPECT_THROW(handler2(), ConfigError);
}

}  // namespace
}  // namespace jm
