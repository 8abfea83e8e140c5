// Readable summaries: the end-of-run report and `journeymap info`.
#include <algorithm>
#include <fmt/format.h>
#include <numeric>

#include "host/core/records.hpp"
#include "host/pipeline/summary_tally.hpp"
#include "journeymap/common.hpp"
#include "journeymap/pipeline.hpp"
#include "journeymap/result_file.hpp"
#include "journeymap/timestamp.hpp"

namespace jm {
namespace {

std::vector<std::pair<std::string, int64_t>> ranked_counts(const std::vector<int64_t>& counts, const Vocabulary& vocab,
                                                           size_t top_n) {
  std::vector<std::pair<std::string, int64_t>> ranked;
  for (int32_t id = 0; id < vocab.size() && id < static_cast<int32_t>(counts.size()); ++id)
    if (counts[id] > 0) ranked.emplace_back(vocab.name(id), counts[id]);
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (ranked.size() > top_n) ranked.resize(top_n);
  return ranked;
}

void count_ids(const std::vector<int32_t>& ids, int32_t n_ids, std::vector<int64_t>& counts) {
  if (counts.size() < static_cast<size_t>(n_ids)) counts.resize(static_cast<size_t>(n_ids), 0);
  for (int32_t id : ids) ++counts[static_cast<size_t>(id)];
}

template <typename T>
T median_of(std::vector<T> values) {
  if (values.empty()) return T{};
  auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

std::string percent(double share) { return fmt::format("{:.1f}%", 100.0 * share); }

void append_summary_body(std::string& out, const JourneySummary& s) {
  out += fmt::format("  customers            {:>14}\n", s.customers);
  out += fmt::format("  journeys             {:>14}\n", s.journeys);
  out += fmt::format("  events               {:>14}\n", s.events);
  out += fmt::format("  converted journeys   {:>14}  ({} conversion rate)\n", s.converted_journeys,
                     percent(s.conversion_rate));
  out += fmt::format("  conversion value     {:>14.2f}\n", s.total_conversion_value);
  out += fmt::format("  journey length       mean {:.2f}, median {}, max {}\n", s.mean_length, s.median_length,
                     s.max_length);
  out += fmt::format("  journey duration     median {:.0f} s\n", s.median_duration_seconds);
  if (s.events > 0)
    out += fmt::format("  period               {} .. {}\n", format_iso8601(s.first_event_ms),
                       format_iso8601(s.last_event_ms));
  if (!s.top_touchpoints.empty()) {
    out += "  top touchpoints     ";
    for (const auto& [name, count] : s.top_touchpoints)
      out += fmt::format(" {} {}", name, percent(static_cast<double>(count) / std::max<int64_t>(1, s.events)));
    out += "\n";
  }
  if (!s.channels.empty()) {
    out += "  channels            ";
    for (const auto& [name, count] : s.channels)
      out += fmt::format(" {} {}", name, percent(static_cast<double>(count) / std::max<int64_t>(1, s.events)));
    out += "\n";
  }
}

}  // namespace

void JourneySummaryTally::add(const JourneySet& journeys) {
  JourneySummary& s = sums_;
  const bool first = s.journeys == 0;
  // Sized by the ids in use: a summary read from a result file leaves the customer names out.
  uint32_t last_customer = 0;
  for (int64_t j = 0; j < journeys.size(); ++j) last_customer = std::max(last_customer, journeys.customer[j]);
  std::vector<uint8_t> seen_customer(journeys.size() > 0 ? static_cast<size_t>(last_customer) + 1 : 0, 0);
  for (int64_t j = 0; j < journeys.size(); ++j) {
    seen_customer[journeys.customer[j]] = 1;
    s.converted_journeys += journeys.converted[j];
    s.total_conversion_value += journeys.conversion_value[j];
    const int64_t length = journeys.length(j);
    ++length_journeys_[length];
    s.max_length = std::max(s.max_length, length);
    durations_.push_back(static_cast<double>(journeys.end_ms[j] - journeys.start_ms[j]) / 1000.0);
    s.first_event_ms = first && j == 0 ? journeys.start_ms[j] : std::min(s.first_event_ms, journeys.start_ms[j]);
    s.last_event_ms = first && j == 0 ? journeys.end_ms[j] : std::max(s.last_event_ms, journeys.end_ms[j]);
  }
  s.customers += std::accumulate(seen_customer.begin(), seen_customer.end(), int64_t{0});
  s.journeys += journeys.size();
  s.events += journeys.num_events();
  count_ids(journeys.touchpoint, journeys.touchpoints.size(), touchpoint_events_);
  count_ids(journeys.channel, journeys.channels.size(), channel_events_);
}

void JourneySummaryTally::save(RecordWriter& out) const {
  const JourneySummary& s = sums_;
  out.values(std::vector<int64_t>{s.customers, s.journeys, s.events, s.converted_journeys, s.max_length,
                                  s.first_event_ms, s.last_event_ms});
  out.value(s.total_conversion_value);
  std::vector<int64_t> lengths, journeys;
  for (const auto& [length, count] : length_journeys_) lengths.push_back(length), journeys.push_back(count);
  out.values(lengths);
  out.values(journeys);
  out.values(durations_);
  out.values(touchpoint_events_);
  out.values(channel_events_);
}

void JourneySummaryTally::add_saved(RecordReader& in) {
  const std::vector<int64_t> counts = in.values<int64_t>();
  if (counts.size() != 7) throw Error("summary: a saved tally has " + std::to_string(counts.size()) + " counts, not 7");
  const double conversion_value = in.value<double>();
  const std::vector<int64_t> lengths = in.values<int64_t>(), journeys = in.values<int64_t>();
  if (lengths.size() != journeys.size()) throw Error("summary: a saved tally's length histogram does not pair up");
  const std::vector<double> durations = in.values<double>();
  const std::vector<int64_t> touchpoint_events = in.values<int64_t>(), channel_events = in.values<int64_t>();
  if (counts[1] == 0) return;  // no journeys: nothing to add, and its extremes mean nothing
  JourneySummary& s = sums_;
  const bool first = s.journeys == 0;
  s.customers += counts[0];
  s.journeys += counts[1];
  s.events += counts[2];
  s.converted_journeys += counts[3];
  s.max_length = std::max(s.max_length, counts[4]);
  s.first_event_ms = first ? counts[5] : std::min(s.first_event_ms, counts[5]);
  s.last_event_ms = first ? counts[6] : std::max(s.last_event_ms, counts[6]);
  s.total_conversion_value += conversion_value;
  for (size_t k = 0; k < lengths.size(); ++k) length_journeys_[lengths[k]] += journeys[k];
  durations_.insert(durations_.end(), durations.begin(), durations.end());
  auto add_counts = [](std::vector<int64_t>& total, const std::vector<int64_t>& part) {
    if (total.size() < part.size()) total.resize(part.size(), 0);
    for (size_t id = 0; id < part.size(); ++id) total[id] += part[id];
  };
  add_counts(touchpoint_events_, touchpoint_events);
  add_counts(channel_events_, channel_events);
}

JourneySummary JourneySummaryTally::finish(const Vocabulary& touchpoints, const Vocabulary& channels, size_t top_n) const {
  JourneySummary s = sums_;
  if (s.journeys > 0) {
    s.conversion_rate = static_cast<double>(s.converted_journeys) / static_cast<double>(s.journeys);
    s.mean_length = static_cast<double>(s.events) / static_cast<double>(s.journeys);
    // The upper middle length, as median_of picks it.
    int64_t below = 0;
    for (const auto& [length, journeys] : length_journeys_) {
      below += journeys;
      if (below > s.journeys / 2) {
        s.median_length = length;
        break;
      }
    }
    s.median_duration_seconds = median_of(durations_);
  }
  s.top_touchpoints = ranked_counts(touchpoint_events_, touchpoints, top_n);
  s.channels = ranked_counts(channel_events_, channels, top_n);
  return s;
}

JourneySummary summarize_journeys(const JourneySet& journeys, size_t top_n) {
  JourneySummaryTally tally;
  tally.add(journeys);
  return tally.finish(journeys.touchpoints, journeys.channels, top_n);
}

std::string format_run_summary(const RunReport& report) {
  std::string out = fmt::format("journeymap run: {} -> {} (backend: {})\n", report.input_path, report.output_path,
                                report.backend);
  out += fmt::format("  input                {:.1f} MB, {} rows read, {} skipped\n", report.input_bytes / 1e6,
                     report.rows_read, report.rows_skipped);
  for (const BadRow& bad : report.first_bad_rows)
    out += fmt::format("    skipped line {} ({}): {}\n", bad.line, bad.column, bad.reason);
  if (report.build_stats.duplicates_dropped > 0 || report.build_stats.events_truncated > 0)
    out += fmt::format("  journey building     {} duplicates dropped, {} events cut by max_length\n",
                       report.build_stats.duplicates_dropped, report.build_stats.events_truncated);
  if (!report.journey_rule.empty()) out += "  " + report.journey_rule + "\n";
  const OutcomeStats& cut = report.outcome_stats;
  if (cut.outcome_events + cut.same_instant_events + cut.events_after_outcome + cut.events_after_window > 0)
    out += fmt::format("  outcome cut          {} outcome events, {} logged with them, {} after a case's outcome, "
                       "{} after the window; {} journeys had no event before their outcome\n",
                       cut.outcome_events, cut.same_instant_events, cut.events_after_outcome, cut.events_after_window,
                       cut.journeys_without_events);
  append_summary_body(out, report.summary);
  for (const std::string& warning : report.warnings) out += "  WARNING: " + warning + "\n";
  for (const std::string& section : report.stage_summaries) {
    out += "\n";
    out += section;
    if (!section.empty() && section.back() != '\n') out += "\n";
  }
  out += "\n  stage timings       ";
  double total = 0;
  for (const auto& [name, seconds] : report.stage_seconds) {
    out += fmt::format(" {} {:.3f}s", name, seconds);
    total += seconds;
  }
  out += fmt::format(" (total {:.3f}s)\n", total);
  if (!report.stage_transfers.empty()) {
    TransferStats all;
    for (const TransferStats& stage : report.stage_transfers) all += stage;
    out += fmt::format("  host<->device        {:.1f} MB to the device in {} copies, {:.1f} MB back in {} copies\n",
                       all.host_to_device_bytes / 1e6, all.host_to_device_copies, all.device_to_host_bytes / 1e6,
                       all.device_to_host_copies);
  }
  return out;
}

std::string describe_result_file(const std::string& path) {
  ResultReader reader(path);
  std::string out = fmt::format("{}\n", path);
  out += fmt::format("  written by           journeymap {} ({} backend, command '{}')\n",
                     reader.read_string_attribute("/meta", "journeymap_version"),
                     reader.read_string_attribute("/meta", "backend"), reader.read_string_attribute("/meta", "command"));
  out += fmt::format("  created              {}\n", reader.read_string_attribute("/meta", "created_utc"));
  const auto inputs = reader.read_strings("/meta/input_files");
  for (const auto& input : inputs) out += fmt::format("  input                {}\n", input);
  out += fmt::format("  rows                 {} read, {} skipped\n", reader.read_int_attribute("/meta", "rows_read"),
                     reader.read_int_attribute("/meta", "rows_skipped"));
  const std::vector<std::string> meta_attributes = reader.attribute_names("/meta");
  if (std::find(meta_attributes.begin(), meta_attributes.end(), "processes") != meta_attributes.end() &&
      reader.read_int_attribute("/meta", "processes") > 1)
    out += fmt::format("  processes            {} (mpirun; customer ids and seeded samples follow them)\n",
                       reader.read_int_attribute("/meta", "processes"));
  if (reader.exists("/meta")) {
    try {
      out += "  " + reader.read_string_attribute("/meta", "journey_rule") + "\n";
    } catch (const Error&) {  // written by a command that builds no journeys
    }
  }
  // Only the columns the summary reads (10M journeys: 3.1 GB read whole, most of it times and names).
  if (reader.exists("/journeys/offsets")) append_summary_body(out, summarize_journeys(reader.read_journeys(/*summary_columns=*/true)));
  if (reader.exists("/meta/warnings"))
    for (const std::string& warning : reader.read_strings("/meta/warnings")) out += "  WARNING: " + warning + "\n";
  out += "  groups              ";
  for (const auto& name : reader.list("/")) out += " /" + name;
  out += "\n";
  return out;
}

}  // namespace jm
