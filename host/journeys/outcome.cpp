// Outcomes: marking outcome events, cutting journeys before them, and labelling journeys from
// events, a label file or a window rule. Runs on the host after either journey builder, so both
// backends yield the same journeys by construction.
#include "journeymap/outcome.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "host/core/durations.hpp"
#include "host/core/utf8.hpp"
#include "host/ingest/csv_fields.hpp"
#include "journeymap/common.hpp"
#include "journeymap/step_timing.hpp"

namespace jm {
namespace {

constexpr int32_t kNoLabel = 0;
constexpr int32_t kConvertedLabel = 1;  // the CSV conversion flag's 1
constexpr int kMaxLabels = 255;         // labels travel in one byte per event

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}


struct FileLabel {
  int32_t label = kNoLabel;
  float value = 0.0f;
};

// Reads `id,label[,value]` rows keyed by customer id of `customers`; counts ids not in the data.
std::vector<FileLabel> read_label_file(const std::string& path, const Vocabulary& customers, Vocabulary& labels,
                                       OutcomeStats& stats) {
  std::ifstream in(path);
  if (!in) throw InputError(path, 0, "", "", "cannot open the label file");
  std::vector<FileLabel> by_customer(static_cast<size_t>(customers.size()));
  std::vector<int64_t> line_of(static_cast<size_t>(customers.size()), 0);
  std::unordered_set<std::string> unmatched_seen;
  std::string line;
  int64_t line_number = 0;
  if (!std::getline(in, line)) throw InputError(path, 1, "", "", "the label file is empty (expected a header id,label[,value])");
  ++line_number;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty() || line == "\r") continue;
    const std::vector<std::string> f = split_csv_fields(line);
    if (f.size() < 2 || f.size() > 3)
      throw InputError(path, line_number, "", line, "expected id,label[,value]");
    if (f[1].empty()) throw InputError(path, line_number, "label", "", "empty label");
    if (!is_valid_utf8(f[0]) || !is_valid_utf8(f[1])) throw InputError(path, line_number, "", "", "not valid UTF-8");
    ++stats.label_file_rows;
    const int32_t customer = customers.find(f[0]);
    if (customer < 0) {
      if (unmatched_seen.insert(f[0]).second) ++stats.label_file_unmatched;
      else throw InputError(path, line_number, "id", f[0], "id labelled twice");
      continue;
    }
    if (line_of[customer] != 0)
      throw InputError(path, line_number, "id", f[0],
                       fmt::format("id labelled twice (first on line {})", line_of[customer]));
    line_of[customer] = line_number;
    FileLabel label;
    label.label = labels.encode(f[1]);
    if (label.label > kMaxLabels) throw InputError(path, line_number, "label", f[1], "more than 255 distinct labels");
    if (f.size() == 3 && !f[2].empty()) {
      char* end = nullptr;
      label.value = std::strtof(f[2].c_str(), &end);
      if (end == f[2].c_str() || *end != '\0' || !std::isfinite(label.value))
        throw InputError(path, line_number, "value", f[2], "not a finite number");
    }
    by_customer[customer] = label;
  }
  return by_customer;
}

}  // namespace

AfterOutcome parse_after_outcome(const std::string& text) {
  if (text == "new_journey") return AfterOutcome::NewJourney;
  if (text == "end") return AfterOutcome::End;
  throw ConfigError("outcome.after must be \"new_journey\" or \"end\", not \"" + text + "\"");
}

const char* to_string(AfterOutcome after) { return after == AfterOutcome::End ? "end" : "new_journey"; }

void validate(const OutcomeDefinition& outcome) {
  if (!std::isfinite(outcome.same_instant_seconds) || outcome.same_instant_seconds < 0)
    throw ConfigError("outcome.same_instant_seconds must be a finite number >= 0");
  if (!std::isfinite(outcome.window_days) || outcome.window_days < 0)
    throw ConfigError("outcome.window_days must be a finite number >= 0 (0 = no window)");
  if (outcome.positive.empty()) throw ConfigError("outcome.positive must name a label");
  if (outcome.label_file_only && outcome.label_file.empty())
    throw ConfigError("outcome.label_file_only needs outcome.label_file (it would drop every journey)");
  std::unordered_set<std::string> seen;
  for (const OutcomeEvent& event : outcome.events) {
    if (event.touchpoint.empty()) throw ConfigError("outcome.events: empty touchpoint name");
    if (event.label.empty() || event.label == "none" || event.label == "open")
      throw ConfigError("outcome.events: touchpoint '" + event.touchpoint + "' needs a label other than none/open");
    if (!seen.insert(event.touchpoint).second)
      throw ConfigError("outcome.events: touchpoint '" + event.touchpoint + "' is listed twice");
  }
}

