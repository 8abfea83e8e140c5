// Ingest throughput (MB/s and rows/s) on generated journey logs of about 1M and 10M events, with 1
// thread and with every hardware thread: CSV, and Parquet holding the same events (written from the
// CSV once). The files are generated once into $TMPDIR/journeymap-bench (reused by later runs).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <thread>

#include "journeymap/export.hpp"
#include "journeymap/generate.hpp"
#include "journeymap/ingest.hpp"

namespace {

std::string generated_csv(int64_t approx_events) {
  const auto dir = std::filesystem::temp_directory_path() / "journeymap-bench";
  std::filesystem::create_directories(dir);
  const auto path = dir / ("events_" + std::to_string(approx_events) + ".csv");
  if (!std::filesystem::exists(path)) {
    jm::GeneratorOptions options;
    options.journeys = approx_events / 10;  // the generator averages roughly ten events a journey
    options.seed = 7;
    jm::generate_dataset(options, path.string());
  }
  return path.string();
}

void csv_ingest(benchmark::State& state) {
  const std::string path = generated_csv(state.range(0));
  jm::CsvOptions options;
  options.num_threads = static_cast<int>(state.range(1));
  int64_t rows = 0;
  uint64_t bytes = 0;
  for (auto _ : state) {
    jm::IngestResult result = jm::read_events_csv(path, options);
    rows = result.rows_read;
    bytes = result.file_bytes;
    benchmark::DoNotOptimize(result.events.customer.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.SetItemsProcessed(state.iterations() * rows);
  state.counters["rows"] = static_cast<double>(rows);
}

std::string generated_parquet(int64_t approx_events) {
  const std::string csv = generated_csv(approx_events);
  const std::string path = csv.substr(0, csv.size() - 4) + ".parquet";
  if (!std::filesystem::exists(path)) jm::write_table_parquet(jm::event_table(jm::read_events_csv(csv, {}).events), path);
  return path;
}

void parquet_ingest(benchmark::State& state) {
  if (!jm::parquet_export_available()) {
    state.SkipWithError("this build has no Apache Arrow");
    return;
  }
  const std::string path = generated_parquet(state.range(0));
  jm::CsvOptions options;
  options.num_threads = static_cast<int>(state.range(1));
  int64_t rows = 0;
  for (auto _ : state) {
    jm::IngestResult result = jm::read_events_parquet(path, options);
    rows = result.rows_read;
    benchmark::DoNotOptimize(result.events.customer.data());
  }
  state.SetItemsProcessed(state.iterations() * rows);
  state.counters["rows"] = static_cast<double>(rows);
}

const int kAllThreads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

BENCHMARK(csv_ingest)
    ->ArgNames({"events", "threads"})
    ->Args({1'000'000, 1})
    ->Args({1'000'000, kAllThreads})
    ->Args({10'000'000, kAllThreads})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK(parquet_ingest)
    ->ArgNames({"events", "threads"})
    ->Args({1'000'000, 1})
    ->Args({1'000'000, kAllThreads})
    ->Args({10'000'000, kAllThreads})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
