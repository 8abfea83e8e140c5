// Segments of journeys that come in batches (a run under a host memory budget). The segment
// columns of every journey's features go to a scratch file as the batches pass, with the sums that
// fit their standardisation; the search over k runs on the same seeded sample of rows as a run at
// once, and the final Lloyd iterations stream the rows back in blocks of kmeans_rules::kSumBlockRows,
// each block assigned on its own and the block sums added in block order: the same sums, so the
// same segments as segment_journeys over all journeys. (The Lloyd passes of a run in batches run on
// the CPU.)
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "host/core/spool_file.hpp"
#include "host/features/feature_tallies.hpp"
#include "journeymap/context.hpp"
#include "journeymap/features.hpp"
#include "journeymap/segments.hpp"

namespace jm {

/// The segment columns of every journey's features, in journey order, in a scratch file.
class SegmentInputs {
 public:
  /// The columns segment_journeys would cluster under `spec` and `options`; the scratch file goes to
  /// `directory`.
  SegmentInputs(const std::string& directory, const FeatureSpec& spec, const SegmentOptions& options);
  /// The next journeys' features.
  void add(const FeatureMatrix& batch);

  int64_t rows() const { return rows_; }
  int dims() const { return static_cast<int>(columns_.size()); }
  /// Where each segment column is in a feature matrix row.
  const std::vector<int>& matrix_columns() const { return columns_; }
  /// The standardisation fitted on every row added.
  FeatureScaling scaling() const { return scaling_.finish(); }
  /// Rows [first, first + count) of the segment columns, raw, [count x dims].
  void read(int64_t first, int64_t count, float* out) const;
  /// The same rows standardised by `scaling` (feature_rules::standardise, as apply_scaling does).
  void read_scaled(int64_t first, int64_t count, const FeatureScaling& scaling, std::vector<float>& out) const;

 private:
  std::unique_ptr<SpoolFile> file_;
  std::vector<int> columns_;
  ScalingTally scaling_;
  int64_t rows_ = 0;
};

/// Standardises rows [n x scaling.dims()] in place (feature_rules::standardise).
void standardise_rows(const FeatureScaling& scaling, std::vector<float>& rows);

/// ConfigError when the plan for `n` journeys searches on every point at once (a fixed k, or no
/// more journeys than search_sample) and they are more than `max_points_in_memory`.
void require_points_fit(const SegmentOptions& options, int64_t n, int64_t max_points_in_memory);

/// The clustering segment_journeys makes of every row of `inputs`: scaling, the k search on the
/// sample, the final fit, labels renumbered by size (profiles and raw centroids are left to a
/// SegmentProfileTally). `max_points_in_memory`: rows searched on at once when the plan has no
/// sample (a fixed k); ConfigError when there are more.
SegmentResult cluster_in_batches(const Context& ctx, const SegmentInputs& inputs, const SegmentOptions& options,
                                 int64_t max_points_in_memory);

}  // namespace jm