Vocabulary outcome_label_vocabulary(const OutcomeDefinition& outcome) {
  Vocabulary labels;
  labels.encode("none");
  labels.encode("converted");
  for (const OutcomeEvent& event : outcome.events) labels.encode(event.label);
  if (outcome.window_days > 0) labels.encode("open");
  if (labels.size() > kMaxLabels) throw ConfigError("outcome: more than 255 distinct labels");
  return labels;
}

std::vector<std::string> closest_names(const Vocabulary& vocabulary, const std::string& name, size_t limit) {
  std::vector<std::pair<size_t, std::string>> scored;
  for (const std::string& candidate : vocabulary.names()) scored.emplace_back(edit_distance(name, candidate), candidate);
  const size_t n = std::min(limit, scored.size());
  std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(n), scored.end());
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back(scored[i].second);
  return out;
}

void mark_outcome_events(EventTable& events, const OutcomeDefinition& outcome, const Vocabulary& labels,
                         bool require_touchpoints) {
  std::vector<uint8_t> label_of_touchpoint(static_cast<size_t>(events.touchpoints.size()), 0);
  for (const OutcomeEvent& event : outcome.events) {
    const int32_t id = events.touchpoints.find(event.touchpoint);
    if (id < 0 && !require_touchpoints) continue;
    if (id < 0) {
      std::string hint;
      for (const std::string& near : closest_names(events.touchpoints, event.touchpoint))
        hint += (hint.empty() ? "" : ", ") + ("'" + near + "'");
      throw ConfigError("outcome touchpoint '" + event.touchpoint + "' is not in the data" +
                        (hint.empty() ? std::string() : "; closest names: " + hint));
    }
    label_of_touchpoint[static_cast<size_t>(id)] = static_cast<uint8_t>(labels.find(event.label));
  }
  for (size_t i = 0; i < events.size(); ++i) {
    const uint8_t by_touchpoint = label_of_touchpoint[static_cast<size_t>(events.touchpoint[i])];
    if (by_touchpoint != 0) events.is_conversion[i] = by_touchpoint;
    else if (events.is_conversion[i] != 0) events.is_conversion[i] = kConvertedLabel;
  }
}

