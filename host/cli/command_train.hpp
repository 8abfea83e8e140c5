// `journeymap train`: events file -> journeys -> features -> XGBoost model (UBJSON with its feature
// schema) + HDF5 /model with the holdout evaluation.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "host/cli/input_flags.hpp"

#include "journeymap/ingest.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/model.hpp"

namespace jm {

/// Everything `train` can be told; defaults are those of the library structs.
struct TrainCommandOptions {
  InputFlags input;            ///< --config, --input, --column, the journey rule and the outcome
  bool quiet = false;          ///< no progress lines of long stages on stderr
  std::string model_path = "out/model.ubj";
  std::string output = "out/model.h5";  ///< HDF5 with /model (empty: none)
  std::string device = "auto";
  int threads = 0;
  std::string target = "conversion";
  std::string split = "customer";
  bool strict = false;  ///< leakage warnings are errors
  double window_days = 0.0;   ///< > 0: train on the journeys that start in the last N days only
  std::string champion_path;  ///< the serving model to beat; the new one is saved only if it does
  double min_gain = 0.0;      ///< ROC-AUC the new model must gain over the champion
  ModelOptions model;
};

/// Runs the command; throws ConfigError / InputError / Error like the other commands.
int run_train_command(const TrainCommandOptions& options);

/// Registers `train` on `app`; when it is parsed, `handler` is set to a function that runs it.
CLI::App* add_train_command(CLI::App& app, std::function<int()>& handler);

}  // namespace jm
