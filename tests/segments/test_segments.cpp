// Segmentation end to end: the generator's planted segments are recovered (adjusted Rand index
// against the truth file), profiles are consistent with the journeys, /segments round-trips through
// HDF5, the `segment` command runs, bad options fail clearly, and the GPU reproduces the CPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "host/cli/command_segment.hpp"
#include "journeymap/common.hpp"
#include "journeymap/features.hpp"
#include "journeymap/generate.hpp"
#include "journeymap/ingest.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/result_file.hpp"
#include "journeymap/segments.hpp"
#include "segments/cluster_test_helpers.hpp"
#include "test_helpers.hpp"

namespace {

using jm::Backend;
using jm::testing::adjusted_rand_index;

struct GeneratedData {
  std::string csv;
  jm::JourneySet journeys;
  std::vector<int32_t> truth;  // planted segment of each journey (index into segment_names)
  std::vector<std::string> segment_names;
};

// Generates a dataset, reads it back and joins every journey to its truth row by
// (customer, order of the journey within the customer).
GeneratedData generate(const std::filesystem::path& dir, int64_t n_journeys, uint64_t seed) {
  GeneratedData data;
  jm::GeneratorOptions options;
  options.journeys = n_journeys;
  options.seed = seed;
  options.num_threads = 2;
  data.csv = (dir / "events.csv").string();
  const jm::GeneratorSummary summary = jm::generate_dataset(options, data.csv);
  jm::CsvOptions csv;
  csv.num_threads = 2;
  const jm::IngestResult ingest = jm::read_events_csv(data.csv, csv);
  jm::Context ctx;
  ctx.num_threads = 2;
  jm::JourneyOptions journey_options;
  journey_options.session_gap_seconds = jm::kGeneratedJourneyGapSeconds;
  data.journeys = jm::build_journeys(ctx, ingest.events, journey_options);

  std::ifstream truth(summary.truth_csv_path);
  std::string line;
  std::getline(truth, line);
  std::vector<std::string> header;
  {
    std::stringstream fields(line);
    for (std::string field; std::getline(fields, field, ',');) header.push_back(field);
  }
  const auto column = [&](const std::string& name) {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return static_cast<int>(i);
    ADD_FAILURE() << "truth CSV has no column " << name;
    return 0;
  };
  const int customer_col = column("customer_id"), number_col = column("journey_number"), segment_col = column("segment");
  std::map<std::pair<std::string, int>, int32_t> segment_of;
  std::map<std::string, int32_t> segment_id;
  while (std::getline(truth, line)) {
    std::vector<std::string> fields;
    std::stringstream row(line);
    for (std::string field; std::getline(row, field, ',');) fields.push_back(field);
    if (fields.size() <= static_cast<size_t>(segment_col)) continue;
    auto [it, added] = segment_id.emplace(fields[segment_col], static_cast<int32_t>(segment_id.size()));
    if (added) data.segment_names.push_back(fields[segment_col]);
    segment_of[{fields[customer_col], std::stoi(fields[number_col])}] = it->second;
  }
  const jm::JourneySet& js = data.journeys;
  for (int64_t j = 0, number = 0; j < js.size(); ++j) {
    number = (j > 0 && js.customer[j] == js.customer[j - 1]) ? number + 1 : 0;
    const auto found = segment_of.find({js.customers.name(js.customer[j]), static_cast<int>(number)});
    EXPECT_NE(found, segment_of.end()) << "journey " << j << " has no truth row";
    data.truth.push_back(found == segment_of.end() ? -1 : found->second);
  }
  EXPECT_EQ(static_cast<int64_t>(segment_of.size()), js.size()) << "journeys were not rebuilt one to one";
  return data;
}

class Segments : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::Gpu && !jm::gpu_available()) GTEST_SKIP() << "no CUDA device";
    ctx_ = jm::make_context(GetParam(), 2);
  }
  jm::Context ctx_;
};

// Share of journeys whose segment's majority group is their own group (purity), with planted
// segments mapped to groups by `group_of`.
double purity(const std::vector<int32_t>& labels, const std::vector<int32_t>& truth, const std::vector<int>& group_of) {
  std::map<int32_t, std::map<int, int64_t>> members;
  for (size_t j = 0; j < labels.size(); ++j) ++members[labels[j]][group_of[truth[j]]];
  int64_t agreeing = 0;
  for (const auto& [segment, groups] : members) {
    int64_t majority = 0;
    for (const auto& [group, count] : groups) majority = std::max(majority, count);
    agreeing += majority;
  }
  return static_cast<double>(agreeing) / static_cast<double>(labels.size());
}

