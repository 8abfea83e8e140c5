// GPU entry point of sequence mining in a build without CUDA: reports that clearly.
#include "journeymap/common.hpp"
#include "journeymap/patterns.hpp"

namespace jm::cuda_impl {

FrequentPatterns mine_frequent_patterns(const Context&, const MiningProblem&) {
  throw GpuUnavailableError("journeymap was built without CUDA; reconfigure with -DJM_WITH_CUDA=ON");
}

void index_previous_same_item(const Context&, const JourneySet&, int32_t, HostDeviceVector<int64_t>&) {
  throw GpuUnavailableError("journeymap was built without CUDA; reconfigure with -DJM_WITH_CUDA=ON");
}

}  // namespace jm::cuda_impl
