#include "host/cli/input_flags.hpp"

#include <cmath>
#include <map>

#include "journeymap/common.hpp"

namespace jm {

void add_input_flags(CLI::App* command, InputFlags& flags, bool journey_cap_flag) {
  command->add_option("--config", flags.config_file, "TOML configuration file (flags override it)");
  command->add_option("--input", flags.input, "Events file: CSV with header, or SPMF");
  command->add_option("--format", flags.format, "Input format: auto | csv | spmf | parquet");
  command->add_option("--on-error", flags.on_error, "Bad rows: fail (default) | skip");
  command->add_option("--timestamp-format", flags.timestamp_format, "auto | iso8601 | epoch_s | epoch_ms");
  command->add_option("--column", flags.columns, "Map a field to a CSV header, e.g. --column touchpoint=page");
  command->add_option("--dimension", flags.dimensions,
                      "Custom dimension of the events, NAME or NAME=COLUMN (campaign, device, ...; repeatable)");
  command->add_option("--conversion-touchpoint", flags.conversion_touchpoint,
                      "Touchpoint whose events are conversions (outcome label 'converted')");
  command->add_option("--outcome", flags.outcome_events,
                      "Outcome event and its label, e.g. --outcome A_DECLINED=declined (repeatable)");
  command->add_option("--positive", flags.positive, "Outcome label the model predicts (default converted)");
  command->add_option("--label-file", flags.label_file, "CSV id,label[,value]: outcome labels per customer or case");
  command->add_flag("--label-file-only", flags.label_file_only, "Drop the journeys of customers the label file does not name");
  command->add_option("--case-attributes", flags.case_attributes, "CSV id,<attr>,...: static per-customer model inputs");
  command->add_option("--covariates", flags.covariates,
                      "CSV date,<factor>,...: campaigns, holidays, price changes per day; alert baselines explain what "
                      "they cover, and the model sees them as cov:<factor>");
  command->add_option("--taxonomy", flags.taxonomy, "CSV name,touchpoint: raw event names (or patterns) to 'a > b > c' paths");
  command->add_option("--taxonomy-level", flags.taxonomy_level, "Taxonomy level the run works at (0 = automatic)");
  command->add_option("--same-instant", flags.same_instant_seconds,
                      "Events within this many seconds of an outcome are cut with it (default 1)");
  command->add_option("--after-outcome", flags.after, "new_journey (default) | end: what follows an outcome");
  command->add_option("--window-days", flags.window_days, "Positive only within this many days of the start (0 = any)");
  command->add_option("--session-gap", flags.session_gap_seconds, "Start a new journey after this many idle seconds");
  if (journey_cap_flag)
    command->add_option("--max-length", flags.max_length, "Keep at most the last N events of a journey (0 = all)");
  command->add_flag("--drop-duplicates", flags.drop_duplicates, "Drop events identical in every field");
}

void apply_column_mapping(const std::string& mapping, CsvColumns& columns) {
  const auto eq = mapping.find('=');
  if (eq == std::string::npos) throw ConfigError("--column expects field=header, got '" + mapping + "'");
  const std::string field = mapping.substr(0, eq), header = mapping.substr(eq + 1);
  std::map<std::string, std::string*> fields{{"customer", &columns.customer},     {"timestamp", &columns.timestamp},
                                             {"touchpoint", &columns.touchpoint}, {"channel", &columns.channel},
                                             {"value", &columns.value},           {"conversion", &columns.conversion}};
  auto found = fields.find(field);
  if (found == fields.end())
    throw ConfigError("--column: unknown field '" + field + "' (customer, timestamp, touchpoint, channel, value, conversion)");
  *found->second = header;
}

RunConfig resolve_input_flags(const InputFlags& flags, RunConfig config) {
  if (!flags.config_file.empty()) apply_config_file(flags.config_file, config);
  if (!flags.input.empty()) config.input_path = flags.input;
  if (!flags.on_error.empty()) config.csv.on_error = parse_on_error(flags.on_error);
  if (!flags.format.empty()) config.input_format = parse_input_format(flags.format);
  if (!flags.timestamp_format.empty()) config.csv.timestamp_format = parse_timestamp_format(flags.timestamp_format);
  if (!flags.conversion_touchpoint.empty()) config.csv.conversion_touchpoint = flags.conversion_touchpoint;
  for (const auto& mapping : flags.columns) apply_column_mapping(mapping, config.csv.columns);
  if (!flags.dimensions.empty()) {
    config.csv.columns.dimensions.clear();
    for (const std::string& entry : flags.dimensions) config.csv.columns.dimensions.push_back(parse_dimension_column(entry));
  }
  if (!flags.outcome_events.empty()) {
    config.outcome.events.clear();
    for (const std::string& mapping : flags.outcome_events) {
      const auto eq = mapping.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == mapping.size())
        throw ConfigError("--outcome expects touchpoint=label, got '" + mapping + "'");
      config.outcome.events.push_back(OutcomeEvent{mapping.substr(0, eq), mapping.substr(eq + 1)});
    }
  }
  if (!flags.positive.empty()) config.outcome.positive = flags.positive;
  if (!flags.label_file.empty()) config.outcome.label_file = flags.label_file;
  if (flags.label_file_only) config.outcome.label_file_only = true;
  if (!flags.case_attributes.empty()) config.case_attributes_path = flags.case_attributes;
  if (!flags.covariates.empty()) config.covariates_path = flags.covariates;
  if (!flags.taxonomy.empty()) config.taxonomy.file = flags.taxonomy;
  if (flags.taxonomy_level) {
    if (*flags.taxonomy_level < 0) throw ConfigError("--taxonomy-level must be >= 0 (0 = automatic)");
    config.taxonomy.level = *flags.taxonomy_level;
  }
  if (!flags.after.empty()) config.outcome.after = parse_after_outcome(flags.after);
  if (flags.same_instant_seconds) config.outcome.same_instant_seconds = *flags.same_instant_seconds;
  if (flags.window_days) config.outcome.window_days = *flags.window_days;
  if (flags.session_gap_seconds) config.journeys.session_gap_seconds = *flags.session_gap_seconds;
  if (flags.max_length) config.journeys.max_length = *flags.max_length;
  if (flags.drop_duplicates) config.journeys.drop_duplicates = true;
  validate(config.outcome);
  if (!(config.journeys.session_gap_seconds >= 0) || !std::isfinite(config.journeys.session_gap_seconds))
    throw ConfigError("--session-gap must be a finite number >= 0");
  if (config.journeys.max_length < 0) throw ConfigError("--max-length must be >= 0 (0 = no cap)");
  return config;
}

RunConfig resolve_input_flags_for_model(const InputFlags& flags, const Model& model) {
  RunConfig defaults;
  defaults.journeys = model.journey_options;
  defaults.outcome = model.outcome;
  // The covariates file is read in the buckets the model's cov: columns were made with.
  if (model.feature_spec.covariate_bucket_seconds > 0)
    defaults.anomalies.alerts.bucket_seconds = model.feature_spec.covariate_bucket_seconds;
  return resolve_input_flags(flags, defaults);
}

}  // namespace jm
