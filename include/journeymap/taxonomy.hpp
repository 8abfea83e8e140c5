// Taxonomy: raw event names (URLs, page names, event codes) mapped to touchpoints at several levels,
// so that a run works at the level an analyst chooses instead of the raw granularity of the logs.
//
//   # taxonomy.csv
//   name,touchpoint
//   /product/phones/*,product_view > electronics > phones
//   /product/tv/*,product_view > electronics > tv
//   add_to_cart,cart > add
//
//   jm::Taxonomy taxonomy = jm::read_taxonomy("taxonomy.csv");
//   jm::TaxonomyReport report = jm::apply_taxonomy(events, taxonomy, options);  // level 2: "product_view > electronics"
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "journeymap/events.hpp"

namespace jm {

/// `[taxonomy]` of the run configuration.
struct TaxonomyOptions {
  std::string file;  ///< the mapping file; empty: no taxonomy
  /// Level the run works at: 1 = the first part of each path, 2 = the first two, ... A path with
  /// fewer parts keeps all of them. 0 = automatic: the deepest level that gives at most
  /// `max_touchpoints` distinct touchpoints (level 1 when none does).
  int level = 0;
  int max_touchpoints = 60;
  /// Names that no rule maps: "keep" them as they are, or group them all into "(unmapped)".
  std::string unmapped = "keep";
};

/// One line of the mapping file: a raw name, or a shell-style pattern (`*`, `?`, `[...]`), and the
/// path of levels it maps to.
struct TaxonomyRule {
  std::string name;
  std::vector<std::string> levels;  ///< e.g. {"product_view", "electronics", "phones"}
  int64_t line = 0;                 ///< line in the file, for messages
  bool is_pattern = false;
};

struct Taxonomy {
  std::string file;
  std::vector<TaxonomyRule> rules;  ///< in file order
  int max_depth = 0;                ///< the most levels of any rule
};

/// Throws ConfigError naming the option that is out of range.
void validate(const TaxonomyOptions& options);

/// Reads a CSV with the header `name,touchpoint` (RFC 4180 quotes); levels in `touchpoint` are
/// separated by '>' and trimmed. A name is matched exactly first; otherwise the first pattern in
/// file order that matches it applies. Throws InputError naming the file and line on a bad header, a
/// row with other than two fields, an empty name or level, invalid UTF-8, a name listed twice, or
/// more than 16 levels.
Taxonomy read_taxonomy(const std::string& path);

/// What applying the taxonomy did.
struct TaxonomyReport {
  std::string file;
  int level = 0;                      ///< the level used (after resolving 0 = automatic)
  bool level_automatic = false;
  std::vector<int64_t> touchpoints_per_level;  ///< [max_depth] distinct touchpoints at levels 1..max_depth
  int64_t raw_names = 0;              ///< distinct raw touchpoint names in the events
  int64_t touchpoints = 0;            ///< distinct touchpoints after mapping
  int64_t unmapped_names = 0;         ///< raw names no rule maps
  int64_t unmapped_events = 0;        ///< events carrying one of them
  int64_t events = 0;
  std::vector<std::pair<std::string, int64_t>> top_unmapped;  ///< most frequent unmapped names and their events
  std::vector<std::string> raw_name;       ///< [raw_names] every raw name ...
  std::vector<std::string> mapped_name;    ///< [raw_names] ... and the touchpoint it became
  std::vector<int64_t> raw_events;         ///< [raw_names] events with that raw name
  std::vector<int32_t> rule_line;          ///< [raw_names] line of the rule that mapped it; 0 = unmapped, -1 = kept (outcome)
  std::vector<int32_t> unused_rule_lines;  ///< lines of rules that matched no name (first 100)
  int64_t unused_rules = 0;
};

/// Renames every event's touchpoint to its taxonomy path cut at the chosen level, rebuilding
/// `events.touchpoints` (ids in order of first appearance in the events). Raw names in
/// `kept_names` (the outcome events) keep their name: an outcome is defined on the event the log
/// wrote, and outcome events are cut out of the paths anyway. Throws ConfigError on a bad level,
/// max_touchpoints or unmapped setting.
TaxonomyReport apply_taxonomy(EventTable& events, const Taxonomy& taxonomy, const TaxonomyOptions& options,
                              const std::vector<std::string>& kept_names = {});

class ResultWriter;

/// /taxonomy: the level used, distinct touchpoints per level, and each raw name's mapping.
void write_taxonomy_results(ResultWriter& writer, const TaxonomyReport& report);

/// Block for the run summary: level, names in and out, unmapped names.
std::string format_taxonomy_summary(const TaxonomyReport& report);

/// A warning when events carry names no rule maps, naming the most frequent ones.
std::vector<std::string> taxonomy_warnings(const TaxonomyReport& report);

}  // namespace jm
