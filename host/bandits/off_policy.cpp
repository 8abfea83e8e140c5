// Off-policy evaluation on logged decisions (bandits.hpp): what a target policy's mean reward would
// have been, from decisions another (exploring) policy made.
//
// IPS: mean of w_i r_i with w_i = target(a_i | x_i) / propensity_i; unbiased when every action the
// target may take had a logged probability > 0. DR: the reward model's prediction under the target
// plus the importance-weighted residual of the logged action; unbiased when either the propensities
// or the reward model are right, and usually tighter. Intervals: normal, from the per-decision terms.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <boost/math/distributions/normal.hpp>

#include "journeymap/bandits.hpp"
#include "journeymap/common.hpp"

namespace jm {
namespace {

struct MeanAndError {
  double mean = 0.0, standard_error = 0.0;
};

MeanAndError mean_and_error(const std::vector<double>& terms) {
  MeanAndError out;
  const auto n = static_cast<double>(terms.size());
  if (terms.empty()) return out;
  for (double t : terms) out.mean += t;
  out.mean /= n;
  double squares = 0.0;
  for (double t : terms) squares += (t - out.mean) * (t - out.mean);
  out.standard_error = terms.size() > 1 ? std::sqrt(squares / (n - 1.0) / n) : 0.0;
  return out;
}

// The decisions [begin, end) as their own log (contexts included).
LoggedDecisions slice(const LoggedDecisions& logged, int64_t begin, int64_t end) {
  LoggedDecisions out;
  out.actions = logged.actions;
  out.contexts.spec = logged.contexts.spec;
  out.contexts.scaling = logged.contexts.scaling;
  out.contexts.dims = logged.contexts.dims;
  out.contexts.values.assign(logged.contexts.values.begin() + begin * logged.contexts.dims,
                             logged.contexts.values.begin() + end * logged.contexts.dims);
  auto take = [&](const auto& column) { return std::decay_t<decltype(column)>(column.begin() + begin, column.begin() + end); };
  out.action = take(logged.action);
  out.propensity = take(logged.propensity);
  out.reward = take(logged.reward);
  out.journey = take(logged.journey);
  out.decision_ms = take(logged.decision_ms);
  out.count_by_action.assign(out.actions.size(), 0);
  for (const int32_t a : out.action) ++out.count_by_action[static_cast<size_t>(a)];
  return out;
}

}  // namespace

PolicyEstimate estimate_policy_value(const std::string& name, const LoggedDecisions& logged,
                                     const std::vector<double>& target, const std::vector<double>& reward_model,
                                     double alpha, double max_importance_weight) {
  const int64_t n = logged.size();
  const auto k = static_cast<int64_t>(logged.actions.size());
  if (static_cast<int64_t>(target.size()) != n * k || static_cast<int64_t>(reward_model.size()) != n * k)
    throw std::invalid_argument("estimate_policy_value: target and reward model need one value per decision and action");
  PolicyEstimate out;
  out.policy = name;
  out.decisions = n;
  std::vector<double> ips_terms(static_cast<size_t>(n)), dr_terms(static_cast<size_t>(n));
  double weight_sum = 0.0, weight_squares = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t a = logged.action[static_cast<size_t>(i)];
    double w = target[static_cast<size_t>(i * k + a)] / logged.propensity[static_cast<size_t>(i)];
    if (max_importance_weight > 0.0) w = std::min(w, max_importance_weight);
    const double r = logged.reward[static_cast<size_t>(i)];
    double predicted = 0.0;
    for (int64_t b = 0; b < k; ++b) predicted += target[static_cast<size_t>(i * k + b)] * reward_model[static_cast<size_t>(i * k + b)];
    ips_terms[static_cast<size_t>(i)] = w * r;
    dr_terms[static_cast<size_t>(i)] = predicted + w * (r - reward_model[static_cast<size_t>(i * k + a)]);
    weight_sum += w;
    weight_squares += w * w;
    out.max_weight = std::max(out.max_weight, w);
  }
  out.effective_sample_size = weight_squares > 0.0 ? weight_sum * weight_sum / weight_squares : 0.0;
  const double z = boost::math::quantile(boost::math::complement(boost::math::normal(), alpha / 2.0));
  const MeanAndError ips = mean_and_error(ips_terms), dr = mean_and_error(dr_terms);
  out.ips = ips.mean;
  out.ips_low = ips.mean - z * ips.standard_error;
  out.ips_high = ips.mean + z * ips.standard_error;
  out.dr = dr.mean;
  out.dr_low = dr.mean - z * dr.standard_error;
  out.dr_high = dr.mean + z * dr.standard_error;
  return out;
}

