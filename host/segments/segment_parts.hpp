// The steps of segment_journeys (host/segments/segments.cpp), shared with the run in batches
// (host/segments/batched_segments.cpp), which feeds them the same points another way: the search
// plan, the search over k on the (sampled) points, the relabelling by size and the profiles, which
// add up journey batch by journey batch in journey order.
#pragma once

#include <cstdint>
#include <vector>

#include "host/core/records.hpp"
#include "host/segments/silhouette.hpp"
#include "journeymap/context.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/segments.hpp"
#include "journeymap/step_timing.hpp"

namespace jm::segments_detail {

/// ConfigError on options segment_journeys refuses.
void validate(const SegmentOptions& options);

/// `count` distinct rows of n, drawn by a seeded partial Fisher-Yates (our own index draws:
/// std::shuffle's use of the engine is implementation-defined), in row order.
std::vector<int64_t> sample_indices(int64_t n, int64_t count, uint64_t seed);

struct SearchPlan {
  std::vector<int> ks;          ///< the values of k to try
  bool automatic = false;       ///< k chosen by the silhouette
  std::vector<int64_t> sample;  ///< rows the search runs on; empty: all of them
};
SearchPlan plan_search(const SegmentOptions& options, int64_t n);

/// The seed of the silhouette sample the search over k scores every k on.
uint64_t silhouette_seed(const SegmentOptions& options);

/// One k of the search: k-means for `k` on `points` [n x dims] through `step`, and its silhouette
/// on `sample`. The trials of different k do not depend on each other (a run across processes
/// shares them out).
KMeansResult try_k(const Context& ctx, StepTimer& timer, LloydStep& step, const float* points, int64_t n, int dims, int k,
                   const SegmentOptions& options, double tolerance, const SilhouetteSample& sample, double& silhouette);

/// k-means for every k in result.k_tried on `points` [n x dims] through `step`, keeping the best
/// sampled silhouette (the smaller k on ties); fills k_tried, inertia_per_k, silhouette_per_k and
/// silhouette.
KMeansResult search_k(const Context& ctx, StepTimer& timer, LloydStep& step, const float* points, int64_t n, int dims,
                      const SegmentOptions& options, double tolerance, SegmentResult& result);

/// k, labels, centroids and the k-means start of `best`, segments renumbered by size (largest 0).
void take_clustering(const KMeansResult& best, SegmentResult& result);

/// Member means of the raw columns and the profiles of every segment, added up over journeys in
/// journey order.
class SegmentProfileTally {
 public:
  SegmentProfileTally(int k, int dims, int32_t n_touchpoints, int32_t n_channels);
  /// The next journeys with their segments, their raw values (row j, column raw_columns[i] of a
  /// matrix with rows of `raw_stride` values) and their standardised points [n x dims].
  void add(const JourneySet& journeys, const int32_t* labels, const float* raw, int64_t raw_stride,
           const std::vector<int>& raw_columns, const float* scaled);
  /// Sets result.centroids and result.profiles (names from `vocabulary`).
  void finish(const JourneySet& vocabulary, const SegmentOptions& options, SegmentResult& result) const;
  /// The tally as records, and another's added as if its journeys came after these (a run across
  /// processes; the same k, dims and vocabularies).
  void save(RecordWriter& out) const;
  void add_saved(RecordReader& in);

 private:
  int k_, dims_;
  int64_t journeys_ = 0, events_ = 0;
  double length_sum_ = 0.0;
  std::vector<double> raw_sum_, scaled_sum_;
  std::vector<int64_t> size_, conversions_;
  std::vector<std::vector<int64_t>> touchpoint_events_, channel_events_;
  std::vector<std::vector<double>> lengths_, durations_;
  std::vector<int64_t> population_touchpoints_;
};

}  // namespace jm::segments_detail
