// The batch pipeline behind `journeymap run`: ingest -> journeys -> (analysis stages) -> HDF5.
//
//   jm::RunConfig config;  config.input_path = "events.csv";  config.output_path = "out/r.h5";
//   jm::RunReport report = jm::run_pipeline(config);
//   std::cout << jm::format_run_summary(report);
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "journeymap/device_resources.hpp"
#include "journeymap/ingest.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/outcome.hpp"
#include "journeymap/run_config.hpp"

namespace jm {

/// Headline numbers of a journey set, shown in the run summary and by `info`.
struct JourneySummary {
  int64_t customers = 0;
  int64_t journeys = 0;
  int64_t events = 0;
  int64_t converted_journeys = 0;
  double conversion_rate = 0.0;
  double total_conversion_value = 0.0;
  double mean_length = 0.0;
  int64_t median_length = 0;
  int64_t max_length = 0;
  double median_duration_seconds = 0.0;
  int64_t first_event_ms = 0;
  int64_t last_event_ms = 0;
  std::vector<std::pair<std::string, int64_t>> top_touchpoints;  ///< (name, events), most frequent first
  std::vector<std::pair<std::string, int64_t>> channels;         ///< (name, events), most frequent first
};

JourneySummary summarize_journeys(const JourneySet& journeys, size_t top_n = 8);

struct RunReport {
  std::string input_path;
  std::string output_path;
  std::string backend;
  int processes = 1;  ///< of a run across processes (each customer's journeys, seeded samples and ids depend on it)
  uint64_t input_bytes = 0;
  int64_t rows_read = 0;
  int64_t rows_skipped = 0;
  std::vector<BadRow> first_bad_rows;
  JourneyBuildStats build_stats;
  OutcomeStats outcome_stats;
  std::string journey_rule;            ///< describe_journey_rule(): the journey rule and outcome in one sentence
  std::vector<std::string> warnings;   ///< leakage and data warnings (also in /meta/warnings)
  JourneySummary summary;
  std::vector<std::pair<std::string, double>> stage_seconds;
  /// Host<->device copies of each stage on a GPU run, in stage_seconds' order (empty on the CPU).
  std::vector<TransferStats> stage_transfers;
  /// Named steps inside each stage (StepTimer) with their seconds, in stage_seconds' order.
  std::vector<std::vector<std::pair<std::string, double>>> stage_steps;
  std::vector<std::string> stage_summaries;  ///< readable blocks of the analysis stages, in run order
};

/// Reads the config's input: its file (CSV or SPMF by `input_format`, detected for auto), or its
/// [[source]] tables with identities stitched on the backend of `ctx`.
IngestResult read_configured_input(const RunConfig& config, const Context& ctx);

/// One readable line per reported bad row (file, line, column, reason, value), for /meta/bad_rows.
std::vector<std::string> describe_bad_rows(const IngestResult& ingest);

/// The files a run read and their sizes, as /meta records them: the input file, or every source file
/// and identity file.
void record_input_files(const RunConfig& config, const IngestResult& ingest, std::vector<std::string>& files,
                        std::vector<uint64_t>& bytes);

/// Runs every stage and writes the HDF5 result atomically. Throws InputError/ConfigError/Error;
/// on failure no output file is created and an existing one is left untouched.
RunReport run_pipeline(const RunConfig& config);

/// The readable multi-line summary printed at the end of a run.
std::string format_run_summary(const RunReport& report);

/// Summary of an existing result file (`journeymap info`).
std::string describe_result_file(const std::string& path);

}  // namespace jm
