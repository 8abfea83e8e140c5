// `journeymap segment`: events file -> journeys -> features -> k-means segments -> HDF5 + table.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "host/cli/input_flags.hpp"

#include "journeymap/features.hpp"
#include "journeymap/ingest.hpp"
#include "journeymap/segments.hpp"

namespace jm {

/// Everything `segment` can be told; defaults are those of the library structs.
struct SegmentCommandOptions {
  InputFlags input;            ///< --config, --input, --column, the journey rule and the outcome
  bool quiet = false;          ///< no progress lines of long stages on stderr
  std::string output = "out/segments.h5";
  std::string device = "auto";
  int threads = 0;
  FeatureOptions features;
  SegmentOptions segments;
  bool include_feature_matrix = true;
};

/// Runs the command; throws ConfigError / InputError / Error like the other commands.
int run_segment_command(const SegmentCommandOptions& options);

/// Registers `segment` and its options on `app`; when the subcommand is parsed, `handler` is set to
/// a function that runs it and returns the exit code.
CLI::App* add_segment_command(CLI::App& app, std::function<int()>& handler);

}  // namespace jm