// The acceptance criterion: k-means on the journey features recovers the generator's planted
// segments (researcher, impulse, comparison, churner) with ARI >= 0.9.
TEST_P(Segments, RecoversPlantedSegmentsWithAriAtLeast0_9) {
  const GeneratedData data = generate(jm::testing::scratch_dir(), 20000, 42);
  const jm::FeatureMatrix features = jm::extract_features(ctx_, data.journeys, jm::FeatureOptions{});
  jm::SegmentOptions options;
  options.k = 4;
  const jm::SegmentResult result = jm::segment_journeys(ctx_, data.journeys, features, options);
  const double ari = adjusted_rand_index(result.labels, data.truth);
  std::cout << "ARI vs planted segments (k = 4): " << ari << "\n";
  EXPECT_GE(ari, 0.9);
}

// The k search reports its progress through Context::progress: one report per k value, then done.
TEST_P(Segments, KSearchReportsProgressPerKValue) {
  const GeneratedData data = generate(jm::testing::scratch_dir(), 2000, 7);
  const jm::FeatureMatrix features = jm::extract_features(ctx_, data.journeys, jm::FeatureOptions{});
  std::vector<std::pair<std::string, double>> reports;
  jm::Context listening = ctx_;
  listening.progress = [&](const std::string& what, double fraction) { reports.emplace_back(what, fraction); };
  jm::SegmentOptions options;
  options.k_min = 2;
  options.k_max = 5;
  jm::segment_journeys(listening, data.journeys, features, options);
  const std::vector<std::pair<std::string, double>> expected = {
      {"k search", 0.0}, {"k search", 0.25}, {"k search", 0.5}, {"k search", 0.75}, {"k search", 1.0}};
  EXPECT_EQ(reports, expected);
}

// The stored start reproduces the run: Lloyd from initial_centroids_scaled on the same
// standardised points gives the same segments (what scripts/peers.py relies on for scikit-learn).
TEST_P(Segments, InitialCentroidsReproduceTheSegments) {
  const GeneratedData data = generate(jm::testing::scratch_dir(), 5000, 42);
  const jm::FeatureMatrix features = jm::extract_features(ctx_, data.journeys, jm::FeatureOptions{});
  jm::SegmentOptions options;
  options.k_max = 5;
  const jm::SegmentResult result = jm::segment_journeys(ctx_, data.journeys, features, options);
  const int dims = static_cast<int>(result.scaling.dims());
  ASSERT_EQ(result.initial_centroids_scaled.size(), size_t(result.k) * dims);
  EXPECT_NE(result.initial_centroids_scaled, result.centroids_scaled);  // Lloyd moved them
  const std::vector<float> points = jm::apply_scaling(features, result.scaling);
  const jm::KMeansResult again = jm::lloyd(ctx_, points.data(), data.journeys.size(), dims,
                                           result.initial_centroids_scaled, result.k, options.kmeans);
  EXPECT_EQ(again.labels, result.labels);
  EXPECT_EQ(again.centroids, result.centroids_scaled);
}

// Choosing k on a sample: the same k as the search on all journeys, nearly the same segments,
// and the final fit covers every journey from the sample's centroids.
TEST_P(Segments, SearchOnASampleFindsTheSameSegments) {
  const GeneratedData data = generate(jm::testing::scratch_dir(), 20000, 42);
  const jm::FeatureMatrix features = jm::extract_features(ctx_, data.journeys, jm::FeatureOptions{});
  jm::SegmentOptions options;
  options.search_sample = 0;
  const jm::SegmentResult full = jm::segment_journeys(ctx_, data.journeys, features, options);
  EXPECT_EQ(full.search_rows, data.journeys.size());
  options.search_sample = 4000;
  const jm::SegmentResult sampled = jm::segment_journeys(ctx_, data.journeys, features, options);
  EXPECT_EQ(sampled.search_rows, 4000);
  ASSERT_EQ(sampled.labels.size(), full.labels.size());
  EXPECT_EQ(sampled.k, full.k);
  EXPECT_GE(adjusted_rand_index(sampled.labels, full.labels), 0.95);
  const std::vector<float> points = jm::apply_scaling(features, sampled.scaling);
  const jm::KMeansResult again = jm::lloyd(ctx_, points.data(), data.journeys.size(), static_cast<int>(sampled.scaling.dims()),
                                           sampled.initial_centroids_scaled, sampled.k, options.kmeans);
  EXPECT_EQ(again.labels, sampled.labels);
  options.search_sample = -1;
  EXPECT_THROW(jm::segment_journeys(ctx_, data.journeys, features, options), jm::ConfigError);
}

