// `journeymap experiment`: events file -> journeys -> each customer's variant -> the experiment's
// comparisons (docs/experiments.md) -> HDF5 + summary.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "host/cli/input_flags.hpp"
#include "journeymap/experiments.hpp"

namespace jm {

struct ExperimentCommandOptions {
  InputFlags input;  ///< --config, --input, --dimension, the journey rule and the outcome
  std::string output = "out/experiment.h5";
  std::string device = "auto";
  int threads = 0;
  std::vector<std::string> allocation;  ///< variant=share
  std::vector<std::string> funnel;      ///< funnel steps of the per-variant funnel
  ExperimentOptions experiment;
};

int run_experiment_command(const ExperimentCommandOptions& options);

/// Registers the subcommand; `handler` is set to run it when it is parsed.
CLI::App* add_experiment_command(CLI::App& app, std::function<int()>& handler);

}  // namespace jm
