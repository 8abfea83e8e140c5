// GPU Lloyd step: the points live on the device for the whole k-means run (copied once, or read where
// an earlier stage left them); each assignment is, per
// chunk of rows, one cuBLAS SGEMM (dots = points x centroids^T) and one arg-min kernel (chunks sized
// so that the dot-product block stays in L2 between the two calls), then the cluster sums in the
// CPU twin's fixed order: partial sums per block of kmeans_rules::kSumBlockRows rows, added in block
// order. Same labels give the same sums, bit for bit, and two runs give the same result.
#include <cublas_v2.h>

#include <algorithm>
#include <memory>
#include <numeric>
#include <string>

#include <rmm/device_uvector.hpp>

#include "cuda/core/cublas_check.cuh"
#include "cuda/core/cuda_check.cuh"
#include "cuda/core/device_runtime.cuh"
#include "journeymap/common.hpp"
#include "journeymap/kmeans_rules.hpp"
#include "journeymap/segments.hpp"
#include "kernels/segments/kmeans_kernels.cuh"


namespace jm::cuda_impl {
namespace {

constexpr size_t kDotBlockBytes = size_t{32} << 20;  // dot-product chunk budget (fits the H200's L2)
constexpr int kMaxClusters = 4096;                    // keeps the per-block counts small
constexpr size_t kSharedBudgetBytes = 48 * 1024;      // default dynamic shared memory limit
constexpr size_t kPartialBudgetBytes = size_t{256} << 20;  // partial sums of one group of sum blocks
constexpr int kMergeThreads = 256;

class CudaLloydStep final : public LloydStep {
 public:
  // `points` [n x dims] on the device; `owned` keeps them alive when the step made the copy itself.
  CudaLloydStep(const Context& ctx, const float* points, int64_t n, int dims, rmm::device_uvector<float> owned)
      : owner_(ctx.device), resources_(cuda_resources(ctx)), stream_(resources_.stream()), n_(n), dims_(dims),
        owned_points_(std::move(owned)), points_(points), point_norms_(static_cast<size_t>(n), stream_),
        labels_(static_cast<size_t>(n), stream_), distances_(static_cast<size_t>(n), stream_),
        centroids_(0, stream_), centroid_norms_(0, stream_), dots_(0, stream_), sums_(0, stream_),
        counts_(0, stream_), inertia_(1, stream_), partial_sums_(0, stream_), partial_counts_(0, stream_),
        partial_inertia_(0, stream_) {
    if (n_ > 0) {
      kernels::compute_point_norms<<<resources_.grid_for(n_, kernels::kNormBlockThreads, 32), kernels::kNormBlockThreads, 0, stream_.value()>>>(
          points_, n_, dims_, point_norms_.data());
      JM_CUDA_CHECK_LAUNCH();
    }
  }

