// Real data, a published protocol: outcome-oriented predictive process monitoring on the BPI
// Challenge 2012 loan log (Teinemaa, Dumas, La Rosa, Maggi, ACM TKDD 2019; task bpic2012_accepted
// of the benchmark code irhete/predictive-monitoring-benchmark, "single_agg" XGBoost).
//
// Protocol: the label is a case's last O_ event (O_ACCEPTED positive; O_CANCELLED, O_DECLINED
// negative; any other case is dropped: 4,685 cases remain); activity = name-lifecycle, resource
// forward-filled; AMOUNT_REQ as a case attribute; a strict temporal 80/20 split by case start
// (training events from the test start on are dropped); prefixes k = 1..40, AUC per k and pooled.
// A published run of the benchmark code reports pooled AUC 0.699; scripts/bpic2012_reference.py
// reproduces that protocol (0.6998) and its leak-free variant (0.647).
//
// Two variants run here:
//  - "published": the protocol as is. Late prefixes of short cases contain the outcome events
//    themselves (at k = 30, 52% of test prefixes), so its late-k AUC is partly leakage.
//  - "leak-free": every case is cut before its first O_ACCEPTED / O_CANCELLED / O_DECLINED and the
//    events logged within 1 s of it (the outcome definition every journeymap command uses).
// The test asserts both pooled AUCs in a band around the measured values (docs/model.md), that the
// leaky variant scores higher, and that the prefix counts follow the protocol, for the three labels
// (accepted, declined, cancelled; JM_BPIC_TASKS picks a subset). Skips when ../shared/data is absent.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "journeymap/case_attributes.hpp"
#include "journeymap/common.hpp"
#include "journeymap/ingest.hpp"
#include "journeymap/model.hpp"
#include "journeymap/outcome.hpp"
#include "test_helpers.hpp"

