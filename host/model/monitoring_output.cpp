// /monitoring in the result file and the `journeymap monitor` summary.
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "journeymap/monitoring.hpp"
#include "journeymap/result_file.hpp"
#include "journeymap/timestamp.hpp"

namespace jm {

void write_monitoring_results(ResultWriter& writer, const MonitoringResult& result) {
  std::vector<int64_t> start, journeys, matured;
  std::vector<double> mean_score, score_psi, max_psi, auc, observed, predicted;
  std::vector<std::string> max_feature, status, reasons;
  for (const MonitoringBucket& b : result.buckets) {
    start.push_back(b.start_ms);
    journeys.push_back(b.journeys);
    matured.push_back(b.matured);
    mean_score.push_back(b.mean_score);
    score_psi.push_back(b.score_psi);
    max_psi.push_back(b.max_feature_psi);
    max_feature.push_back(b.max_feature);
    auc.push_back(b.auc);
    observed.push_back(b.observed_rate);
    predicted.push_back(b.mean_predicted);
    status.push_back(b.status);
    std::string joined;
    for (const std::string& r : b.reasons) joined += (joined.empty() ? "" : "; ") + r;
    reasons.push_back(joined);
  }
  writer.write("/monitoring/bucket_start_ms", start);
  writer.write("/monitoring/journeys", journeys);
  writer.write("/monitoring/matured", matured);
  writer.write("/monitoring/mean_score", mean_score);
  writer.write("/monitoring/score_psi", score_psi);
  writer.write("/monitoring/max_feature_psi", max_psi);
  writer.write("/monitoring/max_feature", max_feature);
  writer.write("/monitoring/auc", auc);
  writer.write("/monitoring/observed_rate", observed);
  writer.write("/monitoring/mean_predicted", predicted);
  writer.write("/monitoring/status", status);
  writer.write("/monitoring/reasons", reasons);
  writer.write("/monitoring/features", result.features);
  std::vector<float> psi(result.feature_psi.begin(), result.feature_psi.end());
  writer.write_matrix("/monitoring/feature_psi", psi, result.buckets.size(), result.features.size());
  writer.write("/monitoring/recommendation_reasons", result.reasons);
  writer.write_attribute("/monitoring", "recommendation", result.recommendation);
  writer.write_attribute("/monitoring", "bucket_days", result.options.bucket_days);
  writer.write_attribute("/monitoring", "maturity_days", result.options.maturity_days);
  writer.write_attribute("/monitoring", "psi_watch", result.options.psi_watch);
  writer.write_attribute("/monitoring", "psi_retrain", result.options.psi_retrain);
  writer.write_attribute("/monitoring", "auc_drop", result.options.auc_drop);
  writer.write_attribute("/monitoring", "reference_journeys", result.reference.journeys);
  writer.write_attribute("/monitoring", "reference_first_start_ms", result.reference.first_start_ms);
  writer.write_attribute("/monitoring", "reference_last_end_ms", result.reference.last_end_ms);
  writer.write_attribute("/monitoring", "reference_auc", result.reference.holdout_auc);
  writer.write_attribute("/monitoring", "reference_rate", result.reference.holdout_rate);
  writer.write_attribute("/monitoring", "reference_mean_score", result.reference.holdout_mean_score);
}

std::string format_monitoring_summary(const MonitoringResult& result) {
  const ModelReference& ref = result.reference;
  std::string out = fmt::format("monitoring against the model's training profile ({} journeys, {} to {}; held-out "
                                "ROC-AUC {})\n",
                                ref.journeys, format_iso8601(ref.first_start_ms).substr(0, 10),
                                format_iso8601(ref.last_end_ms).substr(0, 10),
                                std::isfinite(ref.holdout_auc) ? fmt::format("{:.3f}", ref.holdout_auc) : "-");
  out += "  bucket      journeys  matured  mean score  score PSI  largest feature PSI               ROC-AUC  status\n";
  for (const MonitoringBucket& b : result.buckets)
    out += fmt::format("  {}  {:>8}  {:>7}  {:>10.4f}  {:>9.3f}  {:<26} {:>6.3f}  {:>7}  {}\n",
                       format_iso8601(b.start_ms).substr(0, 10), b.journeys, b.matured, b.mean_score, b.score_psi,
                       b.max_feature.substr(0, 26), b.max_feature_psi,
                       std::isfinite(b.auc) ? fmt::format("{:.3f}", b.auc) : "-", b.status);
  out += "recommendation: " + result.recommendation + "\n";
  for (const std::string& reason : result.reasons) out += "  " + reason + "\n";
  return out;
}

}  // namespace jm
