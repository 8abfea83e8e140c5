// Journey building throughput (events/s): CPU backend end to end, and, in CUDA builds, the GPU
// backend end to end (upload + build + download) beside its device-only part (bench_journeys_gpu.cu).
// Sizes: 1M and 10M events; 100M with JM_BENCH_LARGE=1 (GPU machines).
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "bench/bench_event_tables.hpp"
#include "journeymap/journeys.hpp"

namespace {

void journeys_end_to_end(benchmark::State& state, jm::Backend backend) {
  if (backend == jm::Backend::Gpu && !jm::gpu_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const jm::EventTable& events = jm::bench::cached_event_table(state.range(0));
  jm::Context ctx = jm::make_context(backend == jm::Backend::Gpu ? jm::DeviceChoice::Gpu : jm::DeviceChoice::Cpu);
  jm::JourneyOptions options;
  options.session_gap_seconds = 2 * 86400;
  for (auto _ : state) {
    jm::JourneySet journeys = jm::build_journeys(ctx, events, options);
    benchmark::DoNotOptimize(journeys.offsets.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["threads"] = ctx.num_threads;
}

void register_cpu_sizes(benchmark::internal::Benchmark* b) {
  b->Arg(1'000'000)->Arg(10'000'000)->Unit(benchmark::kMillisecond)->UseRealTime();
}

void register_gpu_sizes(benchmark::internal::Benchmark* b) {
  register_cpu_sizes(b);
  if (std::getenv("JM_BENCH_LARGE")) b->Arg(100'000'000);
}

BENCHMARK_CAPTURE(journeys_end_to_end, cpu, jm::Backend::Cpu)->Apply(register_cpu_sizes);
BENCHMARK_CAPTURE(journeys_end_to_end, gpu_with_transfers, jm::Backend::Gpu)->Apply(register_gpu_sizes);

}  // namespace

BENCHMARK_MAIN();
