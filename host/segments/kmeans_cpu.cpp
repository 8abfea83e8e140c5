// CPU Lloyd step: distances by GEMM (OpenBLAS sgemm, points x centroids^T) per block of rows, then
// a fused arg-min and per-block cluster sums.
//
// Why OpenBLAS runs single-threaded here: the step parallelises over row blocks itself (like
// scikit-learn's Lloyd), which keeps the arg-min and the sums in the same pass over cache-hot rows
// and avoids nested thread pools. Per-block partial sums are merged in block order
// (kmeans_rules::kSumBlockRows, shared with the GPU twin), so results do not depend on the thread count.
#include <cblas.h>

#include <algorithm>
#include <numeric>

#include "host/core/thread_pool.hpp"
#include "journeymap/kmeans_rules.hpp"
#include "journeymap/segments.hpp"

namespace jm::cpu_impl {
namespace {

constexpr int64_t kRowsPerBlock = kmeans_rules::kSumBlockRows;  // unit of work and of partial sums
constexpr int64_t kRowsPerPanel = 1024;   // rows per GEMM call

// Sets OpenBLAS to one thread for the lifetime of the guard.
class SingleThreadedBlas {
 public:
  SingleThreadedBlas() : previous_(openblas_get_num_threads()) { openblas_set_num_threads(1); }
  ~SingleThreadedBlas() { openblas_set_num_threads(previous_); }
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

 private:
  int previous_;
};

class CpuLloydStep final : public LloydStep {
 public:
  CpuLloydStep(const Context& ctx, const float* points, int64_t n, int dims)
      : num_threads_(resolve_thread_count(ctx.num_threads)), points_(points), n_(n), dims_(dims),
        point_norms_(static_cast<size_t>(n)), labels_(static_cast<size_t>(n), 0), distances_(static_cast<size_t>(n), 0.0f) {
    parallel_for(num_blocks(), num_threads_, [&](int64_t b) {
      for (int64_t i = b * kRowsPerBlock, end = std::min(n_, (b + 1) * kRowsPerBlock); i < end; ++i)
        point_norms_[i] = kmeans_rules::squared_norm(points_ + i * dims_, dims_);
    });
  }

  double assign(const std::vector<float>& centroids, int k, std::vector<double>& sums,
                std::vector<int64_t>& counts) override {
    SingleThreadedBlas single_threaded;
    const int d = dims_;
    std::vector<float> centroid_norms(static_cast<size_t>(k));
    for (int c = 0; c < k; ++c) centroid_norms[c] = kmeans_rules::squared_norm(centroids.data() + size_t(c) * d, d);

    const int64_t blocks = num_blocks();
    std::vector<double> block_sums(static_cast<size_t>(blocks) * k * d, 0.0);
    std::vector<int64_t> block_counts(static_cast<size_t>(blocks) * k, 0);
    std::vector<double> block_inertia(static_cast<size_t>(blocks), 0.0);
    parallel_for(blocks, num_threads_, [&](int64_t b) {
      const int64_t block_first = b * kRowsPerBlock, block_end = std::min(n_, block_first + kRowsPerBlock);
      thread_local std::vector<float> dots;
      dots.resize(static_cast<size_t>(kRowsPerPanel) * k);
      double* sum = block_sums.data() + size_t(b) * k * d;
      int64_t* count = block_counts.data() + size_t(b) * k;
      double inertia = 0.0;
      // Panels small enough that the GEMM output and the panel's points are still in cache for the
      // arg-min and the sums.
      for (int64_t first = block_first; first < block_end; first += kRowsPerPanel) {
        const int64_t rows = std::min(block_end, first + kRowsPerPanel) - first;
        // dots[rows x k] = points[first : first + rows] (rows x d) * centroids^T (d x k)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows), k, d, 1.0f, points_ + first * d, d,
                    centroids.data(), d, 0.0f, dots.data(), k);
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t i = first + r;
          const float* point_dots = dots.data() + r * k;
          int32_t best = 0;
          float best_d = kmeans_rules::squared_distance_from_dot(point_norms_[i], centroid_norms[0], point_dots[0]);
          for (int c = 1; c < k; ++c) {
            const float dist = kmeans_rules::squared_distance_from_dot(point_norms_[i], centroid_norms[c], point_dots[c]);
            if (kmeans_rules::closer(dist, c, best_d, best)) {
              best_d = dist;
              best = c;
            }
          }
          labels_[i] = best;
          distances_[i] = best_d;
          inertia += best_d;
          ++count[best];
          kmeans_rules::add_to_cluster_sum(points_ + i * d, d, 0, 1, sum + size_t(best) * d);
        }
      }
      block_inertia[b] = inertia;
    });

    sums.assign(size_t(k) * d, 0.0);
    counts.assign(size_t(k), 0);
    double inertia = 0.0;
    for (int64_t b = 0; b < blocks; ++b) {
      for (size_t i = 0; i < sums.size(); ++i) sums[i] += block_sums[size_t(b) * k * d + i];
      for (int c = 0; c < k; ++c) counts[c] += block_counts[size_t(b) * k + c];
      inertia += block_inertia[b];
    }
    return inertia;
  }

  std::vector<int64_t> farthest_points(int count) override {
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

 private:
  int64_t num_blocks() const { return (n_ + kRowsPerBlock - 1) / kRowsPerBlock; }

  int num_threads_;
  const float* points_;
  int64_t n_;
  int dims_;
  std::vector<float> point_norms_;
  std::vector<int32_t> labels_;
  std::vector<float> distances_;
};

}  // namespace

std::unique_ptr<LloydStep> make_lloyd_step(const Context& ctx, const float* points, int64_t n, int dims) {
  return std::make_unique<CpuLloydStep>(ctx, points, n, dims);
}

}  // namespace jm::cpu_impl
