// The sampled silhouette on the GPU (host/segments/silhouette.hpp): the sampled points stay on
// the device for the whole k search; each score uploads the sample's labels and cluster sizes,
// measures every distance there and brings back one score per sampled point, which the host adds
// in sample order as for the CPU. Compiled with --fmad=false, so the shared distance rule rounds
// exactly as on the CPU (and sqrt is correctly rounded on both).
#include <cuda_runtime_api.h>

#include <memory>
#include <vector>

#include <rmm/device_uvector.hpp>

#include "cuda/core/cuda_check.cuh"
#include "cuda/core/device_runtime.cuh"
#include "host/segments/silhouette.hpp"
#include "kernels/segments/silhouette_kernels.cuh"

namespace jm::cuda_impl {
namespace {

class CudaSilhouetteScorer final : public silhouette_detail::SilhouetteScorer {
 public:
  CudaSilhouetteScorer(const Context& ctx, const std::vector<float>& sample_points, int64_t s, int dims)
      : resources_(cuda_resources(ctx)), stream_(resources_.stream()), s_(s), dims_(dims),
        points_(sample_points.size(), stream_, resources_.memory()), labels_(static_cast<size_t>(s), stream_, resources_.memory()),
        cluster_size_(0, stream_, resources_.memory()), distance_sums_(0, stream_, resources_.memory()),
        scores_(static_cast<size_t>(s), stream_, resources_.memory()) {
    resources_.copy_to_device(points_.data(), sample_points.data(), sample_points.size() * sizeof(float));
  }

  void point_scores(const std::vector<int32_t>& sample_label, const std::vector<int64_t>& cluster_size, int k,
                    std::vector<double>& scores) override {
    cluster_size_.resize(static_cast<size_t>(k), stream_);
    distance_sums_.resize(static_cast<size_t>(k) * s_, stream_);
    resources_.copy_to_device(labels_.data(), sample_label.data(), sample_label.size() * sizeof(int32_t));
    resources_.copy_to_device(cluster_size_.data(), cluster_size.data(), cluster_size.size() * sizeof(int64_t));
    constexpr int threads = kernels::kSilhouetteBlockThreads;
    kernels::silhouette_point_scores<<<resources_.grid_for(s_, threads), threads, 0, stream_.value()>>>(
        points_.data(), s_, dims_, labels_.data(), cluster_size_.data(), k, distance_sums_.data(), scores_.data());
    JM_CUDA_CHECK_LAUNCH();
    scores.resize(static_cast<size_t>(s_));
    resources_.copy_to_host(scores.data(), scores_.data(), scores.size() * sizeof(double));
  }

 private:
  CudaResources& resources_;
  rmm::cuda_stream_view stream_;
  int64_t s_;
  int dims_;
  rmm::device_uvector<float> points_;           // [s x dims]
  rmm::device_uvector<int32_t> labels_;         // [s]
  rmm::device_uvector<int64_t> cluster_size_;   // [k]
  rmm::device_uvector<double> distance_sums_;   // [k x s]
  rmm::device_uvector<double> scores_;          // [s]
};

}  // namespace

std::unique_ptr<silhouette_detail::SilhouetteScorer> make_silhouette_scorer(const Context& ctx,
                                                                            const std::vector<float>& sample_points,
                                                                            int64_t s, int dims) {
  return std::make_unique<CudaSilhouetteScorer>(ctx, sample_points, s, dims);
}

}  // namespace jm::cuda_impl