  double assign(const std::vector<float>& centroids, int k, std::vector<double>& sums,
                std::vector<int64_t>& counts) override {
    if (k > kMaxClusters)
      throw ConfigError("the GPU k-means supports k <= " + std::to_string(kMaxClusters) + " (got " + std::to_string(k) + ")");
    const int d = dims_;
    // Centroid norms on the host with the shared formula: identical to the CPU twin's.
    std::vector<float> centroid_norms(static_cast<size_t>(k));
    for (int c = 0; c < k; ++c) centroid_norms[c] = kmeans_rules::squared_norm(centroids.data() + size_t(c) * d, d);
    centroids_.resize(centroids.size(), stream_);
    centroid_norms_.resize(static_cast<size_t>(k), stream_);
    sums_.resize(size_t(k) * d, stream_);
    counts_.resize(static_cast<size_t>(k), stream_);
    resources_.copy_to_device(centroids_.data(), centroids.data(), centroids.size() * sizeof(float));
    resources_.copy_to_device(centroid_norms_.data(), centroid_norms.data(), centroid_norms.size() * sizeof(float));
    JM_CUDA_TRY(cudaMemsetAsync(sums_.data(), 0, sums_.size() * sizeof(double), stream_.value()));
    JM_CUDA_TRY(cudaMemsetAsync(counts_.data(), 0, counts_.size() * sizeof(long long), stream_.value()));
    JM_CUDA_TRY(cudaMemsetAsync(inertia_.data(), 0, sizeof(double), stream_.value()));

    const int64_t chunk_rows =
        std::max<int64_t>(1024, std::min<int64_t>(int64_t{1} << 30, static_cast<int64_t>(kDotBlockBytes / (sizeof(float) * k))));
    dots_.resize(static_cast<size_t>(std::min(n_, chunk_rows) * k), stream_);

    cublasHandle_t handle = resources_.cublas();  // full FP32, no TF32 shortcuts
    const float one = 1.0f, zero = 0.0f;
    for (int64_t first = 0; first < n_; first += chunk_rows) {
      const int64_t rows = std::min(chunk_rows, n_ - first);
      // dots (row-major rows x k) = points_chunk (rows x d) * centroids^T (d x k). In cuBLAS's
      // column-major terms: dots^T [k x rows] = C^T [k x d] * P^T [d x rows], where the row-major
      // centroids and points are already C^T (ld d) and P^T (ld d).
      JM_CUBLAS_TRY(cublas_api().sgemm(handle, CUBLAS_OP_T, CUBLAS_OP_N, k, static_cast<int>(rows), d, &one, centroids_.data(),
                                d, points_ + first * d, d, &zero, dots_.data(), k));
      // One warp per row: kAssignWarpsPerBlock rows per block, at most 4 blocks per multiprocessor.
      kernels::assign_nearest<<<resources_.grid_for(rows, kernels::kAssignWarpsPerBlock, 4), kernels::kAssignBlockThreads, 0, stream_.value()>>>(
          point_norms_.data() + first, dots_.data(), centroid_norms_.data(), rows, k, labels_.data() + first,
          distances_.data() + first);
      JM_CUDA_CHECK_LAUNCH();
    }
    sum_clusters_in_block_order(k);

    sums.resize(size_t(k) * d);
    std::vector<long long> device_counts(static_cast<size_t>(k));
    double inertia = 0.0;
    // The host computes the centroid update from these sums next.
    resources_.copy_to_host(sums.data(), sums_.data(), sums.size() * sizeof(double));
    resources_.copy_to_host(device_counts.data(), counts_.data(), device_counts.size() * sizeof(long long));
    resources_.copy_to_host(&inertia, inertia_.data(), sizeof(double));
    counts.assign(device_counts.begin(), device_counts.end());
    return inertia;
  }

  std::vector<int64_t> farthest_points(int count) override {
    // Rare (only when a cluster empties): rank on the host.
    std::vector<float> distances(static_cast<size_t>(n_));
    resources_.copy_to_host(distances.data(), distances_.data(), distances.size() * sizeof(float));
    std::vector<int64_t> order(static_cast<size_t>(n_));
    std::iota(order.begin(), order.end(), 0);
    const int64_t m = std::min<int64_t>(count, n_);
    std::partial_sort(order.begin(), order.begin() + m, order.end(), [&](int64_t a, int64_t b) {
      return distances[a] > distances[b] || (distances[a] == distances[b] && a < b);
    });
    order.resize(static_cast<size_t>(m));
    return order;
  }

  std::vector<int32_t> labels() override {
    std::vector<int32_t> out(static_cast<size_t>(n_));
    resources_.copy_to_host(out.data(), labels_.data(), out.size() * sizeof(int32_t));
    return out;
  }

