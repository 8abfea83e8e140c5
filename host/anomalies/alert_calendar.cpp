#include "host/anomalies/alert_calendar.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "host/core/openblas.hpp"
#include "host/core/statistics.hpp"
#include "journeymap/common.hpp"

namespace jm::alerts {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int64_t kWeekMs = 7 * 86400000LL;
constexpr int64_t kFirstMondayMs = 4 * 86400000LL;  // 1970-01-05, the first Monday after the epoch
constexpr int kRounds = 3;                          // level <-> factors alternations
constexpr double kHuberK = 1.345;                   // 95% efficiency under normal noise
constexpr double kMinSeasonFactor = 1e-3;           // a phase with no activity still divides safely
constexpr double kMaxLogEffect = 20.0;
constexpr double kQuietPhaseFactor = 0.1;           // below: the phase says little about the level

int64_t floor_mod(int64_t a, int64_t b) { return ((a % b) + b) % b; }
int64_t floor_div(int64_t a, int64_t b) { return (a - floor_mod(a, b)) / b; }

// Huber M-estimate of beta in target ~ rows . beta (no intercept: the level carries it), by
// iteratively reweighted least squares; each step solves the weighted normal equations with
// LAPACK's Cholesky. A tiny ridge keeps collinear factors solvable.
std::vector<double> huber_regression(const std::vector<double>& rows, const std::vector<double>& target, int p) {
  const size_t n = target.size();
  std::vector<double> beta(static_cast<size_t>(p), 0.0), residual(n), absolute(n);
  for (int iteration = 0; iteration < 50; ++iteration) {
    for (size_t i = 0; i < n; ++i) {
      double fitted = 0.0;
      for (int c = 0; c < p; ++c) fitted += rows[i * static_cast<size_t>(p) + static_cast<size_t>(c)] * beta[static_cast<size_t>(c)];
      residual[i] = target[i] - fitted;
      absolute[i] = std::fabs(residual[i]);
    }
    const double scale = std::max(1.4826 * median_of(absolute), 1e-9);
    std::vector<double> normal(static_cast<size_t>(p) * static_cast<size_t>(p), 0.0), rhs(static_cast<size_t>(p), 0.0);
    for (size_t i = 0; i < n; ++i) {
      const double weight = absolute[i] <= kHuberK * scale ? 1.0 : kHuberK * scale / absolute[i];
      const double* x = &rows[i * static_cast<size_t>(p)];
      for (int a = 0; a < p; ++a) {
        rhs[static_cast<size_t>(a)] += weight * x[a] * target[i];
        for (int b = 0; b < p; ++b) normal[static_cast<size_t>(a) * static_cast<size_t>(p) + static_cast<size_t>(b)] += weight * x[a] * x[b];
      }
    }
    // Per column, so that a factor on a large scale (spend) does not shrink a 0/1 factor (holiday).
    for (int a = 0; a < p; ++a) {
      double& diagonal = normal[static_cast<size_t>(a) * static_cast<size_t>(p + 1)];
      diagonal += 1e-9 * (diagonal + 1.0);
    }
    const char lower = 'L';
    const int one = 1;
    int info = 0;
    openblas().dpotrf(&lower, &p, normal.data(), &p, &info);
    if (info != 0)
      throw Error("alerts: the covariates' regression has no solution (LAPACK dpotrf info " + std::to_string(info) +
                  "): two factors move together exactly, or a factor's values are out of scale");
    openblas().dpotrs(&lower, &p, &one, normal.data(), &p, rhs.data(), &p, &info);
    if (info != 0) throw Error("alerts: covariate regression failed (LAPACK dpotrs info " + std::to_string(info) + ")");
    double change = 0.0;
    for (int c = 0; c < p; ++c) {
      if (!std::isfinite(rhs[static_cast<size_t>(c)]))
        throw Error("alerts: the covariates' regression gave a non-finite effect: a factor's values are out of scale");
      change = std::max(change, std::fabs(rhs[static_cast<size_t>(c)] - beta[static_cast<size_t>(c)]));
    }
    beta = rhs;
    if (change < 1e-10) break;
  }
  return beta;
}

}  // namespace

BucketCalendar weekly_calendar(int64_t first_bucket_start_ms, int64_t n_buckets, int64_t bucket_seconds) {
  BucketCalendar calendar;
  const int64_t bucket_ms = bucket_seconds * 1000;
  if (kWeekMs % bucket_ms != 0 || kWeekMs / bucket_ms < 2) return calendar;
  calendar.period = static_cast<int32_t>(kWeekMs / bucket_ms);
  // Phase 0 is the bucket holding Monday 00:00 UTC (its start need not be that instant).
  const int64_t monday_bucket = floor_div(kFirstMondayMs, bucket_ms);
  const int64_t first_phase = floor_mod(floor_div(first_bucket_start_ms, bucket_ms) - monday_bucket, calendar.period);
  calendar.phase.resize(static_cast<size_t>(n_buckets));
  for (int64_t b = 0; b < n_buckets; ++b) calendar.phase[static_cast<size_t>(b)] = static_cast<int32_t>((first_phase + b) % calendar.period);
  return calendar;
}

