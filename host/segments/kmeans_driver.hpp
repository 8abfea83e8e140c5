// Internal pieces of the k-means driver (host/segments/kmeans.cpp) that segment_journeys reuses to
// run several k on one LloydStep (the points are uploaded to the device once).
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "host/core/records.hpp"
#include "journeymap/kmeans_rules.hpp"
#include "journeymap/segments.hpp"

namespace jm::kmeans_detail {

/// Uniform double in [0, 1) from a fully specified engine (std distributions are not portable).
inline double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

/// ||a - b||^2 in double, summed over the dimensions in order (k-means++ and the silhouette).
inline double squared_distance(const float* a, const float* b, int dims) {
  return kmeans_rules::squared_distance_in_double(a, b, dims);
}

/// The farthest rows among candidates gathered from parts of the rows (blocks, processes), chosen
/// as one step over every row chooses them, and the distances they were ranked by (for
/// LloydStep::ranked_distance).
class FarthestRows {
 public:
  /// The `count` farthest of `candidates` (distance, row): the farthest first, lower row on ties.
  std::vector<int64_t> choose(const std::vector<std::pair<double, int64_t>>& candidates, int count);
  /// The distance `row` was chosen by in the last choose(); NaN when it was not chosen.
  double distance(int64_t row) const;

 private:
  std::vector<std::pair<int64_t, double>> chosen_;  ///< (row, distance)
};

/// Every dimension's sum and sum of squares, each added row by row in order, however the rows come.
class ColumnMoments {
 public:
  explicit ColumnMoments(int dims) : sum_(static_cast<size_t>(dims), 0.0), sum_sq_(static_cast<size_t>(dims), 0.0) {}
  void add(const float* points, int64_t n);  ///< the next `n` rows [n x dims]
  /// Mean over dimensions of the per-dimension variance (scales the convergence tolerance).
  double mean_variance() const;
  /// The moments as records, and another's added as if its rows came after these (a run across
  /// processes).
  void save(RecordWriter& out) const;
  void add_saved(RecordReader& in);

 private:
  std::vector<double> sum_, sum_sq_;
  int64_t rows_ = 0;
};

/// ColumnMoments of all `points` at once.
double mean_variance(const float* points, int64_t n, int dims);

/// The Lloyd step of the backend chosen in `ctx`.
std::unique_ptr<LloydStep> make_step(const Context& ctx, const float* points, int64_t n, int dims);
/// The same on points that may already be on the device (read there, not copied; they must
/// outlive the step).
std::unique_ptr<LloydStep> make_step(const Context& ctx, const HostDeviceVector<float>& points, int64_t n, int dims);

/// Lloyd iterations from `centroids`; labels are fetched only when `fetch_labels`. `points` may be
/// null for a step that copies its own points (LloydStep::copy_point).
KMeansResult run_lloyd(LloydStep& step, const float* points, int64_t n, int dims, std::vector<float> centroids, int k,
                       const KMeansOptions& options, double absolute_tolerance, bool fetch_labels);

/// `options.restarts` k-means++ starts, keeping the lowest inertia (with its labels).
KMeansResult run_kmeans(const Context& ctx, LloydStep& step, const float* points, int64_t n, int dims, int k,
                        const KMeansOptions& options, double absolute_tolerance);

}  // namespace jm::kmeans_detail