OutcomeJourneys cut_at_outcomes(JourneySet raw, const OutcomeDefinition& outcome, Vocabulary labels) {
  validate(outcome);
  OutcomeJourneys result;
  OutcomeStats& stats = result.stats;
  std::vector<FileLabel> file_labels;
  if (!outcome.label_file.empty()) file_labels = read_label_file(outcome.label_file, raw.customers, labels, stats);
  const int32_t positive = labels.find(outcome.positive);
  if (positive < 0)
    throw ConfigError("outcome.positive: label '" + outcome.positive + "' is given by no outcome event nor the label file");
  const int32_t open_label = labels.find("open");
  const int64_t tolerance_ms = static_cast<int64_t>(std::llround(outcome.same_instant_seconds * 1000.0));
  const double window_ms_double = outcome.window_days * 86400000.0;
  const int64_t window_ms = window_ms_double > 9.0e18 ? std::numeric_limits<int64_t>::max()
                                                      : static_cast<int64_t>(window_ms_double);
  int64_t data_end_ms = std::numeric_limits<int64_t>::min();
  for (int64_t j = 0; j < raw.size(); ++j) data_end_ms = std::max(data_end_ms, raw.end_ms[j]);

  JourneySet& out = result.journeys;
  // The dictionaries move (a million customer names are costly to copy); read them from `out` below.
  out.customers = std::move(raw.customers);
  out.touchpoints = std::move(raw.touchpoints);
  out.channels = std::move(raw.channels);
  out.outcome_labels = labels;
  out.case_attributes = std::move(raw.case_attributes);
  out.covariates = std::move(raw.covariates);
  out.positive_outcome = positive;
  out.stats = raw.stats;
  // The loop below touches every event: it reads and writes the host vectors directly (a
  // HostDeviceVector checks where its data lives on every element access) and copies each
  // journey's events as ranges.
  const std::vector<int64_t>& raw_offsets = raw.offsets.host();
  const std::vector<int32_t>& raw_touchpoint = raw.touchpoint.host();
  const std::vector<int32_t>& raw_channel = raw.channel.host();
  const std::vector<int64_t>& raw_timestamp = raw.timestamp_ms.host();
  const std::vector<float>& raw_value = raw.value.host();
  const std::vector<int64_t>& raw_event_row = raw.event_row.host();
  const std::vector<uint32_t>& raw_customer = raw.customer.host();
  const std::vector<uint8_t>& raw_label = raw.converted.host();
  const std::vector<float>& raw_conversion_value = raw.conversion_value.host();
  // Nothing to cut (no outcome event, no label file, no window): the journeys are the raw ones,
  // moved instead of copied (an SPMF file or a log without outcomes).
  const bool nothing_to_cut = file_labels.empty() && !outcome.label_file_only && window_ms <= 0 &&
                              std::all_of(raw_label.begin(), raw_label.end(), [](uint8_t label) { return label == kNoLabel; });
  if (nothing_to_cut) {
    const auto n = static_cast<size_t>(raw.size());  // before the offsets move
    out.offsets = std::move(raw.offsets);
    out.touchpoint = std::move(raw.touchpoint);
    out.channel = std::move(raw.channel);
    out.timestamp_ms = std::move(raw.timestamp_ms);
    out.value = std::move(raw.value);
    out.event_row = std::move(raw.event_row);
    out.customer = std::move(raw.customer);
    out.converted = std::move(raw.converted);  // every label is kNoLabel, that is 0: not converted
    out.conversion_value.assign(n, 0.0f);
    out.start_ms = std::move(raw.start_ms);
    out.end_ms = std::move(raw.end_ms);
    out.outcome.assign(n, static_cast<uint8_t>(kNoLabel));
    out.outcome_ms.assign(n, 0);
    return result;
  }

  std::vector<int64_t>& offsets = out.offsets.host_mut();
  std::vector<int32_t>& touchpoint = out.touchpoint.host_mut();
  std::vector<int32_t>& channel = out.channel.host_mut();
  std::vector<int64_t>& timestamp_ms = out.timestamp_ms.host_mut();
  std::vector<float>& value_column = out.value.host_mut();
  std::vector<int64_t>& event_row = out.event_row.host_mut();
  std::vector<uint32_t>& customer_column = out.customer.host_mut();
  std::vector<uint8_t>& outcome_column = out.outcome.host_mut();
  std::vector<int64_t>& outcome_ms_column = out.outcome_ms.host_mut();
  std::vector<uint8_t>& converted = out.converted.host_mut();
  std::vector<float>& conversion_value = out.conversion_value.host_mut();
  std::vector<int64_t>& start_ms = out.start_ms.host_mut();
  std::vector<int64_t>& end_ms = out.end_ms.host_mut();
  offsets.reserve(raw_offsets.size());
  offsets.push_back(0);
  touchpoint.reserve(raw_touchpoint.size());
  channel.reserve(raw_channel.size());
  timestamp_ms.reserve(raw_timestamp.size());
  value_column.reserve(raw_value.size());
  const bool has_event_rows = !raw_event_row.empty();
  if (has_event_rows) event_row.reserve(raw_event_row.size());
  const auto n_raw = static_cast<size_t>(raw.size());
  customer_column.reserve(n_raw);
  outcome_column.reserve(n_raw);
  outcome_ms_column.reserve(n_raw);
  converted.reserve(n_raw);
  conversion_value.reserve(n_raw);
  start_ms.reserve(n_raw);
  end_ms.reserve(n_raw);

  std::vector<int64_t> same_instant_by_touchpoint(static_cast<size_t>(out.touchpoints.size()), 0);
  auto cut_same_instant = [&](int64_t e) {
    ++stats.same_instant_events;
    ++same_instant_by_touchpoint[static_cast<size_t>(raw_touchpoint[static_cast<size_t>(e)])];
  };
  int64_t customer_outcome_ms = 0;  // time of the current customer's latest outcome
  bool customer_had_outcome = false;
  for (int64_t j = 0; j < raw.size(); ++j) {
    const uint32_t customer = raw_customer[static_cast<size_t>(j)];
    if (j == 0 || customer != raw_customer[static_cast<size_t>(j - 1)]) customer_had_outcome = false;
    int64_t begin = raw_offsets[static_cast<size_t>(j)], end = raw_offsets[static_cast<size_t>(j + 1)];
    if (customer_had_outcome && outcome.after == AfterOutcome::End) {
      stats.events_after_outcome += end - begin;
      continue;
    }
    int32_t label = raw_label[static_cast<size_t>(j)];
    // Events logged with the previous outcome, at the head of the journey that follows it (never
    // this journey's own outcome event, its last).
    const int64_t head_limit = label != kNoLabel ? end - 1 : end;
    if (customer_had_outcome)
      while (begin < head_limit && raw_timestamp[static_cast<size_t>(begin)] - customer_outcome_ms <= tolerance_ms) cut_same_instant(begin++);
    float value = label != kNoLabel ? raw_conversion_value[static_cast<size_t>(j)] : 0.0f;
    int64_t outcome_ms = 0;
    if (label != kNoLabel) {
      // build_journeys with split_at_conversion ends the journey at its outcome event.
      outcome_ms = raw_timestamp[static_cast<size_t>(end - 1)];
      --end;
      ++stats.outcome_events;
      while (end > begin && outcome_ms - raw_timestamp[static_cast<size_t>(end - 1)] <= tolerance_ms) cut_same_instant(--end);
      customer_had_outcome = true;
      customer_outcome_ms = outcome_ms;
    }
    if (!file_labels.empty() && file_labels[customer].label != kNoLabel) {
      label = file_labels[customer].label;
      value = file_labels[customer].value;
      ++stats.journeys_labelled_by_file;
    } else if (outcome.label_file_only) {
      ++stats.journeys_unlabelled;
      continue;
    }
    if (window_ms > 0 && end > begin) {
      const int64_t start = raw_timestamp[static_cast<size_t>(begin)];
      const int64_t horizon = start > std::numeric_limits<int64_t>::max() - window_ms ? std::numeric_limits<int64_t>::max()
                                                                                      : start + window_ms;
      if (label == positive && outcome_ms != 0 && outcome_ms > horizon) label = kNoLabel, value = 0.0f;
      if (label != positive && horizon > data_end_ms) label = open_label;
      while (end > begin && raw_timestamp[static_cast<size_t>(end - 1)] > horizon) --end, ++stats.events_after_window;
    }
    if (end <= begin) {
      ++stats.journeys_without_events;
      continue;
    }
    touchpoint.insert(touchpoint.end(), raw_touchpoint.begin() + begin, raw_touchpoint.begin() + end);
    channel.insert(channel.end(), raw_channel.begin() + begin, raw_channel.begin() + end);
    timestamp_ms.insert(timestamp_ms.end(), raw_timestamp.begin() + begin, raw_timestamp.begin() + end);
    value_column.insert(value_column.end(), raw_value.begin() + begin, raw_value.begin() + end);
    if (has_event_rows) event_row.insert(event_row.end(), raw_event_row.begin() + begin, raw_event_row.begin() + end);
    offsets.push_back(static_cast<int64_t>(touchpoint.size()));
    customer_column.push_back(customer);
    outcome_column.push_back(static_cast<uint8_t>(label));
    outcome_ms_column.push_back(outcome_ms);
    converted.push_back(label == positive ? 1 : 0);
    conversion_value.push_back(label == positive ? value : 0.0f);
    start_ms.push_back(raw_timestamp[static_cast<size_t>(begin)]);
    end_ms.push_back(raw_timestamp[static_cast<size_t>(end - 1)]);
  }
  stats.same_instant_by_touchpoint = std::move(same_instant_by_touchpoint);
  list_most_cut_touchpoints(stats, out.touchpoints);
  return result;
}

