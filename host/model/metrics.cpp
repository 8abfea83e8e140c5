// Holdout metrics of binary scores and regression predictions, written from their definitions
// (ties in scores are handled as groups, so the results do not depend on row order).
#include "host/model/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "journeymap/common.hpp"
#include "journeymap/model.hpp"

namespace jm {
namespace {

void check_sizes(const std::vector<float>& labels, const std::vector<float>& scores) {
  if (labels.size() != scores.size())
    throw ConfigError(fmt::format("metrics: {} labels but {} scores", labels.size(), scores.size()));
}

// Row order by descending score; ties keep row order (stable), so the result is deterministic.
std::vector<size_t> order_by_score_descending(const std::vector<float>& scores) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  return order;
}

// Cumulative (true positives, false positives) at the end of each group of tied scores.
struct ThresholdCounts {
  std::vector<double> tp, fp;
};
ThresholdCounts threshold_counts(const std::vector<float>& labels, const std::vector<float>& scores) {
  const auto order = order_by_score_descending(scores);
  ThresholdCounts out;
  double tp = 0, fp = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    if (labels[order[i]] > 0.5f) tp += 1; else fp += 1;
    if (i + 1 == order.size() || scores[order[i + 1]] != scores[order[i]]) {
      out.tp.push_back(tp);
      out.fp.push_back(fp);
    }
  }
  return out;
}

model_detail::Curve thin(model_detail::Curve curve, size_t max_points) {
  if (curve.x.size() <= max_points || max_points < 2) return curve;
  model_detail::Curve out;
  const double step = static_cast<double>(curve.x.size() - 1) / static_cast<double>(max_points - 1);
  for (size_t p = 0; p < max_points; ++p) {
    const size_t i = p + 1 == max_points ? curve.x.size() - 1 : static_cast<size_t>(std::llround(p * step));
    out.x.push_back(curve.x[i]);
    out.y.push_back(curve.y[i]);
  }
  return out;
}

}  // namespace

double weighted_roc_auc(const std::vector<float>& labels, const std::vector<float>& scores,
                        const std::vector<double>& weights) {
  check_sizes(labels, scores);
  if (weights.size() != labels.size()) throw ConfigError("weighted_roc_auc: one weight per row needed");
  const auto order = order_by_score_descending(scores);
  double positives = 0, negatives = 0, area = 0, tp = 0, fp = 0, group_tp = 0, group_fp = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    const size_t r = order[i];
    if (labels[r] > 0.5f) group_tp += weights[r]; else group_fp += weights[r];
    if (i + 1 == order.size() || scores[order[i + 1]] != scores[r]) {
      area += group_fp * (tp + group_tp / 2.0);  // negatives of the group rank below tp and tie with half
      tp += group_tp;
      fp += group_fp;
      group_tp = group_fp = 0;
    }
  }
  positives = tp;
  negatives = fp;
  if (positives <= 0 || negatives <= 0) throw ConfigError("weighted_roc_auc: both classes (with weight) are needed");
  return area / (positives * negatives);
}