TEST_P(Segments, SeparatesPlantedBehaviours) {
  const GeneratedData data = generate(jm::testing::scratch_dir(), 20000, 42);
  const jm::FeatureMatrix features = jm::extract_features(ctx_, data.journeys, jm::FeatureOptions{});
  jm::SegmentOptions options;  // k chosen automatically over 2..8
  const jm::SegmentResult result = jm::segment_journeys(ctx_, data.journeys, features, options);
  const double ari = adjusted_rand_index(result.labels, data.truth);
  std::cout << jm::format_segments_summary(result, data.journeys) << "ARI vs planted segments: " << ari << "\n";
  std::map<std::pair<int, int>, int> confusion;
  for (size_t j = 0; j < result.labels.size(); ++j) ++confusion[{data.truth[j], result.labels[j]}];
  for (auto& [key, count] : confusion) std::cout << "  " << data.segment_names[key.first] << " -> segment " << key.second << ": " << count << "\n";

  // Segments never mix the three behaviours the generator keeps apart (long browsing sessions of
  // researchers and comparison shoppers, ad-driven impulse buys, email-triggered churn): almost
  // every journey sits in a segment whose majority shares its behaviour.
  std::vector<int> group_of(data.segment_names.size());
  for (size_t s = 0; s < data.segment_names.size(); ++s) {
    const std::string& name = data.segment_names[s];
    group_of[s] = (name == "researcher" || name == "comparison") ? 0 : (name == "impulse" ? 1 : 2);
  }
  EXPECT_GE(purity(result.labels, data.truth, group_of), 0.95);
  EXPECT_GE(result.k, 3);
  // The churners' segments never convert (they never buy in the generator).
  for (int s = 0; s < result.k; ++s) {
    int64_t churners = 0;
    for (size_t j = 0; j < result.labels.size(); ++j)
      churners += result.labels[j] == s && data.segment_names[data.truth[j]] == "churner";
    if (churners > 0.95 * result.profiles[s].size) EXPECT_LT(result.profiles[s].conversion_rate, 0.01);
  }
}

TEST_P(Segments, ProfilesDescribeTheJourneys) {
  const GeneratedData data = generate(jm::testing::scratch_dir(), 4000, 5);
  const jm::JourneySet& js = data.journeys;
  const jm::FeatureMatrix features = jm::extract_features(ctx_, js, jm::FeatureOptions{});
  jm::SegmentOptions options;
  options.k = 4;
  const jm::SegmentResult result = jm::segment_journeys(ctx_, js, features, options);
  ASSERT_EQ(result.k, 4);
  ASSERT_EQ(static_cast<int64_t>(result.labels.size()), js.size());
  int64_t total = 0;
  for (int s = 0; s < 4; ++s) {
    const jm::SegmentProfile& p = result.profiles[s];
    if (s > 0) EXPECT_GE(result.profiles[s - 1].size, p.size);  // largest first
    int64_t size = 0, converted = 0;
    for (int64_t j = 0; j < js.size(); ++j)
      if (result.labels[j] == s) {
        ++size;
        converted += js.converted[j];
      }
    EXPECT_EQ(p.size, size);
    EXPECT_NEAR(p.conversion_rate, size ? static_cast<double>(converted) / size : 0.0, 1e-12);
    EXPECT_NE(p.label.find("converts"), std::string::npos) << p.label;
    EXPECT_GE(p.top_touchpoints.size(), 1u);
    EXPECT_LE(p.top_touchpoints.size(), 3u);
    total += p.size;
  }
  EXPECT_EQ(total, js.size());
  const std::string summary = jm::format_segments_summary(result, js);
  EXPECT_NE(summary.find("product_view"), std::string::npos) << summary;  // names, not ids

  // /segments round-trips.
  const std::string path = (jm::testing::scratch_dir() / "segments.h5").string();
  {
    jm::ResultWriter writer(path);
    jm::write_features_results(writer, features, js, false);
    jm::write_segments_results(writer, result, js);
    writer.commit();
  }
  jm::ResultReader reader(path);
  EXPECT_EQ(reader.read_int32("/segments/label"), result.labels);
  EXPECT_EQ(reader.read_int_attribute("/segments", "k"), 4);
  EXPECT_EQ(reader.read_strings("/segments/profile/label").size(), 4u);
  EXPECT_EQ(reader.shape("/segments/centroids"), (std::vector<uint64_t>{4, static_cast<uint64_t>(result.scaling.dims())}));
  EXPECT_EQ(reader.read_strings("/features/names"), features.spec.names);
  EXPECT_FALSE(reader.exists("/features/matrix"));
}

