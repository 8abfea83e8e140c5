// GPU entry points of a build without CUDA: they report that clearly instead of failing to link.
#include "host/core/gpu_runtime.hpp"
#include "journeymap/common.hpp"
#include "journeymap/journeys.hpp"

namespace jm::cuda_impl {
namespace {
[[noreturn]] void throw_built_without_cuda() {
  throw GpuUnavailableError("journeymap was built without CUDA; reconfigure with -DJM_WITH_CUDA=ON to use the GPU");
}
}  // namespace

int device_count() { return 0; }
std::string device_description(int) { return "none (built without CUDA)"; }
std::string build_description() { return "CUDA: no (built with JM_WITH_CUDA=OFF)"; }
DeviceMemoryUse device_memory_use(int) { return {}; }
std::string load_cublas() { throw_built_without_cuda(); }
std::shared_ptr<DeviceResources> make_cuda_resources(int) { throw_built_without_cuda(); }

JourneySet build_journeys(const Context&, const EventTable&, const JourneyOptions&) { throw_built_without_cuda(); }

}  // namespace jm::cuda_impl
