// `run` under a host memory budget: customers in batches, every stage a partial that adds up. A run
// in batches writes the same datasets as a run at once (outside /meta), whatever the batch size
// (the model: when its sample holds every customer; else the model of the sampled customers), and
// the settings it cannot apply are refused before anything is written.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "host/pipeline/batched_run.hpp"
#include "host/pipeline/model_sample.hpp"
#include "journeymap/common.hpp"
#include "journeymap/export.hpp"
#include "journeymap/generate.hpp"
#include "journeymap/ingest.hpp"
#include "journeymap/model.hpp"
#include "journeymap/outcome.hpp"
#include "journeymap/pipeline.hpp"
#include "journeymap/result_file.hpp"
#include "journeymap/run_config.hpp"
#include "pipeline/same_datasets.hpp"
#include "test_helpers.hpp"

namespace {

namespace fs = std::filesystem;

std::string generated_events(const fs::path& dir, int64_t journeys) {
  jm::GeneratorOptions generator;
  generator.journeys = journeys;
  generator.seed = 23;
  generator.num_threads = 2;
  const std::string events = (dir / "events.csv").string();
  jm::generate_dataset(generator, events);
  return events;
}

// The stages a run in batches computes; the others off, so both runs write the same groups.
jm::RunConfig batchable_config(const std::string& input, const std::string& output) {
  jm::RunConfig config;
  config.input_path = input;
  config.output_path = output;
  config.threads = 2;
  config.device = jm::DeviceChoice::Cpu;
  config.progress = false;
  config.journeys.session_gap_seconds = jm::kGeneratedJourneyGapSeconds;
  config.segments.search_sample = 1000;  // the search over k on a sample, the final fit streamed
  config.segments.k_max = 4;
  config.model_enabled = false;
  config.proposals_enabled = false;
  config.anomalies.journeys_enabled = false;
  return config;
}

// A budget that gives batches of about `events` events.
int64_t budget_for_batches_of(int64_t events) { return 4 * jm::kHostBytesPerBatchEvent * events; }

// The run summary's "batches: N batches of customers, ..." line (empty when there is none).
std::string batches_line(const jm::RunReport& report) {
  for (const std::string& section : report.stage_summaries)
    if (section.rfind("batches: ", 0) == 0) return section;
  return {};
}

// The number of batches the run says it used (0 when it says none).
int64_t batches_used(const jm::RunReport& report) {
  const std::string line = batches_line(report);
  return line.empty() ? 0 : std::stoll(line.substr(9));
}

void expect_same_counts(const jm::ResultReader& a, const jm::ResultReader& b) {
  for (const auto& [group, attribute] : std::vector<std::pair<std::string, std::string>>{
           {"/journeys", "n_journeys"}, {"/journeys", "n_events"}, {"/journeys", "input_events"},
           {"/patterns", "n_patterns"}, {"/patterns", "min_support_count"}, {"/flows", "n_journeys"},
           {"/flows", "n_distinct_variants"}, {"/attribution", "conversions_attributed"}, {"/segments", "k"},
           {"/segments", "iterations"}, {"/features", "n_journeys"}})
    EXPECT_EQ(a.read_int_attribute(group, attribute), b.read_int_attribute(group, attribute)) << group << " " << attribute;
}

TEST(BatchedRun, EqualsARunAtOnceInEveryDataset) {
  const fs::path dir = jm::testing::scratch_dir();
  // 20,000 journeys: the streamed k-means passes add several blocks of kmeans_rules::kSumBlockRows.
  const std::string events = generated_events(dir, 20000);
  const jm::RunReport once = jm::run_pipeline(batchable_config(events, (dir / "once.h5").string()));
  ASSERT_GT(once.summary.events, 200000);

  jm::RunConfig batched = batchable_config(events, (dir / "batched.h5").string());
  batched.host_memory_budget = budget_for_batches_of(20000);
  const jm::RunReport report = jm::run_pipeline(batched);
  const jm::ResultReader a((dir / "once.h5").string()), b((dir / "batched.h5").string());
  jm::testing::expect_same_datasets(a, b, "", /*attributes=*/true);
  expect_same_counts(a, b);
  EXPECT_EQ(report.summary.events, once.summary.events);
  EXPECT_EQ(report.summary.median_length, once.summary.median_length);
  EXPECT_EQ(report.summary.median_duration_seconds, once.summary.median_duration_seconds);
  EXPECT_EQ(report.summary.total_conversion_value, once.summary.total_conversion_value);
  EXPECT_EQ(report.summary.top_touchpoints, once.summary.top_touchpoints);
  // It did run in batches (a shard of 1,024 customers is the smallest), said in the summary.
  EXPECT_GE(batches_used(report), 4) << batches_line(report);
  EXPECT_EQ(b.read_strings("/meta/skipped_stages"), std::vector<std::string>{});
  for (const std::string& warning : report.warnings) EXPECT_EQ(warning.rfind("memory:", 0), std::string::npos) << warning;
}

TEST(BatchedRun, AnchoredFlowsNamedFunnelAndUncompressedOutputInOneEventBatches) {
  const fs::path dir = jm::testing::scratch_dir();
  const std::string events = generated_events(dir, 1500);
  auto configure = [&](const std::string& output) {
    jm::RunConfig config = batchable_config(events, (dir / output).string());
    config.flows.anchor = "product_view";
    config.flows.collapse_repeats = true;
    config.flows.funnel = {"product_view", "add_to_cart", "checkout"};
    config.output_compression = 0;
    config.anomalies.alerts.bucket_seconds = 3600;
    config.attribution.markov_order = 3;
    config.attribution.markov_max_ids = 4;  // rare touchpoints and channels share a Markov state
    return config;
  };
  jm::run_pipeline(configure("once.h5"));
  jm::RunConfig batched = configure("batched.h5");
  batched.host_memory_budget = budget_for_batches_of(1);  // every customer shard a batch of its own
  const jm::RunReport report = jm::run_pipeline(batched);
  // A budget this small cannot hold the dictionaries and per-journey sums either: said, not hidden.
  EXPECT_TRUE(std::any_of(report.warnings.begin(), report.warnings.end(),
                          [](const std::string& w) { return w.rfind("memory: what grows with the whole input", 0) == 0; }));
  const jm::ResultReader a((dir / "once.h5").string()), b((dir / "batched.h5").string());
  jm::testing::expect_same_datasets(a, b, "", /*attributes=*/true);
  expect_same_counts(a, b);
  EXPECT_GT(a.read_int_attribute("/flows", "journeys_without_anchor"), 0);
  EXPECT_TRUE(a.exists("/attribution/touchpoint/markov_pooled"));
  EXPECT_TRUE(a.exists("/attribution/touchpoint/markov_higher"));
  EXPECT_FALSE(a.read_int64("/flows/funnel/reached_by_segment").empty());
}

// Parquet read row group by row group into the batches: the result of the CSV it was written from,
// run at once.
TEST(BatchedRun, ParquetInBatchesEqualsTheCsvAtOnce) {
  if (!jm::parquet_export_available()) GTEST_SKIP() << "this build has no Apache Arrow";
  const fs::path dir = jm::testing::scratch_dir();
  const std::string events = generated_events(dir, 1500);
  const std::string parquet = (dir / "events.parquet").string();
  jm::write_table_parquet(jm::event_table(jm::read_events_csv(events, jm::CsvOptions{}).events), parquet, 1000);
  jm::run_pipeline(batchable_config(events, (dir / "once.h5").string()));
  jm::RunConfig batched = batchable_config(parquet, (dir / "batched.h5").string());
  batched.host_memory_budget = budget_for_batches_of(2000);
  jm::run_pipeline(batched);
  const jm::ResultReader a((dir / "once.h5").string()), b((dir / "batched.h5").string());
  jm::testing::expect_same_datasets(a, b, "", /*attributes=*/true);
  expect_same_counts(a, b);
}

// With segments off and the model on, a run at once still computes and writes /features (the model
// reads them); the run in batches writes the same, and says the model was skipped.
// A model small enough for the suite: few coarse rounds over prefixes of up to three events.
void quick_model(jm::RunConfig& config) {
  config.segments_enabled = false;
  config.model_enabled = true;
  config.model.rounds = 30;
  config.model.learning_rate = 0.3;
  config.model.max_depth = 4;
  config.model.prefix_max_events = 3;
}

// A model sample that holds every customer: the model of a run at once, trained on features that
// came batch by batch.
TEST(BatchedRun, TheModelOnEveryCustomerEqualsARunAtOnce) {
  const fs::path dir = jm::testing::scratch_dir();
  const std::string events = generated_events(dir, 1500);
  auto configure = [&](const std::string& output) {
    jm::RunConfig config = batchable_config(events, (dir / output).string());
    quick_model(config);
    config.model_path = (dir / (output + ".ubj")).string();
    return config;
  };
  jm::run_pipeline(configure("once.h5"));
  jm::RunConfig batched = configure("batched.h5");
  batched.host_memory_budget = budget_for_batches_of(3000);
  batched.model_sample_events = 1'000'000;
  const jm::RunReport report = jm::run_pipeline(batched);
  const jm::ResultReader a((dir / "once.h5").string()), b((dir / "batched.h5").string());
  jm::testing::expect_same_datasets(a, b, "", /*attributes=*/true);
  EXPECT_EQ(b.read_strings("/meta/skipped_stages"), std::vector<std::string>{});
  EXPECT_EQ(b.read_int_attribute("/model", "sample_journeys"), a.read_int_attribute("/journeys", "n_journeys"));
  EXPECT_EQ(b.read_int_attribute("/model", "input_journeys"), a.read_int_attribute("/journeys", "n_journeys"));
  EXPECT_EQ(b.read_int_attribute("/model", "rounds_trained"), a.read_int_attribute("/model", "rounds_trained"));
  // The saved model scores as the one of the run at once.
  const jm::Model once = jm::load_model(configure("once.h5").model_path), in_batches = jm::load_model(batched.model_path);
  const std::vector<float> row(once.feature_names.size(), 1.0f);
  const jm::MatrixView view{row.data(), 1, static_cast<int64_t>(row.size())};
  EXPECT_EQ(jm::predict(jm::Context{}, once, view), jm::predict(jm::Context{}, in_batches, view));
  EXPECT_GE(report.stage_summaries.size(), 1u);
}

// The default sample (about one batch of events): the model is the one a run at once trains on the
// journeys of the sampled customers, and its journey indices are those of the whole input.
class BatchedModel : public ::testing::TestWithParam<jm::ModelTarget> {};

TEST_P(BatchedModel, OnASampleItIsTheModelOfTheSampledCustomers) {
  const fs::path dir = jm::testing::scratch_dir();
  const std::string events = generated_events(dir, 3000);
  jm::RunConfig config = batchable_config(events, (dir / "batched.h5").string());
  quick_model(config);
  config.model.target = GetParam();
  config.host_memory_budget = budget_for_batches_of(12000);
  const jm::RunReport report = jm::run_pipeline(config);
  const jm::ResultReader result(config.output_path);

  // The same by hand: every journey at once, then those of the customers in the sample.
  jm::Context ctx;
  ctx.num_threads = 2;
  jm::IngestResult ingest = jm::read_events(events, config.csv);
  const jm::JourneySet journeys =
      jm::build_outcome_journeys(ctx, ingest.events, config.journeys, jm::effective_outcome(config)).journeys;
  const jm::FeatureMatrix features = jm::extract_features(ctx, journeys, config.features);
  const double fraction = static_cast<double>(jm::batch_events_for_budget(config.host_memory_budget)) /
                          static_cast<double>(report.summary.events);
  std::vector<int64_t> rows;
  for (int64_t j = 0; j < journeys.size(); ++j)
    if (jm::in_model_sample(journeys.customer[static_cast<size_t>(j)], fraction, config.model.seed)) rows.push_back(j);
  ASSERT_GT(rows.size(), 100u);
  ASSERT_LT(rows.size(), static_cast<size_t>(journeys.size()) / 2);
  jm::FeatureMatrix sampled_features;
  sampled_features.spec = features.spec;
  sampled_features.n_rows = static_cast<int64_t>(rows.size());
  for (const int64_t j : rows)
    for (int64_t c = 0; c < features.num_features(); ++c) sampled_features.values.push_back(features.at(j, c));
  // Churn: a customer's last journey is judged against the end of all the data, not of the sample
  // (the rule itself: ModelLabels.ConversionChurnAndValue).
  jm::ModelOptions options = config.model;
  options.churn_data_end_ms = *std::max_element(journeys.end_ms.begin(), journeys.end_ms.end());
  const jm::ModelResult expected =
      jm::train_journey_model(ctx, jm::select_journeys(journeys, rows), sampled_features, options);

  EXPECT_EQ(result.read_int_attribute("/model", "sample_journeys"), static_cast<int64_t>(rows.size()));
  EXPECT_EQ(result.read_int_attribute("/model", "input_journeys"), journeys.size());
  std::vector<int64_t> test_journeys;
  for (const int64_t j : expected.test_journeys) test_journeys.push_back(rows[static_cast<size_t>(j)]);
  EXPECT_EQ(result.read_int64("/model/holdout/journey"), test_journeys);
  const std::vector<double> predicted = result.read_double("/model/holdout/prediction");
  ASSERT_EQ(predicted.size(), expected.test_predictions.size());
  for (size_t i = 0; i < predicted.size(); ++i) EXPECT_EQ(predicted[i], expected.test_predictions[i]) << i;
  EXPECT_EQ(result.read_double("/model/prefix/model"),
            [&] {
              std::vector<double> auc;
              for (const jm::PrefixPoint& point : expected.prefix_curve) auc.push_back(point.model_auc);
              return auc;
            }());
  // Said in the run summary.
  EXPECT_TRUE(std::any_of(report.stage_summaries.begin(), report.stage_summaries.end(), [](const std::string& s) {
    return s.find("trained and evaluated on a seeded sample of") != std::string::npos;
  }));
}

INSTANTIATE_TEST_SUITE_P(Targets, BatchedModel, ::testing::Values(jm::ModelTarget::Conversion, jm::ModelTarget::Churn),
                         [](const ::testing::TestParamInfo<jm::ModelTarget>& info) {
                           return std::string(jm::to_string(info.param));
                         });

// A sample too small to hold a test set: the model is skipped with its reason (naming the setting
// to raise), and the rest of the run is written.
TEST(BatchedRun, AModelSampleTooSmallToTrainOnIsSkippedWithItsReason) {
  const fs::path dir = jm::testing::scratch_dir();
  const std::string events = generated_events(dir, 3000);
  jm::RunConfig config = batchable_config(events, (dir / "batched.h5").string());
  quick_model(config);
  config.host_memory_budget = budget_for_batches_of(12000);
  config.model_sample_events = 50;
  jm::run_pipeline(config);
  const jm::ResultReader result(config.output_path);
  const std::vector<std::string> skipped = result.read_strings("/meta/skipped_stages");
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0].rfind("model: ", 0), 0u) << skipped[0];
  EXPECT_NE(skipped[0].find("[run] model_sample_events"), std::string::npos) << skipped[0];
  EXPECT_FALSE(result.exists("/model"));
  EXPECT_TRUE(result.exists("/features/matrix"));
}

