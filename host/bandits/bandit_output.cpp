// /bandit in the result file and the command summaries of the bandit evaluation and simulation.
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "journeymap/bandits.hpp"
#include "journeymap/result_file.hpp"

namespace jm {

void write_bandit_evaluation(ResultWriter& writer, const BanditEvaluation& evaluation) {
  writer.write("/bandit/evaluation/actions", evaluation.actions);
  writer.write("/bandit/evaluation/decisions_by_action", evaluation.count_by_action);
  writer.write("/bandit/evaluation/naive_reward_by_action", evaluation.naive_reward_by_action);
  writer.write_attribute("/bandit/evaluation", "logged_mean_reward", evaluation.logged_mean_reward);
  std::vector<std::string> policy;
  std::vector<int64_t> decisions;
  std::vector<double> ips, ips_low, ips_high, dr, dr_low, dr_high, ess, max_weight;
  for (const PolicyEstimate& e : evaluation.policies) {
    policy.push_back(e.policy);
    decisions.push_back(e.decisions);
    ips.push_back(e.ips);
    ips_low.push_back(e.ips_low);
    ips_high.push_back(e.ips_high);
    dr.push_back(e.dr);
    dr_low.push_back(e.dr_low);
    dr_high.push_back(e.dr_high);
    ess.push_back(e.effective_sample_size);
    max_weight.push_back(e.max_weight);
  }
  writer.write("/bandit/evaluation/policy", policy);
  writer.write("/bandit/evaluation/decisions", decisions);
  writer.write("/bandit/evaluation/ips", ips);
  writer.write("/bandit/evaluation/ips_low", ips_low);
  writer.write("/bandit/evaluation/ips_high", ips_high);
  writer.write("/bandit/evaluation/dr", dr);
  writer.write("/bandit/evaluation/dr_low", dr_low);
  writer.write("/bandit/evaluation/dr_high", dr_high);
  writer.write("/bandit/evaluation/effective_sample_size", ess);
  writer.write("/bandit/evaluation/max_importance_weight", max_weight);
}

std::string format_bandit_evaluation(const BanditEvaluation& evaluation) {
  int64_t decisions = 0;
  for (int64_t count : evaluation.count_by_action) decisions += count;
  std::string out = fmt::format("off-policy evaluation on {} logged decisions (mean reward {:.4f})\n", decisions,
                                evaluation.logged_mean_reward);
  out += "  logged action       decisions  mean reward among them (biased by who got it)\n";
  for (size_t a = 0; a < evaluation.actions.size(); ++a)
    out += fmt::format("  {:<18} {:>10}  {}\n", evaluation.actions[a], evaluation.count_by_action[a],
                       std::isnan(evaluation.naive_reward_by_action[a]) ? std::string("-")
                                                                        : fmt::format("{:.4f}", evaluation.naive_reward_by_action[a]));
  out += "  policy                                   decisions  IPS [interval]              DR [interval]               ESS\n";
  for (const PolicyEstimate& e : evaluation.policies)
    out += fmt::format("  {:<40} {:>9}  {:.4f} [{:.4f}, {:.4f}]    {:.4f} [{:.4f}, {:.4f}]    {:.0f}\n", e.policy, e.decisions,
                       e.ips, e.ips_low, e.ips_high, e.dr, e.dr_low, e.dr_high, e.effective_sample_size);
  return out;
}

void write_bandit_simulation(ResultWriter& writer, const BanditSimulation& simulation) {
  writer.write("/bandit/simulation/actions", simulation.actions);
  writer.write("/bandit/simulation/policies", simulation.policies);
  writer.write("/bandit/simulation/checkpoints", simulation.checkpoints);
  std::vector<float> regret;
  for (const std::vector<double>& curve : simulation.regret)
    for (double v : curve) regret.push_back(static_cast<float>(v));
  writer.write_matrix("/bandit/simulation/cumulative_regret", regret, simulation.policies.size(), simulation.checkpoints.size());
  writer.write("/bandit/simulation/mean_reward", simulation.mean_reward);
  writer.write_attribute("/bandit/simulation", "decisions", simulation.decisions);
  writer.write_attribute("/bandit/simulation", "oracle_mean_reward", simulation.oracle_mean_reward);
  writer.write_attribute("/bandit/simulation", "best_fixed_action", simulation.best_fixed_action);
}

std::string format_bandit_simulation(const BanditSimulation& simulation) {
  std::string out = fmt::format("bandit simulation: {} decisions, {} actions; the best action for every decision "
                                "earns {:.4f} per decision\n",
                                simulation.decisions, simulation.actions.size(), simulation.oracle_mean_reward);
  out += "  policy                     mean reward  cumulative regret (half way, end)\n";
  const size_t half = simulation.checkpoints.empty() ? 0 : (simulation.checkpoints.size() - 1) / 2;
  for (size_t q = 0; q < simulation.policies.size(); ++q) {
    const std::vector<double>& curve = simulation.regret[q];
    out += fmt::format("  {:<26} {:>11.4f}  {:>10.1f} {:>10.1f}\n", simulation.policies[q], simulation.mean_reward[q],
                       curve.empty() ? 0.0 : curve[half], curve.empty() ? 0.0 : curve.back());
  }
  out += fmt::format("  best fixed action: {}\n", simulation.best_fixed_action);
  return out;
}

}  // namespace jm
