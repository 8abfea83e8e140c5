// GPU entry point of feature extraction in a build without CUDA: fails clearly instead of failing to link.
#include "journeymap/common.hpp"
#include "journeymap/features.hpp"

namespace jm::cuda_impl {

FeatureMatrix extract_features(const Context&, const JourneySet&, const FeatureSpec&) {
  throw GpuUnavailableError("journeymap was built without CUDA; reconfigure with -DJM_WITH_CUDA=ON");
}

void apply_scaling(const Context&, const FeatureMatrix&, const std::vector<int32_t>&, const FeatureScaling&,
                   HostDeviceVector<float>&) {
  throw GpuUnavailableError("journeymap was built without CUDA; reconfigure with -DJM_WITH_CUDA=ON");
}

}  // namespace jm::cuda_impl
