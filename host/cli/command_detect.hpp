// `journeymap detect`: events file -> journeys -> features -> journey anomalies + metric alerts -> HDF5.
#pragma once

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "host/cli/input_flags.hpp"

#include "journeymap/anomalies.hpp"
#include "journeymap/features.hpp"
#include "journeymap/ingest.hpp"

namespace jm {

/// Everything `detect` can be told; defaults are those of the library structs.
struct DetectCommandOptions {
  InputFlags input;            ///< --config, --input, --column, the journey rule and the outcome
  bool quiet = false;          ///< no progress lines of long stages on stderr
  std::string output = "out/anomalies.h5";
  std::string device = "auto";
  int threads = 0;
  FeatureOptions features;
  AnomaliesOptions anomalies;
  std::string threshold_rule = "log_robust";
};

/// Runs the command; throws ConfigError / InputError / Error like the other commands.
int run_detect_command(const DetectCommandOptions& options);

/// Registers `detect` and its options on `app`; when the subcommand is parsed, `handler` is set to
/// a function that runs it and returns the exit code.
CLI::App* add_detect_command(CLI::App& app, std::function<int()>& handler);

}  // namespace jm
