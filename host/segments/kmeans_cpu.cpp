// CPU Lloyd step: distances by GEMM (OpenBLAS sgemm, points x centroids^T) per block of rows, then
// the arg-min and per-block cluster sums. Late Lloyd iterations move few points, so two things are
// kept between calls: bounds on each point's distances (Hamerly's), which prove for most points
// that their label cannot change, so that only the others are measured; and each block's sums,
// which are summed again only for the clusters whose members in the block changed. Both give the
// same labels and the same bits as measuring every point (see SettledTest).
//
// Why OpenBLAS runs single-threaded here: the step parallelises over row blocks itself (like
// scikit-learn's Lloyd), which keeps a block's GEMM, arg-min and sums on one thread while its rows
// are in cache, and avoids nested thread pools. Per-block partial sums are merged in block order
// (kmeans_rules::kSumBlockRows, shared with the GPU twin), so results do not depend on the thread count.

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "host/core/cpu_features.hpp"
#include "host/core/openblas.hpp"
#include "host/core/thread_pool.hpp"
#include "journeymap/kmeans_rules.hpp"
#include "journeymap/segments.hpp"

namespace jm::cpu_impl {
namespace {

constexpr int64_t kRowsPerBlock = kmeans_rules::kSumBlockRows;  // unit of work and of partial sums
constexpr int64_t kRowsPerPanel = 1024;   // rows per GEMM call

// Adds each row to its cluster's sum and count, in row order, for the clusters marked changed.
// The adds are the same on every instruction set (no multiply, so no fused multiply-add), so the
// AVX2 copy, which converts and adds four coordinates per instruction instead of two, gives the
// same bits as the baseline one.
inline __attribute__((always_inline)) void sum_changed_clusters_body(const float* points, const int32_t* labels,
                                                                     int64_t rows, int d, const char* changed,
                                                                     double* sum, int64_t* count) {
  for (int64_t i = 0; i < rows; ++i) {
    const int32_t c = labels[i];
    if (!changed[c]) continue;
    ++count[c];
    kmeans_rules::add_to_cluster_sum(points + i * d, d, 0, 1, sum + size_t(c) * d);
  }
}

__attribute__((target("avx2"))) void sum_changed_clusters_avx2(const float* points, const int32_t* labels, int64_t rows,
                                                               int d, const char* changed, double* sum, int64_t* count) {
  sum_changed_clusters_body(points, labels, rows, d, changed, sum, count);
}

void sum_changed_clusters_baseline(const float* points, const int32_t* labels, int64_t rows, int d,
                                   const char* changed, double* sum, int64_t* count) {
  sum_changed_clusters_body(points, labels, rows, d, changed, sum, count);
}

void sum_changed_clusters(const float* points, const int32_t* labels, int64_t rows, int d, const char* changed,
                          double* sum, int64_t* count) {
  (cpu_has_avx2() ? sum_changed_clusters_avx2 : sum_changed_clusters_baseline)(points, labels, rows, d, changed, sum, count);
}

// The nearest centroid of each row (kmeans_rules' distance and tie rule) and the runner-up's
// distance (for the bounds), from dots [k x rows]. Centroid by centroid with the rows side by
// side, so the compiler vectorises over rows and no branch depends on the data.
void nearest_two(const float* __restrict__ dots, const float* __restrict__ point_norms,
                 const float* __restrict__ centroid_norms, int rows, int k, float* __restrict__ best_distance,
                 float* __restrict__ second_distance, int32_t* __restrict__ best_cluster) {
  for (int r = 0; r < rows; ++r) {
    best_distance[r] = kmeans_rules::squared_distance_from_dot(point_norms[r], centroid_norms[0], dots[r]);
    second_distance[r] = std::numeric_limits<float>::infinity();
    best_cluster[r] = 0;
  }
  for (int c = 1; c < k; ++c) {
    const float* centroid_dots = dots + size_t(c) * rows;
    for (int r = 0; r < rows; ++r) {
      // Loads first, then selects between values: a select that reads memory is a branch to GCC.
      const float dist = kmeans_rules::squared_distance_from_dot(point_norms[r], centroid_norms[c], centroid_dots[r]);
      const float best = best_distance[r], second = second_distance[r];
      const int32_t best_c = best_cluster[r];
      const bool take = kmeans_rules::closer(dist, c, best, best_c);
      const float smaller = second < dist ? second : dist;
      second_distance[r] = take ? best : smaller;
      best_distance[r] = take ? dist : best;
      best_cluster[r] = take ? c : best_c;
    }
  }
}


class CpuLloydStep final : public LloydStep {
 public:
  CpuLloydStep(const Context& ctx, const float* points, int64_t n, int dims)
      : num_threads_(resolve_thread_count(ctx.num_threads)), points_(points), n_(n), dims_(dims),
        point_norms_(static_cast<size_t>(n)), labels_(static_cast<size_t>(n), 0), distances_(static_cast<size_t>(n), 0.0f) {
    parallel_for(num_blocks(), num_threads_, [&](int64_t b) {
      for (int64_t i = b * kRowsPerBlock, end = std::min(n_, (b + 1) * kRowsPerBlock); i < end; ++i)
        point_norms_[i] = kmeans_rules::squared_norm(points_ + i * dims_, dims_);
    });
    point_lengths_.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) point_lengths_[i] = std::sqrt(static_cast<double>(point_norms_[i])) * (1.0 + 1e-6);
  }

