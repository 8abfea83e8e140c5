// PrefixSpan throughput on the public SPMF datasets and generated journeys, CPU (1 and 2 threads)
// and GPU side by side. Counters: journeys, patterns, peak resident memory of the process so far.
//
//   bench_patterns                                   # every dataset found, every support
//   bench_patterns --benchmark_filter='MSNBC'        # one dataset
//   JM_BENCH_GENERATED=1000000 bench_patterns        # also 1M generated journeys
//   bench_patterns --mine FILE MIN_SUPPORT [cpu|gpu] [THREADS] [OUT|-] [SESSION_GAP_SECONDS]
//        one timed run; writes "<support>\t<items>" lines like scripts/prefixspan_reference.py
//        (used by scripts/bench_prefixspan_peers.py) and "seconds=... patterns=..." on stderr
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "journeymap/generate.hpp"
#include "journeymap/ingest.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/patterns.hpp"

namespace {

#ifndef JM_SHARED_DATA_DIR
#define JM_SHARED_DATA_DIR "../shared/data"
#endif

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

jm::JourneySet load_journeys(const std::string& path, double session_gap_seconds) {
  jm::CsvOptions csv;
  const jm::IngestResult ingest = jm::read_events(path, csv);
  jm::JourneyOptions options;
  options.session_gap_seconds = session_gap_seconds;
  return jm::build_journeys(jm::Context{}, ingest.events, options);
}

// Journey sets are loaded once per process and shared by the benchmarks of a dataset.
const jm::JourneySet& cached(const std::string& path, double session_gap_seconds = 0.0) {
  static std::map<std::string, std::unique_ptr<jm::JourneySet>> cache;
  auto& slot = cache[path];
  if (!slot) slot = std::make_unique<jm::JourneySet>(load_journeys(path, session_gap_seconds));
  return *slot;
}

void run_mining(benchmark::State& state, const std::string& path, double min_support, jm::Backend backend,
                int threads, double session_gap_seconds) {
  const jm::JourneySet& journeys = cached(path, session_gap_seconds);
  const jm::Context ctx = jm::make_context(backend, threads);
  jm::PatternOptions options;
  options.min_support = jm::MinSupport::fraction(min_support);
  int64_t patterns = 0;
  for (auto _ : state) {
    const jm::PatternResult result = jm::mine_patterns(ctx, journeys, options);
    patterns = result.size();
    benchmark::DoNotOptimize(patterns);
  }
  state.counters["journeys"] = static_cast<double>(journeys.size());
  state.counters["patterns"] = static_cast<double>(patterns);
  state.counters["peak_rss_MiB"] = peak_rss_mib();
  state.SetItemsProcessed(state.iterations() * journeys.num_events());
}

struct Dataset {
  const char* name;
  const char* file;
  std::vector<double> min_supports;
};

void register_all() {
  const std::vector<Dataset> datasets = {
      {"BMS1", "bms1/BMS1_spmf.txt", {0.002, 0.001}},
      {"BMS2", "bms2/BMS2.txt", {0.002, 0.001}},
      {"Kosarak10k", "kosarak10k/KOSARAK10K.txt", {0.005, 0.002}},
      {"FIFA", "fifa/FIFA.txt", {0.2, 0.15}},
      {"MSNBC", "msnbc/MSNBC.txt", {0.01, 0.005}},
      {"SIGN", "sign/SIGN.txt", {0.4, 0.3}},
  };
  std::vector<jm::Backend> backends = {jm::Backend::Cpu};
  if (jm::gpu_available()) backends.push_back(jm::Backend::Gpu);

  auto register_case = [&](const std::string& name, const std::string& path, double min_support, double gap) {
    for (jm::Backend backend : backends)
      for (int threads : {1, 2}) {
        if (backend == jm::Backend::Gpu && threads != 1) continue;
        const std::string label = name + "/minsup:" + std::to_string(min_support).substr(0, 7) + "/" +
                                  jm::to_string(backend) +
                                  (backend == jm::Backend::Cpu ? "/threads:" + std::to_string(threads) : "");
        benchmark::RegisterBenchmark(label.c_str(), [=](benchmark::State& state) {
          run_mining(state, path, min_support, backend, threads, gap);
        })->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.5);
      }
  };
  for (const Dataset& dataset : datasets) {
    const auto path = std::filesystem::path(JM_SHARED_DATA_DIR) / dataset.file;
    if (!std::filesystem::exists(path)) continue;
    for (double min_support : dataset.min_supports) register_case(dataset.name, path.string(), min_support, 0.0);
  }
  // Generated journeys (1M, 10M, ...): JM_BENCH_GENERATED=<journeys>, written once under /tmp.
  if (const char* generated = std::getenv("JM_BENCH_GENERATED")) {
    const int64_t n = std::atoll(generated);
    const std::string csv = "/tmp/jm_bench_patterns_" + std::to_string(n) + ".csv";
    if (!std::filesystem::exists(csv)) {
      jm::GeneratorOptions options;
      options.journeys = n;
      jm::generate_dataset(options, csv);
    }
    for (double min_support : {0.05, 0.02})
      register_case("Generated" + std::to_string(n), csv, min_support, jm::kGeneratedJourneyGapSeconds);
  }
}

// One timed run for the side-by-side script.
int mine_once(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s --mine FILE MIN_SUPPORT [cpu|gpu] [THREADS] [OUT|-] [SESSION_GAP_SECONDS]\n",
                 argv[0]);
    return 2;
  }
  const std::string path = argv[2];
  jm::PatternOptions options;
  options.min_support = jm::MinSupport::parse(argv[3]);
  const jm::Context ctx = jm::make_context(argc > 4 && std::string(argv[4]) == "gpu" ? jm::Backend::Gpu : jm::Backend::Cpu,
                                          argc > 5 ? std::atoi(argv[5]) : 1);
  const std::string out_path = argc > 6 ? argv[6] : "-";
  const jm::JourneySet journeys = load_journeys(path, argc > 7 ? std::atof(argv[7]) : 0.0);
  const auto start = std::chrono::steady_clock::now();
  const jm::PatternResult result = jm::mine_patterns(ctx, journeys, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "seconds=%.6f patterns=%lld min_count=%lld peak_rss_MiB=%.1f\n", seconds,
               static_cast<long long>(result.size()), static_cast<long long>(result.min_support_count),
               peak_rss_mib());
  std::ofstream file;
  if (out_path != "-") file.open(out_path);
  std::ostream& out = out_path == "-" ? std::cout : file;
  for (int64_t p = 0; p < result.size(); ++p) {
    out << result.support[p] << '\t';
    for (int64_t i = result.offsets[p]; i < result.offsets[p + 1]; ++i)
      out << (i > result.offsets[p] ? " " : "") << journeys.touchpoints.name(result.items[i]);
    out << '\n';
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--mine") {
    try {
      return mine_once(argc, argv);
    } catch (const std::exception& error) {
      std::fprintf(stderr, "bench_patterns: %s\n", error.what());
      return 1;
    }
  }
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
