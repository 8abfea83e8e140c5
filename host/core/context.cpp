#include "journeymap/context.hpp"

#include <algorithm>
#include <cctype>

#include "host/core/gpu_runtime.hpp"
#include "host/core/thread_pool.hpp"
#include "journeymap/common.hpp"

namespace jm {

DeviceChoice parse_device_choice(const std::string& text) {
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower == "auto") return DeviceChoice::Auto;
  if (lower == "cpu") return DeviceChoice::Cpu;
  if (lower == "gpu" || lower == "cuda") return DeviceChoice::Gpu;
  throw ConfigError("device must be auto, cpu or gpu (got '" + text + "')");
}

const char* to_string(Backend backend) { return backend == Backend::Gpu ? "gpu" : "cpu"; }

bool gpu_available() { return cuda_impl::device_count() > 0; }

std::string gpu_description() {
  return cuda_impl::device_count() > 0 ? cuda_impl::device_description(0) : cuda_impl::device_description(-1);
}

Context make_context(DeviceChoice choice, int num_threads, int cuda_device) {
  Context ctx;
  ctx.cuda_device = cuda_device;
  ctx.num_threads = resolve_thread_count(num_threads);
  switch (choice) {
    case DeviceChoice::Cpu:
      ctx.backend = Backend::Cpu;
      break;
    case DeviceChoice::Auto:
      ctx.backend = gpu_available() ? Backend::Gpu : Backend::Cpu;
      break;
    case DeviceChoice::Gpu:
      if (!gpu_available())
        throw GpuUnavailableError("--device gpu was requested but no GPU is usable: " + gpu_description());
      ctx.backend = Backend::Gpu;
      break;
  }
  if (ctx.backend == Backend::Gpu) ctx.device = cuda_impl::make_cuda_resources(cuda_device);
  return ctx;
}

Context make_context(Backend backend, int num_threads, int cuda_device) {
  return make_context(backend == Backend::Gpu ? DeviceChoice::Gpu : DeviceChoice::Cpu, num_threads, cuda_device);
}

}  // namespace jm
