// Reading a taxonomy file and renaming event touchpoints to a chosen level of it.
//
// Rules are matched once per distinct raw name, never per event: exact names through a hash map,
// patterns with POSIX fnmatch after a cheap check of their literal prefix.
#include "journeymap/taxonomy.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "host/core/utf8.hpp"
#include "host/ingest/csv_fields.hpp"
#include "journeymap/common.hpp"

namespace jm {
namespace {

constexpr int kMaxLevels = 16;
constexpr size_t kMaxPatterns = 10000;  // names x patterns fnmatch calls bound the matching time
constexpr size_t kTopUnmappedNamed = 10;
constexpr size_t kUnusedRuleLinesKept = 100;
const char* const kUnmappedGroup = "(unmapped)";

std::string trim(const std::string& text) {
  const size_t first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  const size_t last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

bool has_wildcard(const std::string& name) { return name.find_first_of("*?[") != std::string::npos; }

// The part of a pattern before its first wildcard: every name it matches starts with it.
std::string literal_prefix(const std::string& pattern) { return pattern.substr(0, pattern.find_first_of("*?[\\")); }

std::string join_levels(const std::vector<std::string>& levels, int level) {
  const size_t n = std::min(levels.size(), static_cast<size_t>(level));
  std::string out;
  for (size_t i = 0; i < n; ++i) out += (i == 0 ? "" : " > ") + levels[i];
  return out;
}

// Index of the rule mapping each raw name, -1 for none.
std::vector<int32_t> match_rules(const Vocabulary& names, const Taxonomy& taxonomy) {
  std::unordered_map<std::string, int32_t> exact;
  std::vector<std::pair<std::string, int32_t>> patterns;  // (literal prefix, rule)
  for (size_t r = 0; r < taxonomy.rules.size(); ++r) {
    const TaxonomyRule& rule = taxonomy.rules[r];
    if (rule.is_pattern) patterns.emplace_back(literal_prefix(rule.name), static_cast<int32_t>(r));
    else exact.emplace(rule.name, static_cast<int32_t>(r));
  }
  std::vector<int32_t> rule_of(static_cast<size_t>(names.size()), -1);
  for (int32_t id = 0; id < names.size(); ++id) {
    const std::string& name = names.name(id);
    if (const auto found = exact.find(name); found != exact.end()) {
      rule_of[static_cast<size_t>(id)] = found->second;
      continue;
    }
    for (const auto& [prefix, r] : patterns)
      if (name.compare(0, prefix.size(), prefix) == 0 &&
          fnmatch(taxonomy.rules[static_cast<size_t>(r)].name.c_str(), name.c_str(), 0) == 0) {
        rule_of[static_cast<size_t>(id)] = r;
        break;
      }
  }
  return rule_of;
}

}  // namespace

Taxonomy read_taxonomy(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path, 0, "", "", "cannot open the taxonomy file");
  Taxonomy taxonomy;
  taxonomy.file = path;
  std::string line;
  if (!std::getline(in, line)) throw InputError(path, 1, "", "", "the taxonomy file is empty (expected a header name,touchpoint)");
  const std::vector<std::string> header = split_csv_fields(line);
  if (header.size() != 2 || trim(header[0]) != "name" || trim(header[1]) != "touchpoint")
    throw InputError(path, 1, "", line, "expected the header name,touchpoint");
  std::unordered_map<std::string, int64_t> line_of_name;
  size_t n_patterns = 0;
  int64_t line_number = 1;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty() || line == "\r") continue;
    if (!is_valid_utf8(line)) throw InputError(path, line_number, "", "", "not valid UTF-8");
    const std::vector<std::string> fields = split_csv_fields(line);
    if (fields.size() != 2) throw InputError(path, line_number, "", line, fmt::format("expected 2 fields, found {}", fields.size()));
    TaxonomyRule rule;
    rule.name = fields[0];
    rule.line = line_number;
    if (rule.name.empty()) throw InputError(path, line_number, "name", "", "empty name");
    const auto [previous, inserted] = line_of_name.emplace(rule.name, line_number);
    if (!inserted)
      throw InputError(path, line_number, "name", rule.name, fmt::format("listed twice (first on line {})", previous->second));
    size_t begin = 0;
    while (true) {
      const size_t end = fields[1].find('>', begin);
      const std::string level = trim(fields[1].substr(begin, end == std::string::npos ? std::string::npos : end - begin));
      if (level.empty()) throw InputError(path, line_number, "touchpoint", fields[1], "empty level (levels are separated by '>')");
      rule.levels.push_back(level);
      if (end == std::string::npos) break;
      begin = end + 1;
    }
    if (rule.levels.size() > static_cast<size_t>(kMaxLevels))
      throw InputError(path, line_number, "touchpoint", fields[1], fmt::format("more than {} levels", kMaxLevels));
    rule.is_pattern = has_wildcard(rule.name);
    if (rule.is_pattern && ++n_patterns > kMaxPatterns)
      throw InputError(path, line_number, "name", rule.name, fmt::format("more than {} patterns", kMaxPatterns));
    taxonomy.max_depth = std::max(taxonomy.max_depth, static_cast<int>(rule.levels.size()));
    taxonomy.rules.push_back(std::move(rule));
  }
  if (taxonomy.rules.empty()) throw InputError(path, line_number, "", "", "the taxonomy file has no rule");
  return taxonomy;
}

