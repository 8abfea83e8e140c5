// GPU entry points of the flows stage in a build without CUDA: a clear error instead of a link failure.
#include "journeymap/common.hpp"
#include "journeymap/flows.hpp"

namespace jm::cuda_impl {

FlowCounts count_flows(const Context&, const JourneySet&, int32_t, double, const std::vector<int32_t>&) {
  throw GpuUnavailableError("journeymap was built without CUDA; reconfigure with -DJM_WITH_CUDA=ON");
}

}  // namespace jm::cuda_impl
