// Breakdowns: journeys grouped by a dimension's value, each group's map computed by the flows and
// attribution stages themselves, so a group's numbers mean exactly what the run's numbers mean.
#include "journeymap/breakdowns.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "journeymap/common.hpp"

namespace jm {
namespace {

const char* const kOtherValues = "(other)";
const char* const kNoValue = "(none)";

// The group's journeys, flows and attribution.
BreakdownGroup map_of_group(const Context& ctx, const JourneySet& journeys, const std::vector<int64_t>& rows,
                            const std::string& value, const BreakdownOptions& options,
                            const std::vector<std::string>& funnel, const AttributionOptions& attribution) {
  BreakdownGroup group;
  group.value = value;
  const JourneySet subset = select_journeys(journeys, rows);
  group.journeys = subset.size();
  for (int64_t j = 0; j < subset.size(); ++j)
    if (subset.converted[j]) {
      ++group.converted;
      group.conversion_value += subset.conversion_value[j];
    }
  FlowOptions flow_options;
  flow_options.funnel = funnel;
  flow_options.top_variants = options.top_paths;
  const FlowResult flows = compute_flows(ctx, subset, flow_options);
  group.funnel_reached = flows.funnel.reached;
  group.funnel_converted = flows.funnel.converted;
  std::vector<PathVariant> paths = flows.variants;
  std::stable_sort(paths.begin(), paths.end(), [](const PathVariant& a, const PathVariant& b) { return a.journeys > b.journeys; });
  if (paths.size() > static_cast<size_t>(options.top_paths)) paths.resize(static_cast<size_t>(options.top_paths));
  group.top_paths = std::move(paths);

  const AttributionResult credit = compute_attribution(ctx, subset, attribution);
  const AttributionTable& table = credit.by_channel;
  const auto n_channels = static_cast<size_t>(journeys.channels.size());
  group.channel_last_touch.assign(n_channels, 0.0);
  group.channel_linear.assign(n_channels, 0.0);
  group.channel_markov.assign(n_channels, 0.0);
  for (size_t i = 0; i < table.names.size(); ++i) {
    const int32_t channel = journeys.channels.find(table.names[i]);
    if (channel < 0) continue;
    group.channel_last_touch[static_cast<size_t>(channel)] = table.last_touch[i];
    group.channel_linear[static_cast<size_t>(channel)] = table.linear[i];
    group.channel_markov[static_cast<size_t>(channel)] = table.markov[i];
  }
  return group;
}

}  // namespace

JourneyValueCodes journey_value_codes(const JourneySet& journeys, const std::string& dimension) {
  JourneyValueCodes out;
  if (const JourneyDimension* found = find_dimension(journeys, dimension)) {
    out.code = found->journey_code;
    out.names = found->values;
    return out;
  }
  const std::string case_prefix = "case:";
  const CaseAttributes& attributes = journeys.case_attributes;
  if (dimension.compare(0, case_prefix.size(), case_prefix) == 0) {
    const std::string name = dimension.substr(case_prefix.size());
    const auto at = std::find(attributes.names.begin(), attributes.names.end(), name);
    if (at == attributes.names.end())
      throw ConfigError("breakdowns: the journeys have no case attribute '" + name + "'");
    const auto a = static_cast<int32_t>(at - attributes.names.begin());
    if (!attributes.categorical[static_cast<size_t>(a)])
      throw ConfigError("breakdowns: case attribute '" + name + "' is numeric; only categorical ones split journeys");
    out.names = attributes.categories[static_cast<size_t>(a)];
    out.code.resize(static_cast<size_t>(journeys.size()), -1);
    for (int64_t j = 0; j < journeys.size(); ++j) {
      const uint32_t customer = journeys.customer[j];
      if (customer >= attributes.n_customers) continue;
      const float value = attributes.at(customer, a);
      if (!std::isnan(value)) out.code[static_cast<size_t>(j)] = static_cast<int32_t>(value);
    }
    return out;
  }
  std::string known;
  for (const JourneyDimension& d : journeys.dimensions) known += (known.empty() ? "" : ", ") + d.name;
  throw ConfigError("breakdowns: no dimension '" + dimension + "' (the journeys have: " +
                    (known.empty() ? std::string("none; see [input] dimensions") : known) + ")");
}

void validate(const BreakdownOptions& options) {
  if (options.max_values < 1 || options.max_values > 1000) throw ConfigError("breakdowns.max_values must be in [1, 1000]");
  if (options.top_paths < 1 || options.top_paths > 100) throw ConfigError("breakdowns.top_paths must be in [1, 100]");
}

BreakdownResult compute_breakdowns(const Context& ctx, const JourneySet& journeys, const BreakdownOptions& options,
                                   const std::vector<std::string>& funnel, const AttributionOptions& attribution) {
  validate(options);
  BreakdownResult result;
  result.channels = journeys.channels.names();
  std::vector<std::string> dimensions = options.dimensions;
  if (dimensions.empty())
    for (const JourneyDimension& dimension : journeys.dimensions) dimensions.push_back(dimension.name);
  if (dimensions.empty()) return result;
  // One funnel for every group: the given one, else the one the flows stage derives from all journeys.
  result.funnel = funnel;
  if (result.funnel.empty()) {
    const FlowResult all = compute_flows(ctx, journeys, FlowOptions{});
    for (const int32_t step : all.funnel.steps) result.funnel.push_back(journeys.touchpoints.name(step));
  }

  for (const std::string& dimension : dimensions) {
    const JourneyValueCodes values = journey_value_codes(journeys, dimension);
    std::vector<int64_t> journeys_with(values.names.size(), 0);
    for (const int32_t code : values.code)
      if (code >= 0) ++journeys_with[static_cast<size_t>(code)];
    std::vector<int32_t> ranked(values.names.size());
    std::iota(ranked.begin(), ranked.end(), 0);
    std::stable_sort(ranked.begin(), ranked.end(), [&](int32_t a, int32_t b) { return journeys_with[a] > journeys_with[b]; });
    Breakdown breakdown;
    breakdown.dimension = dimension;
    breakdown.distinct_values = std::count_if(journeys_with.begin(), journeys_with.end(), [](int64_t n) { return n > 0; });
    const size_t shown = std::min(ranked.size(), static_cast<size_t>(options.max_values));
    // Group of every value code: its rank among the shown values, else "(other)"; then "(none)".
    const size_t other_group = shown, none_group = shown + 1;
    std::vector<size_t> group_of_code(values.names.size(), other_group);
    for (size_t r = 0; r < shown; ++r) group_of_code[static_cast<size_t>(ranked[r])] = r;
    std::vector<std::vector<int64_t>> rows(shown + 2);
    for (int64_t j = 0; j < journeys.size(); ++j) {
      const int32_t code = values.code[static_cast<size_t>(j)];
      rows[code < 0 ? none_group : group_of_code[static_cast<size_t>(code)]].push_back(j);
    }
    for (size_t g = 0; g < rows.size(); ++g) {
      if (rows[g].empty()) continue;
      const std::string name = g < shown ? values.names[static_cast<size_t>(ranked[g])] : g == other_group ? kOtherValues : kNoValue;
      breakdown.groups.push_back(map_of_group(ctx, journeys, rows[g], name, options, result.funnel, attribution));
    }
    result.breakdowns.push_back(std::move(breakdown));
  }
  return result;
}

}  // namespace jm