// The anomaly columns streamed back from the scratch file: the autoencoder's training sample (here
// smaller than the journeys, after two trimming rounds), the forest's trees, every score, flag and
// the top journeys with their reasons and paths as a run at once computes them.
TEST(BatchedRun, JourneyAnomalyScoresEqualARunAtOnce) {
  const fs::path dir = jm::testing::scratch_dir();
  const std::string events = generated_events(dir, 3000);
  auto configure = [&](const std::string& output) {
    jm::RunConfig config = batchable_config(events, (dir / output).string());
    config.segments_enabled = false;
    config.anomalies.journeys_enabled = true;
    jm::JourneyAnomalyOptions& options = config.anomalies.journeys;
    options.autoencoder.max_train_rows = 700;
    options.autoencoder.epochs = 4;
    options.top_n = 6;
    return config;
  };
  jm::run_pipeline(configure("once.h5"));
  jm::RunConfig batched = configure("batched.h5");
  batched.host_memory_budget = budget_for_batches_of(2000);
  const jm::RunReport report = jm::run_pipeline(batched);
  const jm::ResultReader a((dir / "once.h5").string()), b((dir / "batched.h5").string());
  jm::testing::expect_same_datasets(a, b, "", /*attributes=*/true);
  EXPECT_EQ(a.read_int_attribute("/anomalies", "train_rows"), 700);
  EXPECT_EQ(b.read_int_attribute("/anomalies", "train_rows"), 700);
  EXPECT_EQ(b.read_strings("/anomalies/top/path").size(), 6u);
  EXPECT_GT(b.read_double("/anomalies/score").size(), 2800u);
  EXPECT_GE(batches_used(report), 2) << batches_line(report);
}

