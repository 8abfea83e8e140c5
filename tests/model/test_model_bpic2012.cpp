// Real data: the BPI Challenge 2012 loan applications (13,087 cases; outcome = approved). Every case
// is cut before its first decision event (A_APPROVED, A_DECLINED, A_CANCELLED) so that no label
// leaks into the features; the model must beat the rate-by-last-activity baseline on the holdout.
// Skips when ../shared/data is absent.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "journeymap/common.hpp"
#include "journeymap/ingest.hpp"
#include "journeymap/model.hpp"
#include "test_helpers.hpp"

namespace {

std::vector<std::string> split_csv_line(std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::vector<std::string> fields;
  std::stringstream in(line);
  std::string field;
  while (std::getline(in, field, ',')) fields.push_back(field);
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  return fields;
}

// Writes the events before each case's first decision as a journeymap CSV (touchpoint = activity,
// channel = lifecycle transition). No field of this log needs quoting (PROVENANCE.md).
int64_t write_cut_log(const std::string& events_path, const std::string& out_path) {
  static const std::unordered_set<std::string> kDecisions{"A_APPROVED", "A_DECLINED", "A_CANCELLED"};
  std::ifstream in(events_path);
  std::ofstream out(out_path);
  out << "customer_id,timestamp,touchpoint,channel\n";
  std::string line;
  std::getline(in, line);  // header: case_id,timestamp,activity,lifecycle,resource
  std::unordered_set<std::string> decided;
  int64_t kept = 0;
  while (std::getline(in, line)) {
    const auto f = split_csv_line(line);
    if (f.size() < 4) continue;
    if (decided.count(f[0])) continue;
    if (kDecisions.count(f[2])) {
      decided.insert(f[0]);
      continue;
    }
    out << f[0] << ',' << f[1] << ',' << f[2] << ',' << f[3] << '\n';
    ++kept;
  }
  return kept;
}

TEST(ModelBpic2012, BeatsTheBaselineOnApprovalBeforeTheDecision) {
  if (!jm::xgboost_available()) GTEST_SKIP() << "built without XGBoost (scripts/setup_xgboost.sh)";
  const std::string events = jm::testing::shared_data("bpic2012/events.csv");
  const std::string outcomes = jm::testing::shared_data("bpic2012/outcomes.csv");
  if (events.empty() || outcomes.empty()) GTEST_SKIP() << "../shared/data/bpic2012 not present";

  const auto cut = (jm::testing::scratch_dir() / "bpic2012_cut.csv").string();
  const int64_t kept = write_cut_log(events, cut);
  ASSERT_GT(kept, 100000);
  std::unordered_map<std::string, float> approved;
  {
    std::ifstream in(outcomes);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      const auto f = split_csv_line(line);
      approved[f[0]] = f.at(1) == "1" ? 1.0f : 0.0f;
    }
  }
  ASSERT_EQ(approved.size(), 13087u);

  jm::Context ctx;
  ctx.num_threads = 2;
  jm::CsvOptions csv;
  csv.num_threads = 2;
  const jm::IngestResult ingest = jm::read_events(cut, csv);
  const jm::JourneySet journeys = jm::build_journeys(ctx, ingest.events, jm::JourneyOptions{});
  ASSERT_EQ(journeys.size(), 13087);  // one journey per case: no conversions, no session gap
  std::vector<float> labels;
  for (int64_t j = 0; j < journeys.size(); ++j)
    labels.push_back(approved.at(journeys.customers.name(static_cast<int32_t>(journeys.customer[static_cast<size_t>(j)]))));
  double positives = 0;
  for (float y : labels) positives += y;
  ASSERT_EQ(positives, 2246);

  jm::ModelOptions options;
  // A coarse learning rate keeps the 1 + 6 trainings fast on two cores.
  options.rounds = 100;
  options.learning_rate = 0.3;
  options.early_stopping_rounds = 10;
  options.max_depth = 5;
  options.prefix_max_events = 6;
  options.prefix_models = true;
  const jm::ModelResult result = jm::train_journey_model(ctx, journeys, options, &labels);
  const std::string summary = jm::format_model_summary(result, journeys);
  std::cout << summary;
  EXPECT_GT(result.test.roc_auc, result.baseline.roc_auc + 0.02) << summary;
  EXPECT_GT(result.test.pr_auc, result.baseline.pr_auc) << summary;
  EXPECT_LT(result.test.log_loss, result.baseline.log_loss) << summary;
  // Earlier is harder: the first two events (A_SUBMITTED, A_PARTLYSUBMITTED) say almost nothing.
  ASSERT_EQ(result.prefix_curve.size(), 6u);
  EXPECT_LT(result.prefix_curve.front().prefix_model_auc, 0.75) << summary;
  EXPECT_GT(result.prefix_curve.back().prefix_model_auc, result.prefix_curve.front().prefix_model_auc + 0.1) << summary;
}

}  // namespace
