// `mpirun -np N journeymap run` on loopback: every stage (journeys, features, patterns, segments,
// flows, attribution, the model, anomalies, proposals) gives the result of one process: every
// count equal, floating-point sums within 1e-9 relative (k-means and the anomaly scores within
// 1e-5; the model, boosted in XGBoost's collective, within a stated tolerance), the same journeys, feature rows and segments (in rank order rather than the
// input's, so compared per customer); a failing process stops every process and nothing is
// written; a launcher's single process runs as a process started alone.
// Skips when this build has no MPI or mpirun is not on the PATH.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "host/distributed/journey_records.hpp"
#include "journeymap/common.hpp"
#include "journeymap/result_file.hpp"
#include "pipeline/same_datasets.hpp"
#include "test_helpers.hpp"

namespace {

namespace fs = std::filesystem;

using jm::testing::CommandResult;
using jm::testing::mpirun;
using jm::testing::run_shell;

std::string cli() { return jm::testing::cli_path(); }

// Every journey of a result as (customer name, start) -> its columns, whatever order the file holds
// them in.
using JourneyColumns = std::tuple<std::vector<int64_t>, std::vector<int64_t>, std::vector<int64_t>, int64_t, int64_t,
                                  int64_t, int64_t, double>;
std::map<std::pair<std::string, int64_t>, JourneyColumns> journeys_by_customer(const jm::ResultReader& file) {
  const std::vector<std::string> customers = file.read_strings("/vocab/customers");
  const std::vector<int64_t> offsets = file.read_int64("/journeys/offsets"), touchpoint = file.read_int64("/journeys/touchpoint"),
                             channel = file.read_int64("/journeys/channel"), time = file.read_int64("/journeys/timestamp_ms"),
                             customer = file.read_int64("/journeys/customer"), converted = file.read_int64("/journeys/converted"),
                             start = file.read_int64("/journeys/start_ms"), end = file.read_int64("/journeys/end_ms"),
                             outcome = file.read_int64("/journeys/outcome");
  const std::vector<double> value = file.read_double("/journeys/conversion_value");
  std::map<std::pair<std::string, int64_t>, JourneyColumns> out;
  for (size_t j = 0; j + 1 < offsets.size(); ++j) {
    const auto first = touchpoint.begin() + offsets[j], last = touchpoint.begin() + offsets[j + 1];
    JourneyColumns columns{std::vector<int64_t>(first, last),
                           std::vector<int64_t>(channel.begin() + offsets[j], channel.begin() + offsets[j + 1]),
                           std::vector<int64_t>(time.begin() + offsets[j], time.begin() + offsets[j + 1]),
                           converted[j], end[j], outcome[j], offsets[j + 1] - offsets[j], value[j]};
    const bool fresh = out.emplace(std::make_pair(customers.at(static_cast<size_t>(customer[j])), start[j]), columns).second;
    EXPECT_TRUE(fresh) << "two journeys of one customer start at the same time";
  }
  return out;
}

void expect_same_run(const std::string& single, const std::string& across) {
  const jm::ResultReader a(single), b(across);
  // Every aggregate: integers and strings exactly, floating point within 1e-9 relative (sums
  // added in another grouping); the per-journey datasets are compared per customer below.
  jm::testing::expect_same_datasets(a, b, "", /*attributes=*/false, 1e-9, {"/journeys", "/vocab/customers"});
  EXPECT_EQ(journeys_by_customer(a), journeys_by_customer(b));
  EXPECT_EQ(a.read_strings("/vocab/customers").size(), b.read_strings("/vocab/customers").size());
  for (const std::string name : {"n_journeys", "n_events", "input_events", "duplicates_dropped", "events_truncated"})
    EXPECT_EQ(a.read_int_attribute("/journeys", name), b.read_int_attribute("/journeys", name)) << name;
  jm::testing::expect_same_meta(a, b);
}

// Every journey's feature row and segment, keyed as journeys_by_customer keys them.
std::map<std::pair<std::string, int64_t>, std::pair<std::vector<float>, int64_t>> features_by_customer(
    const jm::ResultReader& file) {
  const std::vector<std::string> customers = file.read_strings("/vocab/customers");
  const std::vector<int64_t> customer = file.read_int64("/journeys/customer"), start = file.read_int64("/journeys/start_ms"),
                             label = file.read_int64("/segments/label");
  const std::vector<float> matrix = file.read_float("/features/matrix");
  const size_t columns = file.read_strings("/features/names").size();
  EXPECT_EQ(matrix.size(), customer.size() * columns);
  EXPECT_EQ(label.size(), customer.size());
  std::map<std::pair<std::string, int64_t>, std::pair<std::vector<float>, int64_t>> out;
  for (size_t j = 0; j < customer.size() && (j + 1) * columns <= matrix.size() && j < label.size(); ++j)
    out[{customers.at(static_cast<size_t>(customer[j])), start[j]}] = {
        std::vector<float>(matrix.begin() + static_cast<std::ptrdiff_t>(j * columns),
                           matrix.begin() + static_cast<std::ptrdiff_t>((j + 1) * columns)),
        label[j]};
  return out;
}

// The rows of a CSV file (header first) with the customers in the order `customers` lists them, so
// that one process builds the journeys in the order a run across processes holds them.
void write_in_customer_order(const std::string& input, const std::vector<std::string>& customers,
                             const std::string& output) {
  std::map<std::string, size_t> rank;
  for (size_t c = 0; c < customers.size(); ++c) rank[customers[c]] = c;
  std::ifstream in(input);
  std::string header, line;
  std::getline(in, header);
  std::vector<std::pair<size_t, std::string>> rows;
  while (std::getline(in, line)) rows.emplace_back(rank.at(line.substr(0, line.find(','))), line);
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::ofstream out(output);
  out << header << "\n";
  for (const auto& row : rows) out << row.second << "\n";
}

// Features, segments, the model and the journey anomaly scores across processes against one
// process. The seeded choices of k-means (the search sample, the k-means++ starts), the model's
// rows and the anomaly detectors' training samples follow the journeys' order, and the model's
// sample of customers their ids, which across processes are in rank order: against one process
// over the input in that order, every /features, /segments, /anomalies and /proposals dataset is
// the same (floating point within 1e-5 relative: each Lloyd step's sums are added in another
// grouping), and the model within a stated tolerance (its boosting runs in XGBoost's collective);
// against one process over the input as it is, the same features per journey, the same
// segments (k, sizes, each journey's segment: the data's segments are clear) and every other
// aggregate as expect_same_run compares them.
// The model across processes against one process over the same rows: the split, the sample, the
// rows, the labels and the baseline are the same; the trees come from XGBoost's collective, whose
// quantile sketch merged over the processes may put bin edges elsewhere (with bins that hold every
// value it grows the same trees: test_boosting_across), so the quality agrees within a stated
// tolerance: AUC within 0.03 at the decision point and at each prefix length, log loss within
// 0.03, test predictions correlated above 0.95.
void expect_same_model_within_tolerance(const jm::ResultReader& r, const jm::ResultReader& b) {
  const std::vector<std::string> boosted{"/model/calibration/count",  "/model/calibration/mean_predicted",
                                         "/model/calibration/observed_rate", "/model/curves",
                                         "/model/history",            "/model/holdout/prediction",
                                         "/model/importance",         "/model/in_flight/prediction",
                                         "/model/metrics/model",      "/model/prefix/model",
                                         "/model/prefix/prefix_model"};
  jm::testing::expect_same_datasets(r, b, "/model", false, 1e-5, boosted);
  const std::vector<double> single = r.read_double("/model/metrics/model"), across = b.read_double("/model/metrics/model");
  ASSERT_EQ(r.read_strings("/model/metrics/name").at(0), "roc_auc");
  ASSERT_EQ(r.read_strings("/model/metrics/name").at(2), "log_loss");
  EXPECT_NEAR(across.at(0), single.at(0), 0.03) << "ROC-AUC";
  EXPECT_NEAR(across.at(2), single.at(2), 0.03) << "log loss";
  const std::vector<double> prefix_single = r.read_double("/model/prefix/model"), prefix_across = b.read_double("/model/prefix/model");
  ASSERT_EQ(prefix_single.size(), prefix_across.size());
  for (size_t k = 0; k < prefix_single.size(); ++k)
    if (!std::isnan(prefix_single[k])) EXPECT_NEAR(prefix_across[k], prefix_single[k], 0.03) << "AUC at k = " << k + 1;
  EXPECT_GT(jm::testing::correlation(r.read_float("/model/holdout/prediction"), b.read_float("/model/holdout/prediction")), 0.95);
}

void expect_same_segments(const std::string& single, const std::string& single_in_rank_order, const std::string& across) {
  const jm::ResultReader a(single), r(single_in_rank_order), b(across);
  for (const std::string group : {"/features", "/segments", "/anomalies", "/proposals"})
    jm::testing::expect_same_datasets(r, b, group, false, 1e-5);
  expect_same_model_within_tolerance(r, b);
  for (const std::string name : {"sample_journeys", "input_journeys"})
    EXPECT_EQ(r.read_int_attribute("/model", name), b.read_int_attribute("/model", name)) << name;
  for (const std::string name : {"k", "k_chosen_automatically", "search_rows", "iterations"})
    EXPECT_EQ(r.read_int_attribute("/segments", name), b.read_int_attribute("/segments", name)) << name;
  for (const std::string name : {"inertia", "silhouette"})
    EXPECT_NEAR(r.read_double_attribute("/segments", name), b.read_double_attribute("/segments", name),
                1e-5 * std::abs(r.read_double_attribute("/segments", name)))
        << name;

  jm::testing::expect_same_datasets(a, b, "", false, 1e-9,
                                    {"/journeys", "/vocab/customers", "/features/matrix", "/segments", "/model",
                                     "/anomalies", "/proposals"});
  EXPECT_EQ(journeys_by_customer(a), journeys_by_customer(b));
  EXPECT_EQ(features_by_customer(a), features_by_customer(b));
  EXPECT_EQ(a.read_int_attribute("/segments", "k"), b.read_int_attribute("/segments", "k"));
  EXPECT_EQ(a.read_int64("/segments/profile/size"), b.read_int64("/segments/profile/size"));
  jm::testing::expect_same_meta(a, b);
}

class RunAcrossProcesses : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const std::string why = jm::testing::why_no_mpi_runs(); !why.empty()) GTEST_SKIP() << why;
    dir_ = jm::testing::scratch_dir();
    events_ = (dir_ / "events.csv").string();
    ASSERT_EQ(run_shell(cli() + " generate --journeys 2500 --seed 14 --threads 2 --out " + events_).exit_code, 0);
    config_ = (dir_ / "across.toml").string();
    std::ofstream(config_) << "[segments]\nenabled = false\n[model]\nenabled = false\n[anomalies]\njourneys = false\n"
                           << "[patterns]\nmin_support = 0.03\nmax_length = 4\n";
  }
  std::string run(const std::string& input, const std::string& out, const std::string& extra = "") const {
    return " run --config " + config_ + " --input " + input + " --out " + out + " --device cpu --threads 1 --quiet" + extra;
  }
  fs::path dir_;
  std::string events_, config_;
};

