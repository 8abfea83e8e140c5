// Segments of journeys that come in batches (a run under a host memory budget). The segment
// columns of every journey's features go to a scratch file as the batches pass, with the sums that
// fit their standardisation; the search over k runs on the same seeded sample of rows as a run at
// once, and the final Lloyd iterations stream the rows back in blocks of kmeans_rules::kSumBlockRows,
// each block assigned on its own and the block sums added in block order: the same sums, so the
// same segments as segment_journeys over all journeys. (The Lloyd passes of a run in batches run on
// the CPU.)
//
// Across processes (docs/scale-out.md) each process holds the rows of its own journeys: the
// column moments and each Lloyd step's sums, counts and inertia are added over the processes in
// rank order, the search rows are gathered to process 0, which searches over k, and every process
// learns the k and centroids it chose. The sums group differently from one process's, so the
// centroids may differ in their last bits from a run on one process.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "host/features/feature_columns_file.hpp"
#include "journeymap/context.hpp"
#include "journeymap/features.hpp"
#include "journeymap/segments.hpp"

namespace jm {

class ProcessGroup;

/// The segment columns of every journey's features, in journey order, in a scratch file.
using SegmentInputs = FeatureColumnsFile;

/// The columns segment_journeys would cluster under `spec` and `options`, kept in `directory`.
std::unique_ptr<SegmentInputs> make_segment_inputs(const std::string& directory, const FeatureSpec& spec,
                                                   const SegmentOptions& options);

/// ConfigError when the plan for `n` journeys searches on every point at once (a fixed k, or no
/// more journeys than search_sample) and they are more than `max_points_in_memory`.
void require_points_fit(const SegmentOptions& options, int64_t n, int64_t max_points_in_memory);

/// The clustering segment_journeys makes of every row of `inputs`: scaling, the k search on the
/// sample, the final fit, labels renumbered by size (profiles and raw centroids are left to a
/// SegmentProfileTally). `max_points_in_memory`: rows searched on at once when the plan has no
/// sample (a fixed k); ConfigError when there are more.
///
/// `across` (a run across processes): `inputs` holds this process's journeys, the ones after those
/// of the processes before it, and their scaling tally is already summed over the processes; the
/// result's labels are those of this process's journeys, the rest of it (on process 0 alone for
/// the search's per-k measures) that of all journeys. Every process calls it at the same step.
SegmentResult cluster_in_batches(const Context& ctx, const SegmentInputs& inputs, const SegmentOptions& options,
                                 int64_t max_points_in_memory, ProcessGroup* across = nullptr);

}  // namespace jm
