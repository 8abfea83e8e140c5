// Attribution added up journey batch by journey batch: the heuristic credit in blocks counted from
// the first journey ever added, the Markov chains' transition counts summed. Batches added in
// journey order give exactly compute_attribution of all of them. Which ids share the Markov chains'
// pooled state depends on the touches of all journeys, so they are given up front (a first pass).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "journeymap/attribution.hpp"
#include "journeymap/context.hpp"
#include "journeymap/journeys.hpp"

namespace jm {

class RecordReader;
class RecordWriter;

/// ConfigError on options compute_attribution refuses.
void validate_attribution_options(const AttributionOptions& options);

/// Events per id over `ids` (the touches that decide the Markov pooling).
std::vector<int64_t> count_touches(const std::vector<int32_t>& ids, int32_t n_ids);

class AttributionTally {
 public:
  /// `touchpoint_touches` and `channel_touches`: events per touchpoint and per channel over all the
  /// journeys that will be added.
  AttributionTally(const AttributionOptions& options, std::vector<int64_t> touchpoint_touches,
                   std::vector<int64_t> channel_touches);
  ~AttributionTally();
  AttributionTally(AttributionTally&&) noexcept;
  AttributionTally& operator=(AttributionTally&&) noexcept;

  /// Adds the next journeys (after those added before, in journey order).
  void add(const Context& ctx, const JourneySet& journeys);
  /// The tally as records, and adding a saved tally of other journeys (made with the same touches)
  /// to this one: how the processes of a run sum theirs. A tally that took a saved one takes no
  /// more journeys.
  void save(RecordWriter& out) const;
  void add_saved(RecordReader& in);
  /// The attribution of every journey added, named from the vocabularies.
  AttributionResult finish(const Context& ctx, const Vocabulary& touchpoints, const Vocabulary& channels) const;

 private:
  struct Side;
  AttributionOptions options_;
  std::unique_ptr<Side> touchpoints_, channels_;
  int64_t conversions_ = 0, attributed_ = 0;
};

}  // namespace jm
