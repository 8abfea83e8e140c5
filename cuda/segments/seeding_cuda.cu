// k-means++ distances on the GPU (host/segments/seeding_distances.hpp): the sampled points stay on
// the device for the whole seeding; each evaluation uploads the candidates (a few rows), computes
// every (candidate, point) distance and the per-task sums there, and brings back only the task
// sums, which the host adds in task order as the CPU twin does. Compiled with --fmad=false, so the
// shared distance rule rounds exactly as on the CPU.
#include <cuda_runtime_api.h>

#include <limits>
#include <memory>
#include <vector>

#include <rmm/device_uvector.hpp>

#include "cuda/core/cuda_check.cuh"
#include "cuda/core/device_runtime.cuh"
#include "host/segments/seeding_distances.hpp"
#include "kernels/segments/seeding_kernels.cuh"

namespace jm::cuda_impl {
namespace {

using kmeans_detail::kSeedingRowsPerTask;

class CudaSeedingDistances final : public kmeans_detail::SeedingDistances {
 public:
  CudaSeedingDistances(const Context& ctx, const float* sample_points, int64_t s, int dims)
      : resources_(cuda_resources(ctx)), stream_(resources_.stream()), s_(s), dims_(dims),
        tasks_((s + kSeedingRowsPerTask - 1) / kSeedingRowsPerTask),
        points_(static_cast<size_t>(s) * dims, stream_, resources_.memory()),
        closest_(static_cast<size_t>(s), stream_, resources_.memory()), candidates_(0, stream_, resources_.memory()),
        candidate_closest_(0, stream_, resources_.memory()), task_sums_(0, stream_, resources_.memory()),
        host_closest_(static_cast<size_t>(s), std::numeric_limits<double>::infinity()) {
    resources_.copy_to_device(points_.data(), sample_points, points_.size() * sizeof(float));
    resources_.copy_to_device(closest_.data(), host_closest_.data(), host_closest_.size() * sizeof(double));
  }

  void evaluate(const float* candidates, int count, std::vector<double>& potentials) override {
    candidates_.resize(size_t(count) * dims_, stream_);
    candidate_closest_.resize(size_t(count) * s_, stream_);
    task_sums_.resize(size_t(tasks_) * count, stream_);
    resources_.copy_to_device(candidates_.data(), candidates, candidates_.size() * sizeof(float));
    constexpr int threads = kernels::kSeedingBlockThreads;
    if (s_ > 0) {
      kernels::seeding_candidate_distances<<<resources_.grid_for(s_ * count, threads), threads, 0, stream_.value()>>>(
          points_.data(), s_, dims_, candidates_.data(), count, closest_.data(), candidate_closest_.data());
      JM_CUDA_CHECK_LAUNCH();
      kernels::seeding_task_sums<<<resources_.grid_for(tasks_ * count, threads), threads, 0, stream_.value()>>>(
          candidate_closest_.data(), s_, count, kSeedingRowsPerTask, tasks_, task_sums_.data());
      JM_CUDA_CHECK_LAUNCH();
    }
    std::vector<double> task_sums(task_sums_.size());
    resources_.copy_to_host(task_sums.data(), task_sums_.data(), task_sums.size() * sizeof(double));
    kmeans_detail::add_task_sums(task_sums, tasks_, count, potentials);
  }

  void accept(int t) override {
    JM_CUDA_TRY(cudaMemcpyAsync(closest_.data(), candidate_closest_.data() + size_t(t) * s_, size_t(s_) * sizeof(double),
                                cudaMemcpyDeviceToDevice, stream_.value()));
    host_closest_stale_ = true;
  }

  const std::vector<double>& closest() override {
    if (host_closest_stale_) {
      resources_.copy_to_host(host_closest_.data(), closest_.data(), host_closest_.size() * sizeof(double));
      host_closest_stale_ = false;
    }
    return host_closest_;
  }

 private:
  CudaResources& resources_;
  rmm::cuda_stream_view stream_;
  int64_t s_;
  int dims_;
  int64_t tasks_;
  rmm::device_uvector<float> points_;              // [s x dims]
  rmm::device_uvector<double> closest_;            // [s]
  rmm::device_uvector<float> candidates_;          // [count x dims]
  rmm::device_uvector<double> candidate_closest_;  // [count x s]
  rmm::device_uvector<double> task_sums_;          // [tasks x count]
  std::vector<double> host_closest_;
  bool host_closest_stale_ = false;
};

}  // namespace

std::unique_ptr<kmeans_detail::SeedingDistances> make_seeding_distances(const Context& ctx, const float* sample_points,
                                                                        int64_t s, int dims) {
  return std::make_unique<CudaSeedingDistances>(ctx, sample_points, s, dims);
}

}  // namespace jm::cuda_impl