TEST_P(Segments, GpuMatchesCpu) {
  if (GetParam() != Backend::Gpu) GTEST_SKIP() << "the CPU is the reference";
  const GeneratedData data = generate(jm::testing::scratch_dir(), 5000, 8);
  jm::Context cpu;
  cpu.num_threads = 2;
  const jm::FeatureMatrix features = jm::extract_features(cpu, data.journeys, jm::FeatureOptions{});
  jm::SegmentOptions options;
  options.k = 4;
  const auto expected = jm::segment_journeys(cpu, data.journeys, features, options);
  const auto actual = jm::segment_journeys(ctx_, data.journeys, features, options);
  EXPECT_GE(adjusted_rand_index(actual.labels, expected.labels), 0.999);
}

INSTANTIATE_TEST_SUITE_P(Backends, Segments, ::testing::Values(Backend::Cpu, Backend::Gpu),
                         [](const auto& info) { return info.param == Backend::Cpu ? "Cpu" : "Gpu"; });

TEST(SegmentErrors, RejectsBadOptions) {
  jm::Context ctx;
  jm::JourneySet js;
  js.offsets = {0, 1, 2};
  js.touchpoint = {js.touchpoints.encode("a"), js.touchpoints.encode("b")};
  js.channel = {js.channels.encode("web"), 0};
  js.timestamp_ms = {0, 1000};
  js.value = {0, 0};
  js.customer = {static_cast<uint32_t>(js.customers.encode("x")), static_cast<uint32_t>(js.customers.encode("y"))};
  js.converted = {0, 0};
  js.conversion_value = {0, 0};
  js.start_ms = {0, 1000};
  js.end_ms = {0, 1000};
  const jm::FeatureMatrix features = jm::extract_features(ctx, js, jm::FeatureOptions{});
  jm::SegmentOptions options;
  options.k = 3;  // more segments than journeys
  EXPECT_THROW(jm::segment_journeys(ctx, js, features, options), jm::ConfigError);
  options.k = 0;
  options.k_min = 5;
  options.k_max = 3;
  EXPECT_THROW(jm::segment_journeys(ctx, js, features, options), jm::ConfigError);
  options = jm::SegmentOptions{};
  options.columns = {"first_touchpoint"};
  EXPECT_THROW(jm::segment_journeys(ctx, js, features, options), jm::ConfigError);
  jm::FeatureMatrix short_matrix = features;
  short_matrix.n_rows = 1;
  EXPECT_THROW(jm::segment_journeys(ctx, js, short_matrix, jm::SegmentOptions{}), jm::ConfigError);
}

TEST(SegmentCommand, WritesResultAndReportsUsageErrors) {
  const auto dir = jm::testing::scratch_dir();
  jm::GeneratorOptions generator;
  generator.journeys = 1500;
  generator.num_threads = 2;
  const std::string csv = (dir / "events.csv").string();
  jm::generate_dataset(generator, csv);
  const std::string out = (dir / "segments.h5").string();

  CLI::App app;
  std::function<int()> handler;
  jm::add_segment_command(app, handler);
  std::vector<std::string> args = {"journeymap", "segment", "--input", csv, "--out", out, "--device", "cpu",
                                   "--threads", "2", "--k", "4", "--session-gap", "172800"};
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
  ASSERT_TRUE(handler);
  EXPECT_EQ(handler(), 0);
  jm::ResultReader reader(out);
  EXPECT_EQ(reader.read_int_attribute("/segments", "k"), 4);
  EXPECT_EQ(reader.read_string_attribute("/meta", "command"), "segment");
  EXPECT_TRUE(reader.exists("/features/matrix"));

  CLI::App bad_app;
  std::function<int()> bad_handler;
  jm::add_segment_command(bad_app, bad_handler);
  std::vector<const char*> bad_argv = {"journeymap", "segment", "--input", csv.c_str(), "--out", out.c_str(), "--k", "-1"};
  bad_app.parse(static_cast<int>(bad_argv.size()), bad_argv.data());
  EXPECT_THROW(bad_handler(), jm::ConfigError);
}

}  // namespace
