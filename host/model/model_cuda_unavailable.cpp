// GPU twin of the feature handoff in a build without CUDA: fails clearly instead of failing to link.
#include "host/model/xgboost_api.hpp"
#include "journeymap/common.hpp"

namespace jm::cuda_impl {

model_detail::DMatrix make_dmatrix(const Context&, MatrixView) {
  throw GpuUnavailableError("journeymap was built without CUDA; reconfigure with -DJM_WITH_CUDA=ON");
}

}  // namespace jm::cuda_impl
