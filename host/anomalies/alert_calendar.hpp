// The calendar part of a metric's expected value: a weekly seasonal factor and the effects of
// external factors (campaigns, holidays, price changes), both multiplicative on a local level.
//
//   observed[b] ~ level[b] x season[phase of b] x exp(sum_c effect[c] x covariate[b][c])
//
// The level (a rolling median, see metric_alerts.cpp) follows slow movements; the factors carry
// what repeats every week and what the covariates file explains. Fitted robustly: weekly factors
// are medians of observed / level per phase; effects are a Huber regression of log(observed /
// (level x season)) on the covariates; the level is recomputed on the series with both divided
// out, three rounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace jm::alerts {

/// What is known about each bucket before any metric is looked at.
struct BucketCalendar {
  int32_t period = 0;           ///< buckets per week when weekly factors apply, else 0
  std::vector<int32_t> phase;   ///< [n_buckets] 0 = the bucket holding Monday 00:00 UTC
  int32_t n_covariates = 0;
  std::vector<double> covariates;  ///< [n_buckets x n_covariates]

  double covariate(int64_t bucket, int32_t c) const {
    return covariates[static_cast<size_t>(bucket) * static_cast<size_t>(n_covariates) + static_cast<size_t>(c)];
  }
};

/// Buckets per week for buckets of `bucket_seconds` (0 when a week is not a whole number of at
/// least two buckets) and each bucket's phase.
BucketCalendar weekly_calendar(int64_t first_bucket_start_ms, int64_t n_buckets, int64_t bucket_seconds);

struct CalendarFit {
  std::vector<double> season;  ///< [period] factors with mean 1; empty when not estimated
  std::vector<double> effect;  ///< [n_covariates] log effects; 0 for a factor that never varies

  /// The bucket's factor: season x exp(effects . covariates), or the season alone.
  double multiplier(const BucketCalendar& calendar, int64_t bucket, bool with_covariates) const;
};

/// Median of the `window` values of `adjusted` at the usable positions before position u of
/// `usable` (taken from after u while fewer precede it); NaN with fewer than 3. Positions flagged in
/// `uninformative` are skipped.
double rolling_level(const std::vector<double>& adjusted, const std::vector<int64_t>& usable, size_t u, int window,
                     const std::vector<uint8_t>& uninformative);

/// Positions of `usable` in a quiet phase of the week (weekly factor below 0.1, e.g. a Sunday with
/// almost no activity): divided by their small factor, their values say little about the level
/// and only add noise, so the level skips them.
std::vector<uint8_t> quiet_phase_positions(const CalendarFit& fit, const BucketCalendar& calendar,
                                           const std::vector<int64_t>& usable);

/// Fits the weekly factors (with `use_weekly`, when the calendar has a period and the series at
/// least three weeks of usable buckets) and the covariate effects (when it has covariates) for
/// `observed` at the `usable` buckets.
CalendarFit fit_calendar(const std::vector<double>& observed, const std::vector<int64_t>& usable,
                         const BucketCalendar& calendar, int window, bool use_weekly);

}  // namespace jm::alerts
