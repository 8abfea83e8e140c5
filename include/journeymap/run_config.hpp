// The configuration of a `journeymap run`: a TOML file sets everything, command-line flags override.
//
//   [input]                       # the events file and how to read it
//   path = "data/events.csv"
//   format = "auto"               # auto | csv | spmf
//   on_error = "fail"             # fail | skip
//   [input.columns]               # CSV header names
//   customer = "customer_id"
//   [journeys]
//   session_gap_seconds = 172800
//   [outcome]                     # see outcome.hpp
//   positive = "converted"
//   [outcome.events]
//   purchase = "converted"
//   [run]
//   device = "auto"               # auto | cpu | gpu
//   output = "out/journeymap.h5"
#pragma once

#include <string>

#include "journeymap/anomalies.hpp"
#include "journeymap/attribution.hpp"
#include "journeymap/breakdowns.hpp"
#include "journeymap/compare.hpp"
#include "journeymap/context.hpp"
#include "journeymap/experiments.hpp"
#include "journeymap/features.hpp"
#include "journeymap/flows.hpp"
#include "journeymap/ingest.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/model.hpp"
#include "journeymap/outcome.hpp"
#include "journeymap/patterns.hpp"
#include "journeymap/proposals.hpp"
#include "journeymap/segments.hpp"
#include "journeymap/sources.hpp"
#include "journeymap/taxonomy.hpp"

namespace jm {

struct RunConfig {
  std::string input_path;
  InputFormat input_format = InputFormat::Auto;
  CsvOptions csv;
  /// [[source]] tables: several sources read instead of `input_path` (each starts from the [input]
  /// settings above and overrides what it names); their ids are stitched under `identity`.
  std::vector<SourceSpec> sources;
  IdentityOptions identity;  ///< [identity]
  TaxonomyOptions taxonomy;  ///< [taxonomy]: raw event names mapped to touchpoints at a chosen level
  std::string case_attributes_path;  ///< [input] case_attributes: CSV id,attr... (model inputs case:<attr>)
  /// [input] covariates: CSV date,<factor>... per alert bucket (covariates.hpp): the alert baselines'
  /// external factors and the model inputs cov:<factor>.
  std::string covariates_path;
  JourneyOptions journeys;
  OutcomeDefinition outcome;  ///< [outcome]; `[input] conversion_touchpoint` adds one "converted" event
  DeviceChoice device = DeviceChoice::Auto;
  int threads = 0;  ///< 0 = all hardware threads
  std::string output_path = "out/journeymap.h5";
  /// `run --append NEW --base RESULT.h5`: an earlier result whose journeys stand for the history;
  /// `input_path` then holds only the new events (docs/reliability.md, "Appending new data"). Not a
  /// configuration key: it names one invocation's files.
  std::string append_base;
  int output_compression = 1;  ///< deflate level 0..9 of the large HDF5 datasets (0: none)
  bool progress = true;  ///< stage progress lines on stderr
  /// [run] host_memory_budget ("4GiB"; `--memory-budget`): > 0 runs in batches of customers whose
  /// events fit it (docs/architecture.md, "Runs larger than memory"); 0: everything at once.
  int64_t host_memory_budget = 0;
  /// [run] device_memory_budget ("8GiB"; `--device-memory-budget`): > 0 also runs in batches, each
  /// small enough for this much GPU memory; with a host budget too, the smaller batch of the two.
  int64_t device_memory_budget = 0;
  /// [run] model_sample_events: in a run in batches, the model trains and is evaluated on a seeded
  /// sample of whole customers holding about this many journey events (0: as many as one batch).
  int64_t model_sample_events = 0;

  // Analysis stages of `run` ([<stage>] enabled = true|false and the stage's options).
  bool patterns_enabled = true;
  PatternOptions patterns = default_run_pattern_options();
  FeatureOptions features;             ///< computed when a stage needs them (segments, model, anomalies)
  bool store_feature_matrix = true;    ///< write the full matrix to /features (else only its summary)
  bool segments_enabled = true;
  SegmentOptions segments;
  bool flows_enabled = true;
  FlowOptions flows;
  bool attribution_enabled = true;
  AttributionOptions attribution;
  bool breakdowns_enabled = true;  ///< runs when the journeys have custom dimensions or [breakdowns] names some
  BreakdownOptions breakdowns;
  ExperimentOptions experiment;  ///< [experiment]: runs when `dimension` names the variants (docs/experiments.md)
  bool proposals_enabled = true;  ///< [proposals]: experiments proposed from the map's friction points
  ProposalOptions proposals;
  bool model_enabled = true;
  ModelOptions model;          ///< conversion (or churn / value) model with XGBoost
  std::string model_path;      ///< where `run` saves the trained model (UBJSON); empty: not saved
  bool anomalies_enabled = true;
  AnomaliesOptions anomalies;  ///< autoencoder scores of journeys and alerts on daily metrics
  EventFilter filter;          ///< [filter]: a date range and channels of events to keep
  bool compare_enabled = false;  ///< [compare] given: two periods compared
  CompareOptions compare;

  /// Pattern mining in `run` is bounded by default (5% support, up to 5 items): looping browse
  /// paths make low-support, unbounded mining explode on real clickstreams.
  static PatternOptions default_run_pattern_options() {
    PatternOptions options;
    options.min_support = MinSupport::fraction(0.05);
    options.max_length = 5;
    return options;
  }
};

/// The input as one line for messages: the path, or "sources web, app, crm".
std::string describe_input(const RunConfig& config);

/// The outcome definition every command uses: `outcome`, plus the conversion touchpoint of the
/// input (the `--conversion-touchpoint` shorthand) as an outcome event labelled "converted".
OutcomeDefinition effective_outcome(const RunConfig& config);

/// Applies the TOML file at `path` onto `config`. Unknown keys and wrong types are ConfigErrors that
/// name the file, the key and (for syntax errors) the line.
void apply_config_file(const std::string& path, RunConfig& config);

/// Same, from TOML text (`source_name` names it in messages).
void apply_config_text(const std::string& toml_text, const std::string& source_name, RunConfig& config);

/// Bytes of a memory size: a number with an optional unit (B, KB, MB, GB, TB in powers of 1000;
/// KiB, MiB, GiB, TiB in powers of 1024), e.g. "4GiB", "512 MB", "1000000". ConfigError naming
/// `what` otherwise.
int64_t parse_memory_size(const std::string& text, const std::string& what);
/// "4GiB", "1536MiB", "1000000B": the shortest exact form parse_memory_size reads back.
std::string format_memory_size(int64_t bytes);

/// The effective configuration as TOML (stored in /meta so that a result says how it was made).
std::string to_toml(const RunConfig& config);

}  // namespace jm