  double assign(const std::vector<float>& centroids, int k, std::vector<double>& sums,
                std::vector<int64_t>& counts) override {
    return pass(centroids, k, sums, counts, false);
  }

  void assign_labels(const std::vector<float>& centroids, int k, std::vector<double>& sums,
                     std::vector<int64_t>& counts) override {
    pass(centroids, k, sums, counts, true);
  }

  std::vector<int64_t> farthest_points(int count) override {
    if (!distances_valid_) {
      // The last pass left settled points' distances stale; only empty-cluster repair asks for
      // them, rarely, so every point is measured again here.
      std::vector<double> sums;
      std::vector<int64_t> counts;
      pass(std::vector<float>(last_centroids_), last_k_, sums, counts, false);
    }
    std::vector<int64_t> order(static_cast<size_t>(n_));
    std::iota(order.begin(), order.end(), 0);
    const auto by_distance = [&](int64_t a, int64_t b) {
      return distances_[a] > distances_[b] || (distances_[a] == distances_[b] && a < b);
    };
    const int64_t m = std::min<int64_t>(count, n_);
    std::partial_sort(order.begin(), order.begin() + m, order.end(), by_distance);
    order.resize(static_cast<size_t>(m));
    return order;
  }

  std::vector<int32_t> labels() override { return labels_; }

  double ranked_distance(int64_t index) override { return distances_[static_cast<size_t>(index)]; }

 private:
  int64_t num_blocks() const { return (n_ + kRowsPerBlock - 1) / kRowsPerBlock; }