std::vector<double> cross_fitted_reward_model(const LoggedDecisions& logged, const BanditOptions& options) {
  const int64_t n = logged.size();
  const auto k = static_cast<int64_t>(logged.actions.size());
  std::vector<double> predictions(static_cast<size_t>(n * k), 0.0);
  for (int fold = 0; fold < 2; ++fold) {
    LinearThompsonPolicy model(static_cast<int>(k), logged.contexts.dims, options.prior_precision,
                               options.noise_variance, options.exploration);
    for (int64_t i = 0; i < n; ++i)
      if (i % 2 != fold)
        model.observe(logged.action[static_cast<size_t>(i)], logged.contexts.row(i), logged.reward[static_cast<size_t>(i)]);
    model.refresh();
    for (int64_t i = fold; i < n; i += 2) {
      const std::vector<double> rewards = model.expected_rewards(logged.contexts.row(i));
      // The rewards are 0/1, so a linear model's prediction outside [0, 1] is clamped into it.
      for (int64_t a = 0; a < k; ++a) predictions[static_cast<size_t>(i * k + a)] = std::clamp(rewards[static_cast<size_t>(a)], 0.0, 1.0);
    }
  }
  return predictions;
}

BanditEvaluation evaluate_policies(const LoggedDecisions& logged, const BanditOptions& options) {
  validate(options);
  const int64_t n = logged.size();
  const auto k = static_cast<int64_t>(logged.actions.size());
  BanditEvaluation out;
  out.actions = logged.actions;
  out.count_by_action = logged.count_by_action;
  out.naive_reward_by_action.assign(static_cast<size_t>(k), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    out.logged_mean_reward += logged.reward[static_cast<size_t>(i)];
    out.naive_reward_by_action[static_cast<size_t>(logged.action[static_cast<size_t>(i)])] += logged.reward[static_cast<size_t>(i)];
  }
  out.logged_mean_reward /= static_cast<double>(std::max<int64_t>(n, 1));
  for (int64_t a = 0; a < k; ++a)
    out.naive_reward_by_action[static_cast<size_t>(a)] =
        logged.count_by_action[static_cast<size_t>(a)] > 0
            ? out.naive_reward_by_action[static_cast<size_t>(a)] / static_cast<double>(logged.count_by_action[static_cast<size_t>(a)])
            : std::nan("");

  const std::vector<double> reward_model = cross_fitted_reward_model(logged, options);
  for (int64_t a = 0; a < k; ++a) {
    if (logged.count_by_action[static_cast<size_t>(a)] == 0) continue;  // never logged: not estimable
    std::vector<double> target(static_cast<size_t>(n * k), 0.0);
    for (int64_t i = 0; i < n; ++i) target[static_cast<size_t>(i * k + a)] = 1.0;
    out.policies.push_back(estimate_policy_value("always " + logged.actions[static_cast<size_t>(a)], logged, target,
                                                 reward_model, options.alpha, options.max_importance_weight));
  }
  std::vector<double> uniform(static_cast<size_t>(n * k), 1.0 / static_cast<double>(k));
  out.policies.push_back(
      estimate_policy_value("uniform split", logged, uniform, reward_model, options.alpha, options.max_importance_weight));

  // The learned policy: fitted on the earlier half in time, judged on the later half, so that it is
  // never scored on the decisions it learnt from.
  const int64_t split = n / 2;
  if (split >= 1 && n - split >= 2) {
    const LoggedDecisions earlier = slice(logged, 0, split), later = slice(logged, split, n);
    const LinearThompsonPolicy policy = fit_policy(earlier, options);
    std::vector<double> target(static_cast<size_t>((n - split) * k));
    for (int64_t i = 0; i < later.size(); ++i) {
      const std::vector<double> p = policy.probabilities(later.contexts.row(i));
      std::copy(p.begin(), p.end(), target.begin() + i * k);
    }
    const std::vector<double> later_model(reward_model.begin() + split * k, reward_model.end());
    out.policies.push_back(estimate_policy_value("thompson (learnt on the earlier half)", later, target, later_model,
                                                 options.alpha, options.max_importance_weight));
  }
  return out;
}

}  // namespace jm