BinaryMetrics evaluate_binary(const std::vector<float>& labels, const std::vector<float>& scores, int calibration_bins) {
  check_sizes(labels, scores);
  if (calibration_bins < 1) throw ConfigError("calibration_bins must be >= 1");
  BinaryMetrics m;
  m.n = static_cast<int64_t>(labels.size());
  for (float y : labels) {
    if (y != 0.0f && y != 1.0f) throw ConfigError(fmt::format("binary metrics need 0/1 labels, got {}", y));
    m.positives += y > 0.5f;
  }
  if (m.positives == 0 || m.positives == m.n)
    throw ConfigError(fmt::format("metrics need both classes; the {} rows have {} positives", m.n, m.positives));
  const double positives = static_cast<double>(m.positives), negatives = static_cast<double>(m.n - m.positives);

  // ROC-AUC and average precision from the tie groups: AUC by the trapezoid over (fp, tp), which
  // counts a tied positive/negative pair as half; AP = sum over thresholds of precision * recall step.
  const ThresholdCounts counts = threshold_counts(labels, scores);
  double auc = 0.0, ap = 0.0, prev_tp = 0.0, prev_fp = 0.0;
  for (size_t g = 0; g < counts.tp.size(); ++g) {
    auc += (counts.fp[g] - prev_fp) * (counts.tp[g] + prev_tp) / 2.0;
    ap += (counts.tp[g] - prev_tp) / positives * (counts.tp[g] / (counts.tp[g] + counts.fp[g]));
    prev_tp = counts.tp[g];
    prev_fp = counts.fp[g];
  }
  m.roc_auc = auc / (positives * negatives);
  m.pr_auc = ap;

  double log_loss = 0.0, brier = 0.0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const double p = std::min(std::max(static_cast<double>(scores[i]), 1e-7), 1.0 - 1e-7);
    log_loss -= labels[i] > 0.5f ? std::log(p) : std::log(1.0 - p);
    const double d = static_cast<double>(scores[i]) - labels[i];
    brier += d * d;
  }
  m.log_loss = log_loss / static_cast<double>(m.n);
  m.brier = brier / static_cast<double>(m.n);

  const auto order = order_by_score_descending(scores);
  const size_t top = std::max<size_t>(1, (labels.size() + 9) / 10);
  double top_positives = 0;
  for (size_t i = 0; i < top; ++i) top_positives += labels[order[i]] > 0.5f;
  m.top_decile_lift = (top_positives / static_cast<double>(top)) / (positives / static_cast<double>(m.n));

  m.calibration.resize(static_cast<size_t>(calibration_bins));
  std::vector<double> sum_predicted(m.calibration.size(), 0.0), sum_observed(m.calibration.size(), 0.0);
  for (size_t b = 0; b < m.calibration.size(); ++b) {
    m.calibration[b].lower = static_cast<double>(b) / calibration_bins;
    m.calibration[b].upper = static_cast<double>(b + 1) / calibration_bins;
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    const double p = std::min(std::max(static_cast<double>(scores[i]), 0.0), 1.0);
    const size_t b = std::min(static_cast<size_t>(p * calibration_bins), m.calibration.size() - 1);
    ++m.calibration[b].count;
    sum_predicted[b] += scores[i];
    sum_observed[b] += labels[i];
  }
  for (size_t b = 0; b < m.calibration.size(); ++b)
    if (m.calibration[b].count > 0) {
      m.calibration[b].mean_predicted = sum_predicted[b] / static_cast<double>(m.calibration[b].count);
      m.calibration[b].observed_rate = sum_observed[b] / static_cast<double>(m.calibration[b].count);
    }
  return m;
}

RegressionMetrics evaluate_regression(const std::vector<float>& labels, const std::vector<float>& predictions) {
  check_sizes(labels, predictions);
  RegressionMetrics m;
  m.n = static_cast<int64_t>(labels.size());
  if (m.n == 0) throw ConfigError("regression metrics need at least one row");
  double mean = 0.0;
  for (float y : labels) mean += y;
  mean /= static_cast<double>(m.n);
  double squared = 0.0, absolute = 0.0, total = 0.0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const double d = static_cast<double>(predictions[i]) - labels[i];
    squared += d * d;
    absolute += std::abs(d);
    total += (labels[i] - mean) * (labels[i] - mean);
  }
  m.rmse = std::sqrt(squared / static_cast<double>(m.n));
  m.mae = absolute / static_cast<double>(m.n);
  m.r2 = total > 0.0 ? 1.0 - squared / total : 0.0;
  return m;
}

namespace model_detail {

Curve roc_curve(const std::vector<float>& labels, const std::vector<float>& scores, size_t max_points) {
  check_sizes(labels, scores);
  const ThresholdCounts counts = threshold_counts(labels, scores);
  const double positives = counts.tp.empty() ? 0.0 : counts.tp.back();
  const double negatives = counts.fp.empty() ? 0.0 : counts.fp.back();
  Curve curve;
  curve.x.push_back(0.0f);
  curve.y.push_back(0.0f);
  for (size_t g = 0; g < counts.tp.size(); ++g) {
    curve.x.push_back(negatives > 0 ? static_cast<float>(counts.fp[g] / negatives) : 0.0f);
    curve.y.push_back(positives > 0 ? static_cast<float>(counts.tp[g] / positives) : 0.0f);
  }
  return thin(std::move(curve), max_points);
}

Curve precision_recall_curve(const std::vector<float>& labels, const std::vector<float>& scores, size_t max_points) {
  check_sizes(labels, scores);
  const ThresholdCounts counts = threshold_counts(labels, scores);
  const double positives = counts.tp.empty() ? 0.0 : counts.tp.back();
  Curve curve;
  for (size_t g = 0; g < counts.tp.size(); ++g) {
    curve.x.push_back(positives > 0 ? static_cast<float>(counts.tp[g] / positives) : 0.0f);
    curve.y.push_back(static_cast<float>(counts.tp[g] / (counts.tp[g] + counts.fp[g])));
  }
  return thin(std::move(curve), max_points);
}

}  // namespace model_detail
}  // namespace jm