 private:
  // Cluster sums, counts and inertia of the current labels into sums_, counts_ and inertia_ (zeroed
  // by the caller): partial results per sum block, then added in block order, a group of blocks at
  // a time so the partials stay within kPartialBudgetBytes.
  void sum_clusters_in_block_order(int k) {
    const int d = dims_;
    const int64_t sum_blocks = (n_ + kmeans_rules::kSumBlockRows - 1) / kmeans_rules::kSumBlockRows;
    const size_t sum_slots = size_t(k) * d;
    const int64_t group_blocks = std::max<int64_t>(
        1, std::min<int64_t>(sum_blocks, static_cast<int64_t>(kPartialBudgetBytes / (sizeof(double) * sum_slots))));
    partial_sums_.resize(static_cast<size_t>(group_blocks) * sum_slots, stream_);
    partial_counts_.resize(static_cast<size_t>(group_blocks) * k, stream_);
    partial_inertia_.resize(static_cast<size_t>(group_blocks), stream_);
    const bool shared_sums = sum_slots * sizeof(double) <= kSharedBudgetBytes;
    const size_t shared_bytes = shared_sums ? sum_slots * sizeof(double) : 0;
    const int sum_threads = std::min(256, (d + 31) / 32 * 32);  // one thread per dimension, whole warps
    const int64_t merge_slots = static_cast<int64_t>(sum_slots) + k + 1;
    const auto merge_blocks = static_cast<unsigned>((merge_slots + kMergeThreads - 1) / kMergeThreads);
    for (int64_t first_block = 0; first_block < sum_blocks; first_block += group_blocks) {
      const int64_t blocks = std::min(group_blocks, sum_blocks - first_block);
      kernels::sum_clusters_per_block<<<static_cast<unsigned>(blocks), sum_threads, shared_bytes, stream_.value()>>>(
          points_, labels_.data(), distances_.data(), n_, k, d, first_block, shared_sums, partial_sums_.data(),
          partial_counts_.data(), partial_inertia_.data());
      JM_CUDA_CHECK_LAUNCH();
      kernels::add_block_partials_in_order<<<merge_blocks, kMergeThreads, 0, stream_.value()>>>(
          partial_sums_.data(), partial_counts_.data(), partial_inertia_.data(), blocks, k, d, sums_.data(),
          counts_.data(), inertia_.data());
      JM_CUDA_CHECK_LAUNCH();
    }
  }

  std::shared_ptr<DeviceResources> owner_;  // the stream and cuBLAS handle outlive the step's buffers
  CudaResources& resources_;
  rmm::cuda_stream_view stream_;
  int64_t n_;
  int dims_;
  rmm::device_uvector<float> owned_points_;  // empty when the points are resident elsewhere
  const float* points_;
  rmm::device_uvector<float> point_norms_;
  rmm::device_uvector<int32_t> labels_;
  rmm::device_uvector<float> distances_;
  rmm::device_uvector<float> centroids_;
  rmm::device_uvector<float> centroid_norms_;
  rmm::device_uvector<float> dots_;
  rmm::device_uvector<double> sums_;
  rmm::device_uvector<long long> counts_;
  rmm::device_uvector<double> inertia_;
  rmm::device_uvector<double> partial_sums_;     // [group blocks][k][dims]
  rmm::device_uvector<long long> partial_counts_;  // [group blocks][k]
  rmm::device_uvector<double> partial_inertia_;  // [group blocks]
};

}  // namespace

std::unique_ptr<LloydStep> make_lloyd_step(const Context& ctx, const float* points, int64_t n, int dims) {
  CudaResources& resources = cuda_resources(ctx);
  rmm::device_uvector<float> copy(static_cast<size_t>(n) * dims, resources.stream(), resources.memory());
  resources.copy_to_device(copy.data(), points, copy.size() * sizeof(float));
  const float* on_device = copy.data();
  return std::make_unique<CudaLloydStep>(ctx, on_device, n, dims, std::move(copy));
}

std::unique_ptr<LloydStep> make_lloyd_step(const Context& ctx, DeviceSpan<const float> points, int64_t n, int dims) {
  if (points.size != static_cast<size_t>(n) * dims)
    throw Error("k-means: " + std::to_string(points.size) + " resident values for " + std::to_string(n) + " x " +
                std::to_string(dims) + " points");
  return std::make_unique<CudaLloydStep>(ctx, points.data, n, dims, rmm::device_uvector<float>(0, cuda_resources(ctx).stream()));
}

}  // namespace jm::cuda_impl