TEST_F(RunAcrossProcesses, OneTwoAndFourProcessesGiveTheResultOfOne) {
  const std::string single = (dir_ / "single.h5").string();
  const CommandResult alone = run_shell(cli() + run(events_, single));
  ASSERT_EQ(alone.exit_code, 0) << alone.output;
  {
    const jm::ResultReader a(single);
    for (const std::string group : {"patterns", "flows", "attribution", "alerts", "proposals"})
      EXPECT_TRUE(a.exists("/" + group)) << group << " must be in the comparison";
    EXPECT_GT(a.read_int64("/patterns/support").size(), 20u);
  }
  for (const int processes : {1, 2, 4}) {
    const std::string out = (dir_ / ("across_" + std::to_string(processes) + ".h5")).string();
    const CommandResult across = run_shell(mpirun() + " -np " + std::to_string(processes) + " " + cli() + run(events_, out));
    ASSERT_EQ(across.exit_code, 0) << across.output;
    SCOPED_TRACE(std::to_string(processes) + " processes");
    expect_same_run(single, out);
    // The result says how many processes made it (1: a launcher's single process runs alone).
    EXPECT_EQ(jm::ResultReader(out).read_int_attribute("/meta", "processes"), processes);
    EXPECT_EQ(jm::ResultReader(single).read_int_attribute("/meta", "processes"), 1);
  }
  // Several batches on each process (a small host memory budget), and every exchange cut into
  // rounds of 4 KiB (as exchanges beyond MPI's 2 GiB counts are): the same again.
  const std::string batched = (dir_ / "across_batched.h5").string();
  const CommandResult across = run_shell(mpirun() + " -x JM_EXCHANGE_ROUND_BYTES=4096 -np 3 " + cli() +
                                         run(events_, batched, " --memory-budget 12MiB"));
  ASSERT_EQ(across.exit_code, 0) << across.output;
  EXPECT_NE(across.output.find("processes: 3"), std::string::npos) << across.output;
  expect_same_run(single, batched);
}

