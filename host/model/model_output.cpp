// /model in the HDF5 result and the model block of the run summary.
#include <algorithm>
#include <cmath>
#include <sstream>

#include <fmt/format.h>

#include "host/model/metrics.hpp"
#include "journeymap/model.hpp"
#include "journeymap/result_file.hpp"

namespace jm {

void write_model_results(ResultWriter& writer, const ModelResult& result, const JourneySet& journeys) {
  (void)journeys;  // rows of /model/holdout are journey indices into /journeys
  const ModelOptions& o = result.options;
  const bool binary = o.target != ModelTarget::Value;
  writer.write("/model/feature_names", result.model.feature_names);
  writer.write_attribute("/model", "target", std::string(to_string(o.target)));
  writer.write_attribute("/model", "device", result.model.device);
  writer.write_attribute("/model", "split", std::string(to_string(o.split)));
  writer.write_attribute("/model", "seed", static_cast<int64_t>(o.seed));
  writer.write_attribute("/model", "rounds_max", static_cast<int64_t>(o.rounds));
  writer.write_attribute("/model", "rounds_trained", static_cast<int64_t>(result.model.rounds_trained));
  writer.write_attribute("/model", "early_stopping_rounds", static_cast<int64_t>(o.early_stopping_rounds));
  writer.write_attribute("/model", "learning_rate", o.learning_rate);
  writer.write_attribute("/model", "max_depth", static_cast<int64_t>(o.max_depth));
  writer.write_attribute("/model", "min_child_weight", o.min_child_weight);
  writer.write_attribute("/model", "subsample", o.subsample);
  writer.write_attribute("/model", "colsample_bytree", o.colsample_bytree);
  writer.write_attribute("/model", "reg_lambda", o.reg_lambda);
  writer.write_attribute("/model", "max_bin", static_cast<int64_t>(o.max_bin));
  writer.write_attribute("/model", "test_fraction", o.test_fraction);
  writer.write_attribute("/model", "early_stopping_fraction", o.early_stopping_fraction);
  writer.write_attribute("/model", "churn_days", o.churn_days);
  writer.write_attribute("/model", "baseline", "rate by " + o.baseline_column);
  writer.write_attribute("/model", "n_train", result.n_train);
  writer.write_attribute("/model", "n_early_stop", result.n_early_stop);
  writer.write_attribute("/model", "n_test", result.n_test);
  writer.write_attribute("/model", "n_excluded", result.n_excluded);
  writer.write_attribute("/model", "n_fit_rows", result.n_fit_rows);
  writer.write_attribute("/model", "max_train_rows", o.max_train_rows);
  writer.write_attribute("/model", "prefix_max_events", static_cast<int64_t>(o.prefix_max_events));
  if (o.split == SplitMode::Time) writer.write_attribute("/model", "split_time_ms", result.split_time_ms);
  writer.write("/model/excluded_features", o.excluded_features);
  writer.write("/model/warnings", result.warnings);
  writer.write_attribute("/model/in_flight", "prefixes", result.in_flight.prefixes);
  writer.write_attribute("/model/in_flight", "pooled_auc", result.in_flight.pooled_auc);
  writer.write_attribute("/model/in_flight", "journey_weighted_auc", result.in_flight.journey_weighted_auc);
  writer.write_attribute("/model/in_flight", "baseline_pooled_auc", result.in_flight.baseline_pooled_auc);
  writer.write_attribute("/model/in_flight", "metric", std::string(binary ? "roc_auc" : "r2"));
  writer.write("/model/in_flight/journey", result.in_flight.journey);
  writer.write("/model/in_flight/k", result.in_flight.k);
  writer.write("/model/in_flight/label", result.in_flight.label);
  writer.write("/model/in_flight/prediction", result.in_flight.prediction);
  writer.write_attribute("/model", "train_seconds", result.train_seconds);
  writer.write_attribute("/model", "total_seconds", result.total_seconds);

  // Metrics: one name per row, the model and the baseline in parallel columns.
  std::vector<std::string> names;
  std::vector<double> model_values, baseline_values;
  if (binary) {
    const BinaryMetrics &m = result.test, &b = result.baseline;
    names = {"roc_auc", "pr_auc", "log_loss", "brier", "top_decile_lift", "positive_rate"};
    model_values = {m.roc_auc, m.pr_auc, m.log_loss, m.brier, m.top_decile_lift, static_cast<double>(m.positives) / m.n};
    baseline_values = {b.roc_auc, b.pr_auc, b.log_loss, b.brier, b.top_decile_lift, static_cast<double>(b.positives) / b.n};
    std::vector<double> lower, upper, mean_predicted, observed;
    std::vector<int64_t> count;
    for (const CalibrationBin& bin : m.calibration) {
      lower.push_back(bin.lower);
      upper.push_back(bin.upper);
      count.push_back(bin.count);
      mean_predicted.push_back(bin.mean_predicted);
      observed.push_back(bin.observed_rate);
    }
    writer.write("/model/calibration/lower", lower);
    writer.write("/model/calibration/upper", upper);
    writer.write("/model/calibration/count", count);
    writer.write("/model/calibration/mean_predicted", mean_predicted);
    writer.write("/model/calibration/observed_rate", observed);
    const auto roc = model_detail::roc_curve(result.test_labels, result.test_predictions);
    const auto pr = model_detail::precision_recall_curve(result.test_labels, result.test_predictions);
    writer.write("/model/curves/roc_false_positive_rate", roc.x);
    writer.write("/model/curves/roc_true_positive_rate", roc.y);
    writer.write("/model/curves/pr_recall", pr.x);
    writer.write("/model/curves/pr_precision", pr.y);
  } else {
    const RegressionMetrics &m = result.test_regression, &b = result.baseline_regression;
    names = {"rmse", "mae", "r2"};
    model_values = {m.rmse, m.mae, m.r2};
    baseline_values = {b.rmse, b.mae, b.r2};
  }
  writer.write("/model/metrics/name", names);
  writer.write("/model/metrics/model", model_values);
  writer.write("/model/metrics/baseline", baseline_values);

  std::vector<int64_t> k, counted, positives;
  std::vector<double> prefix_model, prefix_trained, prefix_baseline;
  for (const PrefixPoint& p : result.prefix_curve) {
    k.push_back(p.k);
    counted.push_back(p.journeys);
    positives.push_back(p.positives);
    prefix_model.push_back(p.model_auc);
    prefix_trained.push_back(p.prefix_model_auc);
    prefix_baseline.push_back(p.baseline_auc);
  }
  writer.write("/model/prefix/k", k);
  writer.write("/model/prefix/model", prefix_model);
  writer.write("/model/prefix/prefix_model", prefix_trained);
  writer.write("/model/prefix/baseline", prefix_baseline);
  writer.write("/model/prefix/journeys", counted);
  writer.write("/model/prefix/positives", positives);
  writer.write_attribute("/model/prefix", "metric", std::string(binary ? "roc_auc" : "r2"));

  std::vector<std::string> feature;
  std::vector<double> gain, cover;
  for (const FeatureImportance& f : result.importance) {
    feature.push_back(f.feature);
    gain.push_back(f.gain);
    cover.push_back(f.cover);
  }
  writer.write("/model/importance/feature", feature);
  writer.write("/model/importance/gain", gain);
  writer.write("/model/importance/cover", cover);

  writer.write("/model/history/train_loss", result.history.train_loss);
  writer.write("/model/history/early_stop_loss", result.history.early_stop_loss);
  writer.write_attribute("/model/history", "metric", result.history.metric);
  writer.write_attribute("/model/history", "best_round", static_cast<int64_t>(result.history.best_round));

  writer.write("/model/holdout/journey", result.test_journeys);
  writer.write("/model/holdout/label", result.test_labels);
  writer.write("/model/holdout/prediction", result.test_predictions);
  writer.write("/model/holdout/baseline", result.test_baseline);
}

std::string format_model_summary(const ModelResult& result, const JourneySet& journeys) {
  (void)journeys;
  const ModelOptions& o = result.options;
  std::ostringstream out;
  out << fmt::format("model ({} target, XGBoost on {}): {} rounds kept of {}, {} train / {} early-stop / {} test journeys ({} split)\n",
                     to_string(o.target), result.model.device, result.model.rounds_trained, o.rounds, result.n_train,
                     result.n_early_stop, result.n_test, to_string(o.split));
  const char* metric = o.target != ModelTarget::Value ? "AUC" : "R^2";
  if (!result.prefix_curve.empty())
    out << fmt::format("  in flight: {} {:.4f} (baseline {:.4f}) over {} prefixes of k = 1..{} events of the test journeys; "
                       "journey-weighted {:.4f}\n",
                       metric, result.in_flight.pooled_auc, result.in_flight.baseline_pooled_auc, result.in_flight.prefixes,
                       result.prefix_curve.back().k, result.in_flight.journey_weighted_auc);
  if (o.target != ModelTarget::Value) {
    const BinaryMetrics &m = result.test, &b = result.baseline;
    out << fmt::format("  {:<18} {:>8} {:>10}   (whole journeys up to the outcome: a diagnostic, not a forecast)\n",
                       "at the decision", "model", "baseline");
    out << fmt::format("  {:<18} {:>8.4f} {:>10.4f}\n", "ROC-AUC", m.roc_auc, b.roc_auc);
    out << fmt::format("  {:<18} {:>8.4f} {:>10.4f}\n", "PR-AUC", m.pr_auc, b.pr_auc);
    out << fmt::format("  {:<18} {:>8.4f} {:>10.4f}\n", "log loss", m.log_loss, b.log_loss);
    out << fmt::format("  {:<18} {:>8.4f} {:>10.4f}\n", "Brier", m.brier, b.brier);
    out << fmt::format("  {:<18} {:>8.2f} {:>10.2f}\n", "top-decile lift", m.top_decile_lift, b.top_decile_lift);
    out << fmt::format("  baseline: rate by {}; positive rate {:.3f}\n", o.baseline_column,
                       static_cast<double>(m.positives) / static_cast<double>(m.n));
  } else {
    const RegressionMetrics &m = result.test_regression, &b = result.baseline_regression;
    out << fmt::format("  holdout RMSE {:.3f} (baseline {:.3f}), MAE {:.3f} ({:.3f}), R^2 {:.3f} ({:.3f})\n", m.rmse, b.rmse,
                       m.mae, b.mae, m.r2, b.r2);
  }
  if (!result.prefix_curve.empty()) {
    out << "  how early can we tell (" << metric << " on the first k events of test journeys with at least k events)\n";
    out << fmt::format("  {:>4} {:>9} {:>9} {:>10} {:>9}\n", "k", "model", "baseline", "per-k model", "journeys");
    for (const PrefixPoint& p : result.prefix_curve)
      out << fmt::format("  {:>4} {:>9.3f} {:>9.3f} {:>10} {:>9}\n", p.k, p.model_auc, p.baseline_auc,
                         std::isnan(p.prefix_model_auc) ? std::string("-") : fmt::format("{:.3f}", p.prefix_model_auc),
                         p.journeys);
  }
  for (const std::string& warning : result.warnings) out << "  WARNING (leakage guard): " << warning << "\n";
  out << "  top features by gain:";
  const size_t shown = std::min<size_t>(5, result.importance.size());
  for (size_t i = 0; i < shown; ++i) out << fmt::format(" {} ({:.1f})", result.importance[i].feature, result.importance[i].gain);
  out << "\n";
  return out.str();
}

}  // namespace jm