namespace {

// Pooled AUC measured with the options of run_task (docs/model.md), published protocol and
// leak-free variant. scripts/bpic2012_reference.py gives 0.700 / 0.647 (accepted), 0.587 / 0.502
// (declined), 0.718 / 0.662 (cancelled) with the benchmark's own encoding.
struct Measured {
  double published, leak_free;
};
const std::map<std::string, Measured> kMeasured{
    {"accepted", {0.7059, 0.6564}}, {"declined", {0.6294, 0.5442}}, {"cancelled", {0.7293, 0.6785}}};

std::vector<std::string> split_csv_line(std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::vector<std::string> fields;
  std::stringstream in(line);
  std::string field;
  while (std::getline(in, field, ',')) fields.push_back(field);
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  return fields;
}

struct BenchmarkInputs {
  std::string events;      // case_id,timestamp,activity (name-lifecycle),resource (forward-filled)
  std::string labels;      // case_id,label: the last O_ event's outcome
  std::string attributes;  // case_id,AMOUNT_REQ
  int64_t labelled_cases = 0;
};

// The value="..." of an XES attribute line, or "" when `line` is not `<string key="KEY" ...`.
std::string xes_value(const std::string& line, const std::string& key) {
  const std::string marker = "key=\"" + key + "\" value=\"";
  const auto at = line.find(marker);
  if (at == std::string::npos) return "";
  const auto begin = at + marker.size();
  return line.substr(begin, line.find('"', begin) - begin);
}

// Writes the benchmark's inputs from ../shared/data/bpic2012 (events.csv and the XES for AMOUNT_REQ).
BenchmarkInputs write_inputs(const std::string& events_csv, const std::string& xes_gz) {
  BenchmarkInputs out;
  const auto dir = jm::testing::scratch_dir();
  out.events = (dir / "bpic2012_events.csv").string();
  out.labels = (dir / "bpic2012_labels.csv").string();
  out.attributes = (dir / "bpic2012_cases.csv").string();

  std::ifstream in(events_csv);
  std::ofstream events(out.events);
  events << "case_id,timestamp,activity,resource\n";
  std::string line, current_case, last_resource;
  std::map<std::string, std::string> last_offer;  // case -> its last O_ activity (log order is time order)
  std::getline(in, line);                          // case_id,timestamp,activity,lifecycle,resource
  while (std::getline(in, line)) {
    const auto f = split_csv_line(line);
    if (f.size() < 5) continue;
    if (f[0] != current_case) current_case = f[0], last_resource.clear();
    if (!f[4].empty()) last_resource = f[4];
    events << f[0] << ',' << f[1] << ',' << f[2] << '-' << f[3] << ',' << (last_resource.empty() ? "missing" : last_resource)
           << '\n';
    if (f[2].rfind("O_", 0) == 0) last_offer[f[0]] = f[2];
  }
  std::ofstream labels(out.labels);
  labels << "case_id,label\n";
  const std::map<std::string, std::string> kOutcome{
      {"O_ACCEPTED", "accepted"}, {"O_CANCELLED", "cancelled"}, {"O_DECLINED", "declined"}};
  for (const auto& [case_id, offer] : last_offer)
    if (kOutcome.count(offer)) labels << case_id << ',' << kOutcome.at(offer) << '\n', ++out.labelled_cases;

  gzFile xes = gzopen(xes_gz.c_str(), "rb");
  if (xes == nullptr) throw std::runtime_error("cannot open " + xes_gz);
  std::ofstream attributes(out.attributes);
  attributes << "case_id,AMOUNT_REQ\n";
  char buffer[1 << 16];
  bool in_trace_header = false;
  std::string case_id, amount;
  while (gzgets(xes, buffer, sizeof buffer) != nullptr) {
    const std::string text(buffer);
    if (text.find("<trace>") != std::string::npos) in_trace_header = true, case_id.clear(), amount.clear();
    if (!in_trace_header) continue;
    if (const std::string v = xes_value(text, "concept:name"); !v.empty()) case_id = v;
    if (const std::string v = xes_value(text, "AMOUNT_REQ"); !v.empty()) amount = v;
    if (text.find("<event>") != std::string::npos) {
      in_trace_header = false;
      attributes << case_id << ',' << amount << '\n';
    }
  }
  gzclose(xes);
  return out;
}

struct TaskResult {
  jm::ModelResult model;
  int64_t cases = 0, positives = 0;
};

TaskResult run_task(const BenchmarkInputs& inputs, const std::string& positive, bool leak_free) {
  jm::Context ctx;
  ctx.num_threads = 2;
  jm::CsvOptions csv;
  csv.num_threads = 2;
  csv.columns.customer = "case_id";
  csv.columns.touchpoint = "activity";
  csv.columns.channel = "resource";
  jm::IngestResult ingest = jm::read_events(inputs.events, csv);
  jm::OutcomeDefinition outcome;
  outcome.label_file = inputs.labels;
  outcome.label_file_only = true;  // the protocol drops cases without an accepted/cancelled/declined offer
  outcome.positive = positive;
  outcome.after = jm::AfterOutcome::End;
  if (leak_free)
    outcome.events = {{"O_ACCEPTED-COMPLETE", "accepted"}, {"O_CANCELLED-COMPLETE", "cancelled"},
                      {"O_DECLINED-COMPLETE", "declined"}};
  jm::OutcomeJourneys built = jm::build_outcome_journeys(ctx, ingest.events, jm::JourneyOptions{}, outcome);
  built.journeys.case_attributes = jm::read_case_attributes(inputs.attributes, built.journeys.customers);

  jm::ModelOptions options;
  options.split = jm::SplitMode::Time;
  options.test_fraction = 0.2;
  options.prefix_max_events = 40;
  options.rounds = 400;
  options.learning_rate = 0.05;
  options.max_depth = 6;
  options.subsample = 0.8;
  options.colsample_bytree = 0.8;
  options.early_stopping_rounds = 40;
  options.features.top_touchpoints = 40;  // all 36 activity-lifecycle classes get a column
  options.features.top_channels = 24;
  TaskResult result;
  result.model = jm::train_journey_model(ctx, built.journeys, options);
  result.cases = built.journeys.size();
  for (uint8_t c : built.journeys.converted) result.positives += c;
  return result;
}

std::string curve_table(const jm::ModelResult& m) {
  std::string out;
  for (const jm::PrefixPoint& p : m.prefix_curve)
    out += fmt::format("  k={:>2} n={:>4} auc={:.3f} baseline={:.3f}\n", p.k, p.journeys, p.model_auc, p.baseline_auc);
  return out;
}

TEST(ModelBpic2012, PublishedOutcomeBenchmarkAndItsLeakFreeVariant) {
  if (!jm::xgboost_available()) GTEST_SKIP() << "built without XGBoost (scripts/setup_xgboost.sh)";
  const std::string events = jm::testing::shared_data("bpic2012/events.csv");
  const std::string xes = jm::testing::shared_data("bpic2012/BPI_Challenge_2012.xes.gz");
  if (events.empty() || xes.empty()) GTEST_SKIP() << "../shared/data/bpic2012 not present";
  const BenchmarkInputs inputs = write_inputs(events, xes);
  ASSERT_EQ(inputs.labelled_cases, 4685);  // as in the benchmark's preprocessing

  std::vector<std::string> tasks{"accepted", "declined", "cancelled"};
  if (const char* env = std::getenv("JM_BPIC_TASKS")) {
    tasks.clear();
    std::stringstream list(env);
    for (std::string task; std::getline(list, task, ',');) tasks.push_back(task);
  }
  for (const std::string& task : tasks) {
    const TaskResult published = run_task(inputs, task, /*leak_free=*/false);
    const TaskResult leak_free = run_task(inputs, task, /*leak_free=*/true);
    std::cout << fmt::format(
        "bpic2012_{}: {} cases, {} positive; pooled AUC published {:.4f} (baseline {:.4f}), leak-free {:.4f} "
        "(baseline {:.4f}); decision point published {:.4f}, leak-free {:.4f}\n",
        task, published.cases, published.positives, published.model.in_flight.pooled_auc,
        published.model.in_flight.baseline_pooled_auc, leak_free.model.in_flight.pooled_auc,
        leak_free.model.in_flight.baseline_pooled_auc, published.model.test.roc_auc, leak_free.model.test.roc_auc);
    std::cout << "published:\n" << curve_table(published.model) << "leak-free:\n" << curve_table(leak_free.model);
    std::cout << jm::format_model_summary(leak_free.model, jm::JourneySet{});

    if (published.model.in_flight.pooled_auc > 0.9 || leak_free.model.test.roc_auc > 0.99)
      ADD_FAILURE() << "a near-perfect score on this log is a leak until proven otherwise";
    EXPECT_EQ(published.cases, 4685);
    EXPECT_EQ(leak_free.cases, 4685);  // every labelled case has events before its first offer outcome
    EXPECT_EQ(published.model.n_test, 937);  // the latest 20% by case start
    ASSERT_EQ(published.model.prefix_curve.size(), 40u);
    EXPECT_EQ(published.model.prefix_curve.front().journeys, 937);  // every test case has >= 1 event
    for (size_t k = 1; k < published.model.prefix_curve.size(); ++k)  // only cases with >= k events count at k
      EXPECT_LE(published.model.prefix_curve[k].journeys, published.model.prefix_curve[k - 1].journeys);
    EXPECT_NEAR(published.model.in_flight.pooled_auc, kMeasured.at(task).published, 0.02) << task;
    EXPECT_NEAR(leak_free.model.in_flight.pooled_auc, kMeasured.at(task).leak_free, 0.02) << task;
    // Both beat the rate-by-last-activity baseline over the same prefixes.
    EXPECT_GT(published.model.in_flight.pooled_auc, published.model.in_flight.baseline_pooled_auc) << task;
    EXPECT_GT(leak_free.model.in_flight.pooled_auc, leak_free.model.in_flight.baseline_pooled_auc) << task;
    // The leaky protocol scores higher than the same data cut before its outcome.
    EXPECT_GT(published.model.in_flight.pooled_auc, leak_free.model.in_flight.pooled_auc + 0.02) << task;
  }
}

}  // namespace
