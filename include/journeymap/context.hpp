// The execution context handed to every backend function: which backend runs and with how many
// CPU threads. The CPU/GPU choice for an algorithm is made in one place, from this object.
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace jm {

class DeviceResources;  // device_resources.hpp
class StepLog;          // step_timing.hpp

/// Which implementation of an algorithm runs.
enum class Backend { Cpu, Gpu };

/// What the user asked for: `auto` means the GPU when one is present, otherwise the CPU.
enum class DeviceChoice { Auto, Cpu, Gpu };

/// Parses "auto", "cpu" or "gpu" (throws ConfigError otherwise).
DeviceChoice parse_device_choice(const std::string& text);
const char* to_string(Backend backend);

/// How far a long stage is: (what is running, fraction of it done in [0, 1]). Called from the
/// stage's own thread; the CLI prints it at most every few seconds.
using ProgressFn = std::function<void(const std::string& what, double fraction)>;

/// Made once per run by make_context and passed as the first argument of every backend function.
/// Copies share the device resources (stream, memory pool, cuBLAS handle, device properties).
struct Context {
  Backend backend = Backend::Cpu;
  int num_threads = 1;  ///< CPU worker threads (host stages run on the CPU in both backends)
  int cuda_device = 0;  ///< CUDA device ordinal used by the GPU backend
  std::shared_ptr<DeviceResources> device;  ///< set exactly when backend is Gpu
  ProgressFn progress;  ///< empty: nobody listens
  std::shared_ptr<StepLog> steps;  ///< set: stages time their named steps into it (StepTimer)
};

/// Reports progress through ctx.progress when someone listens.
inline void report_progress(const Context& ctx, const char* what, double fraction) {
  if (ctx.progress) ctx.progress(what, fraction);
}

/// Resolves a DeviceChoice into a Context: for the GPU, creates its resources on `cuda_device`.
/// `num_threads <= 0` means all hardware threads.
/// Throws GpuUnavailableError when `gpu` is requested but the build or the machine has none.
Context make_context(DeviceChoice choice, int num_threads = 0, int cuda_device = 0);
/// The same for an explicit backend (tests and benchmarks): Gpu throws when no GPU is usable.
Context make_context(Backend backend, int num_threads = 0, int cuda_device = 0);

/// True when this binary was built with CUDA and a CUDA device is visible.
bool gpu_available();

/// One line describing the GPU that would be used, or why none is available.
std::string gpu_description();

}  // namespace jm
