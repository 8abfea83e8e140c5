// GPU twin of the feature handoff: the matrix is uploaded once into an rmm::device_uvector on the
// journeymap stream and handed to XGBoost as a CUDA array interface (device pointer + stream), so
// XGBoost builds its device histogram index straight from device memory (device=cuda).
#include <memory>

#include <rmm/device_uvector.hpp>

#include "cuda/core/cuda_check.cuh"
#include "cuda/core/device_runtime.cuh"
#include "host/core/thread_pool.hpp"
#include "host/model/xgboost_api.hpp"

namespace jm::cuda_impl {

model_detail::DMatrix make_dmatrix(const Context& ctx, MatrixView features) {
  CudaResources& resources = cuda_resources(ctx);
  const rmm::cuda_stream_view stream = resources.stream();
  const size_t n_values = static_cast<size_t>(features.rows) * static_cast<size_t>(features.cols);
  auto device_values = std::make_shared<rmm::device_uvector<float>>(n_values, stream, resources.memory());
  resources.copy_to_device(device_values->data(), features.values, n_values * sizeof(float));
  // No host-side sync: the array interface carries the stream and XGBoost waits on it before reading.
  // The device copy stays alive with the DMatrix (XGBoost copies it, but a view must never dangle).
  return model_detail::dmatrix_from_device(device_values->data(), features.rows, features.cols,
                                           reinterpret_cast<intptr_t>(stream.value()),
                                           resolve_thread_count(ctx.num_threads), device_values);
}

}  // namespace jm::cuda_impl
