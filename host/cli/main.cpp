// `journeymap`: command-line entry. Subcommands: generate, run, info; `--version`.
// Exit codes: 0 success, 1 bad input or runtime failure, 2 bad usage or configuration.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fmt/format.h>
#include <iostream>
#include <list>

#include "host/cli/command_bench.hpp"
#include "host/cli/command_detect.hpp"
#include "host/cli/command_flows.hpp"
#include "host/cli/command_mine.hpp"
#include "host/cli/command_monitor.hpp"
#include "host/cli/command_export.hpp"
#include "host/cli/command_report.hpp"
#include "host/cli/command_score.hpp"
#include "host/cli/command_segment.hpp"
#include "host/cli/command_bandit.hpp"
#include "host/cli/command_experiment.hpp"
#include "host/cli/command_train.hpp"
#include "host/cli/input_flags.hpp"
#include "host/core/build_info.hpp"
#include "host/core/temp_files.hpp"
#include "host/distributed/process_group.hpp"
#include "journeymap/common.hpp"
#include "journeymap/generate.hpp"
#include "journeymap/pipeline.hpp"
#include "journeymap/run_config.hpp"
#include "journeymap/timestamp.hpp"

namespace {

// Flags of `run` beyond the shared input flags; only flags actually given override the TOML file.
struct RunFlags {
  jm::InputFlags input;
  std::string output, device;
  int threads = -1;
  bool quiet = false, strict = false;
  std::string from, to, compare_a, compare_b;
  std::vector<std::string> channels;
  std::string append, base;  ///< --append NEW --base RESULT.h5
  std::string memory_budget;  ///< --memory-budget
  std::string device_memory_budget;  ///< --device-memory-budget
};

int64_t parse_flag_time(const std::string& flag, const std::string& text) {
  const std::optional<int64_t> ms = jm::parse_timestamp(text);
  if (!ms) throw jm::ConfigError(flag + " is not a timestamp: '" + text + "' (e.g. 2026-03-01 or 2026-03-01T12:00:00Z)");
  return *ms;
}

// "FROM..TO" of --compare-a / --compare-b.
jm::Period parse_flag_period(const std::string& flag, const std::string& text) {
  const size_t dots = text.find("..");
  if (dots == std::string::npos) throw jm::ConfigError(flag + " must be FROM..TO (got '" + text + "')");
  return jm::Period{parse_flag_time(flag, text.substr(0, dots)), parse_flag_time(flag, text.substr(dots + 2))};
}

jm::RunConfig resolve_run_config(const RunFlags& flags) {
  jm::RunConfig config = jm::resolve_input_flags(flags.input);
  if (!flags.output.empty()) config.output_path = flags.output;
  if (!flags.device.empty()) config.device = jm::parse_device_choice(flags.device);
  if (flags.threads >= 0) config.threads = flags.threads;
  if (flags.quiet) config.progress = false;
  if (flags.strict) config.model.strict_leakage = true;
  if (!flags.from.empty()) {
    config.filter.from_ms = parse_flag_time("--from", flags.from);
    config.filter.has_from = true;
  }
  if (!flags.to.empty()) {
    config.filter.to_ms = parse_flag_time("--to", flags.to);
    config.filter.has_to = true;
  }
  if (!flags.channels.empty()) config.filter.channels = flags.channels;
  if (flags.compare_a.empty() != flags.compare_b.empty())
    throw jm::ConfigError("--compare-a and --compare-b go together");
  if (!flags.compare_a.empty()) {
    config.compare.a = parse_flag_period("--compare-a", flags.compare_a);
    config.compare.b = parse_flag_period("--compare-b", flags.compare_b);
    config.compare_enabled = true;
  }
  if (!flags.memory_budget.empty())
    config.host_memory_budget = jm::parse_memory_size(flags.memory_budget, "--memory-budget");
  if (!flags.device_memory_budget.empty())
    config.device_memory_budget = jm::parse_memory_size(flags.device_memory_budget, "--device-memory-budget");
  if (flags.append.empty() != flags.base.empty()) throw jm::ConfigError("--append and --base go together");
  if (!flags.append.empty()) {
    if (!flags.input.input.empty()) throw jm::ConfigError("--append names the new events: give it instead of --input");
    config.input_path = flags.append;
    config.append_base = flags.base;
  }
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  jm::install_temp_file_cleanup();  // a signal never leaves <target>.tmp.<pid> behind
  CLI::App app{"journeymap: GPU-accelerated customer journey analytics"};
  app.require_subcommand(0, 1);
  bool show_version = false;
  app.add_flag("--version", show_version, "Print version, build configuration and GPU support");
  bool show_libraries = false;
  app.add_flag("--libraries", show_libraries,
               "Like --version, then load the libraries opened on first use (OpenBLAS, XGBoost, the Parquet "
               "writer, cuBLAS) and say where each was found; exit 1 when one cannot be loaded");

  // generate
  jm::GeneratorOptions generator;
  std::string generate_out = "data/events.csv";
  CLI::App* generate = app.add_subcommand("generate", "Write a synthetic omnichannel dataset with ground truth");
  generate->add_option("--journeys", generator.journeys, "Number of journeys")->capture_default_str();
  generate->add_option("--seed", generator.seed, "Random seed (same seed, same bytes)")->capture_default_str();
  generate->add_option("--out", generate_out, "Events CSV to write (truth files go beside it)")->capture_default_str();
  generate->add_option("--threads", generator.num_threads, "Worker threads (0 = all)");
  generate->add_option("--days", generator.days, "Length of the observed period in days")->capture_default_str();
  generate->add_option("--start-date", generator.start_date, "First day (YYYY-MM-DD)")->capture_default_str();
  CLI::Option* spike_day =
      generate->add_option("--spike-day", generator.spike_day,
                           "Day index of the checkout-abandonment spike (-1: none; default 60, or two thirds into "
                           "a shorter period)")
          ->capture_default_str();
  generate->add_option("--anomaly-fraction", generator.anomaly_fraction, "Share of anomalous journeys")
      ->capture_default_str();
  generate->add_option("--experiment-day", generator.experiment_day,
                       "Plant an A/B test (variant column) from this day index on (-1: none); see the truth file")
      ->capture_default_str();
  generate->add_option("--drift-day", generator.drift_day,
                       "Plant drift from this day index on: journeys move from web to app (-1: none)")
      ->capture_default_str();
  generate->add_flag("--weekly-pattern", generator.weekly_pattern,
                     "Plant a weekly pattern: fewer journeys start at weekends (see the truth file)");
  generate->add_option("--campaign-day", generator.campaign_day,
                       "Plant a campaign from this day index on (-1: none); X.covariates.csv lists it per day")
      ->capture_default_str();
  generate->add_option("--campaign-days", generator.campaign_days, "Length of the campaign in days")->capture_default_str();
  generate->add_option("--campaign-lift", generator.campaign_lift, "Extra journey starts during the campaign (0.5: +50%)")
      ->capture_default_str();
  generate->add_option("--outage-day", generator.outage_day, "Plant an outage from this day index on: no journey starts (-1: none)")
      ->capture_default_str();
  generate->add_option("--outage-days", generator.outage_days, "Length of the outage in days")->capture_default_str();
  generate->add_flag("--checkout-offers", generator.checkout_offers,
                     "Plant logged checkout offers (offer, offer_propensity columns) for `journeymap bandit`");
  std::string sources_folder;
  bool shared_ids = false;
  generate->add_option("--sources", sources_folder,
                       "Also split the events into web, app, email and CRM files keyed by different ids, with an "
                       "identity file, the true id map and sources.toml, in this folder");
  generate->add_flag("--shared-ids", shared_ids, "With --sources: plant placeholder ids shared by many customers");

  // run
  RunFlags flags;
  CLI::App* run = app.add_subcommand("run", "Run the pipeline on an events file and write the HDF5 result");
  jm::add_input_flags(run, flags.input);
  run->add_option("--out", flags.output, "HDF5 result to write (default out/journeymap.h5)");
  run->add_option("--device", flags.device, "auto | cpu | gpu");
  run->add_option("--threads", flags.threads, "CPU worker threads (0 = all)");
  run->add_flag("--strict", flags.strict, "Leakage warnings are errors");
  run->add_flag("--quiet", flags.quiet, "No progress lines on stderr");
  run->add_option("--from", flags.from, "Keep events at or after this time ([filter] from)");
  run->add_option("--to", flags.to, "Keep events before this time ([filter] to)");
  run->add_option("--channel", flags.channels, "Keep touches on this channel (repeatable; outcomes are kept)");
  run->add_option("--compare-a", flags.compare_a, "Period a of a comparison, FROM..TO of journey starts");
  run->add_option("--compare-b", flags.compare_b, "Period b of a comparison, FROM..TO of journey starts");
  run->add_option("--append", flags.append,
                  "New events to add to the result given by --base (same configuration; history not read again)");
  run->add_option("--base", flags.base, "Earlier result of `journeymap run` that --append continues");
  run->add_option("--memory-budget", flags.memory_budget,
                  "Run in batches of customers that fit this much host memory, e.g. 4GiB ([run] host_memory_budget)");
  run->add_option("--device-memory-budget", flags.device_memory_budget,
                  "Run in batches of customers that fit this much GPU memory, e.g. 8GiB ([run] device_memory_budget)");

  // info
  std::string info_path;
  CLI::App* info = app.add_subcommand("info", "Summarise an HDF5 result file");
  info->add_option("result", info_path, "HDF5 file written by journeymap run")->required();

  // Analysis subcommands, each registered by its module.
  struct ModuleCommand {
    CLI::App* command = nullptr;
    std::function<int()> handler;
  };
  std::list<ModuleCommand> module_commands;  // a list: handlers keep their address while it grows
  auto add_module_command = [&](auto add_command) {
    ModuleCommand& entry = module_commands.emplace_back();
    entry.command = add_command(app, entry.handler);
  };
  add_module_command(jm::add_patterns_command);
  add_module_command(jm::add_segment_command);
  add_module_command(jm::add_experiment_command);
  add_module_command(jm::add_bandit_command);
  add_module_command(jm::add_flows_command);
  add_module_command(jm::add_train_command);
  add_module_command(jm::add_score_command);
  add_module_command(jm::add_monitor_command);
  add_module_command(jm::add_detect_command);
  add_module_command(jm::add_report_command);
  add_module_command(jm::add_export_command);
  add_module_command(jm::add_bench_command);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : 2;
  }

