// The bandit simulator (bandits.hpp): policies replay the decisions in time order against planted
// reward probabilities; regret is measured against the best action of every decision.
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "journeymap/bandits.hpp"
#include "journeymap/common.hpp"

namespace jm {

BanditSimulation simulate_bandit(const BanditContexts& contexts, const std::vector<double>& reward_probability,
                                 const std::vector<std::string>& actions, const BanditOptions& options) {
  validate(options);
  const int64_t n = contexts.size();
  const auto k = static_cast<int64_t>(actions.size());
  if (k < 2) throw ConfigError("bandit simulation: at least two actions are needed");
  if (static_cast<int64_t>(reward_probability.size()) != n * k)
    throw std::invalid_argument("simulate_bandit: one reward probability per decision and action expected");
  BanditSimulation out;
  out.actions = actions;
  out.decisions = n;
  out.policies = {"thompson", "uniform split"};
  for (const std::string& action : actions) out.policies.push_back("always " + action);
  const size_t thompson = 0, uniform = 1, first_fixed = 2;

  constexpr int64_t kCheckpoints = 20;
  for (int64_t c = 1; c <= kCheckpoints; ++c) out.checkpoints.push_back(std::max<int64_t>(1, n * c / kCheckpoints));
  out.checkpoints.erase(std::unique(out.checkpoints.begin(), out.checkpoints.end()), out.checkpoints.end());
  out.regret.assign(out.policies.size(), {});
  out.mean_reward.assign(out.policies.size(), 0.0);

  // Common random numbers: decision i's reward under any action is (u_i < p_ia), so policies differ
  // only by their choices.
  std::mt19937_64 reward_rng(options.seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<double> reward_draw(static_cast<size_t>(n));
  for (double& u : reward_draw) u = unit(reward_rng);

  LinearThompsonPolicy policy(static_cast<int>(k), contexts.dims, options.prior_precision, options.noise_variance,
                              options.exploration);
  std::mt19937_64 thompson_rng(options.seed + 1), uniform_rng(options.seed + 2);
  std::uniform_int_distribution<int64_t> any_action(0, k - 1);
  std::vector<double> cumulative(out.policies.size(), 0.0);
  size_t next_checkpoint = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double* p = reward_probability.data() + i * k;
    const double best = *std::max_element(p, p + k);
    out.oracle_mean_reward += best;
    std::vector<int64_t> chosen(out.policies.size());
    chosen[thompson] = policy.choose(contexts.row(i), thompson_rng);
    chosen[uniform] = any_action(uniform_rng);
    for (int64_t a = 0; a < k; ++a) chosen[first_fixed + static_cast<size_t>(a)] = a;
    for (size_t q = 0; q < out.policies.size(); ++q) {
      cumulative[q] += best - p[chosen[q]];
      out.mean_reward[q] += p[chosen[q]];
    }
    // Only the Thompson policy learns, and only from the reward of the action it chose.
    policy.observe(static_cast<int>(chosen[thompson]), contexts.row(i), reward_draw[static_cast<size_t>(i)] < p[chosen[thompson]] ? 1.0 : 0.0);
    if ((i + 1) % options.refresh_every == 0) policy.refresh();
    if (next_checkpoint < out.checkpoints.size() && i + 1 == out.checkpoints[next_checkpoint]) {
      for (size_t q = 0; q < out.policies.size(); ++q) out.regret[q].push_back(cumulative[q]);
      ++next_checkpoint;
    }
  }
  for (double& reward : out.mean_reward) reward /= static_cast<double>(std::max<int64_t>(n, 1));
  out.oracle_mean_reward /= static_cast<double>(std::max<int64_t>(n, 1));
  const auto best_fixed = std::max_element(out.mean_reward.begin() + first_fixed, out.mean_reward.end());
  out.best_fixed_action = actions[static_cast<size_t>(best_fixed - (out.mean_reward.begin() + first_fixed))];
  return out;
}

}  // namespace jm
