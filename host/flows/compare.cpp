// Event filters and the comparison of two periods (include/journeymap/compare.hpp). Both are light
// host passes over the events or journeys (counting, no heavy kernels), like the metric alerts.
#include "journeymap/compare.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <unordered_map>

#include "journeymap/common.hpp"
#include "journeymap/result_file.hpp"
#include "journeymap/timestamp.hpp"

namespace jm {

// ---------------------------------------------------------------- filter

EventFilterStats filter_events(EventTable& events, const EventFilter& filter, const OutcomeDefinition& outcome) {
  EventFilterStats stats;
  stats.events_before = static_cast<int64_t>(events.size());
  if (!filter.active()) return stats;
  if (filter.has_from && filter.has_to && filter.from_ms >= filter.to_ms)
    throw ConfigError("filter: 'from' (" + format_iso8601(filter.from_ms) + ") must be earlier than 'to' (" +
                      format_iso8601(filter.to_ms) + ")");
  std::vector<uint8_t> channel_kept(static_cast<size_t>(events.channels.size()), filter.channels.empty() ? 1 : 0);
  for (const std::string& name : filter.channels) {
    const int32_t id = events.channels.find(name);
    if (id < 0)
      throw ConfigError("filter: the data has no channel '" + name + "' (channels: " +
                        fmt::format("{}", fmt::join(events.channels.names(), ", ")) + ")");
    channel_kept[static_cast<size_t>(id)] = 1;
  }
  std::vector<uint8_t> outcome_touchpoint(static_cast<size_t>(events.touchpoints.size()), 0);
  for (const OutcomeEvent& event : outcome.events) {
    const int32_t id = events.touchpoints.find(event.touchpoint);
    if (id >= 0) outcome_touchpoint[static_cast<size_t>(id)] = 1;
  }
  size_t kept = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const int64_t t = events.timestamp_ms[i];
    if ((filter.has_from && t < filter.from_ms) || (filter.has_to && t >= filter.to_ms)) {
      ++stats.dropped_by_time;
      continue;
    }
    const bool is_outcome = events.is_conversion[i] != 0 || outcome_touchpoint[static_cast<size_t>(events.touchpoint[i])];
    if (!is_outcome && !channel_kept[static_cast<size_t>(events.channel[i])]) {
      ++stats.dropped_by_channel;
      continue;
    }
    events.move_row(i, kept++);
  }
  events.truncate(kept);
  if (kept == 0) throw ConfigError("filter: no event is left (" + describe_event_filter(filter, stats) + ")");
  return stats;
}

std::string describe_event_filter(const EventFilter& filter, const EventFilterStats& stats) {
  std::string text = "kept events";
  if (filter.has_from) text += " from " + format_iso8601(filter.from_ms);
  if (filter.has_to) text += " before " + format_iso8601(filter.to_ms);
  if (!filter.channels.empty())
    text += fmt::format(" on channel{} {} (outcome events on every channel)", filter.channels.size() > 1 ? "s" : "",
                        fmt::join(filter.channels, ", "));
  const int64_t kept = stats.events_before - stats.dropped_by_time - stats.dropped_by_channel;
  return text + fmt::format(": {} of {} events", kept, stats.events_before);
}

// ---------------------------------------------------------------- statistics

double two_proportion_p_value(int64_t x1, int64_t n1, int64_t x2, int64_t n2, double* z) {
  if (z != nullptr) *z = std::nan("");
  if (n1 <= 0 || n2 <= 0) return 1.0;
  const double p1 = static_cast<double>(x1) / n1, p2 = static_cast<double>(x2) / n2;
  const double pooled = static_cast<double>(x1 + x2) / static_cast<double>(n1 + n2);
  const double variance = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2);
  if (!(variance > 0.0)) return 1.0;
  const double statistic = (p1 - p2) / std::sqrt(variance);
  if (z != nullptr) *z = statistic;
  return std::erfc(std::fabs(statistic) / std::sqrt(2.0));
}

namespace {

template <typename Index>
void benjamini_hochberg_with(std::vector<double>& values) {
  const size_t m = values.size();
  std::vector<Index> order(m);
  std::iota(order.begin(), order.end(), Index{0});
  // Ties broken by position: the order a stable sort gives, without its buffer. A NaN (never a
  // valid p-value) sorts last so the order stays strict.
  std::sort(order.begin(), order.end(), [&](Index a, Index b) {
    const double x = values[a], y = values[b];
    if (x < y) return true;
    if (y < x) return false;
    const bool x_nan = std::isnan(x), y_nan = std::isnan(y);
    return x_nan != y_nan ? y_nan : a < b;
  });
  double running = 1.0;
  for (size_t r = m; r-- > 0;) {  // from the largest p-value down: q_(r) = min(q_(r+1), p_(r) m / r)
    running = std::min(running, values[order[r]] * static_cast<double>(m) / static_cast<double>(r + 1));
    values[order[r]] = std::min(1.0, running);  // read once, at its own rank: safe to overwrite
  }
}

}  // namespace