  try {
    if (show_version || show_libraries) {
      std::cout << jm::build_info();
      if (!show_libraries) return 0;
      bool all_loaded = false;
      std::cout << jm::library_report(&all_loaded);
      return all_loaded ? 0 : 1;
    }
    // Every process of a launch runs this same command line: a command that does not share its
    // work would run whole in each process, all writing the same files.
    if (jm::process_group_detail::launcher_world_size() > 1) {
      bool shared = run->parsed();
      for (const ModuleCommand& entry : module_commands) shared |= entry.command->parsed() && entry.command->get_name() == "mine";
      if (!shared)
        throw jm::ConfigError("started by an MPI launcher as one of several processes: only `journeymap run` and "
                              "`journeymap mine` run across processes so far; start other commands as one process");
    }
    if (generate->parsed()) {
      // The default spike day must fall inside a period the user shortened.
      if (spike_day->count() == 0 && generator.spike_day >= generator.days) generator.spike_day = generator.days * 2 / 3;
      const jm::GeneratorSummary summary = jm::generate_dataset(generator, generate_out);
      std::cout << fmt::format(
          "generated {} journeys, {} events, {} customers ({} conversions, {} planted anomalies)\n"
          "  events: {}\n  truth:  {}\n          {}\n",
          summary.journeys, summary.events, summary.customers, summary.conversions, summary.anomalies,
          summary.csv_path, summary.truth_json_path, summary.truth_csv_path);
      if (!summary.covariates_path.empty()) std::cout << "  covariates: " << summary.covariates_path << "\n";
      if (shared_ids && sources_folder.empty()) throw jm::ConfigError("--shared-ids needs --sources FOLDER");
      if (!sources_folder.empty()) {
        const jm::MultiSourceSummary split =
            jm::split_into_sources(summary.csv_path, sources_folder, generator.seed, shared_ids);
        std::cout << fmt::format(
            "  sources: {} (web {} events, app {}, email {}, crm {}; {} identity pairs)\n  run:    journeymap run "
            "--config {}\n",
            split.folder, split.events[0], split.events[1], split.events[2], split.events[3], split.identity_pairs,
            split.config_path);
      }
      return 0;
    }
    if (run->parsed()) {
      if (run->count("--out") > 0 && flags.output.empty()) throw jm::ConfigError("--out is empty");
      const jm::RunReport report = jm::run_pipeline(resolve_run_config(flags));
      // Across processes, process 0 speaks for the run.
      if (jm::process_group_detail::launcher_world_size() <= 1 || jm::process_group().rank() == 0)
        std::cout << jm::format_run_summary(report);
      return 0;
    }
    for (ModuleCommand& entry : module_commands)
      if (entry.command->parsed()) return entry.handler();
    if (info->parsed()) {
      std::cout << jm::describe_result_file(info_path);
      return 0;
    }
    std::cout << app.help();
    return 2;
  } catch (const jm::AgreedFailure& error) {
    std::fprintf(stderr, "journeymap: %s\n", error.what());
    return error.exit_code();
  } catch (const jm::ConfigError& error) {
    std::fprintf(stderr, "journeymap: %s\n", error.what());
    return 2;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "journeymap: error: %s\n", error.what());
    return 1;
  }
}