  // One assignment pass. With `skip_settled`, points whose label provably cannot change are not
  // measured (see the file comment); their distances_ are then stale and the returned inertia
  // covers the measured points only.
  double pass(const std::vector<float>& centroids, int k, std::vector<double>& sums, std::vector<int64_t>& counts,
              bool skip_settled) {
    SingleThreadedBlas single_threaded;
    const int d = dims_;
    std::vector<float> centroid_norms(static_cast<size_t>(k));
    for (int c = 0; c < k; ++c) centroid_norms[c] = kmeans_rules::squared_norm(centroids.data() + size_t(c) * d, d);
    const SettledTest settled_test = settled_test_for(centroids, k, skip_settled);

    const int64_t blocks = num_blocks();
    // The stored block sums belong to the stored labels when they were made for this k.
    const bool sums_match_labels = last_k_ == k;
    if (!sums_match_labels) {
      block_sums_.assign(static_cast<size_t>(blocks) * k * d, 0.0);
      block_counts_.assign(static_cast<size_t>(blocks) * k, 0);
    }
    upper_.resize(static_cast<size_t>(n_));
    lower_.resize(static_cast<size_t>(n_));
    std::vector<double> block_inertia(static_cast<size_t>(blocks), 0.0);
    std::vector<char> block_skipped(static_cast<size_t>(blocks), 0);
    parallel_for(blocks, num_threads_, [&](int64_t b) {
      const int64_t block_first = b * kRowsPerBlock, block_end = std::min(n_, block_first + kRowsPerBlock);
      thread_local std::vector<int64_t> measured;     // rows of the panel whose distances are computed
      thread_local std::vector<float> gathered;       // their points, when not all of the panel's rows
      thread_local std::vector<float> gathered_norms;
      thread_local std::vector<float> row_dots;       // [rows x k]: the GEMM's output
      thread_local std::vector<float> dots;           // [k x rows]: centroid c's dot products with the rows
      thread_local std::vector<float> best_distance, second_distance;
      thread_local std::vector<int32_t> best_cluster;
      thread_local std::vector<char> changed;         // clusters that gained or lost a point of this block
      measured.resize(static_cast<size_t>(kRowsPerPanel));
      row_dots.resize(static_cast<size_t>(kRowsPerPanel) * k);
      dots.resize(static_cast<size_t>(kRowsPerPanel) * k);
      best_distance.resize(static_cast<size_t>(kRowsPerPanel));
      second_distance.resize(static_cast<size_t>(kRowsPerPanel));
      best_cluster.resize(static_cast<size_t>(kRowsPerPanel));
      changed.assign(static_cast<size_t>(k), sums_match_labels ? 0 : 1);
      double inertia = 0.0;
      // Panels small enough that the GEMM output and the panel's points are still in cache for the
      // arg-min.
      for (int64_t first = block_first; first < block_end; first += kRowsPerPanel) {
        const int panel_rows = static_cast<int>(std::min(block_end, first + kRowsPerPanel) - first);
        int rows = 0;
        for (int r = 0; r < panel_rows; ++r)
          if (!settled_test.settled(first + r, *this)) measured[rows++] = first + r;
        if (rows == 0) {
          block_skipped[b] = 1;
          continue;
        }
        // Gathering the rows costs a copy on top of the GEMM's own packing: when more than half of
        // the panel needs measuring, the whole panel is measured in place (bounds renewed for all).
        if (rows > panel_rows / 2) {
          rows = panel_rows;
          for (int r = 0; r < panel_rows; ++r) measured[r] = first + r;
        }
        if (rows < panel_rows) block_skipped[b] = 1;
        // The measured rows' points and norms: in place when the whole panel is measured.
        const float* panel_points = points_ + first * d;
        const float* norms = point_norms_.data() + first;
        if (rows < panel_rows) {
          gathered.resize(size_t(rows) * d);
          gathered_norms.resize(static_cast<size_t>(rows));
          for (int r = 0; r < rows; ++r) {
            // The rows are scattered and cold: ask for a few rows ahead while this one is copied.
            if (r + 8 < rows) {
              const char* ahead = reinterpret_cast<const char*>(points_ + measured[r + 8] * d);
              for (int64_t byte = 0; byte < int64_t(d) * int64_t(sizeof(float)); byte += 64) __builtin_prefetch(ahead + byte);
            }
            std::copy(points_ + measured[r] * d, points_ + (measured[r] + 1) * d, gathered.begin() + size_t(r) * d);
            gathered_norms[r] = point_norms_[measured[r]];
          }
          panel_points = gathered.data();
          norms = gathered_norms.data();
        }
        // row_dots[rows x k] = panel points (rows x d) * centroids^T (d x k), then transposed into
        // dots [k x rows] (this orientation packs the points faster).
        openblas().sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, k, d, 1.0f, panel_points, d, centroids.data(), d, 0.0f,
                    row_dots.data(), k);
        for (int r = 0; r < rows; ++r)
          for (int c = 0; c < k; ++c) dots[size_t(c) * rows + r] = row_dots[size_t(r) * k + c];
        nearest_two(dots.data(), norms, centroid_norms.data(), rows, k, best_distance.data(), second_distance.data(),
                    best_cluster.data());
        for (int r = 0; r < rows; ++r) {
          const int64_t i = measured[r];
          const int32_t previous = labels_[i], best = best_cluster[r];
          if (previous != best) changed[previous] = changed[best] = 1;
          labels_[i] = best;
          distances_[i] = best_distance[r];
          settled_test.set_bounds(i, best_distance[r], second_distance[r], *this);
        }
        for (int r = 0; r < rows; ++r) inertia += best_distance[r];
      }
      block_inertia[b] = inertia;
      // A cluster whose points in this block are the same as at the last assign has the same sum
      // (same points, same order), so only the changed clusters are summed again.
      double* sum = block_sums_.data() + size_t(b) * k * d;
      int64_t* count = block_counts_.data() + size_t(b) * k;
      bool any_changed = false;
      for (int c = 0; c < k; ++c) {
        if (!changed[c]) continue;
        any_changed = true;
        std::fill(sum + size_t(c) * d, sum + size_t(c + 1) * d, 0.0);
        count[c] = 0;
      }
      if (any_changed)
        sum_changed_clusters(points_ + block_first * d, labels_.data() + block_first, block_end - block_first, d,
                             changed.data(), sum, count);
    });
    last_k_ = k;
    last_centroids_ = centroids;
    distances_valid_ = std::none_of(block_skipped.begin(), block_skipped.end(), [](char skipped) { return skipped != 0; });

