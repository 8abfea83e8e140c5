// Device-only journey building: events already resident, CSR left on the device. Timed with CUDA
// events on the library's stream (UseManualTime), so transfers are excluded: this is the number
// the "100M events under 100 ms on an H200" target refers to.
#include <benchmark/benchmark.h>
#include <cuda_runtime_api.h>

#include <cstdlib>

#include "bench/bench_event_tables.hpp"
#include "cuda/core/cuda_check.cuh"
#include "cuda/core/device_runtime.cuh"
#include "cuda/journeys/device_journeys.cuh"

namespace {

void journeys_gpu_device_only(benchmark::State& state) {
  if (!jm::gpu_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const jm::EventTable& events = jm::bench::cached_event_table(state.range(0));
  const jm::Context ctx = jm::make_context(jm::DeviceChoice::Gpu);
  jm::JourneyOptions options;
  options.session_gap_seconds = 2 * 86400;
  const cudaStream_t stream = jm::cuda_impl::cuda_resources(ctx).stream().value();
  cudaEvent_t start, stop;
  JM_CUDA_TRY(cudaEventCreate(&start));
  JM_CUDA_TRY(cudaEventCreate(&stop));
  const jm::cuda_impl::DeviceEventTable device_events = jm::cuda_impl::upload_events(ctx, events);
  for (auto _ : state) {
    JM_CUDA_TRY(cudaEventRecord(start, stream));
    jm::JourneySet device_journeys;
    jm::cuda_impl::build_device_journeys(ctx, device_events, options, device_journeys);
    JM_CUDA_TRY(cudaEventRecord(stop, stream));
    JM_CUDA_TRY(cudaEventSynchronize(stop));
    float ms = 0;
    JM_CUDA_TRY(cudaEventElapsedTime(&ms, start, stop));
    state.SetIterationTime(ms / 1000.0);
  }
  JM_CUDA_TRY(cudaEventDestroy(start));
  JM_CUDA_TRY(cudaEventDestroy(stop));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

BENCHMARK(journeys_gpu_device_only)
    ->Arg(1'000'000)
    ->Arg(10'000'000)
    ->Apply([](benchmark::internal::Benchmark* b) {
      if (std::getenv("JM_BENCH_LARGE")) b->Arg(100'000'000);
    })
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime();

}  // namespace
