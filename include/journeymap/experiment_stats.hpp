// Statistics of A/B tests on journey outcomes: two-proportion and Welch comparisons with
// fixed-horizon intervals, the CUPED adjustment, always-valid confidence sequences (mSPRT) for
// results looked at every day, and the sample-ratio-mismatch test. Distributions come from
// Boost.Math; each function names the peer (statsmodels, scipy) whose numbers it reproduces, which
// scripts/experiment_peers.py checks.
#pragma once

#include <cstdint>
#include <vector>

namespace jm::experiment_stats {

/// Treatment against control on one metric.
struct Comparison {
  double control = 0.0, treatment = 0.0;  ///< the two means (rates for proportions)
  double difference = 0.0;                ///< treatment - control
  double ci_low = 0.0, ci_high = 0.0;     ///< fixed-horizon interval of the difference
  double p_value = 1.0;                   ///< two-sided, no difference
  double relative = 0.0;                  ///< treatment / control - 1
  double relative_low = 0.0, relative_high = 0.0;  ///< interval of `relative` (NaN when not computed)
};

/// Proportions x/n. p-value: pooled two-proportion z-test (statsmodels proportions_ztest); interval:
/// Wald with unpooled variance (confint_proportions_2indep, method "wald"); relative lift: the
/// log-ratio interval (compare "ratio", method "log"; NaN when a count is 0).
Comparison compare_proportions(int64_t x_control, int64_t n_control, int64_t x_treatment, int64_t n_treatment,
                               double alpha);

struct Moments {
  int64_t n = 0;
  double mean = 0.0;
  double variance = 0.0;  ///< sample variance (n - 1 in the denominator)
};
Moments moments_of(const std::vector<double>& values);

/// Means, unequal variances: Welch's t-test and interval (scipy.stats.ttest_ind, equal_var=False).
/// The relative interval is not computed (NaN).
Comparison compare_means(const Moments& control, const Moments& treatment, double alpha);

/// CUPED: the metric y minus theta * (x - mean x), theta = cov(y, x) / var(x) over both groups
/// pooled, x a pre-exposure covariate. The comparison of the adjusted means (Welch), and the share
/// of variance removed (1 - var(adjusted) / var(y), pooled).
struct Cuped {
  double theta = 0.0;
  double variance_reduction = 0.0;
  Comparison comparison;
};
Cuped cuped(const std::vector<double>& y_control, const std::vector<double>& x_control,
            const std::vector<double>& y_treatment, const std::vector<double>& x_treatment, double alpha);

/// One look of the mixture sequential probability ratio test (Johari, Pekelis, Walsh 2017) on a
/// difference with an approximately normal estimate: `difference` and its `variance` so far, a
/// normal mixture N(0, tau^2) over the true difference. Its interval and 1 / likelihood ratio hold
/// at every look at once; a running result takes the intersection of the intervals and the
/// smallest p-value (AlwaysValid).
struct Look {
  double low = 0.0, high = 0.0;
  double p_value = 1.0;  ///< min(1, 1 / likelihood ratio)
};
Look msprt_look(double difference, double variance, double tau, double alpha);

/// The running always-valid result over looks.
class AlwaysValid {
 public:
  AlwaysValid(double tau, double alpha) : tau_(tau), alpha_(alpha) {}
  /// Adds a look; looks without variance (a group still empty) are skipped.
  void look(double difference, double variance);
  double low() const { return low_; }
  double high() const { return high_; }
  double p_value() const { return p_value_; }
  int64_t looks() const { return looks_; }

 private:
  double tau_, alpha_;
  double low_ = -1e300, high_ = 1e300, p_value_ = 1.0;
  int64_t looks_ = 0;
};

/// Chi-square goodness of fit of group sizes against expected shares (scipy.stats.chisquare).
double sample_ratio_p_value(const std::vector<int64_t>& observed, const std::vector<double>& expected_share);

}  // namespace jm::experiment_stats
