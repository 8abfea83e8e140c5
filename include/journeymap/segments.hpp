// Behavioural segments: k-means on standardised journey features, on the CPU (OpenBLAS GEMM) or the
// GPU (cuBLAS GEMM + fused arg-min / centroid-sum kernel), with k chosen by a sampled silhouette.
//
//   jm::FeatureMatrix features = jm::extract_features(ctx, journeys, jm::FeatureOptions{});
//   jm::SegmentOptions options;            // k = 0: try k_min..k_max and keep the best silhouette
//   jm::SegmentResult segments = jm::segment_journeys(ctx, journeys, features, options);
//   std::cout << jm::format_segments_summary(segments, journeys);
//
// Determinism: for a given seed the result is the same on every run and thread count. The
// k-means++ initialisation runs on the CPU for both backends; only the Lloyd iterations differ
// (GEMM summation order), so CPU and GPU agree on well-separated data.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/features.hpp"
#include "journeymap/journeys.hpp"

namespace jm {

class ResultWriter;

struct KMeansOptions {
  int max_iterations = 100;
  /// Stop when the summed squared centroid movement is at most tolerance x (mean per-dimension
  /// variance of the data), as scikit-learn does.
  double tolerance = 1e-4;
  int restarts = 4;            ///< independent k-means++ starts; the lowest inertia wins
  uint64_t seed = 42;
  int64_t init_sample = 100000;  ///< k-means++ runs on at most this many sampled points
};

struct KMeansResult {
  int k = 0;
  int dims = 0;
  std::vector<float> centroids;  ///< [k x dims]
  /// [k x dims] the k-means++ start the returned centroids grew from, so that another k-means
  /// (e.g. scikit-learn's with init=these) can be checked against this one from the same start.
  std::vector<float> initial_centroids;
  std::vector<int32_t> labels;   ///< [n] cluster of each point
  std::vector<int64_t> sizes;    ///< [k]
  double inertia = 0.0;          ///< sum of squared distances to the assigned centroids
  int iterations = 0;            ///< Lloyd iterations run (best restart)
  bool converged = false;
  int empty_clusters_repaired = 0;
};

/// k-means with k-means++ starts on `points` [n x dims] (host, row-major). Throws ConfigError when
/// k < 1, k > n or options are invalid.
KMeansResult kmeans(const Context& ctx, const float* points, int64_t n, int dims, int k, const KMeansOptions& options);

/// Lloyd iterations from given centroids [k x dims] (no restarts): the step both backends share.
KMeansResult lloyd(const Context& ctx, const float* points, int64_t n, int dims,
                   const std::vector<float>& initial_centroids, int k, const KMeansOptions& options);

/// k-means++ (greedy, 2 + log k candidates per step) on a sample of at most `init_sample` points;
/// the distances on the backend of `ctx` (both give the same centroids, bit for bit).
std::vector<float> kmeans_plus_plus(const Context& ctx, const float* points, int64_t n, int dims, int k, uint64_t seed,
                                    int64_t init_sample);
/// The same on the CPU with `num_threads` threads.
std::vector<float> kmeans_plus_plus(const float* points, int64_t n, int dims, int k, uint64_t seed,
                                    int64_t init_sample, int num_threads = 1);

/// Mean silhouette of a random sample of at most `sample_size` points (Euclidean distances among the
/// sampled points). 0 when fewer than two clusters are present in the sample.
double sampled_silhouette(const float* points, int64_t n, int dims, const std::vector<int32_t>& labels, int k,
                          int64_t sample_size, uint64_t seed, int num_threads = 1);

struct SegmentOptions {
  int k = 0;        ///< 0: choose k in [k_min, k_max] by the highest sampled silhouette (ties: smaller k)
  int k_min = 2;
  int k_max = 8;
  KMeansOptions kmeans;
  int64_t silhouette_sample = 2000;
  /// When k is chosen automatically from more journeys than this, the search over k (restarts,
  /// silhouettes) runs on a seeded sample of this many journeys, and the chosen k is fitted to every
  /// journey by Lloyd iterations started from the sample's centroids (0 = search on all journeys).
  int64_t search_sample = 200000;
  /// Feature columns clustered on (standardised); empty = default_segment_columns(features).
  std::vector<std::string> columns;
  int top_n = 3;    ///< touchpoints, channels and distinguishing features listed per segment
};

/// Behavioural columns used by default: length, duration, variety, revisits, gaps, channel mix,
/// touchpoint mix, bigram mix and time of day. Calendar position, recency and customer frequency
/// are left out: they describe when, not how, a customer shops.
std::vector<std::string> default_segment_columns(const FeatureMatrix& features);

struct SegmentProfile {
  int64_t size = 0;
  double share = 0.0;
  double conversion_rate = 0.0;
  double mean_length = 0.0;
  double median_length = 0.0;
  double median_duration_seconds = 0.0;
  std::vector<std::pair<std::string, double>> top_touchpoints;  ///< (name, share of the segment's events)
  std::vector<std::pair<std::string, double>> top_channels;
  std::vector<std::pair<std::string, double>> distinguishing;   ///< (feature, z-score vs. the population)
  std::string label;  ///< e.g. "long, search-heavy, web-led; converts 34%"
};

struct SegmentResult {
  int k = 0;
  std::vector<int32_t> labels;          ///< [n_journeys] segment of each journey; segment 0 is the largest
  FeatureScaling scaling;               ///< the standardisation clustered on ([dims] columns)
  std::vector<float> centroids_scaled;  ///< [k x dims] in standardised units
  std::vector<float> centroids;         ///< [k x dims] member means of the raw feature values
  std::vector<float> initial_centroids_scaled;  ///< [k x dims] k-means++ start of the chosen run, segment order
  std::vector<int> k_tried;
  std::vector<double> inertia_per_k;    ///< [k_tried.size()], on the search sample when one was used
  int64_t search_rows = 0;              ///< journeys the search over k ran on
  std::vector<double> silhouette_per_k; ///< [k_tried.size()]
  double inertia = 0.0;
  double silhouette = 0.0;
  int iterations = 0;
  bool k_chosen_automatically = false;
  std::vector<SegmentProfile> profiles;  ///< [k]
};

/// Standardises the chosen columns, clusters, relabels segments by size (largest first) and
/// profiles them. Throws ConfigError on invalid options.
SegmentResult segment_journeys(const Context& ctx, const JourneySet& journeys, const FeatureMatrix& features,
                               const SegmentOptions& options);

/// Writes /segments (see docs/segments.md).
void write_segments_results(ResultWriter& writer, const SegmentResult& result, const JourneySet& journeys);

/// The segment table for the run summary.
std::string format_segments_summary(const SegmentResult& result, const JourneySet& journeys);

/// One Lloyd assignment pass on one backend: labels every point with its nearest centroid and sums
/// the points per cluster. Implementations keep the points (and labels) where they compute.
class LloydStep {
 public:
  virtual ~LloydStep() = default;
  /// centroids [k x dims] -> cluster sums [k x dims] (double), counts [k]; returns the inertia.
  virtual double assign(const std::vector<float>& centroids, int k, std::vector<double>& sums,
                        std::vector<int64_t>& counts) = 0;
  /// The same labels, sums and counts as assign, for the Lloyd iterations before the last: a step
  /// may then leave out the inertia and the per-point distances (farthest_points still works).
  virtual void assign_labels(const std::vector<float>& centroids, int k, std::vector<double>& sums,
                             std::vector<int64_t>& counts) {
    assign(centroids, k, sums, counts);
  }
  /// Indices of the `count` points farthest from their centroid in the last assign (ties: lower index).
  virtual std::vector<int64_t> farthest_points(int count) = 0;
  /// Labels of the last assign, [n].
  virtual std::vector<int32_t> labels() = 0;
  /// The distance farthest_points ranked point `index` by (after a farthest_points call); NaN for
  /// steps that do not keep it.
  virtual double ranked_distance(int64_t index) {
    (void)index;
    return std::numeric_limits<double>::quiet_NaN();
  }
  /// Point `index` [dims] into `out`, for a step whose points are not in host memory all at once
  /// (run_lloyd is then given no points); false for steps that do not hold them.
  virtual bool copy_point(int64_t index, float* out) {
    (void)index;
    (void)out;
    return false;
  }
};

namespace cpu_impl {
std::unique_ptr<LloydStep> make_lloyd_step(const Context& ctx, const float* points, int64_t n, int dims);
}  // namespace cpu_impl

namespace cuda_impl {
/// Copies the points to the device once; each assign is a cuBLAS GEMM and an arg-min kernel per row
/// chunk, then the cluster sums in the CPU twin's fixed block order (same labels, same sums).
std::unique_ptr<LloydStep> make_lloyd_step(const Context& ctx, const float* points, int64_t n, int dims);
/// The same on points already on the device (not copied: they must outlive the step).
std::unique_ptr<LloydStep> make_lloyd_step(const Context& ctx, DeviceSpan<const float> points, int64_t n, int dims);
}  // namespace cuda_impl

}  // namespace jm
