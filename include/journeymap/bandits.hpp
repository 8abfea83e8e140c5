// Contextual bandits that choose the next touchpoint (which offer, content or channel to show at a
// decision point of a journey), and off-policy evaluation of a policy on logged decisions.
//
// A decision is an event that carries an action (a custom dimension, e.g. `offer`), logged with the
// probability the logging policy gave it (a second dimension, e.g. `offer_propensity`). Its context is
// the journey's feature vector over the events *before* the decision event (the event at the decision
// instant and everything after it are never inputs); its reward is the journey's outcome.
//
//   jm::BanditOptions options;                                  // offer / offer_propensity
//   jm::LoggedDecisions logged = jm::logged_decisions(ctx, journeys, options);
//   jm::BanditEvaluation evaluation = jm::evaluate_policies(logged, options);   // IPS and DR per policy
//   jm::LinearThompsonPolicy policy = jm::fit_policy(logged, options);
//   std::vector<double> p = policy.probabilities(context_row);  // P(each action is chosen)
//
// The policy is Thompson sampling on a Bayesian linear model per action (ridge prior, known noise):
// for a context x, action a's reward is drawn from N(mu_a . x, v^2 x' A_a^-1 x) and the largest draw
// wins; the probability that each action wins is computed by quadrature, so the policy's propensities
// are exact and can be logged for later off-policy evaluation.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/features.hpp"
#include "journeymap/journeys.hpp"

namespace jm {

class ResultWriter;

/// Most actions a bandit takes: each keeps a [dims x dims] posterior, and each winning probability
/// integrates over every other action.
constexpr int kMaxBanditActions = 100;

struct BanditOptions {
  std::string action_dimension = "offer";                 ///< dimension naming the action of a decision event
  std::string propensity_dimension = "offer_propensity";  ///< dimension with the logging policy's probability
  std::vector<std::string> actions;  ///< the action set; empty: the actions seen in the logged data
  double prior_precision = 1.0;      ///< ridge prior on every weight (lambda)
  double noise_variance = 0.25;      ///< reward variance the posterior assumes (0.25: a 0/1 reward near 1/2)
  double exploration = 1.0;          ///< scale of the posterior draws (1: the posterior itself)
  int64_t refresh_every = 500;       ///< decisions between posterior refreshes (feedback arrives in batches)
  double alpha = 0.05;               ///< 1 - confidence of the off-policy intervals
  double max_importance_weight = 0;  ///< clip importance weights above this (0: no clipping, unbiased)
  /// A decision whose journey's last event is this close to the end of the data is left out
  /// (counted): without an outcome it may still convert, and keeping only the ones that did would
  /// bias the rewards upwards.
  double maturity_hours = 24.0;
  uint64_t seed = 7;
  FeatureOptions features;           ///< the context columns (prefix settings are ignored)
};

/// Throws ConfigError naming the first invalid option.
void validate(const BanditOptions& options);

/// Scaled context vectors, row-major [n x dims]; the last column is a constant 1 (the intercept).
struct BanditContexts {
  FeatureSpec spec;        ///< fitted on the journeys the contexts were first built from
  FeatureScaling scaling;  ///< numeric feature columns, standardised
  int64_t dims = 0;        ///< scaling.dims() + 1
  std::vector<double> values;
  int64_t size() const { return dims == 0 ? 0 : static_cast<int64_t>(values.size()) / dims; }
  const double* row(int64_t i) const { return values.data() + i * dims; }
};

/// Contexts of `journeys` (each journey as it stands: pass prefixes for decisions). With `fitted`
/// the spec and scaling of those contexts are reused, so columns mean the same thing on new data.
BanditContexts bandit_contexts(const Context& ctx, const JourneySet& journeys, const FeatureOptions& options,
                               const BanditContexts* fitted = nullptr);

/// Decisions read from journeys whose events carry an action.
struct LoggedDecisions {
  std::vector<std::string> actions;   ///< the action set, by index
  BanditContexts contexts;            ///< [n] contexts before each decision
  std::vector<int32_t> action;        ///< [n] index into actions
  std::vector<double> propensity;     ///< [n] logging policy's probability of that action
  std::vector<double> reward;         ///< [n] 1 when the journey reached the positive outcome
  std::vector<int64_t> journey;       ///< [n] row in the journey set
  std::vector<int64_t> decision_ms;   ///< [n] time of the decision event; decisions are in this order
  std::vector<int64_t> count_by_action;  ///< [actions] decisions that logged each action
  int64_t journeys_with_several_decisions = 0;  ///< only their first decision is used
  int64_t decisions_at_journey_start = 0;  ///< left out: no event before them to read a context from
  int64_t immature_decisions = 0;          ///< left out: too close to the end of the data to judge
  int64_t size() const { return static_cast<int64_t>(action.size()); }
};

/// The first decision of every journey whose events carry `options.action_dimension` (journeys
/// built with outcomes cut, see outcome.hpp). Throws InputError when a dimension is missing, an
/// action is outside a configured action set, a propensity is missing or not in (0, 1], or no
/// journey holds a decision.
/// `source` names the input in errors.
LoggedDecisions logged_decisions(const Context& ctx, const JourneySet& journeys, const BanditOptions& options,
                                 const std::string& source = "");

/// Thompson sampling on one Bayesian linear model per action.
class LinearThompsonPolicy {
 public:
  LinearThompsonPolicy(int actions, int64_t dims, double prior_precision, double noise_variance, double exploration);