double CalendarFit::multiplier(const BucketCalendar& calendar, int64_t bucket, bool with_covariates) const {
  double factor = season.empty() ? 1.0 : season[static_cast<size_t>(calendar.phase[static_cast<size_t>(bucket)])];
  if (with_covariates && !effect.empty()) {
    double exponent = 0.0;
    for (int32_t c = 0; c < calendar.n_covariates; ++c) exponent += effect[static_cast<size_t>(c)] * calendar.covariate(bucket, c);
    factor *= std::exp(std::clamp(exponent, -kMaxLogEffect, kMaxLogEffect));
  }
  return factor;
}

double rolling_level(const std::vector<double>& adjusted, const std::vector<int64_t>& usable, size_t u, int window,
                     const std::vector<uint8_t>& uninformative) {
  std::vector<double> values;
  for (size_t v = u; v-- > 0 && static_cast<int>(values.size()) < window;)
    if (!uninformative[v]) values.push_back(adjusted[static_cast<size_t>(usable[v])]);
  for (size_t v = u + 1; v < usable.size() && static_cast<int>(values.size()) < window; ++v)
    if (!uninformative[v]) values.push_back(adjusted[static_cast<size_t>(usable[v])]);
  return values.size() < 3 ? kNaN : median_of(values);
}

std::vector<uint8_t> quiet_phase_positions(const CalendarFit& fit, const BucketCalendar& calendar,
                                           const std::vector<int64_t>& usable) {
  std::vector<uint8_t> quiet(usable.size(), 0);
  if (fit.season.empty()) return quiet;
  for (size_t u = 0; u < usable.size(); ++u)
    quiet[u] = fit.season[static_cast<size_t>(calendar.phase[static_cast<size_t>(usable[u])])] < kQuietPhaseFactor ? 1 : 0;
  return quiet;
}

CalendarFit fit_calendar(const std::vector<double>& observed, const std::vector<int64_t>& usable,
                         const BucketCalendar& calendar, int window, bool use_weekly) {
  CalendarFit fit;
  const int32_t n_covariates = calendar.n_covariates;
  fit.effect.assign(static_cast<size_t>(n_covariates), 0.0);
  const bool weekly =
      use_weekly && calendar.period > 0 && usable.size() >= 3 * static_cast<size_t>(calendar.period);
  if (!weekly && n_covariates == 0) return fit;

  // Factors that vary among the usable buckets; the others keep effect 0.
  std::vector<int32_t> varying;
  for (int32_t c = 0; c < n_covariates; ++c) {
    bool varies = false;
    for (size_t u = 1; u < usable.size() && !varies; ++u)
      varies = calendar.covariate(usable[u], c) != calendar.covariate(usable[0], c);
    if (varies) varying.push_back(c);
  }

  std::vector<double> adjusted(observed.size(), kNaN), level(usable.size(), kNaN);
  for (int round = 0; round < kRounds; ++round) {
    for (const int64_t b : usable) adjusted[static_cast<size_t>(b)] = observed[static_cast<size_t>(b)] / fit.multiplier(calendar, b, true);
    const std::vector<uint8_t> quiet = quiet_phase_positions(fit, calendar, usable);
    for (size_t u = 0; u < usable.size(); ++u) level[u] = rolling_level(adjusted, usable, u, window, quiet);

    if (weekly) {
      std::vector<std::vector<double>> ratios(static_cast<size_t>(calendar.period));
      for (size_t u = 0; u < usable.size(); ++u) {
        const int64_t b = usable[u];
        if (!(level[u] > 0.0)) continue;
        const double covariate_factor = fit.multiplier(calendar, b, true) / fit.multiplier(calendar, b, false);
        ratios[static_cast<size_t>(calendar.phase[static_cast<size_t>(b)])].push_back(
            observed[static_cast<size_t>(b)] / (level[u] * covariate_factor));
      }
      std::vector<double> season(static_cast<size_t>(calendar.period), 1.0);
      bool enough = true;
      for (size_t p = 0; p < season.size(); ++p) {
        enough = enough && ratios[p].size() >= 3;
        if (ratios[p].size() >= 3) season[p] = median_of(ratios[p]);
      }
      if (enough) {
        const double mean = std::accumulate(season.begin(), season.end(), 0.0) / static_cast<double>(season.size());
        if (mean > 0.0)
          for (double& factor : season) factor = std::max(factor / mean, kMinSeasonFactor);
        fit.season = mean > 0.0 ? season : std::vector<double>{};
      }
    }

    if (!varying.empty()) {
      const int p = static_cast<int>(varying.size());
      std::vector<double> rows, target;
      for (size_t u = 0; u < usable.size(); ++u) {
        const int64_t b = usable[u];
        const double y = observed[static_cast<size_t>(b)];
        if (!(level[u] > 0.0) || !(y > 0.0)) continue;  // log needs both; an outage is not evidence of an effect
        target.push_back(std::log(y / (level[u] * fit.multiplier(calendar, b, false))));
        for (const int32_t c : varying) rows.push_back(calendar.covariate(b, c));
      }
      if (static_cast<int>(target.size()) > p) {
        const std::vector<double> beta = huber_regression(rows, target, p);
        for (int i = 0; i < p; ++i)
          fit.effect[static_cast<size_t>(varying[static_cast<size_t>(i)])] = std::clamp(beta[static_cast<size_t>(i)], -kMaxLogEffect, kMaxLogEffect);
      }
    }
  }
  return fit;
}

}  // namespace jm::alerts