TEST_F(RunAcrossProcesses, ProcessesOwningNoCustomersStillFinish) {
  const fs::path tiny = dir_ / "tiny.csv";
  std::ofstream(tiny) << "customer_id,timestamp,touchpoint,channel,value,conversion\n"
                         "a,2026-01-01T00:00:00Z,home,web,0,0\na,2026-01-01T00:01:00Z,cart,web,0,0\n"
                         "b,2026-01-01T00:00:00Z,home,web,0,0\nb,2026-01-01T00:02:00Z,buy,web,0,0\n"
                         "b,2026-01-01T00:02:00Z,email,web,0,0\n";
  const std::string extra = " --conversion-touchpoint buy";
  const std::string single = (dir_ / "tiny_single.h5").string();
  ASSERT_EQ(run_shell(cli() + run(tiny.string(), single, extra)).exit_code, 0);
  const std::string out = (dir_ / "tiny_across.h5").string();
  const CommandResult across = run_shell("timeout 120 " + mpirun() + " -np 5 " + cli() + run(tiny.string(), out, extra));
  ASSERT_EQ(across.exit_code, 0) << across.output;
  expect_same_run(single, out);
}

TEST_F(RunAcrossProcesses, FeaturesSegmentsModelAndAnomaliesGiveTheResultOfOne) {
  // A search over k on every journey (the trials of k shared out over the processes), on a sample
  // (the final fit's Lloyd steps summed over the processes; the autoencoder on a sample of rows
  // fetched from them), and a fixed k (process 0 clusters every row); the model on every
  // customer, and with a memory budget on a sample of them.
  for (const std::string segments : {"k_max = 5\n", "k_max = 5\nsearch_sample = 800\n", "k = 4\n"}) {
    SCOPED_TRACE(segments);
    const std::string config = (dir_ / "segments.toml").string();
    std::ofstream(config) << "[segments]\nenabled = true\n" << segments
                          << "[anomalies]\nmax_train_rows = 700\n[patterns]\nmin_support = 0.03\nmax_length = 4\n";
    const std::string options = " --device cpu --threads 1 --quiet";
    auto run_with = [&](const std::string& launch, const std::string& input, const std::string& out,
                        const std::string& extra = "") {
      const CommandResult result =
          run_shell(launch + cli() + " run --config " + config + " --input " + input + " --out " + out + options + extra);
      EXPECT_EQ(result.exit_code, 0) << result.output;
      return result.exit_code == 0;
    };
    const std::string single = (dir_ / "segments_single.h5").string();
    ASSERT_TRUE(run_with("", events_, single));
    ASSERT_TRUE(jm::ResultReader(single).exists("/features/matrix"));
    ASSERT_TRUE(jm::ResultReader(single).exists("/model"));
    ASSERT_TRUE(jm::ResultReader(single).exists("/anomalies/score"));
    for (const auto& [processes, budget] : {std::pair<int, std::string>{2, ""}, {3, " --memory-budget 12MiB"}}) {
      SCOPED_TRACE(std::to_string(processes) + " processes" + budget);
      const std::string out = (dir_ / ("segments_" + std::to_string(processes) + ".h5")).string();
      // With 3 processes every exchange goes in rounds of 64 KiB.
      const std::string rounds = processes == 3 ? " -x JM_EXCHANGE_ROUND_BYTES=65536" : "";
      ASSERT_TRUE(run_with(mpirun() + rounds + " -np " + std::to_string(processes) + " ", events_, out, budget));
      const std::string ranked_input = (dir_ / "in_rank_order.csv").string(), ranked = (dir_ / "ranked.h5").string();
      write_in_customer_order(events_, jm::ResultReader(out).read_strings("/vocab/customers"), ranked_input);
      ASSERT_TRUE(run_with("", ranked_input, ranked, budget));  // the same sample of customers for the model
      expect_same_segments(single, ranked, out);
      // Its boosting ran on every process (XGBoost's collective); one process's on one.
      EXPECT_EQ(jm::ResultReader(out).read_int_attribute("/model", "boosting_processes"), processes);
      EXPECT_EQ(jm::ResultReader(ranked).read_int_attribute("/model", "boosting_processes"), 1);
    }
  }
}

