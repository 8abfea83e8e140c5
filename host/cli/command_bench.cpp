#include "host/cli/command_bench.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "host/core/build_info.hpp"
#include "host/core/gpu_runtime.hpp"
#include "journeymap/common.hpp"
#include "journeymap/generate.hpp"
#include "journeymap/pipeline.hpp"
#include "journeymap/run_config.hpp"

namespace jm {
namespace {

struct BenchOptions {
  std::vector<int64_t> journeys;     // generated sizes
  std::vector<std::string> inputs;   // event files used as they are
  std::vector<std::string> cases;    // TOML run configurations, each naming its input file
  std::string config_file;
  std::string device = "auto";
  int threads = 0;
  uint64_t seed = 20260105;
  std::string work_dir;              // default: a folder under the system temp folder
  std::string output = "out/bench.json";
};

// Peak resident memory of this process so far, in bytes (Linux reports KiB).
int64_t peak_host_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;
}

// Device memory after a GPU case: our buffers' peak (RMM counts) and the device's use as the
// driver sees it (RMM's pool reserve, XGBoost's and cuBLAS's memory, CUDA contexts).
nlohmann::json device_memory_json(const std::string& backend) {
  if (backend != "gpu") return nullptr;
  const cuda_impl::DeviceMemoryUse use = cuda_impl::device_memory_use(0);
  if (!use.initialised) return nullptr;
  return {{"peak_allocated_bytes_so_far", use.peak_allocated_bytes},
          {"allocated_bytes_after", use.allocated_bytes},
          {"device_used_bytes_after", use.used_bytes},
          {"device_total_bytes", use.total_bytes}};
}

nlohmann::json run_case(const RunConfig& base, const std::string& label, const std::string& input,
                        const std::filesystem::path& work_dir, double generate_seconds) {
  RunConfig config = base;
  config.input_path = input;
  config.output_path = (work_dir / (label + ".h5")).string();
  config.progress = false;
  const auto start = std::chrono::steady_clock::now();
  const RunReport report = run_pipeline(config);
  // Wall clock of the whole run: the stage times plus anything between them.
  const double wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::filesystem::remove(config.output_path);

  nlohmann::json stages = nlohmann::json::array();
  double total = 0;
  // Rates per event kept in journeys (an SPMF line is one sequence of many events).
  const auto events = static_cast<double>(report.summary.events);
  // Host<->device bytes as the GPU context counted them; null on the CPU, which moves none.
  const bool on_gpu = report.backend == "gpu";
  const auto bytes_or_null = [&](int64_t bytes) { return on_gpu ? nlohmann::json(bytes) : nlohmann::json(); };
  int64_t uploaded_total = 0, downloaded_total = 0;
  for (size_t i = 0; i < report.stage_seconds.size(); ++i) {
    const auto& [stage, seconds] = report.stage_seconds[i];
    const TransferStats copied = i < report.stage_transfers.size() ? report.stage_transfers[i] : TransferStats{};
    uploaded_total += copied.host_to_device_bytes;
    downloaded_total += copied.device_to_host_bytes;
    nlohmann::json steps = nlohmann::json::array();
    if (i < report.stage_steps.size())
      for (const auto& [step, step_seconds] : report.stage_steps[i]) steps.push_back({{"step", step}, {"seconds", step_seconds}});
    stages.push_back({{"stage", stage},
                      {"steps", steps},
                      {"seconds", seconds},
                      {"events_per_second", seconds > 0 ? nlohmann::json(events / seconds) : nlohmann::json()},
                      {"host_to_device_bytes", bytes_or_null(copied.host_to_device_bytes)},
                      {"device_to_host_bytes", bytes_or_null(copied.device_to_host_bytes)}});
    total += seconds;
  }
  return {{"case", label},
          {"input", input},
          {"input_bytes", report.input_bytes},
          {"input_rows", report.rows_read},
          {"events", report.summary.events},
          {"journeys", report.summary.journeys},
          {"backend", report.backend},
          {"generate_seconds", generate_seconds},
          {"stages", stages},
          {"total_seconds", total},
          {"wall_seconds", wall_seconds},
          {"total_excluding_ingest_seconds", total - (report.stage_seconds.empty() ? 0.0 : report.stage_seconds[0].second)},
          {"peak_host_bytes_so_far", peak_host_bytes()},
          {"host_to_device_bytes", bytes_or_null(uploaded_total)},
          {"device_to_host_bytes", bytes_or_null(downloaded_total)},
          {"device_memory", device_memory_json(report.backend)}};
}

// One line per stage under a case's total: "      model   12.34 s  (leakage guard 1.20 s, ...)".
void print_stages(const nlohmann::json& timed_case) {
  for (const auto& stage : timed_case["stages"]) {
    std::string steps;
    for (const auto& step : stage["steps"])
      steps += fmt::format("{}{} {:.2f} s", steps.empty() ? "  (" : ", ", step["step"].get<std::string>(),
                           step["seconds"].get<double>());
    std::cout << fmt::format("{:>20} {:>8.2f} s{}\n", stage["stage"].get<std::string>(), stage["seconds"].get<double>(),
                             steps.empty() ? steps : steps + ")");
  }
}

int run_bench(const BenchOptions& options) {
  if (options.journeys.empty() && options.inputs.empty() && options.cases.empty())
    throw ConfigError("bench: give at least one --journeys N, --input FILE or --case CONFIG.toml");
  RunConfig base;
  if (!options.config_file.empty()) apply_config_file(options.config_file, base);
  base.device = parse_device_choice(options.device);
  base.threads = options.threads;

  const std::filesystem::path work_dir =
      options.work_dir.empty() ? std::filesystem::temp_directory_path() / ("journeymap-bench." + std::to_string(::getpid()))
                               : std::filesystem::path(options.work_dir);
  std::filesystem::create_directories(work_dir);
  const auto output_dir = std::filesystem::path(options.output).parent_path();
  if (!output_dir.empty()) std::filesystem::create_directories(output_dir);

  nlohmann::json cases = nlohmann::json::array();
  for (const int64_t n : options.journeys) {
    GeneratorOptions generator;
    generator.journeys = n;
    generator.seed = options.seed;
    generator.num_threads = options.threads;
    const std::string csv = (work_dir / ("generated_" + std::to_string(n) + ".csv")).string();
    const auto start = std::chrono::steady_clock::now();
    generate_dataset(generator, csv);
    const double generate_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    RunConfig config = base;
    // The generated journeys are recovered exactly with this gap (see generate.hpp).
    if (config.journeys.session_gap_seconds == 0) config.journeys.session_gap_seconds = kGeneratedJourneyGapSeconds;
    cases.push_back(run_case(config, "generated_" + std::to_string(n), csv, work_dir, generate_seconds));
    for (const auto& path : {csv, truth_json_path_for(csv), truth_csv_path_for(csv)}) std::filesystem::remove(path);
    const auto& last = cases.back();
    std::cout << fmt::format("{:>12} journeys {:>12} events  {:>8.2f} s ({} backend; {:.2f} s without ingest)\n", n,
                             last["events"].get<int64_t>(), last["total_seconds"].get<double>(),
                             last["backend"].get<std::string>(), last["total_excluding_ingest_seconds"].get<double>());
    print_stages(last);
  }
  // A file case (given input or case config) is named by its file's stem.
  auto time_file_case = [&](const RunConfig& config, const std::string& named_by) {
    const std::string label = std::filesystem::path(named_by).stem().string();
    cases.push_back(run_case(config, label, config.input_path, work_dir, 0.0));
    std::cout << fmt::format("{:>12} {:>21} events  {:>8.2f} s\n", label, cases.back()["events"].get<int64_t>(),
                             cases.back()["total_seconds"].get<double>());
    print_stages(cases.back());
  };
  for (const std::string& input : options.inputs) {
    RunConfig config = base;
    config.input_path = input;
    time_file_case(config, input);
  }
  for (const std::string& case_file : options.cases) {
    RunConfig config = base;
    apply_config_file(case_file, config);
    config.device = base.device;    // the command line's device and threads hold for every case
    config.threads = base.threads;
    if (config.input_path.empty()) throw ConfigError(case_file + ": [input] path is missing");
    time_file_case(config, case_file);
  }
  if (options.work_dir.empty()) std::filesystem::remove_all(work_dir);

  const nlohmann::json result{{"journeymap", build_info()}, {"cases", cases}};
  const std::string temp = options.output + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temp);
    out << result.dump(2) << "\n";
    if (!out) throw Error("cannot write " + temp);
  }
  std::filesystem::rename(temp, options.output);
  std::cout << "written: " << options.output << "\n";
  return 0;
}

}  // namespace

CLI::App* add_bench_command(CLI::App& app, std::function<int()>& handler) {
  auto options = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand("bench", "Time the whole pipeline per stage on generated journeys or given files");
  cmd->add_option("--journeys", options->journeys, "Generated sizes (repeatable), e.g. --journeys 1000000");
  cmd->add_option("--input", options->inputs, "Event files to time as they are (repeatable)");
  cmd->add_option("--case", options->cases,
                  "TOML run configurations, each with its [input] path and options (repeatable), "
                  "e.g. bench/datasets/*.toml");
  cmd->add_option("--config", options->config_file, "TOML configuration of the run (stages, options)");
  cmd->add_option("--device", options->device, "auto | cpu | gpu")->capture_default_str();
  cmd->add_option("--threads", options->threads, "CPU worker threads (0 = all)");
  cmd->add_option("--seed", options->seed, "Generator seed")->capture_default_str();
  cmd->add_option("--work-dir", options->work_dir, "Folder for generated files (default: a temporary one)");
  cmd->add_option("--out", options->output, "JSON file to write")->capture_default_str();
  cmd->callback([options, &handler] { handler = [options] { return run_bench(*options); }; });
  return cmd;
}

}  // namespace jm