void validate(const TaxonomyOptions& options) {
  if (options.level < 0) throw ConfigError("taxonomy.level must be >= 0 (0: automatic)");
  if (options.max_touchpoints < 1) throw ConfigError("taxonomy.max_touchpoints must be >= 1");
  if (options.unmapped != "keep" && options.unmapped != "group")
    throw ConfigError("taxonomy.unmapped must be \"keep\" or \"group\" (got \"" + options.unmapped + "\")");
}

TaxonomyReport apply_taxonomy(EventTable& events, const Taxonomy& taxonomy, const TaxonomyOptions& options,
                              const std::vector<std::string>& kept_names) {
  validate(options);
  const bool group_unmapped = options.unmapped == "group";

  const Vocabulary& raw = events.touchpoints;
  const auto n_raw = static_cast<size_t>(raw.size());
  std::vector<int64_t> events_of(n_raw, 0);
  for (const int32_t t : events.touchpoint) ++events_of[static_cast<size_t>(t)];
  const std::vector<int32_t> rule_of = match_rules(raw, taxonomy);
  std::vector<uint8_t> kept(n_raw, 0);
  for (const std::string& name : kept_names)
    if (const int32_t id = raw.find(name); id >= 0) kept[static_cast<size_t>(id)] = 1;

  // The name every raw name gets at `level`.
  auto name_at = [&](size_t id, int level) -> std::string {
    if (kept[id]) return raw.name(static_cast<int32_t>(id));
    const int32_t r = rule_of[id];
    if (r < 0) return group_unmapped ? kUnmappedGroup : raw.name(static_cast<int32_t>(id));
    return join_levels(taxonomy.rules[static_cast<size_t>(r)].levels, level);
  };
  TaxonomyReport report;
  report.file = taxonomy.file;
  report.events = static_cast<int64_t>(events.size());
  for (int level = 1; level <= taxonomy.max_depth; ++level) {
    std::set<std::string> distinct;
    for (size_t id = 0; id < n_raw; ++id)
      if (events_of[id] > 0) distinct.insert(name_at(id, level));
    report.touchpoints_per_level.push_back(static_cast<int64_t>(distinct.size()));
  }
  report.level_automatic = options.level == 0;
  if (report.level_automatic) {
    report.level = 1;
    for (int level = taxonomy.max_depth; level >= 1; --level)
      if (report.touchpoints_per_level[static_cast<size_t>(level - 1)] <= options.max_touchpoints) {
        report.level = level;
        break;
      }
  } else {
    report.level = options.level;
  }

  // New ids in order of first appearance in the events, as ingest hands them out.
  Vocabulary mapped;
  std::vector<int32_t> new_id(n_raw, -1);
  for (int32_t& t : events.touchpoint) {
    int32_t& target = new_id[static_cast<size_t>(t)];
    if (target < 0) target = mapped.encode(name_at(static_cast<size_t>(t), report.level));
    t = target;
  }

  std::vector<uint8_t> rule_used(taxonomy.rules.size(), 0);
  std::vector<std::pair<std::string, int64_t>> unmapped;
  for (size_t id = 0; id < n_raw; ++id) {
    if (events_of[id] == 0) continue;
    const int32_t r = rule_of[id];
    report.raw_name.push_back(raw.name(static_cast<int32_t>(id)));
    report.mapped_name.push_back(mapped.name(new_id[id]));
    report.raw_events.push_back(events_of[id]);
    if (kept[id]) {
      report.rule_line.push_back(-1);
      continue;
    }
    report.rule_line.push_back(r < 0 ? 0 : static_cast<int32_t>(taxonomy.rules[static_cast<size_t>(r)].line));
    if (r >= 0) {
      rule_used[static_cast<size_t>(r)] = 1;
    } else {
      unmapped.emplace_back(raw.name(static_cast<int32_t>(id)), events_of[id]);
      report.unmapped_events += events_of[id];
    }
  }
  for (size_t r = 0; r < taxonomy.rules.size(); ++r)
    if (!rule_used[r]) {
      ++report.unused_rules;
      if (report.unused_rule_lines.size() < kUnusedRuleLinesKept)
        report.unused_rule_lines.push_back(static_cast<int32_t>(taxonomy.rules[r].line));
    }
  report.raw_names = static_cast<int64_t>(report.raw_name.size());
  report.unmapped_names = static_cast<int64_t>(unmapped.size());
  std::sort(unmapped.begin(), unmapped.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (unmapped.size() > kTopUnmappedNamed) unmapped.resize(kTopUnmappedNamed);
  report.top_unmapped = std::move(unmapped);
  report.touchpoints = mapped.size();
  events.touchpoints = std::move(mapped);
  return report;
}

}  // namespace jm
