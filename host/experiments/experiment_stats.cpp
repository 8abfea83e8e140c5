#include "journeymap/experiment_stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>

namespace jm::experiment_stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double normal_quantile(double alpha) { return boost::math::quantile(boost::math::normal(), 1.0 - alpha / 2.0); }

// Two-sided p-value of a standard normal statistic.
double normal_p_value(double z) { return std::erfc(std::fabs(z) / std::sqrt(2.0)); }

}  // namespace

Comparison compare_proportions(int64_t x_control, int64_t n_control, int64_t x_treatment, int64_t n_treatment,
                               double alpha) {
  Comparison out;
  out.relative_low = out.relative_high = kNaN;
  if (n_control <= 0 || n_treatment <= 0) {
    out.relative = out.ci_low = out.ci_high = kNaN;
    return out;
  }
  const double nc = static_cast<double>(n_control), nt = static_cast<double>(n_treatment);
  const double pc = static_cast<double>(x_control) / nc, pt = static_cast<double>(x_treatment) / nt;
  out.control = pc;
  out.treatment = pt;
  out.difference = pt - pc;
  const double z = normal_quantile(alpha);
  const double se = std::sqrt(pc * (1.0 - pc) / nc + pt * (1.0 - pt) / nt);
  out.ci_low = out.difference - z * se;
  out.ci_high = out.difference + z * se;
  const double pooled = static_cast<double>(x_control + x_treatment) / (nc + nt);
  const double se_pooled = std::sqrt(pooled * (1.0 - pooled) * (1.0 / nc + 1.0 / nt));
  out.p_value = se_pooled > 0.0 ? normal_p_value(out.difference / se_pooled) : 1.0;
  out.relative = pc > 0.0 ? pt / pc - 1.0 : kNaN;
  if (x_control > 0 && x_treatment > 0) {
    const double log_ratio = std::log(pt / pc);
    const double se_log = std::sqrt(1.0 / static_cast<double>(x_treatment) - 1.0 / nt +
                                    1.0 / static_cast<double>(x_control) - 1.0 / nc);
    out.relative_low = std::exp(log_ratio - z * se_log) - 1.0;
    out.relative_high = std::exp(log_ratio + z * se_log) - 1.0;
  }
  return out;
}

Moments moments_of(const std::vector<double>& values) {
  Moments m;
  m.n = static_cast<int64_t>(values.size());
  if (m.n == 0) return m;
  m.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(m.n);
  double squares = 0.0;
  for (const double v : values) squares += (v - m.mean) * (v - m.mean);
  m.variance = m.n > 1 ? squares / static_cast<double>(m.n - 1) : 0.0;
  return m;
}

Comparison compare_means(const Moments& control, const Moments& treatment, double alpha) {
  Comparison out;
  out.relative_low = out.relative_high = kNaN;
  out.control = control.mean;
  out.treatment = treatment.mean;
  out.difference = treatment.mean - control.mean;
  out.relative = control.mean != 0.0 ? treatment.mean / control.mean - 1.0 : kNaN;
  if (control.n < 2 || treatment.n < 2) {
    out.ci_low = out.ci_high = kNaN;
    return out;
  }
  const double vc = control.variance / static_cast<double>(control.n);
  const double vt = treatment.variance / static_cast<double>(treatment.n);
  const double se = std::sqrt(vc + vt);
  if (!(se > 0.0)) {
    out.ci_low = out.ci_high = out.difference;
    out.p_value = out.difference == 0.0 ? 1.0 : 0.0;
    return out;
  }
  // Welch-Satterthwaite degrees of freedom.
  const double df = (vc + vt) * (vc + vt) /
                    (vc * vc / static_cast<double>(control.n - 1) + vt * vt / static_cast<double>(treatment.n - 1));
  const boost::math::students_t distribution(df);
  const double t = out.difference / se;
  out.p_value = 2.0 * boost::math::cdf(boost::math::complement(distribution, std::fabs(t)));
  const double quantile = boost::math::quantile(boost::math::complement(distribution, alpha / 2.0));
  out.ci_low = out.difference - quantile * se;
  out.ci_high = out.difference + quantile * se;
  return out;
}

Cuped cuped(const std::vector<double>& y_control, const std::vector<double>& x_control,
            const std::vector<double>& y_treatment, const std::vector<double>& x_treatment, double alpha) {
  std::vector<double> y(y_control), x(x_control);
  y.insert(y.end(), y_treatment.begin(), y_treatment.end());
  x.insert(x.end(), x_treatment.begin(), x_treatment.end());
  const Moments my = moments_of(y), mx = moments_of(x);
  double covariance = 0.0;
  for (size_t i = 0; i < y.size(); ++i) covariance += (y[i] - my.mean) * (x[i] - mx.mean);
  covariance = y.size() > 1 ? covariance / static_cast<double>(y.size() - 1) : 0.0;
  Cuped out;
  out.theta = mx.variance > 0.0 ? covariance / mx.variance : 0.0;
  auto adjusted = [&](const std::vector<double>& ys, const std::vector<double>& xs) {
    std::vector<double> result(ys.size());
    for (size_t i = 0; i < ys.size(); ++i) result[i] = ys[i] - out.theta * (xs[i] - mx.mean);
    return result;
  };
  const std::vector<double> control = adjusted(y_control, x_control), treatment = adjusted(y_treatment, x_treatment);
  out.comparison = compare_means(moments_of(control), moments_of(treatment), alpha);
  std::vector<double> all(control);
  all.insert(all.end(), treatment.begin(), treatment.end());
  out.variance_reduction = my.variance > 0.0 ? 1.0 - moments_of(all).variance / my.variance : 0.0;
  return out;
}

Look msprt_look(double difference, double variance, double tau, double alpha) {
  const double tau2 = tau * tau;
  const double spread = variance + tau2;
  // log of the mixture likelihood ratio against "no difference".
  const double log_ratio = 0.5 * std::log(variance / spread) + tau2 * difference * difference / (2.0 * variance * spread);
  Look look;
  look.p_value = std::min(1.0, std::exp(-log_ratio));
  const double half = std::sqrt(variance * spread / tau2 * (std::log(spread / variance) - 2.0 * std::log(alpha)));
  look.low = difference - half;
  look.high = difference + half;
  return look;
}

void AlwaysValid::look(double difference, double variance) {
  if (!(variance > 0.0) || !std::isfinite(difference)) return;
  const Look now = msprt_look(difference, variance, tau_, alpha_);
  low_ = std::max(low_, now.low);
  high_ = std::min(high_, now.high);
  p_value_ = std::min(p_value_, now.p_value);
  ++looks_;
}

double sample_ratio_p_value(const std::vector<int64_t>& observed, const std::vector<double>& expected_share) {
  if (observed.size() < 2 || observed.size() != expected_share.size()) return 1.0;
  const double total = static_cast<double>(std::accumulate(observed.begin(), observed.end(), int64_t{0}));
  const double share_sum = std::accumulate(expected_share.begin(), expected_share.end(), 0.0);
  if (!(total > 0.0) || !(share_sum > 0.0)) return 1.0;
  double statistic = 0.0;
  for (size_t i = 0; i < observed.size(); ++i) {
    const double expected = total * expected_share[i] / share_sum;
    const double gap = static_cast<double>(observed[i]) - expected;
    statistic += gap * gap / expected;
  }
  const boost::math::chi_squared distribution(static_cast<double>(observed.size() - 1));
  return boost::math::cdf(boost::math::complement(distribution, statistic));
}

}  // namespace jm::experiment_stats
