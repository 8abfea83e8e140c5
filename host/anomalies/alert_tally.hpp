// The metric alerts' bucket counts as a tally that adds up: journeys started, ended and converted
// per time bucket, the journey lengths of each bucket (a histogram), and per touchpoint and bucket
// its events, the sum over journeys of (its events in the bucket)^2, and the journeys that first
// reach it there (abandoning ones among them). Every touchpoint is counted, not only the busiest,
// because which touchpoints are busiest (and get series) is decided on the sums.
//
// The tally of two sets of journeys is the sum of their tallies and a set's tally can be taken away
// again, so `run --append` updates the stored /alerts/tally instead of counting the history again;
// finish_metric_alerts (metric_alerts.cpp) builds the series and their limits from it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "journeymap/anomalies.hpp"
#include "journeymap/journeys.hpp"

namespace jm {

class ResultReader;
class ResultWriter;

/// Journeys of bucket `bucket` (relative to the tally's first) with `length` events.
struct LengthCount {
  int64_t bucket = 0, length = 0, journeys = 0;
};

/// One touchpoint in one bucket.
struct TouchpointBucket {
  int32_t touchpoint = 0;
  int64_t bucket = 0;          ///< relative to the tally's first bucket
  int64_t events = 0;          ///< its events in the bucket
  int64_t events_squared = 0;  ///< sum over journeys of (the journey's events of it in the bucket)^2
  int64_t reached = 0;         ///< journeys whose first event at it falls in the bucket
  int64_t abandoned = 0;       ///< of those, journeys that did not convert
};

struct AlertTally {
  int64_t bucket_seconds = 0;
  int32_t n_touchpoints = 0;
  int64_t first_bucket = 0;  ///< absolute: floor(time / bucket length) of bucket 0
  std::vector<int64_t> started, ended, converted;  ///< [buckets] by start bucket (converted: by start) and end bucket
  std::vector<LengthCount> lengths;                ///< sorted by (bucket, length)
  std::vector<int64_t> touchpoint_events;          ///< [T] events per touchpoint
  std::vector<TouchpointBucket> cells;             ///< non-empty cells, sorted by (touchpoint, bucket)
  int64_t n_buckets() const { return static_cast<int64_t>(started.size()); }
};

/// The tally of `journeys` in buckets of `bucket_seconds`. ConfigError for a bucket length out of
/// range or more buckets than the alerts allow (the same checks and messages as the alerts').
AlertTally tally_alerts(const JourneySet& journeys, int64_t bucket_seconds);

/// total += sign x part (sign +1 or -1); the part may know more touchpoints. The bucket range
/// follows the journeys: after taking a part away, it starts at the first bucket still starting a
/// journey and ends at the last still ending one. Error when a count would fall below zero.
void add_alert_tally(AlertTally& total, const AlertTally& part, int64_t sign);

/// The alerts of a tally. `journeys` gives the names, the covariates and the conversion values
/// (the mean value of a conversion is summed over the journeys in their order: a sum of floats in
/// another order would differ in its last bits).
MetricAlerts finish_metric_alerts(const AlertTally& tally, const JourneySet& journeys, const AlertOptions& options);
/// The same from the vocabularies and covariates of `vocabulary` (its journeys are not read) and the
/// mean value of a conversion: for journeys tallied batch by batch.
MetricAlerts finish_metric_alerts(const AlertTally& tally, const JourneySet& vocabulary, double mean_conversion_value,
                                  const AlertOptions& options);

/// The alerts of `merged` (the base's journeys with `removed` replaced by `added`) from the base's
/// tally; `tally` receives the merged tally.
MetricAlerts update_metric_alerts(const AlertTally& base, const JourneySet& removed, const JourneySet& added,
                                  const JourneySet& merged, const AlertOptions& options, AlertTally* tally);

/// /alerts/tally, and reading it back, checked against itself and against the journeys it must
/// stand for (their vocabulary, journey and event counts); Error naming the dataset otherwise.
void write_alert_tally(ResultWriter& writer, const AlertTally& tally);
AlertTally read_alert_tally(const ResultReader& reader, const std::string& file, int32_t n_touchpoints,
                            int64_t n_journeys, int64_t n_events);

}  // namespace jm
