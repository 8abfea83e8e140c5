// Flows throughput (journeys/s) on a synthetic in-memory journey set shaped like the generated
// e-commerce data (13 touchpoints, 6 channels, 1-11 events, ~25% conversions ending in "purchase").
//   flows_counting/<backend>   the backend passes only (transitions, Sankey, heatmaps, funnel);
//                              the GPU figure includes uploading the journeys and copying counts back
//   flows_end_to_end/<backend> compute_flows: variants (host) + counting + assembly
//   attribution                every heuristic model and first-order Markov, touchpoints and channels
// Sizes: 1M journeys; 10M with JM_BENCH_LARGE=1 (about 3 GB of host memory).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <map>
#include <random>

#include "journeymap/attribution.hpp"
#include "journeymap/flows.hpp"

namespace {

const jm::JourneySet& cached_journeys(int64_t n_journeys) {
  static std::map<int64_t, jm::JourneySet> cache;
  auto found = cache.find(n_journeys);
  if (found != cache.end()) return found->second;
  std::mt19937_64 rng(12345);
  jm::JourneySet js;
  const int T = 13, C = 6, purchase = 9;
  for (int t = 0; t < T; ++t) js.touchpoints.encode("tp" + std::to_string(t));
  for (int c = 0; c < C; ++c) js.channels.encode("ch" + std::to_string(c));
  js.customers.encode("c");
  js.offsets.reserve(n_journeys + 1);
  js.offsets.push_back(0);
  for (int64_t j = 0; j < n_journeys; ++j) {
    const int length = 1 + static_cast<int>((rng() % 12 + rng() % 9) / 2);  // 1-11, mean ~5.5
    const bool converted = rng() % 4 == 0;
    int64_t time = 1'767'225'600'000 + static_cast<int64_t>(rng() % (90 * 86400)) * 1000;
    int previous = static_cast<int>(rng() % 5);
    for (int i = 0; i < length; ++i) {
      // A skewed walk: mostly forward through the "funnel" touchpoints, sometimes anywhere.
      int t = rng() % 4 == 0 ? static_cast<int>(rng() % T) : std::min(8, previous + static_cast<int>(rng() % 3));
      if (t == purchase) t = 8;
      if (converted && i == length - 1) t = purchase;
      js.touchpoint.push_back(t);
      js.channel.push_back(static_cast<int32_t>(rng() % C));
      time += static_cast<int64_t>(rng() % 900) * 1000;
      js.timestamp_ms.push_back(time);
      js.value.push_back(0.0f);
      previous = t;
    }
    js.offsets.push_back(static_cast<int64_t>(js.touchpoint.size()));
    js.customer.push_back(0);
    js.converted.push_back(converted);
    js.conversion_value.push_back(0.0f);
    js.start_ms.push_back(js.timestamp_ms[js.offsets[j]]);
    js.end_ms.push_back(js.timestamp_ms.back());
  }
  return cache.emplace(n_journeys, std::move(js)).first->second;
}

const std::vector<int32_t> kFunnel{4, 5, 7, 8, 9};

bool skip_without_gpu(benchmark::State& state, jm::Backend backend) {
  if (backend == jm::Backend::Gpu && !jm::gpu_available()) {
    state.SkipWithError("no CUDA device");
    return true;
  }
  return false;
}

jm::Context context_for(jm::Backend backend) {
  return jm::make_context(backend == jm::Backend::Gpu ? jm::DeviceChoice::Gpu : jm::DeviceChoice::Cpu);
}

void flows_counting(benchmark::State& state, jm::Backend backend) {
  if (skip_without_gpu(state, backend)) return;
  const jm::JourneySet& js = cached_journeys(state.range(0));
  const jm::Context ctx = context_for(backend);
  for (auto _ : state) {
    jm::FlowCounts counts = backend == jm::Backend::Gpu ? jm::cuda_impl::count_flows(ctx, js, 6, 0.02, kFunnel)
                                                        : jm::cpu_impl::count_flows(ctx, js, 6, 0.02, kFunnel);
    benchmark::DoNotOptimize(counts.counters.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["events"] = static_cast<double>(js.num_events());
  state.counters["threads"] = ctx.num_threads;
}

void flows_end_to_end(benchmark::State& state, jm::Backend backend) {
  if (skip_without_gpu(state, backend)) return;
  const jm::JourneySet& js = cached_journeys(state.range(0));
  const jm::Context ctx = context_for(backend);
  for (auto _ : state) {
    jm::FlowResult flows = jm::compute_flows(ctx, js, jm::FlowOptions{});
    benchmark::DoNotOptimize(flows.transitions.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["threads"] = ctx.num_threads;
}

void attribution(benchmark::State& state) {
  const jm::JourneySet& js = cached_journeys(state.range(0));
  const jm::Context ctx = context_for(jm::Backend::Cpu);
  for (auto _ : state) {
    jm::AttributionResult credit = jm::compute_attribution(ctx, js, jm::AttributionOptions{});
    benchmark::DoNotOptimize(credit.by_channel.markov.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["threads"] = ctx.num_threads;
}

void sizes(benchmark::internal::Benchmark* b) {
  b->Arg(1'000'000)->Unit(benchmark::kMillisecond)->UseRealTime();
  if (std::getenv("JM_BENCH_LARGE")) b->Arg(10'000'000);
}

BENCHMARK_CAPTURE(flows_counting, cpu, jm::Backend::Cpu)->Apply(sizes);
BENCHMARK_CAPTURE(flows_counting, gpu_with_transfers, jm::Backend::Gpu)->Apply(sizes);
BENCHMARK_CAPTURE(flows_end_to_end, cpu, jm::Backend::Cpu)->Apply(sizes);
BENCHMARK_CAPTURE(flows_end_to_end, gpu, jm::Backend::Gpu)->Apply(sizes);
BENCHMARK(attribution)->Apply(sizes);

}  // namespace

BENCHMARK_MAIN();
