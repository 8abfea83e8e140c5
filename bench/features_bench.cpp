// Feature extraction throughput (journeys/s) on synthetic journeys (4-24 events, 13 touchpoints,
// 6 channels): CPU backend, and in CUDA builds the GPU backend end to end (upload of the CSR,
// kernel, download of the matrix). 1M journeys by default, 10M with JM_BENCH_LARGE=1.
// `one_long_journey`: a single customer with 100k and 1M events (events/s), the hostile shape the
// formulas must stay linear on: the two sizes should run at about the same events/s.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "journeymap/features.hpp"

namespace {

const jm::JourneySet& cached_journeys(int64_t n_journeys) {
  static std::map<int64_t, std::unique_ptr<jm::JourneySet>> cache;
  auto& slot = cache[n_journeys];
  if (slot) return *slot;
  slot = std::make_unique<jm::JourneySet>();
  jm::JourneySet& js = *slot;
  for (int t = 0; t < 13; ++t) js.touchpoints.encode("tp" + std::to_string(t));
  for (int c = 0; c < 6; ++c) js.channels.encode("ch" + std::to_string(c));
  std::mt19937_64 rng(1);
  js.offsets.push_back(0);
  int64_t time = 1'700'000'000'000;
  for (int64_t j = 0; j < n_journeys; ++j) {
    const int length = 4 + static_cast<int>(rng() % 21);
    const bool converted = rng() % 4 == 0;
    js.start_ms.push_back(time);
    for (int e = 0; e < length; ++e) {
      js.touchpoint.push_back(static_cast<int32_t>(rng() % 13));
      js.channel.push_back(static_cast<int32_t>(rng() % 6));
      js.timestamp_ms.push_back(time);
      js.value.push_back(0.0f);
      time += 1000 + static_cast<int64_t>(rng() % 120000);
    }
    js.end_ms.push_back(js.timestamp_ms.back());
    js.offsets.push_back(static_cast<int64_t>(js.touchpoint.size()));
    js.customer.push_back(static_cast<uint32_t>(j / 2));
    js.converted.push_back(converted ? 1 : 0);
    js.conversion_value.push_back(0.0f);
  }
  for (int64_t c = 0; c < (n_journeys + 1) / 2; ++c) js.customers.encode("c" + std::to_string(c));
  return js;
}

void extract(benchmark::State& state, jm::Backend backend) {
  if (backend == jm::Backend::Gpu && !jm::gpu_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const jm::JourneySet& journeys = cached_journeys(state.range(0));
  const jm::Context ctx = jm::make_context(backend == jm::Backend::Gpu ? jm::DeviceChoice::Gpu : jm::DeviceChoice::Cpu);
  const jm::FeatureSpec spec = jm::fit_feature_spec(journeys, jm::FeatureOptions{});
  for (auto _ : state) {
    jm::FeatureMatrix m = jm::extract_features(ctx, journeys, spec);
    benchmark::DoNotOptimize(m.values.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["features"] = static_cast<double>(spec.num_features());
  state.counters["threads"] = ctx.num_threads;
}

void sizes(benchmark::internal::Benchmark* b) {
  b->Arg(1'000'000)->Unit(benchmark::kMillisecond)->UseRealTime();
  if (std::getenv("JM_BENCH_LARGE")) b->Arg(10'000'000);
}

// One journey of `n_events` events over 50 touchpoints and 3 channels, 1-20 s apart.
jm::JourneySet one_long_journey(int64_t n_events) {
  jm::JourneySet js;
  for (int t = 0; t < 50; ++t) js.touchpoints.encode("tp" + std::to_string(t));
  for (int c = 0; c < 3; ++c) js.channels.encode("ch" + std::to_string(c));
  js.customers.encode("c");
  std::mt19937_64 rng(2);
  int64_t time = 1'700'000'000'000;
  for (int64_t e = 0; e < n_events; ++e) {
    js.touchpoint.push_back(static_cast<int32_t>(rng() % 50));
    js.channel.push_back(static_cast<int32_t>(rng() % 3));
    js.timestamp_ms.push_back(time);
    js.value.push_back(0.0f);
    time += 1000 + static_cast<int64_t>(rng() % 19000);
  }
  js.offsets = {0, n_events};
  js.customer = {0};
  js.converted = {0};
  js.conversion_value = {0.0f};
  js.start_ms = {js.timestamp_ms.front()};
  js.end_ms = {js.timestamp_ms.back()};
  return js;
}

void one_long_journey_cpu(benchmark::State& state) {
  const jm::JourneySet journeys = one_long_journey(state.range(0));
  const jm::Context ctx = jm::make_context(jm::DeviceChoice::Cpu);
  const jm::FeatureSpec spec = jm::fit_feature_spec(journeys, jm::FeatureOptions{});
  for (auto _ : state) {
    jm::FeatureMatrix m = jm::extract_features(ctx, journeys, spec);
    benchmark::DoNotOptimize(m.values.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

BENCHMARK_CAPTURE(extract, cpu, jm::Backend::Cpu)->Apply(sizes);
BENCHMARK(one_long_journey_cpu)->Arg(100'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(extract, gpu_with_transfers, jm::Backend::Gpu)->Apply(sizes);

}  // namespace

BENCHMARK_MAIN();
