// Filters and comparisons of a run: keep only the events of a date range and of some channels, and
// compare two periods (journeys by their start) on conversion rate, funnel step rates and the
// shares of the most common paths, each with a significance test. See docs/flows.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/events.hpp"
#include "journeymap/flows.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/outcome.hpp"

namespace jm {

class ResultWriter;

/// [filter]: the events a run keeps. Outcome events (the conversion flag or an outcome touchpoint)
/// are kept on every channel, so a channel filter restricts the touches, not what they led to.
struct EventFilter {
  int64_t from_ms = 0;  ///< keep events at or after this time (when has_from)
  int64_t to_ms = 0;    ///< keep events before this time (when has_to)
  bool has_from = false;
  bool has_to = false;
  std::vector<std::string> channels;  ///< keep events on these channels (empty: every channel)
  /// Segments (0 = the largest) whose journeys the flows, attribution and comparison cover (empty:
  /// all). Applied after segmentation; the model and anomalies still see every journey.
  std::vector<int32_t> segments;
  bool active() const { return has_from || has_to || !channels.empty(); }
};

struct EventFilterStats {
  int64_t events_before = 0;
  int64_t dropped_by_time = 0;
  int64_t dropped_by_channel = 0;
};

/// Drops the events the filter excludes, in place (input order kept). Throws ConfigError for a
/// channel the data does not have or an empty time range.
EventFilterStats filter_events(EventTable& events, const EventFilter& filter, const OutcomeDefinition& outcome);

/// One sentence: "kept events from 2026-01-01 to 2026-02-01 on channels web, app: 9,812 of 12,000".
std::string describe_event_filter(const EventFilter& filter, const EventFilterStats& stats);

/// A period [from, to) of journey starts.
struct Period {
  int64_t from_ms = 0;
  int64_t to_ms = 0;
};

/// [compare]: two periods and how many of the most common paths to compare.
struct CompareOptions {
  Period a, b;
  int top_paths = 10;
  double significance_level = 0.05;
};

/// One rate compared between the periods: count / total in each.
struct ComparedRate {
  std::string kind;  ///< "conversion rate", "funnel step" or "path share"
  std::string name;  ///< what: "all journeys", "checkout after add_to_cart", a path
  int64_t a_count = 0, a_total = 0, b_count = 0, b_total = 0;
  double a_rate = 0.0, b_rate = 0.0;
  double z = 0.0;           ///< two-proportion z statistic (NaN when it is undefined)
  double p_value = 1.0;     ///< two-sided
  double p_adjusted = 1.0;  ///< Benjamini-Hochberg over every compared rate
};

struct PeriodComparison {
  CompareOptions options;
  int64_t a_journeys = 0, b_journeys = 0;
  std::vector<ComparedRate> rates;  ///< conversion rate first, then funnel steps, then paths
};

/// Two-sided p-value of the pooled two-proportion z-test of x1/n1 against x2/n2; 1 (and z NaN) when
/// a period is empty or the pooled rate is 0 or 1.
double two_proportion_p_value(int64_t x1, int64_t n1, int64_t x2, int64_t n2, double* z = nullptr);

/// Benjamini-Hochberg adjusted p-values (same order as given).
std::vector<double> benjamini_hochberg(const std::vector<double>& p_values);
/// The same in place: `values` holds p-values on entry and their adjusted values on return. Needs
/// one 4-byte index per value (8 past 2^32 values) beside them, where the copy needs three 8-byte.
void benjamini_hochberg_in_place(std::vector<double>& values);

/// Compares the journeys that start in period a with those that start in period b. The funnel is
/// `flows`' funnel of all journeys (the same steps in both periods). Throws ConfigError for an
/// empty or inverted period.
PeriodComparison compare_periods(const Context& ctx, const JourneySet& journeys, const CompareOptions& options,
                                 const FunnelResult& funnel);

void write_comparison_results(ResultWriter& writer, const PeriodComparison& comparison);
std::string format_comparison_summary(const PeriodComparison& comparison);

}  // namespace jm
