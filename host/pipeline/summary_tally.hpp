// The run summary's headline numbers (JourneySummary) added up over batches of journeys: counts and
// sums add, the per-id event counts add, the length median comes from a histogram and the duration
// median from every journey's duration (8 bytes a journey). Batches added in journey order give
// exactly summarize_journeys of all of them.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "journeymap/pipeline.hpp"

namespace jm {

class RecordReader;
class RecordWriter;

class JourneySummaryTally {
 public:
  /// Adds the journeys of one batch (customers of different batches are different customers).
  void add(const JourneySet& journeys);
  /// The tally as records, and adding a saved tally of other journeys (other customers) to this
  /// one: how the processes of a run sum theirs.
  void save(RecordWriter& out) const;
  void add_saved(RecordReader& in);
  /// The summary, naming touchpoints and channels from the vocabularies of the batches.
  JourneySummary finish(const Vocabulary& touchpoints, const Vocabulary& channels, size_t top_n = 8) const;
  /// Events per touchpoint and per channel id so far (as long as the largest vocabulary added).
  const std::vector<int64_t>& touchpoint_events() const { return touchpoint_events_; }
  const std::vector<int64_t>& channel_events() const { return channel_events_; }

 private:
  JourneySummary sums_;  ///< counts, sums, extremes; the rest is derived in finish()
  std::map<int64_t, int64_t> length_journeys_;  ///< length -> journeys
  std::vector<double> durations_;               ///< seconds, one per journey
  std::vector<int64_t> touchpoint_events_, channel_events_;
};

}  // namespace jm