// The last batch's customers have nothing but an outcome event: no journeys there, and the outcome
// labels still come from the batches that had some.
TEST(BatchedRun, ALastBatchWithoutJourneysKeepsTheOutcomeLabels) {
  const fs::path dir = jm::testing::scratch_dir();
  std::string csv = "customer_id,timestamp,touchpoint,channel,value,conversion\n";
  for (int c = 0; c < 1100; ++c) {
    char customer[16];
    std::snprintf(customer, sizeof customer, "c%05d", c);
    if (c < 1024) csv += std::string(customer) + ",2026-01-05T10:00:00Z,home,web,0,0\n";
    if (c < 1024 && c % 3 != 0) csv += std::string(customer) + ",2026-01-05T10:05:00Z,cart,web,0,0\n";
    if (c % 2 == 0 || c >= 1024) csv += std::string(customer) + ",2026-01-05T10:10:00Z,purchase,web,20,1\n";
  }
  const std::string events = jm::testing::write_file(dir / "events.csv", csv);
  auto configure = [&](const std::string& output) {
    jm::RunConfig config = batchable_config(events, (dir / output).string());
    config.segments_enabled = false;
    config.patterns.min_support = jm::MinSupport::count(2);
    return config;
  };
  jm::run_pipeline(configure("once.h5"));
  jm::RunConfig batched = configure("batched.h5");
  batched.host_memory_budget = budget_for_batches_of(2220);  // shard 0 (2,218 events) in one batch, shard 1 in another
  const jm::RunReport report = jm::run_pipeline(batched);
  const jm::ResultReader a((dir / "once.h5").string()), b((dir / "batched.h5").string());
  jm::testing::expect_same_datasets(a, b, "", /*attributes=*/true);
  EXPECT_EQ(b.read_strings("/vocab/outcomes"), a.read_strings("/vocab/outcomes"));
  EXPECT_EQ(b.read_string_attribute("/journeys", "positive_outcome"), "converted");
  EXPECT_EQ(report.outcome_stats.journeys_without_events, 76);
  EXPECT_EQ(batches_used(report), 2) << batches_line(report);
}

