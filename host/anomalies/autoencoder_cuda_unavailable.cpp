// GPU autoencoder in a build without CUDA: fails clearly instead of failing to link.
#include "journeymap/anomalies.hpp"
#include "journeymap/common.hpp"

namespace jm::cuda_impl {

namespace {
[[noreturn]] void unavailable() {
  throw GpuUnavailableError("journeymap was built without CUDA; reconfigure with -DJM_WITH_CUDA=ON");
}
}  // namespace

std::unique_ptr<AutoencoderTrainer> make_autoencoder_trainer(const Context&, const float*, int64_t,
                                                             const AutoencoderModel&, const AutoencoderOptions&) {
  unavailable();
}

std::vector<float> reconstruction_errors(const Context&, const AutoencoderModel&, const float*, int64_t) {
  unavailable();
}

std::vector<float> reconstruction_errors(const Context&, const AutoencoderModel&, DeviceSpan<const float>, int64_t) {
  unavailable();
}

}  // namespace jm::cuda_impl
