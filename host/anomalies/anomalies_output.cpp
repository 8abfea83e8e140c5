// /anomalies and /alerts in the HDF5 result, and the run-summary block (layout: docs/anomalies.md).
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "journeymap/anomalies.hpp"
#include "journeymap/result_file.hpp"

namespace jm {
namespace {

std::string join_widths(const std::vector<int>& widths) {
  std::string text;
  for (size_t i = 0; i < widths.size(); ++i) text += (i ? " -> " : "") + std::to_string(widths[i]);
  return text;
}

std::string format_reasons(const AnomalousJourney& item) {
  std::string text;
  for (size_t i = 0; i < item.reasons.size(); ++i) {
    const AnomalyReason& r = item.reasons[i];
    text += fmt::format("{}{} = {:.4g} ({:+.1f} sd, {:.0f}% of error)", i ? "; " : "", r.feature, r.value,
                        r.standardised, 100.0 * r.error_share);
  }
  return text;
}

std::string utc_date(int64_t ms, int64_t bucket_seconds) {
  const int64_t day = (ms >= 0 ? ms : ms - 86399999) / 86400000;
  // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
  const int64_t z = day + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9, y = yoe + era * 400 + (m <= 2);
  std::string text = fmt::format("{:04d}-{:02d}-{:02d}", y, m, d);
  if (bucket_seconds % 86400 != 0) {
    const int64_t ms_of_day = ms - day * 86400000;
    text += fmt::format(" {:02d}:{:02d}", ms_of_day / 3600000, (ms_of_day / 60000) % 60);
  }
  return text;
}

void write_journey_anomalies(ResultWriter& writer, const JourneyAnomalies& a) {
  writer.write("/anomalies/score", a.score);
  writer.write("/anomalies/flagged", a.flagged);
  writer.write("/anomalies/columns", a.scaling.columns);
  writer.write("/anomalies/scaling_mean", a.scaling.mean);
  writer.write("/anomalies/scaling_scale", a.scaling.scale);
  writer.write("/anomalies/loss_per_epoch", a.loss_per_epoch);
  std::vector<int32_t> widths(a.widths.begin(), a.widths.end());
  writer.write("/anomalies/layer_widths", widths);
  writer.write_attribute("/anomalies", "detector", std::string("autoencoder"));
  writer.write_attribute("/anomalies", "threshold", a.threshold);
  writer.write_attribute("/anomalies", "threshold_rule", std::string(to_string(a.threshold_rule)));
  writer.write_attribute("/anomalies", "train_rows", a.train_rows);
  int64_t flagged = 0;
  for (uint8_t f : a.flagged) flagged += f;
  writer.write_attribute("/anomalies", "flagged_count", flagged);

  std::vector<int64_t> top_journey, forest_rank;
  std::vector<float> top_score, top_forest;
  std::vector<std::string> customer, path, reasons;
  for (const AnomalousJourney& item : a.top) {
    top_journey.push_back(item.journey);
    top_score.push_back(static_cast<float>(item.score));
    top_forest.push_back(static_cast<float>(item.forest_score));
    forest_rank.push_back(item.forest_rank);
    customer.push_back(item.customer);
    path.push_back(item.path);
    reasons.push_back(format_reasons(item));
  }
  writer.write("/anomalies/top/journey", top_journey);
  writer.write("/anomalies/top/score", top_score);
  writer.write("/anomalies/top/forest_score", top_forest);
  writer.write("/anomalies/top/forest_rank", forest_rank);
  writer.write("/anomalies/top/customer", customer);
  writer.write("/anomalies/top/path", path);
  writer.write("/anomalies/top/reasons", reasons);

  if (a.comparison.ran) {
    writer.write("/anomalies/comparison/forest_score", a.forest_score);
    writer.write("/anomalies/comparison/forest_flagged", a.forest_flagged);
    const std::string group = "/anomalies/comparison";
    writer.write_attribute(group, "second_detector", std::string("isolation_forest"));
    writer.write_attribute(group, "forest_threshold", a.forest_threshold);
    writer.write_attribute(group, "spearman", a.comparison.spearman);
    writer.write_attribute(group, "top_k", a.comparison.top_k);
    writer.write_attribute(group, "top_k_overlap", a.comparison.top_k_overlap);
    writer.write_attribute(group, "flagged_autoencoder", a.comparison.flagged_autoencoder);
    writer.write_attribute(group, "flagged_forest", a.comparison.flagged_forest);
    writer.write_attribute(group, "flagged_both", a.comparison.flagged_both);
  }
}

// The calendar behind the expected values: weekly factors and covariate effects per metric, the
// covariates per bucket, and the deviations the covariates explain.
void write_alert_calendar(ResultWriter& writer, const MetricAlerts& m) {
  const size_t n_buckets = m.bucket_start_ms.size(), n_metrics = m.series.size();
  writer.write_attribute("/alerts", "seasonality", m.seasonality);
  writer.write_attribute("/alerts", "season_period", static_cast<int64_t>(m.season_period));
  if (m.season_period > 0) {
    // NaN rows: metrics without three weeks of usable buckets, whose baseline has no weekly factor.
    std::vector<float> season;
    for (const MetricSeries& s : m.series)
      for (int32_t p = 0; p < m.season_period; ++p)
        season.push_back(s.season_factor.empty() ? std::numeric_limits<float>::quiet_NaN()
                                                 : static_cast<float>(s.season_factor[static_cast<size_t>(p)]));
    writer.write_matrix("/alerts/season_factor", season, n_metrics, static_cast<size_t>(m.season_period));
  }
  if (m.covariate_names.empty()) return;
  const size_t n_covariates = m.covariate_names.size();
  writer.write_attribute("/alerts", "covariates_file", m.covariates_file);
  writer.write_attribute("/alerts", "covariate_coverage", m.covariate_coverage);
  writer.write("/alerts/covariates/names", m.covariate_names);
  writer.write_matrix("/alerts/covariates/values", std::vector<float>(m.covariate_values.begin(), m.covariate_values.end()),
                      n_buckets, n_covariates);
  std::vector<float> effect;
  for (const MetricSeries& s : m.series) effect.insert(effect.end(), s.covariate_effect.begin(), s.covariate_effect.end());
  writer.write_matrix("/alerts/covariates/effect", effect, n_metrics, n_covariates);
  std::vector<int64_t> bucket, start;
  std::vector<std::string> metric, factors;
  std::vector<double> observed, expected, without, z_without;
  for (const ExplainedDeviation& e : m.explained) {
    bucket.push_back(e.bucket);
    start.push_back(e.bucket_start_ms);
    metric.push_back(e.metric);
    factors.push_back(e.factors);
    observed.push_back(e.observed);
    expected.push_back(e.expected);
    without.push_back(e.expected_without_covariates);
    z_without.push_back(e.z_without_covariates);
  }
  writer.write("/alerts/explained/bucket", bucket);
  writer.write("/alerts/explained/bucket_start_ms", start);
  writer.write("/alerts/explained/metric", metric);
  writer.write("/alerts/explained/factors", factors);
  writer.write("/alerts/explained/observed", observed);
  writer.write("/alerts/explained/expected", expected);
  writer.write("/alerts/explained/expected_without_covariates", without);
  writer.write("/alerts/explained/z_without_covariates", z_without);
}

void write_metric_alerts(ResultWriter& writer, const MetricAlerts& m) {
  const size_t n_buckets = m.bucket_start_ms.size(), n_metrics = m.series.size();
  writer.write("/alerts/bucket_start_ms", m.bucket_start_ms);
  writer.write("/alerts/partial", m.partial);
  std::vector<std::string> names;
  std::vector<int32_t> kinds;
  std::vector<double> dispersion;
  std::vector<float> observed, expected, lower, upper, z;
  std::vector<int64_t> support;
  for (const MetricSeries& s : m.series) {
    names.push_back(s.name);
    kinds.push_back(static_cast<int32_t>(s.kind));
    dispersion.push_back(s.dispersion);
    for (size_t b = 0; b < n_buckets; ++b) {
      observed.push_back(static_cast<float>(s.observed[b]));
      expected.push_back(static_cast<float>(s.expected[b]));
      lower.push_back(static_cast<float>(s.lower[b]));
      upper.push_back(static_cast<float>(s.upper[b]));
      z.push_back(static_cast<float>(s.z[b]));
      support.push_back(s.support[b]);
    }
  }
  writer.write("/alerts/metrics", names);
  writer.write("/alerts/metric_kind", kinds);
  writer.write("/alerts/dispersion", dispersion);
  writer.write_matrix("/alerts/observed", observed, n_metrics, n_buckets);
  writer.write_matrix("/alerts/expected", expected, n_metrics, n_buckets);
  writer.write_matrix("/alerts/lower", lower, n_metrics, n_buckets);
  writer.write_matrix("/alerts/upper", upper, n_metrics, n_buckets);
  writer.write_matrix("/alerts/z", z, n_metrics, n_buckets);
  writer.write("/alerts/support", support);
  writer.write_attribute("/alerts", "bucket_seconds", m.bucket_seconds);
  writer.write_attribute("/alerts", "mean_conversion_value", m.mean_conversion_value);
  writer.write_attribute("/alerts", "alert_count", static_cast<int64_t>(m.alerts.size()));
  writer.write_attribute("/alerts", "touchpoints_with_events", m.touchpoints_with_events);
  writer.write_attribute("/alerts", "max_touchpoints", m.max_touchpoints);
  write_alert_calendar(writer, m);

  std::vector<int64_t> bucket, start;
  std::vector<std::string> metric, direction, unit;
  std::vector<double> a_observed, a_expected, a_lower, a_upper, a_z, impact;
  for (const MetricAlert& a : m.alerts) {
    bucket.push_back(a.bucket);
    start.push_back(a.bucket_start_ms);
    metric.push_back(a.metric);
    direction.push_back(a.direction);
    unit.push_back(a.impact_unit);
    a_observed.push_back(a.observed);
    a_expected.push_back(a.expected);
    a_lower.push_back(a.lower);
    a_upper.push_back(a.upper);
    a_z.push_back(a.z);
    impact.push_back(a.impact);
  }
  writer.write("/alerts/list/bucket", bucket);
  writer.write("/alerts/list/bucket_start_ms", start);
  writer.write("/alerts/list/metric", metric);
  writer.write("/alerts/list/observed", a_observed);
  writer.write("/alerts/list/expected", a_expected);
  writer.write("/alerts/list/lower", a_lower);
  writer.write("/alerts/list/upper", a_upper);
  writer.write("/alerts/list/z", a_z);
  writer.write("/alerts/list/direction", direction);
  writer.write("/alerts/list/impact", impact);
  writer.write("/alerts/list/impact_unit", unit);
}

}  // namespace

void write_anomalies_results(ResultWriter& writer, const AnomaliesResult& result) {
  if (result.has_journeys) write_journey_anomalies(writer, result.journeys);
  if (result.has_alerts) write_metric_alerts(writer, result.alerts);
}

std::string format_anomalies_summary(const AnomaliesResult& result) {
  std::string out;
  if (result.has_journeys) {
    const JourneyAnomalies& a = result.journeys;
    int64_t flagged = 0;
    for (uint8_t f : a.flagged) flagged += f;
    out += fmt::format("anomalous journeys: {} of {} flagged (autoencoder {}, {} threshold {:.4g}",
                       flagged, a.score.size(), join_widths(a.widths), to_string(a.threshold_rule), a.threshold);
    if (!a.loss_per_epoch.empty())
      out += fmt::format("; loss {:.4g} -> {:.4g} over {} epochs", a.loss_per_epoch.front(), a.loss_per_epoch.back(),
                         a.loss_per_epoch.size());
    out += ")\n";
    if (a.comparison.ran)
      out += fmt::format(
          "  isolation forest: {} flagged, {} by both; top-{} overlap {:.0f}%, rank correlation {:.2f}\n",
          a.comparison.flagged_forest, a.comparison.flagged_both, a.comparison.top_k, 100.0 * a.comparison.top_k_overlap,
          a.comparison.spearman);
    const size_t shown = std::min<size_t>(a.top.size(), 10);
    for (size_t i = 0; i < shown; ++i) {
      const AnomalousJourney& item = a.top[i];
      out += fmt::format("  {:2d}. journey {} (customer {}, {} events) score {:.3g}", i + 1, item.journey,
                         item.customer, item.events,
                         item.score);
      if (item.forest_rank >= 0) out += fmt::format(", forest rank {}", item.forest_rank + 1);
      out += "\n      " + format_reasons(item) + "\n      " + item.path + "\n";
    }
  }
  if (result.has_alerts) {
    const MetricAlerts& m = result.alerts;
    out += fmt::format("metric alerts: {} over {} buckets of {} s, {} metrics\n", m.alerts.size(),
                       m.bucket_start_ms.size(), m.bucket_seconds, m.series.size());
    if (m.touchpoints_with_events > m.max_touchpoints)
      out += fmt::format("  drop-off and volume series for the {} busiest of {} touchpoints ([anomalies] max_touchpoints)\n",
                         m.max_touchpoints, m.touchpoints_with_events);
    const size_t shown = std::min<size_t>(m.alerts.size(), 10);
    for (size_t i = 0; i < shown; ++i) {
      const MetricAlert& a = m.alerts[i];
      out += fmt::format("  {} {} {} {:.4g} (expected {:.4g}, limits {:.4g}..{:.4g}, z {:+.1f}); impact {:+.1f} {}",
                         utc_date(a.bucket_start_ms, m.bucket_seconds), a.metric, a.direction, a.observed, a.expected,
                         a.lower, a.upper, a.z, a.impact, a.impact_unit);
      if (a.impact_unit == "conversions" && m.mean_conversion_value > 0.0)
        out += fmt::format(" (~{:.0f} in value)", a.impact * m.mean_conversion_value);
      out += "\n";
    }
    if (m.alerts.size() > shown) out += fmt::format("  ... {} more in /alerts/list\n", m.alerts.size() - shown);
    if (!m.covariate_coverage.empty()) out += "  " + m.covariate_coverage + "\n";
    if (!m.explained.empty()) {
      out += fmt::format("  explained by the covariates (no alert): {} deviations\n", m.explained.size());
      for (size_t i = 0; i < std::min<size_t>(m.explained.size(), 5); ++i) {
        const ExplainedDeviation& e = m.explained[i];
        out += fmt::format("    {} {} {:.4g} (expected {:.4g} with {}, {:.4g} without; z without {:+.1f})\n",
                           utc_date(e.bucket_start_ms, m.bucket_seconds), e.metric, e.observed, e.expected, e.factors,
                           e.expected_without_covariates, e.z_without_covariates);
      }
    }
  }
  return out;
}

}  // namespace jm