// Every stage on, as by default, with a model sample that holds every customer: the whole file of
// a run at once. The proposals (funnel steps, abandonment, anomaly clusters) come from tallies.
TEST(BatchedRun, EveryStageOfADefaultRunEqualsARunAtOnce) {
  const fs::path dir = jm::testing::scratch_dir();
  const std::string events = generated_events(dir, 2500);
  auto configure = [&](const std::string& output) {
    jm::RunConfig config;  // every stage on
    config.input_path = events;
    config.output_path = (dir / output).string();
    config.device = jm::DeviceChoice::Cpu;
    config.threads = 2;
    config.progress = false;
    config.journeys.session_gap_seconds = jm::kGeneratedJourneyGapSeconds;
    config.model.rounds = 30;  // a small model keeps the suite fast
    config.model.prefix_max_events = 3;
    return config;
  };
  jm::run_pipeline(configure("once.h5"));
  jm::RunConfig batched = configure("batched.h5");
  batched.host_memory_budget = budget_for_batches_of(8000);
  batched.model_sample_events = 10'000'000;
  const jm::RunReport report = jm::run_pipeline(batched);
  const jm::ResultReader a((dir / "once.h5").string()), b((dir / "batched.h5").string());
  jm::testing::expect_same_datasets(a, b, "", /*attributes=*/true);
  EXPECT_EQ(b.read_strings("/meta/skipped_stages"), std::vector<std::string>{});
  for (const char* dataset : {"/segments/label", "/model/holdout/prediction", "/anomalies/score", "/alerts",
                              "/patterns/support", "/attribution/channel/markov", "/proposals"})
    EXPECT_TRUE(b.exists(dataset)) << dataset;
  EXPECT_GT(a.read_strings("/proposals/kind").size(), 0u);
  EXPECT_GE(batches_used(report), 2) << batches_line(report);
}

