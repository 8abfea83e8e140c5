// GPU entry point of identity stitching in a build without CUDA: a clear error instead of a link failure.
#include "journeymap/common.hpp"
#include "journeymap/identity.hpp"

namespace jm::cuda_impl {

std::vector<int32_t> connected_components(const Context&, int32_t, const std::vector<int32_t>&,
                                          const std::vector<int32_t>&, const std::vector<uint8_t>&) {
  throw GpuUnavailableError("journeymap was built without CUDA; reconfigure with -DJM_WITH_CUDA=ON");
}

}  // namespace jm::cuda_impl
