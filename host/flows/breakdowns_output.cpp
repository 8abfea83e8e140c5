// The /breakdowns group and the run summary's breakdowns block.
#include <fmt/format.h>

#include "journeymap/breakdowns.hpp"
#include "journeymap/result_file.hpp"

namespace jm {
namespace {

constexpr size_t kValuesInSummary = 6;

// Journeys that reached the last funnel step, as a share of the group's journeys.
double funnel_completion(const BreakdownGroup& group) {
  if (group.funnel_reached.empty() || group.journeys == 0) return 0.0;
  return static_cast<double>(group.funnel_reached.back()) / static_cast<double>(group.journeys);
}

}  // namespace

void write_breakdowns_results(ResultWriter& writer, const BreakdownResult& result) {
  std::vector<std::string> dimensions;
  for (const Breakdown& breakdown : result.breakdowns) dimensions.push_back(breakdown.dimension);
  writer.write("/breakdowns/dimensions", dimensions);
  writer.write("/breakdowns/funnel_steps", result.funnel);
  writer.write("/breakdowns/channels", result.channels);
  // Groups are numbered: dimension names come from the input.
  for (size_t b = 0; b < result.breakdowns.size(); ++b) {
    const Breakdown& breakdown = result.breakdowns[b];
    const std::string group = "/breakdowns/" + std::to_string(b);
    std::vector<std::string> value, path_text;
    std::vector<int64_t> journeys, converted, funnel_reached, funnel_converted, path_group, path_journeys, path_conversions;
    std::vector<double> conversion_value, last_touch, linear, markov;
    for (size_t g = 0; g < breakdown.groups.size(); ++g) {
      const BreakdownGroup& row = breakdown.groups[g];
      value.push_back(row.value);
      journeys.push_back(row.journeys);
      converted.push_back(row.converted);
      conversion_value.push_back(row.conversion_value);
      funnel_reached.insert(funnel_reached.end(), row.funnel_reached.begin(), row.funnel_reached.end());
      funnel_converted.insert(funnel_converted.end(), row.funnel_converted.begin(), row.funnel_converted.end());
      last_touch.insert(last_touch.end(), row.channel_last_touch.begin(), row.channel_last_touch.end());
      linear.insert(linear.end(), row.channel_linear.begin(), row.channel_linear.end());
      markov.insert(markov.end(), row.channel_markov.begin(), row.channel_markov.end());
      for (const PathVariant& path : row.top_paths) {
        path_group.push_back(static_cast<int64_t>(g));
        path_journeys.push_back(path.journeys);
        path_conversions.push_back(path.conversions);
        std::string ids;  // touchpoint ids, as in /flows: names are in /vocab/touchpoints
        for (const int32_t t : path.touchpoints) ids += (ids.empty() ? "" : " ") + std::to_string(t);
        path_text.push_back(ids);
      }
    }
    writer.write(group + "/value", value);
    writer.write(group + "/journeys", journeys);
    writer.write(group + "/converted", converted);
    writer.write(group + "/conversion_value", conversion_value);
    writer.write(group + "/funnel_reached", funnel_reached);
    writer.write(group + "/funnel_converted", funnel_converted);
    writer.write(group + "/channel_last_touch", last_touch);
    writer.write(group + "/channel_linear", linear);
    writer.write(group + "/channel_markov", markov);
    writer.write(group + "/path_group", path_group);
    writer.write(group + "/path_touchpoints", path_text);
    writer.write(group + "/path_journeys", path_journeys);
    writer.write(group + "/path_conversions", path_conversions);
    writer.write_attribute(group, "dimension", breakdown.dimension);
    writer.write_attribute(group, "distinct_values", breakdown.distinct_values);
  }
}

std::string format_breakdowns_summary(const BreakdownResult& result) {
  std::string out = "breakdowns\n";
  for (const Breakdown& breakdown : result.breakdowns) {
    out += fmt::format("  by {} ({} values)\n", breakdown.dimension, breakdown.distinct_values);
    for (size_t g = 0; g < std::min(breakdown.groups.size(), kValuesInSummary); ++g) {
      const BreakdownGroup& row = breakdown.groups[g];
      out += fmt::format("    {:<24} {:>9} journeys, {:5.1f}% converted, {:5.1f}% complete the funnel\n", row.value,
                         row.journeys, 100.0 * row.conversion_rate(), 100.0 * funnel_completion(row));
    }
    if (breakdown.groups.size() > kValuesInSummary)
      out += fmt::format("    ... {} more rows in /breakdowns\n", breakdown.groups.size() - kValuesInSummary);
  }
  return out;
}

}  // namespace jm
