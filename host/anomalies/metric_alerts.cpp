// Alerts on journey metrics (statistical process control).
//
// Every metric is a series over time buckets. Its control limits come from robust estimates, so
// that the spike being looked for cannot hide itself by inflating the limits:
//  * expected value: a level (the median of the metric over the `window` preceding usable buckets,
//    filled with the following ones at the start of the series) times the
//    calendar: a weekly factor and the effects of the covariates file (alert_calendar.hpp);
//  * sigma: the sampling noise the bucket's own data implies (compound Poisson for event counts,
//    binomial for rates, a bootstrap standard error for medians), times one over-dispersion factor
//    per metric, the MAD-based scale of the standardised residuals over the whole series (never
//    below 1).
// A bucket alerts when |observed - expected| > k_sigma x sigma. Edge buckets that are only partly
// covered by the data (e.g. the last day holding journeys that ran past midnight) never alert.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <numeric>
#include <string>

#include <fmt/format.h>

#include "host/anomalies/alert_calendar.hpp"
#include "host/anomalies/alert_tally.hpp"
#include "host/core/splitmix64.hpp"
#include "host/core/statistics.hpp"
#include "journeymap/anomalies.hpp"
#include "journeymap/common.hpp"
#include "journeymap/covariates.hpp"

namespace jm {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kWeeklyGain = 0.85;  // weekly factors must cut the residual scale by 15%


uint64_t bootstrap_seed(size_t bucket) { return 0x5EEDull + bucket; }


/// Sampling standard deviation of one bucket's value around `expected`. `spread` is per bucket:
/// for counts the index of dispersion sum(k^2) / sum(k) of the per-journey contributions k (events
/// arrive in bunches of one journey, so a count is compound Poisson: variance = mean x E[K^2] / E[K]);
/// for medians the bootstrap standard error of the bucket's median.
double sampling_sigma(MetricKind kind, double expected, int64_t support, double spread) {
  switch (kind) {
    case MetricKind::Count:
      return std::sqrt(std::max(expected, 1.0) * std::max(spread, 1.0));
    case MetricKind::Rate: {
      const double n = static_cast<double>(std::max<int64_t>(support, 1));
      const double p = std::clamp(expected, 0.5 / n, 1.0 - 0.5 / n);
      return std::sqrt(p * (1.0 - p) / n);
    }
    case MetricKind::Median:
      // Never below half an event: lengths are whole numbers, so a median moves in steps of 0.5.
      return std::max(spread, 0.5);
  }
  return 1.0;
}

/// Bootstrap standard error of the median of `values` (100 seeded resamples, of at most 2000
/// values each, scaled back to n). Formulas built on the density at the median fail for journey
/// lengths: their mixture of short and long journeys puts the median next to a gap it can jump
/// across when the mix moves by a few percent, and only resampling sees that.
double median_standard_error(const std::vector<double>& values, uint64_t seed) {
  const size_t n = values.size();
  if (n < 2) return 0.0;
  constexpr int kResamples = 100;
  constexpr size_t kMaxResampleSize = 2000;
  const size_t m = std::min(n, kMaxResampleSize);
  SplitMix64 rng(seed);
  std::vector<double> resample(m), medians;
  for (int b = 0; b < kResamples; ++b) {
    for (size_t i = 0; i < m; ++i) resample[i] = values[rng.below(n)];
    medians.push_back(median_of(resample));
  }
  const double mean = std::accumulate(medians.begin(), medians.end(), 0.0) / kResamples;
  double variance = 0.0;
  for (double v : medians) variance += (v - mean) * (v - mean);
  variance /= kResamples - 1;
  return std::sqrt(variance * static_cast<double>(m) / static_cast<double>(n));
}

struct SeriesBuilder {
  MetricSeries series;
  std::vector<double> spread;  // per bucket, see sampling_sigma (empty: none)
};

// A rate's expectation stays a rate: level x factors can pass 1 (a drop-off of 0.95 with a +10% effect).
double within_range(MetricKind kind, double expected) { return kind == MetricKind::Rate ? std::min(expected, 1.0) : expected; }

// What the bucket's sampling noise allows around `expected`, before the over-dispersion factor.
double bucket_sigma(const SeriesBuilder& builder, int64_t b, double expected) {
  return sampling_sigma(builder.series.kind, expected, builder.series.support[static_cast<size_t>(b)],
                        builder.spread.empty() ? 0.0 : builder.spread[static_cast<size_t>(b)]);
}

// The non-zero covariates of a bucket, "campaign = 1; spend = 2500".
std::string describe_factors(const alerts::BucketCalendar& calendar, const std::vector<std::string>& names, int64_t b) {
  std::string text;
  for (int32_t c = 0; c < calendar.n_covariates; ++c) {
    const double value = calendar.covariate(b, c);
    if (value == 0.0) continue;
    char number[32];
    std::snprintf(number, sizeof number, "%g", value);
    text += (text.empty() ? "" : "; ") + names[static_cast<size_t>(c)] + " = " + number;
  }
  return text;
}

// One candidate baseline of a series: the calendar fit, the level (rolling median of the series
// with the calendar divided out, quiet phases of the week skipped), expected values and sampling
// sigmas at the usable buckets, and the robust scale of the standardised residuals (1.4826 x their
// median absolute value), which becomes the over-dispersion factor.
struct Baseline {
  alerts::CalendarFit fit;
  std::vector<double> level, expected, sigma;  // [usable]
  double residual_scale = 0.0;
};

Baseline fit_baseline(const SeriesBuilder& builder, const std::vector<int64_t>& usable,
                      const alerts::BucketCalendar& calendar, const AlertOptions& options, bool use_weekly) {
  const MetricSeries& s = builder.series;
  Baseline out;
  out.fit = alerts::fit_calendar(s.observed, usable, calendar, options.window, use_weekly);
  std::vector<double> adjusted(s.observed.size(), kNaN);
  for (const int64_t b : usable) adjusted[static_cast<size_t>(b)] = s.observed[static_cast<size_t>(b)] / out.fit.multiplier(calendar, b, true);
  const std::vector<uint8_t> quiet = alerts::quiet_phase_positions(out.fit, calendar, usable);
  out.level.assign(usable.size(), kNaN);
  out.expected.assign(usable.size(), kNaN);
  out.sigma.assign(usable.size(), kNaN);
  std::vector<double> standardised;
  for (size_t u = 0; u < usable.size(); ++u) {
    const int64_t b = usable[u];
    out.level[u] = alerts::rolling_level(adjusted, usable, u, options.window, quiet);
    if (!std::isfinite(out.level[u])) continue;
    out.expected[u] = within_range(s.kind, out.level[u] * out.fit.multiplier(calendar, b, true));
    out.sigma[u] = bucket_sigma(builder, b, out.expected[u]);
    standardised.push_back(std::fabs((s.observed[static_cast<size_t>(b)] - out.expected[u]) / out.sigma[u]));
  }
  out.residual_scale = standardised.empty() ? 0.0 : 1.4826 * median_of(standardised);
  return out;
}

// Expected values, limits and z of one series, and the deviations its covariates explain.
//  1. The calendar fit: weekly factors and covariate effects (alert_calendar.hpp).
//  2. Level = rolling median of the series with the calendar divided out (quiet phases of the week
//     skipped); expected = level x calendar; the standardised residuals give the over-dispersion
//     factor, then limits and z. Weekly factors stay only where they explain something.
//  3. A bucket that does not alert but would without the covariates is explained by them.
std::vector<ExplainedDeviation> compute_limits(SeriesBuilder& builder, const std::vector<uint8_t>& partial,
                                               const alerts::BucketCalendar& calendar,
                                               const std::vector<std::string>& covariate_names, const AlertOptions& options) {
  MetricSeries& s = builder.series;
  const int64_t n_buckets = static_cast<int64_t>(s.observed.size());
  s.expected.assign(static_cast<size_t>(n_buckets), kNaN);
  s.lower.assign(s.expected.size(), kNaN);
  s.upper.assign(s.expected.size(), kNaN);
  s.z.assign(s.expected.size(), kNaN);
  std::vector<int64_t> usable;
  for (int64_t b = 0; b < n_buckets; ++b)
    if (!partial[b] && std::isfinite(s.observed[b])) usable.push_back(b);

  // Weekly factors are kept only when they cut the robust residual scale by kWeeklyGain: seven
  // factors fitted to a metric without a weekly pattern would only fit its noise (and make a rate
  // near 0 or 1 look surer than it is).
  Baseline baseline = fit_baseline(builder, usable, calendar, options, true);
  if (!baseline.fit.season.empty()) {
    Baseline plain = fit_baseline(builder, usable, calendar, options, false);
    // (1e-9: a series the weekly factors fit exactly leaves rounding noise, not a worse fit.)
    if (!(baseline.residual_scale <= kWeeklyGain * plain.residual_scale + 1e-9)) baseline = std::move(plain);
  }
  const alerts::CalendarFit& fit = baseline.fit;
  const std::vector<double>& level = baseline.level;
  const std::vector<double>& sigma = baseline.sigma;
  s.season_factor = fit.season;
  for (const double effect : fit.effect) s.covariate_effect.push_back(std::expm1(effect));
  for (size_t u = 0; u < usable.size(); ++u)
    if (std::isfinite(level[u])) s.expected[usable[u]] = baseline.expected[u];
  s.dispersion = std::max(1.0, baseline.residual_scale);

  std::vector<ExplainedDeviation> explained;
  for (size_t u = 0; u < usable.size(); ++u) {
    const int64_t b = usable[u];
    if (!std::isfinite(level[u])) continue;
    const double expected = s.expected[b];
    const double width = options.k_sigma * s.dispersion * sigma[u];
    s.z[b] = (s.observed[b] - expected) / sigma[u] / s.dispersion;
    s.lower[b] = std::max(expected - width, 0.0);
    s.upper[b] = s.kind == MetricKind::Rate ? std::min(expected + width, 1.0) : expected + width;
    const bool alerts = std::fabs(s.z[b]) > options.k_sigma;

    const double without = within_range(s.kind, level[u] * fit.multiplier(calendar, b, false));
    if (alerts || without == expected) continue;
    const double z_without = (s.observed[b] - without) / bucket_sigma(builder, b, without) / s.dispersion;
    if (std::fabs(z_without) <= options.k_sigma) continue;
    ExplainedDeviation deviation;
    deviation.bucket = b;
    deviation.metric = s.name;
    deviation.observed = s.observed[b];
    deviation.expected = expected;
    deviation.expected_without_covariates = without;
    deviation.z_without_covariates = z_without;
    deviation.factors = describe_factors(calendar, covariate_names, b);
    explained.push_back(std::move(deviation));
  }
  return explained;
}

void validate_alert_options(const AlertOptions& options) {
  if (options.bucket_seconds < 1 || options.bucket_seconds > kMaxBucketSeconds)
    throw ConfigError("alerts: bucket_seconds must be between 1 and " + std::to_string(kMaxBucketSeconds));
  if (options.window < 3) throw ConfigError("alerts: window must be >= 3 buckets");
  if (!(options.k_sigma > 0.0)) throw ConfigError("alerts: k_sigma must be > 0");
  if (options.min_support < 1) throw ConfigError("alerts: min_support must be >= 1");
  if (options.max_touchpoints < 1) throw ConfigError("alerts: max_touchpoints must be >= 1");
}

}  // namespace

