// The GPU sampled silhouette in a build without CUDA: fails clearly instead of failing to link.
#include "host/segments/silhouette.hpp"
#include "journeymap/common.hpp"

namespace jm::cuda_impl {

std::unique_ptr<silhouette_detail::SilhouetteScorer> make_silhouette_scorer(const Context&, const std::vector<float>&,
                                                                            int64_t, int) {
  throw GpuUnavailableError("journeymap was built without CUDA; reconfigure with -DJM_WITH_CUDA=ON");
}

}  // namespace jm::cuda_impl
