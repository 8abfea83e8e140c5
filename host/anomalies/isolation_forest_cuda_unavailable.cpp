// GPU isolation-forest scoring in a build without CUDA: fails clearly instead of failing to link.
#include "host/anomalies/isolation_forest_driver.hpp"
#include "journeymap/common.hpp"

namespace jm::cuda_impl {

std::vector<float> isolation_forest_scores(const Context&, const anomalies_detail::FlatForest&, DeviceSpan<const float>,
                                           int64_t, int) {
  throw GpuUnavailableError("journeymap was built without CUDA; reconfigure with -DJM_WITH_CUDA=ON");
}

}  // namespace jm::cuda_impl