TEST(BatchedRun, SettingsNotAppliedInBatchesAreRefusedBeforeAnythingIsWritten) {
  const fs::path dir = jm::testing::scratch_dir();
  const std::string events = generated_events(dir, 200);
  auto refused = [&](const std::function<void(jm::RunConfig&)>& set, const std::string& named) {
    jm::RunConfig config = batchable_config(events, (dir / "refused.h5").string());
    config.host_memory_budget = budget_for_batches_of(1000);
    set(config);
    try {
      jm::run_pipeline(config);
      ADD_FAILURE() << named << " was not refused";
    } catch (const jm::ConfigError& error) {
      EXPECT_NE(std::string(error.what()).find(named), std::string::npos) << error.what();
    }
    EXPECT_FALSE(fs::exists(dir / "refused.h5")) << named;
  };
  refused([](jm::RunConfig& c) { c.filter.channels = {"web"}; }, "[filter]");
  refused([](jm::RunConfig& c) { c.patterns.top_k = 10; }, "top_k");
  refused([](jm::RunConfig& c) { c.compare_enabled = true; }, "[compare]");
  refused([&](jm::RunConfig& c) { c.append_base = (dir / "base.h5").string(); }, "--append");
  refused([](jm::RunConfig& c) { c.outcome.window_days = 30; }, "window");
  refused([&](jm::RunConfig& c) { c.identity.files = {(dir / "ids.csv").string()}; }, "[identity] files need [[source]]");
  refused(
      [](jm::RunConfig& c) {
        c.input_format = jm::InputFormat::Spmf;
        c.csv.on_error = jm::OnError::Skip;
      },
      "--on-error skip applies to CSV input only");
  // k-means over every journey at once (a fixed k) where the budget holds far fewer points.
  refused(
      [](jm::RunConfig& c) {
        c.segments.k = 3;
        c.host_memory_budget = budget_for_batches_of(1);
      },
      "k-means would run on all");
}

