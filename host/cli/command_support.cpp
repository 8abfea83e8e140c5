#include "host/cli/command_support.hpp"

#include <filesystem>

#include "host/core/build_info.hpp"
#include "host/core/paths.hpp"
#include "journeymap/case_attributes.hpp"
#include "journeymap/covariates.hpp"
#include "journeymap/common.hpp"
#include "journeymap/pipeline.hpp"

namespace jm {

namespace {
// The files a command will write, as recorded on its config (output and model path).
std::vector<std::string> config_outputs(const RunConfig& config) { return {config.output_path, config.model_path}; }
}  // namespace

CommandJourneys ingest_journeys(const Context& ctx, const RunConfig& config, StageTimer& timer,
                                bool require_outcome_touchpoints) {
  if (config.input_path.empty() && config.sources.empty())
    throw ConfigError("no input file given (--input, [input] path or [[source]] tables)");
  for (const std::string& output : config_outputs(config)) {
    require_distinct_files(config.input_path, output, "the output");
    require_distinct_files(config.taxonomy.file, output, "the output");
    require_distinct_files(config.covariates_path, output, "the output");
    for (const SourceSpec& source : config.sources)
      for (const std::string& path : source.paths) require_distinct_files(path, output, "the output");
  }
  IngestResult read = timer.run("ingest", [&] { return read_configured_input(config, ctx); });
  return journeys_of(ctx, config, timer, std::move(read), require_outcome_touchpoints);
}

CommandJourneys journeys_of(const Context& ctx, const RunConfig& config, StageTimer& timer, IngestResult read,
                            bool require_outcome_touchpoints) {
  CommandJourneys out;
  out.outcome = effective_outcome(config);
  out.ingest = std::move(read);
  if (out.ingest.taxonomy)
    for (std::string& warning : taxonomy_warnings(*out.ingest.taxonomy)) out.warnings.push_back(std::move(warning));
  OutcomeJourneys built = timer.run("journeys", [&] {
    return build_outcome_journeys(ctx, out.ingest.events, config.journeys, out.outcome, require_outcome_touchpoints);
  });
  out.journeys = std::move(built.journeys);
  out.outcome_stats = built.stats;
  // The journeys hold everything the commands read from here on; the event table, the largest
  // allocation after reading, goes before the stages run (its file and row counts stay).
  out.ingest.events = EventTable{};
  attach_case_attributes(out.journeys, config.case_attributes_path, &out.warnings);
  out.journeys.covariates = load_covariates(config.covariates_path, config.anomalies.alerts.bucket_seconds);
  return out;
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

void create_parent_folder(const std::string& output_path) {
  const auto folder = std::filesystem::path(output_path).parent_path();
  if (!folder.empty()) std::filesystem::create_directories(folder);
}

RunMetadata command_metadata(const std::string& command, const Context& ctx, const RunConfig& config,
                             const CommandJourneys& input_journeys, const StageTimer& timer) {
  const IngestResult& ingest = input_journeys.ingest;
  RunMetadata meta;
  meta.config_toml = to_toml(config);
  meta.journey_rule = describe_journey_rule(config.journeys, input_journeys.outcome);
  meta.warnings = outcome_warnings(input_journeys.outcome_stats, input_journeys.outcome);
  meta.warnings.insert(meta.warnings.end(), input_journeys.warnings.begin(), input_journeys.warnings.end());
  meta.command = command;
  meta.backend = to_string(ctx.backend);
  meta.build_info = build_info();
  record_input_files(config, ingest, meta.input_files, meta.input_bytes);
  meta.rows_read = ingest.rows_read;
  meta.rows_skipped = ingest.rows_skipped;
  meta.bad_row_messages = describe_bad_rows(ingest);
  meta.stage_seconds = timer.seconds();
  return meta;
}

}  // namespace jm