void benjamini_hochberg_in_place(std::vector<double>& values) {
  if (values.size() <= std::numeric_limits<uint32_t>::max()) benjamini_hochberg_with<uint32_t>(values);
  else benjamini_hochberg_with<uint64_t>(values);
}

std::vector<double> benjamini_hochberg(const std::vector<double>& p_values) {
  std::vector<double> adjusted = p_values;
  benjamini_hochberg_in_place(adjusted);
  return adjusted;
}

// ---------------------------------------------------------------- comparison

namespace {

void check_period(const Period& period, const char* name) {
  if (period.from_ms >= period.to_ms)
    throw ConfigError(std::string("compare: period ") + name + " must start before it ends (from " +
                      format_iso8601(period.from_ms) + ", to " + format_iso8601(period.to_ms) + ")");
}

bool in_period(const Period& period, int64_t t) { return t >= period.from_ms && t < period.to_ms; }

// How many of `steps` journey [begin, end) reaches in order (gaps allowed): a greedy match, which
// reaches as far as any matching does.
size_t funnel_steps_reached(const std::vector<int32_t>& touchpoints, int64_t begin, int64_t end,
                            const std::vector<int32_t>& steps) {
  size_t reached = 0;
  for (int64_t i = begin; i < end && reached < steps.size(); ++i)
    if (touchpoints[static_cast<size_t>(i)] == steps[reached]) ++reached;
  return reached;
}

ComparedRate compared(std::string kind, std::string name, int64_t a_count, int64_t a_total, int64_t b_count,
                      int64_t b_total) {
  ComparedRate rate;
  rate.kind = std::move(kind);
  rate.name = std::move(name);
  rate.a_count = a_count;
  rate.a_total = a_total;
  rate.b_count = b_count;
  rate.b_total = b_total;
  rate.a_rate = a_total > 0 ? static_cast<double>(a_count) / a_total : std::nan("");
  rate.b_rate = b_total > 0 ? static_cast<double>(b_count) / b_total : std::nan("");
  rate.p_value = two_proportion_p_value(a_count, a_total, b_count, b_total, &rate.z);
  return rate;
}

}  // namespace

PeriodComparison compare_periods(const Context&, const JourneySet& journeys, const CompareOptions& options,
                                 const FunnelResult& funnel) {
  check_period(options.a, "a");
  check_period(options.b, "b");
  if (options.top_paths < 0) throw ConfigError("compare: top_paths must be >= 0");
  PeriodComparison result;
  result.options = options;
  const int64_t n = journeys.size();
  std::vector<int8_t> period(static_cast<size_t>(n), -1);  // 0: a, 1: b, -1: neither
  int64_t converted[2] = {0, 0}, total[2] = {0, 0};
  for (int64_t j = 0; j < n; ++j) {
    const int64_t start = journeys.start_ms[static_cast<size_t>(j)];
    const int p = in_period(options.a, start) ? 0 : in_period(options.b, start) ? 1 : -1;
    period[static_cast<size_t>(j)] = static_cast<int8_t>(p);
    if (p < 0) continue;
    ++total[p];
    converted[p] += journeys.converted[static_cast<size_t>(j)] != 0;
  }
  result.a_journeys = total[0];
  result.b_journeys = total[1];
  result.rates.push_back(compared("conversion rate", "all journeys", converted[0], total[0], converted[1], total[1]));

  // Funnel: the share of journeys that enter it, then each step's rate from the step before.
  const std::vector<int32_t>& steps = funnel.steps;
  std::vector<int64_t> reached[2] = {std::vector<int64_t>(steps.size(), 0), std::vector<int64_t>(steps.size(), 0)};
  for (int64_t j = 0; j < n; ++j) {
    const int p = period[static_cast<size_t>(j)];
    if (p < 0) continue;
    const size_t k = funnel_steps_reached(journeys.touchpoint, journeys.offsets[j], journeys.offsets[j + 1], steps);
    for (size_t s = 0; s < k; ++s) ++reached[p][s];
  }
  for (size_t s = 0; s < steps.size(); ++s) {
    const std::string step = journeys.touchpoints.name(steps[s]);
    if (s == 0)
      result.rates.push_back(compared("funnel step", "reach " + step, reached[0][0], total[0], reached[1][0], total[1]));
    else
      result.rates.push_back(compared("funnel step", step + " after " + journeys.touchpoints.name(steps[s - 1]),
                                      reached[0][s], reached[0][s - 1], reached[1][s], reached[1][s - 1]));
  }

  // Paths: the most common complete paths over both periods, their share of each period's journeys.
  struct PathCount {
    int64_t in_period[2] = {0, 0};
    int64_t first_journey = 0;  // ties between paths go to the one followed first
  };
  std::unordered_map<std::string, PathCount> path_counts;
  for (int64_t j = 0; j < n; ++j) {
    const int p = period[static_cast<size_t>(j)];
    if (p < 0) continue;
    const auto* begin = journeys.touchpoint.data() + journeys.offsets[j];
    std::string key(reinterpret_cast<const char*>(begin), static_cast<size_t>(journeys.length(j)) * sizeof(int32_t));
    const auto [entry, added] = path_counts.try_emplace(std::move(key));
    if (added) entry->second.first_journey = j;
    ++entry->second.in_period[p];
  }
  std::vector<PathCount> ranked;
  ranked.reserve(path_counts.size());
  for (const auto& entry : path_counts) ranked.push_back(entry.second);
  std::sort(ranked.begin(), ranked.end(), [](const PathCount& x, const PathCount& y) {
    const int64_t nx = x.in_period[0] + x.in_period[1], ny = y.in_period[0] + y.in_period[1];
    return nx != ny ? nx > ny : x.first_journey < y.first_journey;
  });
  for (size_t r = 0; r < ranked.size() && r < static_cast<size_t>(options.top_paths); ++r) {
    const int64_t j = ranked[r].first_journey;
    std::string text;
    for (int64_t i = journeys.offsets[j]; i < journeys.offsets[j + 1]; ++i)
      text += (text.empty() ? "" : " > ") + journeys.touchpoints.name(journeys.touchpoint[static_cast<size_t>(i)]);
    result.rates.push_back(compared("path share", text.empty() ? "(no events)" : text, ranked[r].in_period[0],
                                    total[0], ranked[r].in_period[1], total[1]));
  }

  std::vector<double> p_values;
  for (const ComparedRate& rate : result.rates) p_values.push_back(rate.p_value);
  const std::vector<double> adjusted = benjamini_hochberg(p_values);
  for (size_t i = 0; i < result.rates.size(); ++i) result.rates[i].p_adjusted = adjusted[i];
  return result;
}