MetricAlerts detect_metric_alerts(const JourneySet& journeys, const AlertOptions& options) {
  validate_alert_options(options);
  return finish_metric_alerts(tally_alerts(journeys, options.bucket_seconds), journeys, options);
}

MetricAlerts finish_metric_alerts(const AlertTally& tally, const JourneySet& journeys, const AlertOptions& options) {
  // The mean value of a conversion, summed over the journeys in their order.
  double conversion_value = 0.0;
  int64_t conversions = 0;
  for (int64_t j = 0; j < journeys.size(); ++j) {
    conversions += journeys.converted[j];
    conversion_value += journeys.conversion_value[j];
  }
  return finish_metric_alerts(tally, journeys, conversions > 0 ? conversion_value / conversions : 0.0, options);
}

MetricAlerts finish_metric_alerts(const AlertTally& tally, const JourneySet& vocabulary, double mean_conversion_value,
                                  const AlertOptions& options) {
  const JourneySet& journeys = vocabulary;
  validate_alert_options(options);
  if (tally.bucket_seconds != options.bucket_seconds)
    throw Error(fmt::format("alerts: a tally of {} s buckets cannot give alerts in buckets of {} s", tally.bucket_seconds,
                            options.bucket_seconds));
  MetricAlerts result;
  result.bucket_seconds = options.bucket_seconds;
  const int64_t n_buckets = tally.n_buckets();
  if (n_buckets == 0) return result;
  const int64_t bucket_ms = options.bucket_seconds * 1000;

  // Events per touchpoint: the busiest `max_touchpoints` get drop-off and volume series, so series
  // and memory stay bounded with huge vocabularies (ties: lower id first).
  const int32_t n_touchpoints = journeys.touchpoints.size();
  std::vector<int64_t> touchpoint_events(static_cast<size_t>(n_touchpoints), 0);
  if (tally.n_touchpoints > n_touchpoints) throw Error("alerts: the tally knows more touchpoints than the journeys");
  std::copy(tally.touchpoint_events.begin(), tally.touchpoint_events.end(), touchpoint_events.begin());
  std::vector<int32_t> busiest;
  for (int32_t t = 0; t < n_touchpoints; ++t)
    if (touchpoint_events[static_cast<size_t>(t)] > 0) busiest.push_back(t);
  std::stable_sort(busiest.begin(), busiest.end(), [&](int32_t a, int32_t b) {
    return touchpoint_events[static_cast<size_t>(a)] > touchpoint_events[static_cast<size_t>(b)];
  });
  result.touchpoints_with_events = static_cast<int64_t>(busiest.size());
  result.max_touchpoints = options.max_touchpoints;
  if (static_cast<int64_t>(busiest.size()) > options.max_touchpoints) busiest.resize(static_cast<size_t>(options.max_touchpoints));
  std::sort(busiest.begin(), busiest.end());  // series in id order, as before the cap

  // Funnel steps: names -> touchpoint ids (by default the busiest touchpoints; outcome events are
  // not in the journeys, so never a step).
  std::vector<int32_t> steps;
  if (options.funnel_steps.empty()) {
    steps = busiest;
  } else {
    for (const std::string& name : options.funnel_steps) {
      const int32_t id = journeys.touchpoints.find(name);
      if (id < 0) throw ConfigError("alerts: funnel step '" + name + "' is not a touchpoint of this data");
      if (std::find(steps.begin(), steps.end(), id) != steps.end())
        throw ConfigError("alerts: funnel step '" + name + "' is named twice");
      steps.push_back(id);
    }
  }
  const std::vector<int32_t> volume_touchpoints = options.touchpoint_volumes ? busiest : std::vector<int32_t>{};
  for (int64_t b = 0; b < n_buckets; ++b) result.bucket_start_ms.push_back((tally.first_bucket + b) * bucket_ms);

  // The series' counts from the tally. Arrays are [tracked touchpoint][bucket], never [vocabulary][bucket].
  const size_t nb = static_cast<size_t>(n_buckets);
  const std::vector<int64_t>& started = tally.started;
  const std::vector<int64_t>& converted = tally.converted;
  // Each bucket's journey lengths in ascending order (the bootstrap of their median reads them so).
  std::vector<std::vector<double>> lengths(nb);
  for (const LengthCount& l : tally.lengths)
    lengths[static_cast<size_t>(l.bucket)].insert(lengths[static_cast<size_t>(l.bucket)].end(),
                                                  static_cast<size_t>(l.journeys), static_cast<double>(l.length));
  std::vector<std::vector<int64_t>> reached(steps.size(), std::vector<int64_t>(nb, 0));
  std::vector<std::vector<int64_t>> abandoned(steps.size(), std::vector<int64_t>(nb, 0));
  std::vector<std::vector<int64_t>> volume(volume_touchpoints.size(), std::vector<int64_t>(nb, 0));
  // Sum over journeys of (events of the journey in the bucket)^2, per tracked touchpoint.
  std::vector<std::vector<double>> volume_squares(volume_touchpoints.size(), std::vector<double>(nb, 0.0));
  std::vector<int32_t> step_slot(static_cast<size_t>(n_touchpoints), -1);
  std::vector<int32_t> volume_slot(static_cast<size_t>(n_touchpoints), -1);
  for (size_t s = 0; s < steps.size(); ++s) step_slot[static_cast<size_t>(steps[s])] = static_cast<int32_t>(s);
  for (size_t v = 0; v < volume_touchpoints.size(); ++v)
    volume_slot[static_cast<size_t>(volume_touchpoints[v])] = static_cast<int32_t>(v);
  for (const TouchpointBucket& cell : tally.cells) {
    const auto b = static_cast<size_t>(cell.bucket);
    const int32_t s = step_slot[static_cast<size_t>(cell.touchpoint)];
    if (s >= 0) {
      reached[static_cast<size_t>(s)][b] = cell.reached;
      abandoned[static_cast<size_t>(s)][b] = cell.abandoned;
    }
    const int32_t v = volume_slot[static_cast<size_t>(cell.touchpoint)];
    if (v >= 0) {
      volume[static_cast<size_t>(v)][b] = cell.events;
      volume_squares[static_cast<size_t>(v)][b] = static_cast<double>(cell.events_squared);
    }
  }
  result.mean_conversion_value = mean_conversion_value;

  // Edge buckets with fewer than half the median journey starts are partial (never alert).
  result.partial.assign(nb, 0);
  {
    std::vector<double> starts(started.begin(), started.end());
    const double median_starts = median_of(starts);
    if (started[0] < 0.5 * median_starts) result.partial[0] = 1;
    if (started[nb - 1] < 0.5 * median_starts) result.partial[nb - 1] = 1;
  }

  std::vector<SeriesBuilder> builders;
  const auto add_series = [&](std::string name, MetricKind kind) -> SeriesBuilder& {
    builders.emplace_back();
    builders.back().series.name = std::move(name);
    builders.back().series.kind = kind;
    builders.back().series.observed.assign(nb, kNaN);
    builders.back().series.support.assign(nb, 0);
    return builders.back();
  };
  {
    SeriesBuilder& s = add_series("journeys", MetricKind::Count);
    for (size_t b = 0; b < nb; ++b) {
      s.series.observed[b] = static_cast<double>(started[b]);
      s.series.support[b] = started[b];
    }
  }
  {
    SeriesBuilder& s = add_series("conversion_rate", MetricKind::Rate);
    for (size_t b = 0; b < nb; ++b) {
      s.series.support[b] = started[b];
      if (started[b] >= options.min_support) s.series.observed[b] = static_cast<double>(converted[b]) / started[b];
    }
  }
  {
    SeriesBuilder& s = add_series("median_length", MetricKind::Median);
    s.spread.assign(nb, 0.0);
    for (size_t b = 0; b < nb; ++b) {
      s.series.support[b] = started[b];
      if (started[b] < options.min_support) continue;
      s.series.observed[b] = median_of(lengths[b]);
      s.spread[b] = median_standard_error(lengths[b], bootstrap_seed(b));
    }
  }
  for (size_t st = 0; st < steps.size(); ++st) {
    // A default step nobody abandons after (the conversion event itself) would be a constant 0.
    if (options.funnel_steps.empty() &&
        std::accumulate(abandoned[st].begin(), abandoned[st].end(), int64_t{0}) == 0)
      continue;
    SeriesBuilder& s = add_series("dropoff:" + journeys.touchpoints.name(steps[st]), MetricKind::Rate);
    for (size_t b = 0; b < nb; ++b) {
      s.series.support[b] = reached[st][b];
      if (reached[st][b] >= options.min_support)
        s.series.observed[b] = static_cast<double>(abandoned[st][b]) / reached[st][b];
    }
  }
  for (size_t v = 0; v < volume_touchpoints.size(); ++v) {
    SeriesBuilder& s = add_series("volume:" + journeys.touchpoints.name(volume_touchpoints[v]), MetricKind::Count);
    s.spread.assign(nb, 1.0);
    for (size_t b = 0; b < nb; ++b) {
      s.series.observed[b] = static_cast<double>(volume[v][b]);
      s.series.support[b] = volume[v][b];
      if (volume[v][b] > 0) s.spread[b] = volume_squares[v][b] / static_cast<double>(volume[v][b]);
    }
  }

  // The calendar every series shares: the week's phases and the covariates of each bucket.
  alerts::BucketCalendar calendar = options.seasonality == Seasonality::Weekly
                                        ? alerts::weekly_calendar(result.bucket_start_ms[0], n_buckets, options.bucket_seconds)
                                        : alerts::BucketCalendar{};
  result.seasonality = to_string(options.seasonality);
  result.season_period = calendar.period;
  if (journeys.covariates) {
    const CovariateTable& table = *journeys.covariates;
    if (table.bucket_seconds != options.bucket_seconds)
      throw ConfigError("alerts: covariates " + table.file + " were read for buckets of " +
                        std::to_string(table.bucket_seconds) + " s; the alerts use buckets of " +
                        std::to_string(options.bucket_seconds) + " s");
    result.covariates_file = table.file;
    result.covariate_names = table.names;
    result.covariate_coverage = describe_covariate_coverage(
        table, covariate_coverage(table, result.bucket_start_ms.front(), result.bucket_start_ms.back()));
    calendar.n_covariates = table.size();
    for (int64_t b = 0; b < n_buckets; ++b)
      for (int32_t c = 0; c < table.size(); ++c)
        calendar.covariates.push_back(table.value_at(c, result.bucket_start_ms[static_cast<size_t>(b)]));
    result.covariate_values = calendar.covariates;
  }

  for (SeriesBuilder& builder : builders) {
    for (ExplainedDeviation& deviation : compute_limits(builder, result.partial, calendar, result.covariate_names, options)) {
      deviation.bucket_start_ms = result.bucket_start_ms[static_cast<size_t>(deviation.bucket)];
      result.explained.push_back(std::move(deviation));
    }
    const MetricSeries& s = builder.series;
    for (int64_t b = 0; b < n_buckets; ++b) {
      if (result.partial[b] || !std::isfinite(s.z[b]) || std::fabs(s.z[b]) <= options.k_sigma) continue;
      MetricAlert alert;
      alert.bucket = b;
      alert.bucket_start_ms = result.bucket_start_ms[b];
      alert.metric = s.name;
      alert.observed = s.observed[b];
      alert.expected = s.expected[b];
      alert.lower = s.lower[b];
      alert.upper = s.upper[b];
      alert.z = s.z[b];
      alert.direction = s.z[b] > 0 ? "up" : "down";
      const double difference = s.observed[b] - s.expected[b];
      if (s.name == "conversion_rate") {
        alert.impact = -difference * static_cast<double>(s.support[b]);
        alert.impact_unit = "conversions";
      } else if (s.name.rfind("dropoff:", 0) == 0) {
        alert.impact = difference * static_cast<double>(s.support[b]);
        alert.impact_unit = "conversions";
      } else if (s.name == "journeys") {
        alert.impact = difference;
        alert.impact_unit = "journeys";
      } else if (s.kind == MetricKind::Median) {
        alert.impact = difference;
        alert.impact_unit = "events per journey";
      } else {
        alert.impact = difference;
        alert.impact_unit = "events";
      }
      result.alerts.push_back(alert);
    }
    result.series.push_back(std::move(builder.series));
  }
  std::stable_sort(result.alerts.begin(), result.alerts.end(),
                   [](const MetricAlert& a, const MetricAlert& b) { return std::fabs(a.z) > std::fabs(b.z); });
  std::stable_sort(result.explained.begin(), result.explained.end(), [](const auto& a, const auto& b) {
    return std::fabs(a.z_without_covariates) > std::fabs(b.z_without_covariates);
  });
  return result;
}

Seasonality parse_seasonality(const std::string& text) {
  if (text == "none") return Seasonality::None;
  if (text == "weekly") return Seasonality::Weekly;
  throw ConfigError("alerts: seasonality must be 'none' or 'weekly' (got '" + text + "')");
}

const char* to_string(Seasonality seasonality) { return seasonality == Seasonality::Weekly ? "weekly" : "none"; }

}  // namespace jm