// On a GPU: a run in batches (device and host budgets) against the GPU run at once. The journeys,
// patterns, flows, attribution, alerts and proposals are counts: equal. Features per batch are the
// device kernels' per journey: equal. Segments' final fit streams through CPU Lloyd steps and the
// anomaly rows are standardised on the host in batches (on the device at once: log1p may differ by
// an ulp), so those are compared loosely: the same k, and anomaly scores within 1e-3 relative for
// 99% of the journeys.
TEST(BatchedRun, OnTheGpuARunInBatchesAgreesWithTheGpuRunAtOnce) {
  if (!jm::gpu_available()) GTEST_SKIP() << "no CUDA device: " << jm::gpu_description();
  const fs::path dir = jm::testing::scratch_dir();
  const std::string events = generated_events(dir, 20000);
  auto configure = [&](const std::string& output) {
    jm::RunConfig config = batchable_config(events, (dir / output).string());
    config.device = jm::DeviceChoice::Gpu;
    config.anomalies.journeys_enabled = true;
    config.proposals_enabled = true;
    return config;
  };
  jm::run_pipeline(configure("once.h5"));
  jm::RunConfig batched = configure("batched.h5");
  batched.host_memory_budget = budget_for_batches_of(60000);
  batched.device_memory_budget = 2 * jm::kDeviceBytesPerBatchEvent * 50000;
  const jm::RunReport report = jm::run_pipeline(batched);
  EXPECT_EQ(report.backend, "gpu");
  const jm::ResultReader a((dir / "once.h5").string()), b((dir / "batched.h5").string());
  for (const char* group : {"/journeys", "/patterns", "/flows", "/attribution", "/alerts", "/proposals", "/features"})
    jm::testing::expect_same_datasets(a, b, group);
  EXPECT_EQ(b.read_int_attribute("/segments", "k"), a.read_int_attribute("/segments", "k"));
  const std::vector<double> once = a.read_double("/anomalies/score"), in_batches = b.read_double("/anomalies/score");
  ASSERT_EQ(once.size(), in_batches.size());
  size_t apart = 0;
  for (size_t j = 0; j < once.size(); ++j) apart += std::fabs(in_batches[j] - once[j]) > 1e-3 * std::fabs(once[j]);
  EXPECT_LT(apart, once.size() / 100);
}