TEST_F(RunAcrossProcesses, ProcessesOwningFewOrNoJourneysRunTheFeatureStages) {
  // 8 processes for 10 customers: some own one journey, some none.
  const std::string few = (dir_ / "few.csv").string();
  ASSERT_EQ(run_shell(cli() + " generate --journeys 12 --seed 3 --threads 1 --out " + few).exit_code, 0);
  const std::string config = (dir_ / "few.toml").string();
  std::ofstream(config) << "[model]\nenabled = false\n[segments]\nk_max = 3\n";
  const std::string run_few = " run --config " + config + " --input " + few + " --device cpu --threads 1 --quiet --out ";
  const std::string single = (dir_ / "few_single.h5").string(), across = (dir_ / "few_across.h5").string();
  ASSERT_EQ(run_shell(cli() + run_few + single).exit_code, 0);
  const CommandResult result = run_shell("timeout 120 " + mpirun() + " -np 8 " + cli() + run_few + across);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const jm::ResultReader a(single), b(across);
  const size_t journeys = a.read_int64("/journeys/customer").size();
  EXPECT_EQ(b.read_int64("/segments/label").size(), journeys);
  EXPECT_EQ(b.read_double("/anomalies/score").size(), journeys);
  auto rows_by_customer = [](const jm::ResultReader& file) {
    std::map<std::pair<std::string, int64_t>, std::vector<float>> rows;
    for (auto& [journey, row_and_label] : features_by_customer(file)) rows[journey] = row_and_label.first;
    return rows;
  };
  EXPECT_EQ(rows_by_customer(a), rows_by_customer(b));
  EXPECT_EQ(journeys_by_customer(a), journeys_by_customer(b));
}

