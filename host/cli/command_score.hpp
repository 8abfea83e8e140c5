// `journeymap score`: applies a model written by `train` to journeys still in flight and writes the
// probability and top reasons per customer to CSV (and HDF5 /scores).
#pragma once

#include "host/cli/input_flags.hpp"

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "journeymap/ingest.hpp"

namespace jm {

struct ScoreCommandOptions {
  std::string model_path;
  InputFlags input;            ///< how to read the events; the journey rule and outcome default to the model's
  std::string output = "out/scores.csv";
  std::string h5_output;       ///< HDF5 with /scores (empty: none)
  std::string device = "auto";
  int threads = 0;
  int top_reasons = 3;
  bool all_journeys = false;   ///< score every journey, not only each customer's open (last, unconverted) one
  std::string as_of;           ///< "now" for recency (timestamp); default: the last event in the input
  int64_t prefix_events = 0;   ///< score only the first k events of each journey
};

int run_score_command(const ScoreCommandOptions& options);
CLI::App* add_score_command(CLI::App& app, std::function<int()>& handler);

}  // namespace jm
