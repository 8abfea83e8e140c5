#include "host/pipeline/append_run.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "host/journeys/append_journey.hpp"
#include "journeymap/common.hpp"
#include "journeymap/result_file.hpp"
#include "journeymap/timestamp.hpp"

namespace jm {
namespace {

// Settings that name files or resources of one invocation, not how journeys are made or analysed.
const std::set<std::string> kPerInvocationKeys = {"input.path", "input.format", "run.output", "run.threads",
                                                  "run.device", "run.progress", "run.compression",
                                                  "run.host_memory_budget", "run.device_memory_budget",
                                                  "run.model_sample_events"};

// Every leaf of a TOML document as "table.key" -> its value written as TOML.
void flatten(const toml::table& table, const std::string& prefix, std::map<std::string, std::string>& out) {
  for (const auto& [key, node] : table) {
    const std::string name = prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
    if (const toml::table* child = node.as_table()) {
      flatten(*child, name, out);
    } else {
      std::ostringstream text;
      if (const toml::array* array = node.as_array()) text << *array;
      else node.visit([&](const auto& value) { text << value; });
      out[name] = text.str();
    }
  }
}

std::map<std::string, std::string> flat_config(const std::string& text, const std::string& what) {
  std::map<std::string, std::string> out;
  try {
    flatten(toml::parse(text, what), "", out);
  } catch (const toml::parse_error& error) {
    throw ConfigError(what + ": the stored configuration cannot be read: " + std::string(error.description()));
  }
  return out;
}

// Differences between the base's configuration and this run's, "key: base X, now Y".
std::vector<std::string> config_differences(const std::string& base_toml, const std::string& now_toml,
                                            const std::string& base_path) {
  const auto base = flat_config(base_toml, base_path), now = flat_config(now_toml, "this run");
  std::set<std::string> keys;
  for (const auto& [key, value] : base) keys.insert(key);
  for (const auto& [key, value] : now) keys.insert(key);
  std::vector<std::string> differences;
  for (const std::string& key : keys) {
    if (kPerInvocationKeys.count(key)) continue;
    const auto b = base.find(key), n = now.find(key);
    const std::string before = b == base.end() ? "(not set)" : b->second, after = n == now.end() ? "(not set)" : n->second;
    if (before != after) differences.push_back(fmt::format("{}: base {}, now {}", key, before, after));
  }
  return differences;
}

// The touchpoint and flag that make an event give `label` again when the journeys are cut: the
// first outcome touchpoint with that label, or the CSV flag column's 1 ("converted") on the
// journey's last touchpoint (journeys hold no outcome events, so that one is ordinary).
struct OutcomeReplay {
  int32_t touchpoint = -1;
  uint8_t flag = 0;
};
OutcomeReplay outcome_replay(const std::string& label, const OutcomeDefinition& outcome, Vocabulary& touchpoints,
                             int32_t last_touchpoint) {
  for (const OutcomeEvent& event : outcome.events)
    if (event.label == label) return {touchpoints.encode(event.touchpoint), 0};
  if (label == "converted") return {last_touchpoint, 1};
  throw ConfigError("--append: the base has journeys labelled '" + label +
                    "', which no outcome event of this configuration gives");
}

// Journeys of `a` (rows `keep_a`) and all of `b`, ordered by customer then start, as one set. Both
// use the vocabularies of `b` (a's are a prefix of them).
JourneySet merge_in_order(const JourneySet& a, const std::vector<int64_t>& keep_a, const JourneySet& b) {
  struct Pick {
    uint32_t customer;
    int64_t start_ms;
    const JourneySet* from;
    int64_t row;
  };
  std::vector<Pick> picks;
  picks.reserve(keep_a.size() + static_cast<size_t>(b.size()));
  for (const int64_t j : keep_a) picks.push_back({a.customer[j], a.start_ms[j], &a, j});
  for (int64_t j = 0; j < b.size(); ++j) picks.push_back({b.customer[j], b.start_ms[j], &b, j});
  std::stable_sort(picks.begin(), picks.end(), [](const Pick& x, const Pick& y) {
    return x.customer != y.customer ? x.customer < y.customer : x.start_ms < y.start_ms;
  });

  JourneySet out;
  out.customers = b.customers;
  out.touchpoints = b.touchpoints;
  out.channels = b.channels;
  out.outcome_labels = b.outcome_labels;
  out.positive_outcome = b.positive_outcome;
  out.offsets.reserve(picks.size() + 1);
  out.offsets.push_back(0);
  for (const Pick& pick : picks) append_journey(out, *pick.from, pick.row, pick.from->length(pick.row));
  return out;
}

bool same_journeys(const JourneySet& x, const std::vector<int64_t>& rows, const JourneySet& y) {
  if (static_cast<int64_t>(rows.size()) != y.size()) return false;
  for (size_t i = 0; i < rows.size(); ++i) {
    const int64_t j = rows[i], k = static_cast<int64_t>(i);
    if (x.customer[j] != y.customer[k] || x.converted[j] != y.converted[k] || x.outcome[j] != y.outcome[k] ||
        x.outcome_ms[j] != y.outcome_ms[k] || x.conversion_value[j] != y.conversion_value[k] ||
        x.length(j) != y.length(k))
      return false;
    for (int64_t e = 0; e < x.length(j); ++e)
      if (x.touchpoint[x.offsets[j] + e] != y.touchpoint[y.offsets[k] + e] ||
          x.channel[x.offsets[j] + e] != y.channel[y.offsets[k] + e] ||
          x.timestamp_ms[x.offsets[j] + e] != y.timestamp_ms[y.offsets[k] + e] ||
          x.value[x.offsets[j] + e] != y.value[y.offsets[k] + e])
        return false;
  }
  return true;
}

OutcomeStats difference(const OutcomeStats& after, const OutcomeStats& before) {
  OutcomeStats out = after;
  out.outcome_events -= before.outcome_events;
  out.same_instant_events -= before.same_instant_events;
  out.events_after_outcome -= before.events_after_outcome;
  out.events_after_window -= before.events_after_window;
  out.journeys_without_events -= before.journeys_without_events;
  out.same_instant_touchpoints.clear();  // names of the new events' cuts are not told apart from the replay's
  return out;
}

}  // namespace

std::vector<int64_t> customer_last_event_ms(const EventTable& events) {
  std::vector<int64_t> last(static_cast<size_t>(events.customers.size()), std::numeric_limits<int64_t>::min());
  for (size_t r = 0; r < events.size(); ++r)
    last[events.customer[r]] = std::max(last[events.customer[r]], events.timestamp_ms[r]);
  return last;
}

void require_appendable(const RunConfig& config) {
  const auto refuse = [](const std::string& setting) {
    throw ConfigError("--append cannot continue a result made with " + setting +
                      ": the stored journeys do not keep what it needs; run on all events instead");
  };
  if (!config.sources.empty()) refuse("[[source]] tables");
  if (!config.outcome.label_file.empty()) refuse("a label file");
  if (!config.csv.columns.dimensions.empty()) refuse("custom dimensions");
  if (!config.taxonomy.file.empty()) refuse("a taxonomy");
  if (config.filter.active() || !config.filter.segments.empty()) refuse("a [filter]");
  if (config.outcome.window_days > 0.0) refuse("an outcome window (its open journeys close as data arrives)");
  if (config.compare_enabled) refuse("a [compare] of two periods");
}

AppendBase read_append_base(const std::string& path, const RunConfig& config) {
  AppendBase base;
  base.path = path;
  const ResultReader reader(path);
  if (!reader.exists("/meta/config_toml") || !reader.exists("/journeys/offsets"))
    throw ConfigError("--base " + path + " holds no journeys or no configuration (a result of `journeymap run` is needed)");
  const std::string command = reader.read_string_attribute("/meta", "command");
  if (command != "run")
    throw ConfigError("--base " + path + " was written by `journeymap " + command +
                      "`; --append continues a result of `journeymap run`");
  const std::string format = reader.read_string_attribute("/meta", "format");
  const int64_t version = reader.read_int_attribute("/meta", "format_version");
  if (format != "journeymap-result" || version != 2)
    throw ConfigError(fmt::format("--base {} is a '{}' file of format version {}; this journeymap appends to "
                                  "'journeymap-result' version 2",
                                  path, format, version));
  const std::vector<std::string> differences =
      config_differences(reader.read_strings("/meta/config_toml").front(), to_toml(config), path);
  if (!differences.empty()) {
    std::string listed;
    for (const std::string& difference : differences) listed += "\n  " + difference;
    throw ConfigError("--base " + path + " was made with another configuration; append with the same one:" + listed);
  }
  if (!reader.exists("/journeys/customer_last_ms"))
    throw ConfigError("--base " + path + " was written before results kept each customer's last event time, which "
                      "--append needs to refuse late events; run on all events once to make a new base");
  base.journeys = reader.read_journeys();
  base.customer_last_ms = reader.read_int64("/journeys/customer_last_ms");
  if (static_cast<int64_t>(base.customer_last_ms.size()) != base.journeys.customers.size())
    throw Error(path + ": /journeys/customer_last_ms does not have one time per customer of /vocab/customers");
  if (!base.journeys.has_outcomes()) throw ConfigError("--base " + path + " has no outcome columns in /journeys");
  base.input_files = reader.read_strings("/meta/input_files");
  const std::vector<int64_t> bytes = reader.read_int64("/meta/input_bytes");
  base.input_bytes.assign(bytes.begin(), bytes.end());
  base.rows_read = reader.read_int_attribute("/meta", "rows_read");
  base.rows_skipped = reader.read_int_attribute("/meta", "rows_skipped");
  if (reader.exists("/flows/tally/shape"))
    base.flows = read_flow_tally(reader, path, base.journeys.touchpoints.size(), base.journeys.channels.size(),
                                 base.journeys.size(), static_cast<int64_t>(base.journeys.touchpoint.size()));
  if (reader.exists("/alerts/tally/shape"))
    base.alerts = read_alert_tally(reader, path, base.journeys.touchpoints.size(), base.journeys.size(),
                                   static_cast<int64_t>(base.journeys.touchpoint.size()));
  if (reader.exists("/patterns/support")) {
    StoredPatterns& patterns = base.patterns.emplace();
    patterns.offsets = reader.read_int64("/patterns/offsets");
    patterns.items = reader.read_int32("/patterns/items");
    patterns.support = reader.read_int64("/patterns/support");
    patterns.converted_support = reader.read_int64("/patterns/converted_support");
    patterns.n_journeys = reader.read_int_attribute("/patterns", "n_journeys");
    patterns.min_support_count = reader.read_int_attribute("/patterns", "min_support_count");
    patterns.truncated = reader.read_int_attribute("/patterns", "truncated") != 0;
    const size_t n = patterns.support.size();
    if (patterns.offsets.size() != n + 1 || patterns.converted_support.size() != n || patterns.offsets.front() != 0 ||
        !std::is_sorted(patterns.offsets.begin(), patterns.offsets.end()) ||
        patterns.offsets.back() != static_cast<int64_t>(patterns.items.size()))
      throw Error(path + ": /patterns/offsets, items, support and converted_support do not describe the same patterns");
    for (const int32_t item : patterns.items)
      if (item < 0 || item >= base.journeys.touchpoints.size())
        throw Error(path + ": /patterns/items holds a touchpoint id outside /vocab/touchpoints");
  }
  return base;
}

AppendedJourneys append_journeys(const Context& ctx, const AppendBase& base, EventTable& new_events,
                                 const RunConfig& config) {
  const OutcomeDefinition outcome = effective_outcome(config);
  const JourneySet& old = base.journeys;
  const int64_t old_customers = old.customers.size();

  // One table in the base's ids: its vocabularies first, then the names the new events bring, in
  // their order of first appearance (as a run over the base's input and then the new one numbers them).
  EventTable replay;
  replay.customers = old.customers;
  replay.touchpoints = old.touchpoints;
  replay.channels = old.channels;
  std::vector<uint32_t> customer_id(static_cast<size_t>(new_events.customers.size()));
  std::vector<int32_t> touchpoint_id(static_cast<size_t>(new_events.touchpoints.size())),
      channel_id(static_cast<size_t>(new_events.channels.size()));
  for (int32_t i = 0; i < new_events.customers.size(); ++i)
    customer_id[static_cast<size_t>(i)] = static_cast<uint32_t>(replay.customers.encode(new_events.customers.name(i)));
  for (int32_t i = 0; i < new_events.touchpoints.size(); ++i)
    touchpoint_id[static_cast<size_t>(i)] = replay.touchpoints.encode(new_events.touchpoints.name(i));
  for (int32_t i = 0; i < new_events.channels.size(); ++i)
    channel_id[static_cast<size_t>(i)] = replay.channels.encode(new_events.channels.name(i));

  // Customers the base knows: their new events must come after every event the base read of them
  // (outcomes, cut events and outcome-only journeys included); those with a stored journey return.
  std::vector<int64_t> last_journey(static_cast<size_t>(old_customers), -1);
  for (int64_t j = 0; j < old.size(); ++j) last_journey[old.customer[j]] = j;
  std::vector<uint8_t> returning(static_cast<size_t>(old_customers), 0);
  int64_t late_events = 0, first_late_row = -1;
  for (size_t r = 0; r < new_events.size(); ++r) {
    const uint32_t c = customer_id[new_events.customer[r]];
    if (c >= static_cast<uint32_t>(old_customers)) continue;
    returning[c] = last_journey[c] >= 0 ? 1 : 0;
    if (new_events.timestamp_ms[r] <= base.customer_last_ms[c]) {
      ++late_events;
      if (first_late_row < 0) first_late_row = static_cast<int64_t>(r);
    }
  }
  if (late_events > 0) {
    const auto r = static_cast<size_t>(first_late_row);
    const uint32_t c = customer_id[new_events.customer[r]];
    throw ConfigError(fmt::format(
        "--append: {} new events are not later than their customer's last event in {} (first: customer '{}' at "
        "{}, base history until {}); late events would change journeys the base closed: run on all events",
        late_events, base.path, replay.customers.name(static_cast<int32_t>(c)), format_iso8601(new_events.timestamp_ms[r]),
        format_iso8601(base.customer_last_ms[c])));
  }

  // The replay: every returning customer's last base journey with its outcome event.
  std::vector<int64_t> replaced, kept;
  for (int64_t j = 0; j < old.size(); ++j) {
    const uint32_t c = old.customer[j];
    if (returning[c] && last_journey[c] == j) replaced.push_back(j);
    else kept.push_back(j);
  }
  for (const int64_t j : replaced) {
    for (int64_t e = old.offsets[j]; e < old.offsets[j + 1]; ++e)
      replay.push_back(old.customer[j], old.timestamp_ms[e], old.touchpoint[e], old.channel[e], old.value[e], false);
    if (old.outcome[j] == 0) continue;
    const OutcomeReplay event = outcome_replay(old.outcome_labels.name(old.outcome[j]), outcome, replay.touchpoints,
                                               old.touchpoint[old.offsets[j + 1] - 1]);
    replay.push_back(old.customer[j], old.outcome_ms[j], event.touchpoint, old.channel[old.offsets[j + 1] - 1],
                     old.conversion_value[j], event.flag != 0);
  }
  EventTable with_new = replay;
  for (size_t r = 0; r < new_events.size(); ++r)
    with_new.push_back(customer_id[new_events.customer[r]], new_events.timestamp_ms[r],
                       touchpoint_id[static_cast<size_t>(new_events.touchpoint[r])],
                       channel_id[static_cast<size_t>(new_events.channel[r])], new_events.value[r],
                       new_events.is_conversion[r] != 0);

  // The replay alone must give back the base's journeys: the check that the stored journeys stood
  // for the history they replace.
  OutcomeJourneys before = build_outcome_journeys(ctx, replay, config.journeys, outcome, false);
  if (!same_journeys(old, replaced, before.journeys))
    throw Error("--append: the base's last journeys of the returning customers cannot be rebuilt from " + base.path +
                " exactly; run on all events instead");
  OutcomeJourneys after = build_outcome_journeys(ctx, with_new, config.journeys, outcome, false);

  AppendedJourneys appended;
  OutcomeJourneys& merged = appended.built;
  merged.journeys = merge_in_order(old, kept, after.journeys);
  merged.journeys.stats.input_events = old.stats.input_events + after.journeys.stats.input_events - before.journeys.stats.input_events;
  merged.journeys.stats.duplicates_dropped =
      old.stats.duplicates_dropped + after.journeys.stats.duplicates_dropped - before.journeys.stats.duplicates_dropped;
  merged.journeys.stats.events_truncated =
      old.stats.events_truncated + after.journeys.stats.events_truncated - before.journeys.stats.events_truncated;
  merged.stats = difference(after.stats, before.stats);
  appended.removed = std::move(before.journeys);
  appended.added = std::move(after.journeys);
  appended.customer_last_ms = base.customer_last_ms;
  appended.customer_last_ms.resize(static_cast<size_t>(replay.customers.size()), std::numeric_limits<int64_t>::min());
  for (size_t r = 0; r < new_events.size(); ++r) {
    int64_t& last = appended.customer_last_ms[customer_id[new_events.customer[r]]];
    last = std::max(last, new_events.timestamp_ms[r]);
  }
  return appended;
}

}  // namespace jm
