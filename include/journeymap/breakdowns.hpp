// Breakdowns: the journey map split by a custom dimension (campaign, device, country, experiment
// variant, source) or a categorical case attribute: per value, journeys and conversions, the funnel,
// the most common paths and channel attribution, each computed by the same stage code on that
// value's journeys.
//
//   jm::BreakdownResult by = jm::compute_breakdowns(ctx, journeys, options, flow_options, attribution_options);
//   by.breakdowns[0].groups[0].funnel_reached   // journeys of the first value reaching each funnel step
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "journeymap/attribution.hpp"
#include "journeymap/context.hpp"
#include "journeymap/flows.hpp"
#include "journeymap/journeys.hpp"

namespace jm {

struct BreakdownOptions {
  /// Dimension names, or "case:<attribute>" for a categorical case attribute. Empty: every custom
  /// dimension of the journeys.
  std::vector<std::string> dimensions;
  /// Values with a row of their own, most journeys first; the others form "(other)". Journeys
  /// without a value form "(none)".
  int max_values = 10;
  int top_paths = 3;  ///< most common paths kept per value
};

/// One value of a dimension (or "(other)" / "(none)") and the map of its journeys.
struct BreakdownGroup {
  std::string value;
  int64_t journeys = 0;
  int64_t converted = 0;
  double conversion_value = 0.0;
  std::vector<int64_t> funnel_reached;    ///< [F] journeys reaching step k of the run's funnel in order
  std::vector<int64_t> funnel_converted;  ///< [F] of those, converted journeys
  std::vector<PathVariant> top_paths;     ///< most journeys first
  /// [C] conversions credited to each channel of the run (BreakdownResult::channels).
  std::vector<double> channel_last_touch, channel_linear, channel_markov;

  double conversion_rate() const { return journeys > 0 ? static_cast<double>(converted) / static_cast<double>(journeys) : 0.0; }
};

struct Breakdown {
  std::string dimension;
  int64_t distinct_values = 0;  ///< values with at least one journey
  std::vector<BreakdownGroup> groups;  ///< top values, then "(other)" and "(none)" when not empty
};

struct BreakdownResult {
  std::vector<std::string> funnel;    ///< [F] the run's funnel steps, shared by every group
  std::vector<std::string> channels;  ///< [C] channel names of the attribution columns
  std::vector<Breakdown> breakdowns;
};

/// Throws ConfigError naming the option that is out of range.
void validate(const BreakdownOptions& options);

/// Each journey's value of a dimension or, as "case:<attribute>", a categorical case attribute.
struct JourneyValueCodes {
  std::vector<int32_t> code;       ///< [n_journeys] index into `names`; -1: no value
  std::vector<std::string> names;
};
/// Throws ConfigError naming a dimension the journeys do not have or a numeric case attribute.
JourneyValueCodes journey_value_codes(const JourneySet& journeys, const std::string& dimension);

/// Splits `journeys` by each dimension of `options` and computes every group's map with
/// compute_flows (funnel `funnel`, the run's: the same steps for every group) and compute_attribution.
/// Throws ConfigError naming a dimension the journeys do not have or a numeric case attribute.
BreakdownResult compute_breakdowns(const Context& ctx, const JourneySet& journeys, const BreakdownOptions& options,
                                   const std::vector<std::string>& funnel, const AttributionOptions& attribution);

class ResultWriter;

/// /breakdowns: see docs/hdf5-schema.md.
void write_breakdowns_results(ResultWriter& writer, const BreakdownResult& result);

/// Block for the run summary: per dimension, each value's journeys, conversion rate and funnel completion.
std::string format_breakdowns_summary(const BreakdownResult& result);

}  // namespace jm