    sums.assign(size_t(k) * d, 0.0);
    counts.assign(size_t(k), 0);
    double inertia = 0.0;
    for (int64_t b = 0; b < blocks; ++b) {
      for (size_t i = 0; i < sums.size(); ++i) sums[i] += block_sums_[size_t(b) * k * d + i];
      for (int c = 0; c < k; ++c) counts[c] += block_counts_[size_t(b) * k + c];
      inertia += block_inertia[b];
    }
    return inertia;
  }

  // Decides which points cannot change label in a pass, and keeps the bounds that decide it.
  //
  // upper_[i] bounds the exact distance from point i to its centroid from above, lower_[i] the
  // exact distance to every other centroid from below (Hamerly's bounds). When the centroids move,
  // each bound moves by at most the centroids' movement (triangle inequality). A point is settled
  // when lower^2 - upper^2 exceeds twice the rounding error of a computed squared distance: then
  // the distance the GEMM would compute to its own centroid is strictly below the one to every
  // other centroid, so the arg-min (tie rule included) would return its label again. The error
  // bound is the one of a float dot product of `dims` terms, plus the norms and the final sum, in
  // any summation order (fused or not), with a factor 2 to spare.
  struct SettledTest {
    bool enabled = false;
    std::vector<double> movement;     // [k] how far each centroid moved since the bounds were set
    double largest_movement = 0.0;
    double largest_centroid_norm = 0.0;
    double error_factor = 0.0;

    double squared_error(int64_t i, const CpuLloydStep& step) const {
      const double reach = step.point_lengths_[i] + largest_centroid_norm;
      return error_factor * reach * reach;
    }

    bool settled(int64_t i, CpuLloydStep& step) const {
      if (!enabled) return false;
      const double upper = step.upper_[i] + movement[step.labels_[i]];
      const double lower = step.lower_[i] - largest_movement;
      step.upper_[i] = upper;
      step.lower_[i] = lower;
      return lower > 0.0 && lower * lower - upper * upper > 2.0 * squared_error(i, step);
    }

    void set_bounds(int64_t i, float best, float second, CpuLloydStep& step) const {
      const double error = squared_error(i, step);
      step.upper_[i] = std::sqrt(static_cast<double>(best) + error);
      step.lower_[i] = std::sqrt(std::max(0.0, static_cast<double>(second) - error));
    }
  };

  SettledTest settled_test_for(const std::vector<float>& centroids, int k, bool skip_settled) const {
    SettledTest test;
    const int d = dims_;
    for (int c = 0; c < k; ++c) {
      double norm = 0.0;
      for (int j = 0; j < d; ++j) norm += static_cast<double>(centroids[size_t(c) * d + j]) * centroids[size_t(c) * d + j];
      test.largest_centroid_norm = std::max(test.largest_centroid_norm, std::sqrt(norm) * (1.0 + 1e-9));
    }
    test.error_factor = 2.0 * (d + 3) * 0x1.0p-24;
    test.enabled = skip_settled && last_k_ == k;
    if (!test.enabled) return test;
    test.movement.resize(static_cast<size_t>(k));
    for (int c = 0; c < k; ++c) {
      double squared = 0.0;
      for (int j = 0; j < d; ++j) {
        const double diff = static_cast<double>(centroids[size_t(c) * d + j]) - last_centroids_[size_t(c) * d + j];
        squared += diff * diff;
      }
      // Rounded up a little: the bounds must never be too tight.
      test.movement[c] = std::sqrt(squared) * (1.0 + 1e-9) + 1e-300;
      test.largest_movement = std::max(test.largest_movement, test.movement[c]);
    }
    return test;
  }

  int num_threads_;
  const float* points_;
  int64_t n_;
  int dims_;
  std::vector<float> point_norms_;
  std::vector<int32_t> labels_;
  std::vector<float> distances_;
  // The last pass: its k (0: none yet) and centroids. labels_, the per-block cluster sums and
  // counts, and the bounds on each point's distances all belong to it.
  int last_k_ = 0;
  std::vector<float> last_centroids_;
  std::vector<double> block_sums_;
  std::vector<int64_t> block_counts_;
  std::vector<double> upper_, lower_;
  std::vector<double> point_lengths_;  // ||x||, rounded up (the rounding error bound's scale)
  bool distances_valid_ = false;       // whether the last pass measured every point
};

}  // namespace

std::unique_ptr<LloydStep> make_lloyd_step(const Context& ctx, const float* points, int64_t n, int dims) {
  return std::make_unique<CpuLloydStep>(ctx, points, n, dims);
}

}  // namespace jm::cpu_impl
