// `journeymap experiment`: the journey-building front half of `run`, then the experiment analysis.
#include "host/cli/command_experiment.hpp"

#include <cstdlib>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "host/cli/command_support.hpp"
#include "journeymap/common.hpp"
#include "journeymap/context.hpp"
#include "journeymap/result_file.hpp"

namespace jm {

int run_experiment_command(const ExperimentCommandOptions& options) {
  if (options.output.empty()) throw ConfigError("experiment: no output file given (--out)");
  RunConfig config = resolve_input_flags(options.input);
  config.threads = options.threads;
  config.output_path = options.output;
  config.progress = false;
  // Flags override the [experiment] table of the config file.
  ExperimentOptions experiment = config.experiment;
  if (!options.experiment.dimension.empty()) experiment.dimension = options.experiment.dimension;
  if (!options.experiment.control.empty()) experiment.control = options.experiment.control;
  if (!options.experiment.segment_by.empty()) experiment.segment_by = options.experiment.segment_by;
  if (options.experiment.covariate != ExperimentOptions{}.covariate) experiment.covariate = options.experiment.covariate;
  if (options.experiment.alpha != ExperimentOptions{}.alpha) experiment.alpha = options.experiment.alpha;
  if (options.experiment.msprt_tau != ExperimentOptions{}.msprt_tau) experiment.msprt_tau = options.experiment.msprt_tau;
  for (const std::string& entry : options.allocation) {
    const size_t eq = entry.find('=');
    char* end = nullptr;
    const double share = eq == std::string::npos ? 0.0 : std::strtod(entry.c_str() + eq + 1, &end);
    if (eq == std::string::npos || eq == 0 || end == nullptr || *end != '\0')
      throw ConfigError("--allocation expects variant=share, got '" + entry + "'");
    experiment.allocation.emplace_back(entry.substr(0, eq), share);
  }
  if (experiment.dimension.empty() && config.csv.columns.dimensions.size() == 1)
    experiment.dimension = config.csv.columns.dimensions.front().name;  // the only dimension read
  const Context ctx = make_context(parse_device_choice(options.device), options.threads);
  create_parent_folder(options.output);
  StageTimer timer(false, nullptr);
  const CommandJourneys input = ingest_journeys(ctx, config, timer);
  const JourneySet& journeys = input.journeys;
  const ExperimentResult result =
      timer.run("experiment", [&] { return analyse_experiment(ctx, journeys, experiment, options.funnel); });

  ResultWriter writer(options.output);
  writer.write_vocab(journeys);
  writer.write_journeys(journeys);
  write_experiment_results(writer, result);
  RunMetadata meta = command_metadata("experiment", ctx, config, input, timer);
  for (std::string& warning : experiment_warnings(result)) meta.warnings.push_back(std::move(warning));
  writer.write_meta(meta);
  writer.commit();

  for (const std::string& warning : meta.warnings) std::cout << "WARNING: " << warning << "\n";
  std::cout << format_experiment_summary(result);
  std::cout << "written: " << options.output << "\n";
  return 0;
}

CLI::App* add_experiment_command(CLI::App& app, std::function<int()>& handler) {
  auto options = std::make_shared<ExperimentCommandOptions>();
  CLI::App* cmd = app.add_subcommand("experiment", "A/B test analysis of journey outcomes per customer variant");
  add_input_flags(cmd, options->input);
  cmd->add_option("--variant-dimension", options->experiment.dimension,
                  "Dimension holding each customer's variant (read it with --dimension)");
  cmd->add_option("--control", options->experiment.control, "Control variant (default: control or A)");
  cmd->add_option("--allocation", options->allocation, "Planned share per variant, e.g. --allocation A=0.5 (repeatable)");
  cmd->add_option("--covariate", options->experiment.covariate,
                  "CUPED pre-exposure covariate: conversions | journeys | events | value | none")
      ->capture_default_str();
  cmd->add_option("--alpha", options->experiment.alpha, "1 - confidence of the intervals")->capture_default_str();
  cmd->add_option("--msprt-tau", options->experiment.msprt_tau, "Mixing sd of the always-valid test (rate difference)")
      ->capture_default_str();
  cmd->add_option("--segment-by", options->experiment.segment_by, "Effects per value of this dimension or case:<attr>");
  cmd->add_option("--funnel", options->funnel, "Funnel steps compared across variants (touchpoint names)");
  cmd->add_option("--out", options->output, "HDF5 result to write")->capture_default_str();
  cmd->add_option("--device", options->device, "auto | cpu | gpu")->capture_default_str();
  cmd->add_option("--threads", options->threads, "CPU worker threads (0 = all)");
  cmd->callback([&handler, options] { handler = [options] { return run_experiment_command(*options); }; });
  return cmd;
}

}  // namespace jm