void write_comparison_results(ResultWriter& writer, const PeriodComparison& comparison) {
  std::vector<std::string> kind, name;
  std::vector<int64_t> a_count, a_total, b_count, b_total;
  std::vector<double> a_rate, b_rate, z, p_value, p_adjusted;
  for (const ComparedRate& r : comparison.rates) {
    kind.push_back(r.kind);
    name.push_back(r.name);
    a_count.push_back(r.a_count);
    a_total.push_back(r.a_total);
    b_count.push_back(r.b_count);
    b_total.push_back(r.b_total);
    a_rate.push_back(r.a_rate);
    b_rate.push_back(r.b_rate);
    z.push_back(r.z);
    p_value.push_back(r.p_value);
    p_adjusted.push_back(r.p_adjusted);
  }
  writer.write("/compare/kind", kind);
  writer.write("/compare/name", name);
  writer.write("/compare/a_count", a_count);
  writer.write("/compare/a_total", a_total);
  writer.write("/compare/b_count", b_count);
  writer.write("/compare/b_total", b_total);
  writer.write("/compare/a_rate", a_rate);
  writer.write("/compare/b_rate", b_rate);
  writer.write("/compare/z", z);
  writer.write("/compare/p_value", p_value);
  writer.write("/compare/p_adjusted", p_adjusted);
  const CompareOptions& o = comparison.options;
  writer.write_attribute("/compare", "a_from_ms", o.a.from_ms);
  writer.write_attribute("/compare", "a_to_ms", o.a.to_ms);
  writer.write_attribute("/compare", "b_from_ms", o.b.from_ms);
  writer.write_attribute("/compare", "b_to_ms", o.b.to_ms);
  writer.write_attribute("/compare", "a_journeys", comparison.a_journeys);
  writer.write_attribute("/compare", "b_journeys", comparison.b_journeys);
  writer.write_attribute("/compare", "significance_level", o.significance_level);
}

std::string format_comparison_summary(const PeriodComparison& comparison) {
  const CompareOptions& o = comparison.options;
  std::string out = fmt::format("compare: period a {} .. {} ({} journeys) against b {} .. {} ({} journeys)\n",
                                format_iso8601(o.a.from_ms), format_iso8601(o.a.to_ms), comparison.a_journeys,
                                format_iso8601(o.b.from_ms), format_iso8601(o.b.to_ms), comparison.b_journeys);
  int significant = 0;
  for (const ComparedRate& r : comparison.rates) {
    if (!(r.p_adjusted < o.significance_level)) continue;
    ++significant;
    if (significant <= 5)
      out += fmt::format("  {} {}: {:.1f}% -> {:.1f}% (adjusted p {:.2g})\n", r.kind, r.name, 100.0 * r.a_rate,
                         100.0 * r.b_rate, r.p_adjusted);
  }
  out += fmt::format("  {} of {} compared rates differ at adjusted p < {}\n", significant, comparison.rates.size(),
                     o.significance_level);
  return out;
}

}  // namespace jm
