// The flags every command that reads events shares with `run`: a TOML config, the input file and
// its column mapping, the journey rule and the outcome definition. Only flags actually given
// override the config file.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "journeymap/run_config.hpp"

namespace jm {

struct InputFlags {
  std::string config_file, input, format, on_error, timestamp_format, conversion_touchpoint;
  std::vector<std::string> columns;         ///< field=header
  std::vector<std::string> dimensions;      ///< name or name=column
  std::vector<std::string> outcome_events;  ///< touchpoint=label
  std::string positive, label_file, after, case_attributes, taxonomy, covariates;
  std::optional<int> taxonomy_level;
  bool label_file_only = false;
  std::optional<double> same_instant_seconds, window_days, session_gap_seconds;  ///< unset: the config's
  std::optional<int64_t> max_length;
  bool drop_duplicates = false;
};

/// Registers the shared flags on `command`. `journey_cap_flag`: register --max-length for the
/// journey length cap (`mine` uses that name for the pattern length).
void add_input_flags(CLI::App* command, InputFlags& flags, bool journey_cap_flag = true);

/// Applies `mapping` ("field=header") to `columns`; throws ConfigError on an unknown field.
void apply_column_mapping(const std::string& mapping, CsvColumns& columns);

/// The config file (if any) with the given flags applied on top, and the outcome validated.
RunConfig resolve_input_flags(const InputFlags& flags, RunConfig config = RunConfig{});

/// The same with the model's journey rule and outcome as defaults: new events are cut into journeys
/// exactly as its training events were, unless flags say otherwise (`score`, `monitor`).
RunConfig resolve_input_flags_for_model(const InputFlags& flags, const Model& model);

}  // namespace jm