  /// Adds one observed (context, action, reward) to the action's statistics; seen after refresh().
  void observe(int action, const double* x, double reward);
  /// Recomputes every posterior from the statistics (Cholesky factorisation, LAPACK).
  void refresh();

  /// Posterior mean reward of each action for context x.
  std::vector<double> expected_rewards(const double* x) const;
  /// One Thompson draw: the action whose sampled reward is largest.
  int choose(const double* x, std::mt19937_64& rng) const;
  /// P(each action wins the draw) for context x, by quadrature; sums to 1.
  std::vector<double> probabilities(const double* x) const;

  int actions() const { return static_cast<int>(models_.size()); }
  int64_t dims() const { return dims_; }

 private:
  struct ActionModel {
    std::vector<double> precision;  ///< [dims x dims] lambda I + sum x x' (statistics)
    std::vector<double> target;     ///< [dims] sum r x
    std::vector<double> cholesky;   ///< [dims x dims] lower factor of `precision` at the last refresh
    std::vector<double> mean;       ///< [dims] posterior mean weights at the last refresh
  };
  /// Mean and standard deviation (exploration included) of each action's reward draw at x.
  void draw_distribution(const double* x, std::vector<double>& mean, std::vector<double>& sd) const;

  int64_t dims_;
  double noise_variance_;
  double exploration_;
  std::vector<ActionModel> models_;
};

/// A policy fitted on every logged decision.
LinearThompsonPolicy fit_policy(const LoggedDecisions& logged, const BanditOptions& options);

/// Off-policy value of one target policy on logged decisions.
struct PolicyEstimate {
  std::string policy;
  int64_t decisions = 0;  ///< logged decisions the estimate uses
  double ips = 0, ips_low = 0, ips_high = 0;  ///< inverse propensity estimate and its interval
  double dr = 0, dr_low = 0, dr_high = 0;     ///< doubly robust estimate and its interval
  double effective_sample_size = 0;           ///< (sum w)^2 / sum w^2 of the importance weights
  double max_weight = 0;
};

/// Inverse propensity and doubly robust estimates of a target policy's mean reward.
/// `target[i * K + a]` is the target's probability of action a at decision i (K = actions);
/// `reward_model[i * K + a]` a prediction of decision i's reward under a (fitted without decision i).
PolicyEstimate estimate_policy_value(const std::string& name, const LoggedDecisions& logged,
                                     const std::vector<double>& target, const std::vector<double>& reward_model,
                                     double alpha, double max_importance_weight = 0);

/// Reward predictions for every decision and action, cross-fitted: each half of the decisions
/// (alternating in time order) is predicted by a model fitted on the other half.
std::vector<double> cross_fitted_reward_model(const LoggedDecisions& logged, const BanditOptions& options);

struct BanditEvaluation {
  std::vector<std::string> actions;
  std::vector<int64_t> count_by_action;
  double logged_mean_reward = 0;
  std::vector<double> naive_reward_by_action;  ///< mean reward of the decisions that logged each action (biased)
  /// The logging policy (a check: IPS equals the logged mean), every fixed action, a uniform
  /// split, and the learned Thompson policy (fitted on the earlier half of the decisions in time,
  /// estimated on the later half).
  std::vector<PolicyEstimate> policies;
};

BanditEvaluation evaluate_policies(const LoggedDecisions& logged, const BanditOptions& options);

/// Writes /bandit/evaluation.
void write_bandit_evaluation(ResultWriter& writer, const BanditEvaluation& evaluation);
std::string format_bandit_evaluation(const BanditEvaluation& evaluation);

// ------------------------------------------------------------------ simulation

/// Regret of each policy in the simulator, at checkpoints.
struct BanditSimulation {
  std::vector<std::string> actions;
  int64_t decisions = 0;
  std::vector<int64_t> checkpoints;          ///< decisions seen at each checkpoint
  std::vector<std::string> policies;         ///< thompson, uniform split, each fixed action
  std::vector<std::vector<double>> regret;   ///< [policy][checkpoint] cumulative expected regret
  std::vector<double> mean_reward;           ///< [policy] expected reward per decision over the run
  double oracle_mean_reward = 0;             ///< the best action for every decision (knows the truth)
  std::string best_fixed_action;             ///< fixed action with the largest expected reward
};

/// Runs the policies over decisions in time order. `reward_probability[i * K + a]` is the planted
/// probability of reward for decision i under action a; each policy sees only the contexts and its
/// own rewards (drawn with common random numbers), the Thompson policy refreshing every
/// options.refresh_every decisions.
BanditSimulation simulate_bandit(const BanditContexts& contexts, const std::vector<double>& reward_probability,
                                 const std::vector<std::string>& actions, const BanditOptions& options);

/// A planted value of every logged decision for each of `logged.actions`, [n x K], read from the truth
/// CSV of a dataset generated with checkout offers: `column_prefix` "p_purchase_" gives the reward
/// probability under each action, "propensity_" the logging policy's probabilities. The journeys
/// must be built with kGeneratedJourneyGapSeconds (journey k of a customer is its truth row k).
/// Throws InputError naming the truth file when a column or a decision's row is missing.
std::vector<double> planted_decision_values(const std::string& truth_csv_path, const JourneySet& journeys,
                                            const LoggedDecisions& logged, const std::string& column_prefix);

void write_bandit_simulation(ResultWriter& writer, const BanditSimulation& simulation);
std::string format_bandit_simulation(const BanditSimulation& simulation);

}  // namespace jm
