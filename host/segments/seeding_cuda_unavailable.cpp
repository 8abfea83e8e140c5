// GPU k-means++ distances in a build without CUDA: fails clearly instead of failing to link.
#include "host/segments/seeding_distances.hpp"
#include "journeymap/common.hpp"

namespace jm::cuda_impl {

std::unique_ptr<kmeans_detail::SeedingDistances> make_seeding_distances(const Context&, const float*, int64_t, int) {
  throw GpuUnavailableError("journeymap was built without CUDA; reconfigure with -DJM_WITH_CUDA=ON");
}

}  // namespace jm::cuda_impl