void list_most_cut_touchpoints(OutcomeStats& stats, const Vocabulary& touchpoints) {
  stats.same_instant_touchpoints.clear();
  for (int32_t t = 0; t < static_cast<int32_t>(stats.same_instant_by_touchpoint.size()); ++t)
    if (stats.same_instant_by_touchpoint[static_cast<size_t>(t)] > 0)
      stats.same_instant_touchpoints.emplace_back(touchpoints.name(t), stats.same_instant_by_touchpoint[static_cast<size_t>(t)]);
  std::stable_sort(stats.same_instant_touchpoints.begin(), stats.same_instant_touchpoints.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (stats.same_instant_touchpoints.size() > 5) stats.same_instant_touchpoints.resize(5);
}

void add_outcome_stats(OutcomeStats& total, const OutcomeStats& part, const Vocabulary& touchpoints) {
  total.outcome_events += part.outcome_events;
  total.same_instant_events += part.same_instant_events;
  total.events_after_outcome += part.events_after_outcome;
  total.events_after_window += part.events_after_window;
  total.journeys_without_events += part.journeys_without_events;
  total.journeys_labelled_by_file += part.journeys_labelled_by_file;
  total.journeys_unlabelled += part.journeys_unlabelled;
  total.label_file_rows = part.label_file_rows;
  total.label_file_unmatched = part.label_file_unmatched;
  auto& sum = total.same_instant_by_touchpoint;
  const auto& add = part.same_instant_by_touchpoint;
  if (sum.size() < add.size()) sum.resize(add.size(), 0);
  for (size_t t = 0; t < add.size(); ++t) sum[t] += add[t];
  list_most_cut_touchpoints(total, touchpoints);
}

std::vector<std::string> outcome_warnings(const OutcomeStats& stats, const OutcomeDefinition& outcome) {
  std::vector<std::string> warnings;
  if (stats.same_instant_events > 0) {
    std::string names;
    for (const auto& [name, count] : stats.same_instant_touchpoints)
      names += fmt::format("{}{} ({})", names.empty() ? "" : ", ", name, count);
    warnings.push_back(fmt::format(
        "{} events were logged within {:g} s of an outcome and were cut with it (most often: {}); they would have "
        "revealed the outcome to every stage",
        stats.same_instant_events, outcome.same_instant_seconds, names));
  }
  if (stats.label_file_unmatched > 0)
    warnings.push_back(fmt::format("{} of the {} ids in the label file {} are not in the events", stats.label_file_unmatched,
                                   stats.label_file_rows, outcome.label_file));
  return warnings;
}

OutcomeJourneys build_outcome_journeys(const Context& ctx, EventTable& events, const JourneyOptions& options,
                                       const OutcomeDefinition& outcome, bool require_touchpoints) {
  validate(outcome);
  StepTimer step(ctx, "outcome events");
  const Vocabulary labels = outcome_label_vocabulary(outcome);
  mark_outcome_events(events, outcome, labels, require_touchpoints);
  JourneyOptions split = options;
  split.split_at_conversion = true;  // an outcome event is then always the last of its raw journey
  split.keep_event_rows = split.keep_event_rows || !events.dimensions.empty();
  step.next("build");
  JourneySet raw = build_journeys(ctx, events, split);
  step.next("outcome cut");
  OutcomeJourneys result = cut_at_outcomes(std::move(raw), outcome, labels);
  if (!events.dimensions.empty()) {
    step.next("dimensions");
    attach_dimensions(result.journeys, events);
    if (!options.keep_event_rows) result.journeys.event_row = HostDeviceVector<int64_t>{};
  }
  return result;
}

std::string describe_journey_rule(const JourneyOptions& options, const OutcomeDefinition& outcome) {
  std::string rule = "A journey is a customer's events in time order";
  if (options.session_gap_seconds > 0) rule += ", split after " + readable_duration(options.session_gap_seconds) + " without activity";
  if (options.drop_duplicates) rule += ", duplicates removed";
  if (options.max_length > 0) rule += fmt::format(", capped at the last {} events", options.max_length);
  rule += "; it ends before its first outcome event";
  std::string events;
  for (const OutcomeEvent& event : outcome.events)
    events += (events.empty() ? "" : ", ") + event.touchpoint + " -> " + event.label;
  if (!events.empty()) rule += " (" + events + ")";
  else rule += " (an event flagged as a conversion)";
  rule += fmt::format(" and before any event within {:g} s of it", outcome.same_instant_seconds);
  rule += outcome.after == AfterOutcome::End ? ", and the customer's later events are dropped"
                                             : ", and the customer's later events start a new journey";
  if (!outcome.label_file.empty()) rule += "; labels come from " + outcome.label_file + " where it has the customer";
  if (outcome.window_days > 0)
    rule += fmt::format("; a journey counts as {} only when that happens within {:g} days of its first event",
                        outcome.positive, outcome.window_days);
  rule += fmt::format(". The model predicts '{}'.", outcome.positive);
  return rule;
}

}  // namespace jm