// A GPU memory budget alone sizes the batches (half of it at kDeviceBytesPerBatchEvent an event):
// a run in batches, the same file.
TEST(BatchedRun, ADeviceMemoryBudgetAloneRunsInBatchesOfItsSize) {
  const fs::path dir = jm::testing::scratch_dir();
  const std::string events = generated_events(dir, 3000);
  jm::run_pipeline(batchable_config(events, (dir / "once.h5").string()));
  jm::RunConfig batched = batchable_config(events, (dir / "batched.h5").string());
  batched.device_memory_budget = 2 * jm::kDeviceBytesPerBatchEvent * 8000;
  EXPECT_EQ(jm::batch_events_for(batched), 8000);
  batched.host_memory_budget = budget_for_batches_of(6000);  // the smaller of the two
  EXPECT_EQ(jm::batch_events_for(batched), 6000);
  batched.host_memory_budget = 0;
  const jm::RunReport report = jm::run_pipeline(batched);
  const jm::ResultReader a((dir / "once.h5").string()), b((dir / "batched.h5").string());
  jm::testing::expect_same_datasets(a, b, "", /*attributes=*/true);
  EXPECT_GE(batches_used(report), 2) << batches_line(report);
  EXPECT_NE(batches_line(report).find("at most 8000 events each ([run] device_memory_budget"), std::string::npos)
      << batches_line(report);
}

// The comparison itself sees a differing attribute and a missing one (it is what every test here
// relies on).
TEST(SameDatasets, SeesAttributesThatDiffer) {
  const fs::path dir = jm::testing::scratch_dir();
  auto write = [&](const std::string& name, double ratio, bool extra) {
    jm::ResultWriter out((dir / name).string());
    out.write("/group/values", std::vector<double>{1.0, 2.0});
    out.write_attribute("/group/values", "ratio", ratio);
    out.write_attribute("/group", "total_seconds", ratio);  // timings are not compared
    if (extra) out.write_attribute("/group", "extra", int64_t{1});
    out.commit();
  };
  write("a.h5", 0.5, false);
  write("b.h5", 0.25, false);
  write("c.h5", 0.5, true);
  const jm::ResultReader a((dir / "a.h5").string()), b((dir / "b.h5").string()), c((dir / "c.h5").string());
  jm::testing::expect_same_datasets(a, a, "", true);
  EXPECT_NONFATAL_FAILURE(jm::testing::expect_same_datasets(a, b, "", true), "@ratio");
  EXPECT_NONFATAL_FAILURE(jm::testing::expect_same_datasets(a, c, "", true), "extra");
}

TEST(MemorySize, ReadsUnitsAndRefusesWhatIsNotASize) {
  EXPECT_EQ(jm::parse_memory_size("4GiB", "x"), int64_t{4} << 30);
  EXPECT_EQ(jm::parse_memory_size("512 MB", "x"), 512000000);
  EXPECT_EQ(jm::parse_memory_size("1.5kib", "x"), 1536);
  EXPECT_EQ(jm::parse_memory_size("1000000", "x"), 1000000);
  for (const char* bad : {"", "0", "-1GiB", "4 GX", "GiB", "1e3", "99999999999TiB"})
    EXPECT_THROW(jm::parse_memory_size(bad, "x"), jm::ConfigError) << bad;
  for (const int64_t bytes : {int64_t{4} << 30, int64_t{1536} << 20, int64_t{1000000}})
    EXPECT_EQ(jm::parse_memory_size(jm::format_memory_size(bytes), "x"), bytes);
}

TEST(MemorySize, TheBudgetTravelsThroughTheConfigurationFile) {
  jm::RunConfig config;
  jm::apply_config_text("[run]\nhost_memory_budget = \"3GiB\"\ndevice_memory_budget = \"8GiB\"\n"
                        "model_sample_events = 500000\n",
                        "test.toml", config);
  EXPECT_EQ(config.host_memory_budget, int64_t{3} << 30);
  EXPECT_EQ(config.device_memory_budget, int64_t{8} << 30);
  EXPECT_EQ(config.model_sample_events, 500000);
  jm::RunConfig again;
  jm::apply_config_text(jm::to_toml(config), "again.toml", again);
  EXPECT_EQ(again.host_memory_budget, config.host_memory_budget);
  EXPECT_EQ(again.device_memory_budget, config.device_memory_budget);
  EXPECT_EQ(again.model_sample_events, config.model_sample_events);
  EXPECT_THROW(jm::apply_config_text("[run]\nhost_memory_budget = \"lots\"\n", "bad.toml", again), jm::ConfigError);
  EXPECT_THROW(jm::apply_config_text("[run]\ndevice_memory_budget = \"-1GiB\"\n", "bad.toml", again), jm::ConfigError);
  EXPECT_THROW(jm::apply_config_text("[run]\nmodel_sample_events = -5\n", "bad.toml", again), jm::ConfigError);
}

}  // namespace
