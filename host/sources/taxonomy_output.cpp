// The /taxonomy group, the run summary's taxonomy block and the unmapped-names warning.
#include <fmt/format.h>

#include "journeymap/result_file.hpp"
#include "journeymap/taxonomy.hpp"

namespace jm {

void write_taxonomy_results(ResultWriter& writer, const TaxonomyReport& report) {
  writer.write("/taxonomy/raw_name", report.raw_name);
  writer.write("/taxonomy/touchpoint", report.mapped_name);
  writer.write("/taxonomy/raw_events", report.raw_events);
  writer.write("/taxonomy/rule_line", report.rule_line);
  writer.write("/taxonomy/touchpoints_per_level", report.touchpoints_per_level);
  writer.write("/taxonomy/unused_rule_lines", report.unused_rule_lines);
  writer.write_attribute("/taxonomy", "file", report.file);
  writer.write_attribute("/taxonomy", "level", static_cast<int64_t>(report.level));
  writer.write_attribute("/taxonomy", "level_automatic", static_cast<int64_t>(report.level_automatic ? 1 : 0));
  writer.write_attribute("/taxonomy", "touchpoints", report.touchpoints);
  writer.write_attribute("/taxonomy", "unmapped_names", report.unmapped_names);
  writer.write_attribute("/taxonomy", "unmapped_events", report.unmapped_events);
  writer.write_attribute("/taxonomy", "unused_rules", report.unused_rules);
}

std::string format_taxonomy_summary(const TaxonomyReport& report) {
  std::string levels;
  for (size_t l = 0; l < report.touchpoints_per_level.size(); ++l)
    levels += fmt::format("{}{}: {}", levels.empty() ? "" : ", ", l + 1, report.touchpoints_per_level[l]);
  std::string out = "taxonomy\n";
  out += fmt::format("  level {}{}: {} raw names -> {} touchpoints (touchpoints per level {})\n", report.level,
                     report.level_automatic ? " (automatic)" : "", report.raw_names, report.touchpoints, levels);
  out += fmt::format("  unmapped: {} names, {} of {} events", report.unmapped_names, report.unmapped_events,
                     report.events);
  if (report.unused_rules > 0) out += fmt::format("; {} rules matched no name", report.unused_rules);
  return out + "\n";
}

std::vector<std::string> taxonomy_warnings(const TaxonomyReport& report) {
  if (report.unmapped_names == 0) return {};
  std::string named;
  for (const auto& [name, count] : report.top_unmapped)
    named += fmt::format("{}'{}' ({})", named.empty() ? "" : ", ", name, count);
  const double share = report.events > 0 ? 100.0 * static_cast<double>(report.unmapped_events) / static_cast<double>(report.events) : 0.0;
  return {fmt::format("taxonomy: {} raw names ({} events, {:.1f}%) match no rule of {}: {}{} (all in /taxonomy)",
                      report.unmapped_names, report.unmapped_events, share, report.file, named,
                      report.unmapped_names > static_cast<int64_t>(report.top_unmapped.size()) ? ", ..." : "")};
}

}  // namespace jm
