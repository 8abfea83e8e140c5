// GPU Lloyd step in a build without CUDA: fails clearly instead of failing to link.
#include "journeymap/common.hpp"
#include "journeymap/segments.hpp"

namespace jm::cuda_impl {

std::unique_ptr<LloydStep> make_lloyd_step(const Context&, const float*, int64_t, int) {
  throw GpuUnavailableError("journeymap was built without CUDA; reconfigure with -DJM_WITH_CUDA=ON");
}

std::unique_ptr<LloydStep> make_lloyd_step(const Context&, DeviceSpan<const float>, int64_t, int) {
  throw GpuUnavailableError("journeymap was built without CUDA; reconfigure with -DJM_WITH_CUDA=ON");
}

}  // namespace jm::cuda_impl