TEST_F(RunAcrossProcesses, EveryStageRunsAcrossProcessesAndAlone) {
  // The default settings: every stage.
  const std::string out = (dir_ / "every.h5").string();
  const CommandResult across = run_shell(mpirun() + " -np 2 " + cli() + " run --input " + events_ + " --out " + out +
                                         " --device cpu --threads 1 --quiet");
  ASSERT_EQ(across.exit_code, 0) << across.output;
  for (const std::string group : {"/features", "/segments", "/model", "/anomalies/score", "/proposals", "/flows"})
    EXPECT_TRUE(jm::ResultReader(out).exists(group)) << group;
  // A launcher's single process runs as a process started alone does.
  const std::string one = (dir_ / "one.h5").string();
  const CommandResult alone = run_shell(mpirun() + " -np 1 " + cli() + " run --input " + events_ + " --out " + one +
                                        " --device cpu --threads 1 --quiet");
  ASSERT_EQ(alone.exit_code, 0) << alone.output;
  EXPECT_TRUE(jm::ResultReader(one).exists("/anomalies/score"));
  EXPECT_NE(alone.output.find("journeymap run:"), std::string::npos) << "the summary is printed\n" << alone.output;
}

TEST_F(RunAcrossProcesses, AFixedKLargerThanTheJourneysStopsEveryProcessAlike) {
  const std::string config = (dir_ / "too_many.toml").string();
  std::ofstream(config) << "[segments]\nk = 5000\n";
  const std::string out = (dir_ / "never.h5").string();
  const CommandResult result = run_shell(mpirun() + " -np 2 " + cli() + " run --config " + config + " --input " + events_ +
                                         " --out " + out + " --device cpu --threads 1 --quiet");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  const std::string message = "segments.k = 5000 exceeds the number of journeys";
  const size_t first = result.output.find(message);
  ASSERT_NE(first, std::string::npos) << result.output;
  EXPECT_NE(result.output.find(message, first + 1), std::string::npos) << "both processes say it\n" << result.output;
  EXPECT_EQ(result.output.find("MPI_ABORT"), std::string::npos) << result.output;
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(RunAcrossProcesses, ASettingRefusedAfterReadingStopsEveryProcessWithItsMessage) {
  // A funnel step that is not in the data: known only once the touchpoints are read.
  std::ofstream(config_, std::ios::app) << "[flows]\nfunnel = [\"home\", \"no such step\"]\n";
  const std::string out = (dir_ / "never.h5").string();
  const CommandResult result = run_shell(mpirun() + " -np 2 " + cli() + run(events_, out));
  EXPECT_EQ(result.exit_code, 2) << result.output;
  const std::string message = "journeymap: process 0 of 2: ";
  const size_t first = result.output.find(message);
  ASSERT_NE(first, std::string::npos) << result.output;
  EXPECT_NE(result.output.find(message, first + 1), std::string::npos) << "both processes say it\n" << result.output;
  EXPECT_NE(result.output.find("no such step"), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find("MPI_ABORT"), std::string::npos) << "an agreed stop, not an abort\n" << result.output;
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(RunAcrossProcesses, PatternSettingsThatExplodeStopEveryProcessAlike) {
  // Decided on the supports summed over the processes: every process stops with the same message.
  std::ofstream(config_, std::ios::app) << "max_explored = 5\n";  // still under [patterns]
  const std::string out = (dir_ / "never.h5").string();
  const CommandResult result = run_shell(mpirun() + " -np 2 " + cli() + run(events_, out));
  EXPECT_EQ(result.exit_code, 2) << result.output;
  const std::string message = "journeymap: configuration error: patterns: counting stopped after 5 frequent patterns";
  const size_t first = result.output.find(message);
  ASSERT_NE(first, std::string::npos) << result.output;
  EXPECT_NE(result.output.find(message, first + 1), std::string::npos) << "both processes say it\n" << result.output;
  EXPECT_EQ(result.output.find("MPI_ABORT"), std::string::npos) << result.output;
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(RunAcrossProcesses, ATrackerThatCannotListenStopsEveryProcessAndNothingIsWritten) {
  // XGBoost's tracker on an address no interface holds (TEST-NET-3): process 0 cannot start it,
  // and every process stops with its message before any boosting job.
  const std::string config = (dir_ / "model.toml").string();
  std::ofstream(config) << "[segments]\nenabled = false\n[anomalies]\njourneys = false\n[patterns]\nenabled = false\n";
  const std::string out = (dir_ / "never.h5").string();
  const CommandResult result = run_shell(mpirun() + " -x JM_XGBOOST_TRACKER_HOST=203.0.113.7 -np 2 " + cli() +
                                         " run --config " + config + " --input " + events_ + " --out " + out +
                                         " --device cpu --threads 1 --quiet");
  EXPECT_NE(result.exit_code, 0) << result.output;
  const std::string message = "journeymap: process 0 of 2: XGBoost's tracker cannot listen on 203.0.113.7";
  const size_t first = result.output.find(message);
  ASSERT_NE(first, std::string::npos) << result.output;
  EXPECT_NE(result.output.find(message, first + 1), std::string::npos) << "said by both processes\n" << result.output;
  EXPECT_EQ(result.output.find("Stack trace"), std::string::npos) << result.output;
  EXPECT_FALSE(fs::exists(out));
  for (const auto& entry : fs::directory_iterator(dir_))
    EXPECT_EQ(entry.path().filename().string().find("never.h5"), std::string::npos) << entry.path();
}

TEST_F(RunAcrossProcesses, ABadRowStopsEveryProcessAndNothingIsWritten) {
  std::ofstream(events_, std::ios::app) << "late,not-a-time,home,web,0,0\n";
  const std::string out = (dir_ / "never.h5").string();
  const CommandResult result = run_shell(mpirun() + " -np 3 " + cli() + run(events_, out));
  EXPECT_NE(result.exit_code, 0) << result.output;
  // The bad row is in the last share, named by its line in the whole file, by every process.
  const std::string message = "journeymap: process 2 of 3: " + events_ + ":";
  const size_t first = result.output.find(message);
  ASSERT_NE(first, std::string::npos) << result.output;
  EXPECT_NE(result.output.find(message, first + 1), std::string::npos) << result.output;
  EXPECT_FALSE(fs::exists(out));
  for (const auto& entry : fs::directory_iterator(dir_))
    EXPECT_EQ(entry.path().filename().string().find("never.h5"), std::string::npos) << entry.path();
}

// The records a process sends its journeys to process 0 in: every column back as it was; cut or
// padded bytes are an error, never a shorter batch.
TEST(JourneyBatchRecords, EveryColumnSurvivesAndDamagedBytesAreRefused) {
  jm::JourneySet journeys;
  journeys.offsets = std::vector<int64_t>{0, 2, 5};
  journeys.touchpoint = std::vector<int32_t>{3, 1, 4, 1, 5};
  journeys.channel = std::vector<int32_t>{0, 1, 0, 2, 1};
  journeys.timestamp_ms = std::vector<int64_t>{10, 20, 5, 6, 7};
  journeys.value = std::vector<float>{0.5f, 0.0f, 1.25f, 0.0f, -2.0f};
  journeys.customer = std::vector<uint32_t>{0, 1};
  journeys.converted = std::vector<uint8_t>{1, 0};
  journeys.conversion_value = std::vector<float>{9.5f, 0.0f};
  journeys.start_ms = std::vector<int64_t>{10, 5};
  journeys.end_ms = std::vector<int64_t>{20, 7};
  journeys.outcome = std::vector<uint8_t>{1, 2};
  journeys.outcome_ms = std::vector<int64_t>{21, 8};
  const std::string bytes = jm::save_journey_batch(journeys, {20, 7}, 1024);
  const jm::JourneyBatchRecords back = jm::read_journey_batch(bytes);
  EXPECT_EQ(back.first_customer, 1024);
  EXPECT_EQ(back.customer_last_ms, (std::vector<int64_t>{20, 7}));
  const jm::JourneySet& j = back.journeys;
  EXPECT_EQ(j.offsets.host(), journeys.offsets.host());
  EXPECT_EQ(j.touchpoint.host(), journeys.touchpoint.host());
  EXPECT_EQ(j.channel.host(), journeys.channel.host());
  EXPECT_EQ(j.timestamp_ms.host(), journeys.timestamp_ms.host());
  EXPECT_EQ(j.value.host(), journeys.value.host());
  EXPECT_EQ(j.customer.host(), journeys.customer.host());
  EXPECT_EQ(j.converted.host(), journeys.converted.host());
  EXPECT_EQ(j.conversion_value.host(), journeys.conversion_value.host());
  EXPECT_EQ(j.start_ms.host(), journeys.start_ms.host());
  EXPECT_EQ(j.end_ms.host(), journeys.end_ms.host());
  EXPECT_EQ(j.outcome.host(), journeys.outcome.host());
  EXPECT_EQ(j.outcome_ms.host(), journeys.outcome_ms.host());
  for (const size_t cut : {size_t{0}, size_t{7}, bytes.size() / 2, bytes.size() - 1})
    EXPECT_THROW(jm::read_journey_batch(bytes.substr(0, cut)), jm::Error) << cut;
  EXPECT_THROW(jm::read_journey_batch(bytes + "x"), jm::Error);
}

}  // namespace
