// Logged decisions and their contexts: which journey took which action when, with what
// probability, and what it led to (bandits.hpp).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "journeymap/bandits.hpp"
#include "journeymap/common.hpp"
#include "journeymap/timestamp.hpp"

namespace jm {

void validate(const BanditOptions& options) {
  if (options.action_dimension.empty()) throw ConfigError("bandit: the action dimension is empty");
  if (options.propensity_dimension.empty()) throw ConfigError("bandit: the propensity dimension is empty");
  for (size_t a = 0; a < options.actions.size(); ++a) {
    if (options.actions[a].empty()) throw ConfigError("bandit: an action name is empty");
    for (size_t b = 0; b < a; ++b)
      if (options.actions[a] == options.actions[b]) throw ConfigError("bandit: action '" + options.actions[a] + "' is listed twice");
  }
  if (!(options.prior_precision > 0.0)) throw ConfigError("bandit: prior_precision must be > 0");
  if (!(options.noise_variance > 0.0)) throw ConfigError("bandit: noise_variance must be > 0");
  if (!(options.exploration >= 0.0 && options.exploration <= 100.0)) throw ConfigError("bandit: exploration must be in [0, 100]");
  if (options.refresh_every < 1) throw ConfigError("bandit: refresh_every must be >= 1");
  if (!(options.alpha > 0.0 && options.alpha < 1.0)) throw ConfigError("bandit: alpha must be in (0, 1)");
  if (!(options.max_importance_weight >= 0.0)) throw ConfigError("bandit: max_importance_weight must be >= 0");
  if (!(options.maturity_hours >= 0.0)) throw ConfigError("bandit: maturity_hours must be >= 0");
}

BanditContexts bandit_contexts(const Context& ctx, const JourneySet& journeys, const FeatureOptions& options,
                               const BanditContexts* fitted) {
  BanditContexts out;
  if (fitted != nullptr) {
    out.spec = fitted->spec;
    out.scaling = fitted->scaling;
  } else {
    FeatureOptions whole = options;  // contexts are the journeys as given: no prefix window on top
    whole.prefix_events = 0;
    whole.prefix_seconds = 0.0;
    whole.has_cutoff_time = false;
    out.spec = fit_feature_spec(journeys, whole);
  }
  const FeatureMatrix features = extract_features(ctx, journeys, out.spec);
  if (fitted == nullptr) {
    // Every numeric column but the recency, which measures the distance to the end of the data
    // (not a property of the journey at its decision).
    std::vector<std::string> columns;
    for (int64_t c = 0; c < features.num_features(); ++c)
      if (features.spec.kinds[static_cast<size_t>(c)] == FeatureKind::Numeric && features.spec.names[c] != "recency_days")
        columns.push_back(features.spec.names[static_cast<size_t>(c)]);
    out.scaling = fit_scaling(features, columns);
  }
  const std::vector<float> scaled = apply_scaling(features, out.scaling);
  const int64_t d = out.scaling.dims();
  out.dims = d + 1;
  out.values.resize(static_cast<size_t>(features.n_rows * out.dims));
  for (int64_t r = 0; r < features.n_rows; ++r) {
    double* row = out.values.data() + r * out.dims;
    for (int64_t c = 0; c < d; ++c) {
      const float v = scaled[static_cast<size_t>(r * d + c)];
      row[c] = std::isfinite(v) ? v : 0.0;  // a value the journey lacks sits at the mean
    }
    row[d] = 1.0;
  }
  return out;
}

namespace {

const JourneyDimension& require_dimension(const JourneySet& journeys, const std::string& name, const std::string& role) {
  const JourneyDimension* dimension = find_dimension(journeys, name);
  if (dimension == nullptr)
    throw ConfigError("bandit: the input has no dimension '" + name + "' (the " + role + "; read it with --dimension " +
                      name + " or [input] dimensions)");
  return *dimension;
}

}  // namespace

LoggedDecisions logged_decisions(const Context& ctx, const JourneySet& journeys, const BanditOptions& options,
                                 const std::string& source) {
  validate(options);
  const JourneyDimension& actions = require_dimension(journeys, options.action_dimension, "action of each decision");
  const JourneyDimension& propensities =
      require_dimension(journeys, options.propensity_dimension, "logging policy's probability of each action");
  LoggedDecisions out;
  out.actions = options.actions;
  if (out.actions.empty()) out.actions = actions.values;  // every action the data logged
  if (out.actions.empty()) throw InputError(source, 0, options.action_dimension, "", "no event carries an action");
  // Each action keeps a dims x dims posterior and every probability integrates over all the others:
  // a column of ids mistaken for actions must not take the memory and time that would need.
  if (out.actions.size() > static_cast<size_t>(kMaxBanditActions))
    throw InputError(source, 0, options.action_dimension, out.actions[static_cast<size_t>(kMaxBanditActions)],
                     "more than " + std::to_string(kMaxBanditActions) + " actions (" + std::to_string(out.actions.size()) +
                         "); is this the action column?");
  // Logged action code -> index in the action set (-1: not in it).
  std::vector<int32_t> action_index(actions.values.size(), -1);
  for (size_t code = 0; code < actions.values.size(); ++code)
    for (size_t a = 0; a < out.actions.size(); ++a)
      if (actions.values[code] == out.actions[a]) action_index[code] = static_cast<int32_t>(a);
  // Propensity code -> probability, each text parsed once.
  std::vector<double> probability(propensities.values.size(), 0.0);
  for (size_t code = 0; code < propensities.values.size(); ++code) {
    const std::string& text = propensities.values[code];
    double p = 0.0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), p);
    if (ec != std::errc() || end != text.data() + text.size() || !(p > 0.0 && p <= 1.0))
      throw InputError(source, 0, options.propensity_dimension, text, "a logged propensity must be a number in (0, 1]");
    probability[code] = p;
  }

  const int64_t data_end_ms = journeys.num_events() > 0
                                  ? *std::max_element(journeys.timestamp_ms.host().begin(), journeys.timestamp_ms.host().end())
                                  : 0;
  const auto maturity_ms = static_cast<int64_t>(options.maturity_hours * 3600.0 * 1000.0);
  std::vector<int64_t> rows, prefix_lengths;
  out.count_by_action.assign(out.actions.size(), 0);
  for (int64_t j = 0; j < journeys.size(); ++j) {
    int64_t decision = -1, decisions = 0;
    for (int64_t e = journeys.offsets[j]; e < journeys.offsets[j + 1]; ++e)
      if (actions.event_code[static_cast<size_t>(e)] >= 0 && decisions++ == 0) decision = e;
    if (decision < 0) continue;
    if (decisions > 1) ++out.journeys_with_several_decisions;
    const int32_t code = actions.event_code[static_cast<size_t>(decision)];
    const std::string where = "customer " + journeys.customers.name(static_cast<int32_t>(journeys.customer[j])) +
                              ", event at " + format_iso8601(journeys.timestamp_ms[decision]);
    if (action_index[static_cast<size_t>(code)] < 0)
      throw InputError(source, 0, options.action_dimension, actions.values[static_cast<size_t>(code)],
                       "action not in the action set (" + where + ")");
    const int32_t propensity_code = propensities.event_code[static_cast<size_t>(decision)];
    if (propensity_code < 0)
      throw InputError(source, 0, options.propensity_dimension, "",
                       "the decision has an action but no logged propensity (" + where + ")");
    if (decision == journeys.offsets[j]) {
      ++out.decisions_at_journey_start;
      continue;
    }
    // One rule for both outcomes: keeping the recent decisions that converted but not the others would
    // fill the end of the log with conversions.
    if (journeys.timestamp_ms[journeys.offsets[j + 1] - 1] > data_end_ms - maturity_ms) {
      ++out.immature_decisions;
      continue;
    }
    rows.push_back(j);
    prefix_lengths.push_back(decision - journeys.offsets[j]);
    out.action.push_back(action_index[static_cast<size_t>(code)]);
    out.propensity.push_back(probability[static_cast<size_t>(propensity_code)]);
    out.reward.push_back(journeys.converted[j] != 0 ? 1.0 : 0.0);
    out.journey.push_back(j);
    out.decision_ms.push_back(journeys.timestamp_ms[decision]);
  }
  if (rows.empty())
    throw InputError(source, 0, options.action_dimension, "",
                     "no usable decision: no journey has an event with an action after its first event" +
                         std::string(out.immature_decisions > 0 ? " and an outcome or enough time to reach one" : ""));

  // Time order, so that "earlier" and "later" halves and the simulator's replay mean what they say.
  std::vector<size_t> order(rows.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return out.decision_ms[a] < out.decision_ms[b]; });
  auto permute = [&](auto& column) {
    auto copy = column;
    for (size_t i = 0; i < order.size(); ++i) column[i] = copy[order[i]];
  };
  permute(rows);
  permute(prefix_lengths);
  permute(out.action);
  permute(out.propensity);
  permute(out.reward);
  permute(out.journey);
  permute(out.decision_ms);
  for (const int32_t a : out.action) ++out.count_by_action[static_cast<size_t>(a)];
  out.contexts = bandit_contexts(ctx, journey_prefixes(journeys, rows, prefix_lengths), options.features);
  return out;
}

}  // namespace jm
