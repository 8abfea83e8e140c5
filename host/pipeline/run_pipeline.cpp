#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>

#include "host/core/build_info.hpp"
#include "host/core/paths.hpp"
#include "host/distributed/process_group.hpp"
#include "host/ingest/dimension_columns.hpp"
#include "host/ingest/spooled_input.hpp"
#include "host/anomalies/alert_tally.hpp"
#include "host/flows/flow_tally.hpp"
#include "host/pipeline/append_run.hpp"
#include "host/pipeline/batched_run.hpp"
#include "host/pipeline/model_sample.hpp"
#include "host/pipeline/stage_clock.hpp"
#include "journeymap/common.hpp"
#include "journeymap/context.hpp"
#include "journeymap/case_attributes.hpp"
#include "journeymap/covariates.hpp"
#include "journeymap/pipeline.hpp"
#include "journeymap/result_file.hpp"
#include "journeymap/step_timing.hpp"

namespace jm {
namespace {

// The events of the input file or of the [[source]] tables, as read.
IngestResult read_input_events(const RunConfig& config, const Context& ctx) {
  if (!config.sources.empty()) {
    if (!config.input_path.empty())
      throw ConfigError("give either an input file (--input or [input] path) or [[source]] tables, not both");
    return read_sources(ctx, config.sources, config.identity, config.threads);
  }
  if (!config.identity.files.empty()) throw ConfigError("[identity] files need [[source]] tables");
  CsvOptions csv = config.csv;
  csv.num_threads = config.threads;
  const size_t first_dimension = request_dimension_columns(csv);
  if (config.progress) csv.progress = ingest_progress_printer();
  if (config.input_format == InputFormat::Spmf && csv.on_error == OnError::Skip)
    throw ConfigError("--on-error skip applies to CSV input only, not SPMF");
  const SpooledInput input(config.input_path);  // a pipe or FIFO is read from a temporary copy
  IngestResult result;
  try {
    switch (config.input_format) {
      case InputFormat::Csv: result = read_events_csv(input.path(), csv); break;
      case InputFormat::Spmf: result = read_events_spmf(input.path(), config.threads); break;
      case InputFormat::Parquet: result = read_events_parquet(input.path(), csv); break;
      default: result = read_events(input.path(), csv);
    }
  } catch (const InputError& error) {
    if (!input.spooled()) throw;
    throw InputError(config.input_path, error.line(), error.column(), error.value(), error.reason());
  }
  take_dimension_columns(result, csv.columns.dimensions, first_dimension);
  result.file = config.input_path;
  return result;
}

}  // namespace

IngestResult read_configured_input(const RunConfig& config, const Context& ctx) {
  IngestResult result = read_input_events(config, ctx);
  if (!config.taxonomy.file.empty()) {
    const Taxonomy taxonomy = read_taxonomy(config.taxonomy.file);
    std::vector<std::string> outcome_names;
    for (const OutcomeEvent& event : effective_outcome(config).events) outcome_names.push_back(event.touchpoint);
    result.taxonomy =
        std::make_shared<const TaxonomyReport>(apply_taxonomy(result.events, taxonomy, config.taxonomy, outcome_names));
  }
  return result;
}

std::vector<std::string> describe_bad_rows(const IngestResult& ingest) {
  std::vector<std::string> messages;
  for (const BadRow& bad : ingest.first_bad_rows)
    messages.push_back((bad.file.empty() ? "" : bad.file + ", ") + "line " + std::to_string(bad.line) + ", column '" +
                       bad.column + "': " + bad.reason + " (value: '" + bad.value + "')");
  return messages;
}

void record_input_files(const RunConfig& config, const IngestResult& ingest, std::vector<std::string>& files,
                        std::vector<uint64_t>& bytes) {
  if (ingest.sources) {
    files = input_files_of(*ingest.sources);
    bytes.clear();
    for (const std::string& file : files) bytes.push_back(file_size_or_zero(file));
  } else {
    files = {config.input_path};
    bytes = {ingest.file_bytes};
  }
  if (ingest.taxonomy) {
    files.push_back(ingest.taxonomy->file);
    bytes.push_back(file_size_or_zero(ingest.taxonomy->file));
  }
}

RunMetadata describe_run(const RunConfig& config, const RunReport& report, const IngestResult& ingest) {
  RunMetadata meta;
  meta.command = "run";
  meta.backend = report.backend;
  meta.build_info = build_info();
  meta.config_toml = to_toml(config);
  record_input_files(config, ingest, meta.input_files, meta.input_bytes);
  meta.rows_read = ingest.rows_read;
  meta.rows_skipped = ingest.rows_skipped;
  meta.bad_row_messages = describe_bad_rows(ingest);
  meta.stage_seconds = report.stage_seconds;
  meta.journey_rule = report.journey_rule;
  meta.warnings = report.warnings;
  meta.processes = report.processes;
  return meta;
}

namespace {

// run_pipeline as one of several processes an MPI launcher started (run_in_batches with the group):
// the same binary, configuration and input on every process, checked before anything is read. A
// failure that only one process meets inside a collective step ends them all (MPI_Abort) with its
// message; the others stop every process at the next agreement with the failing one's message.
RunReport run_across_processes(const RunConfig& given) {
  ProcessGroup& group = process_group();
  try {
    group.require_same("binary", binary_fingerprint());
    group.require_same("configuration", to_toml(given));
    RunConfig config = given;
    config.progress = given.progress && group.rank() == 0;  // process 0 reports progress
    std::optional<Context> context;
    std::string input_identity;
    group.run_agreed([&] {
      context.emplace(make_context(config.device, config.threads, process_group_device(group)));
      const auto output_dir = std::filesystem::path(config.output_path).parent_path();
      if (!output_dir.empty()) std::filesystem::create_directories(output_dir);
      // The same path with other contents on another node would sum tallies of different data.
      if (!config.input_path.empty()) input_identity = file_fingerprint(config.input_path);
    });
    group.require_same("input file (size and first and last MiB)", input_identity);
    RunReport report;
    report.input_path = describe_input(config);
    report.output_path = config.output_path;
    report.backend = to_string(context->backend);
    StageClock clock(report, config.progress, *context);
    run_in_batches(config, *context, report, clock, &group);
    return report;
  } catch (const AgreedFailure&) {
    throw;  // every process stops on it
  } catch (const std::exception& error) {
    abort_every_process(group, error);
  }
}

}  // namespace

RunReport run_pipeline(const RunConfig& config) {
  if (config.input_path.empty() && config.sources.empty())
    throw ConfigError("no input file given (--input, [input] path or [[source]] tables)");
  if (config.output_path.empty()) throw ConfigError("no output file given (--out or [run] output)");
  require_distinct_files(config.input_path, config.output_path, "--out");
  for (const SourceSpec& source : config.sources)
    for (const std::string& path : source.paths) require_distinct_files(path, config.output_path, "--out");
  for (const std::string& path : config.identity.files) require_distinct_files(path, config.output_path, "--out");
  require_distinct_files(config.input_path, config.model_path, "[model] path");
  require_distinct_files(config.case_attributes_path, config.output_path, "--out");
  require_distinct_files(config.taxonomy.file, config.output_path, "--out");
  require_distinct_files(config.outcome.label_file, config.output_path, "--out");
  require_distinct_files(config.covariates_path, config.output_path, "--out");
  require_distinct_files(config.input_path, config.append_base, "--base");
  // A launcher's single process runs as any other process does (every stage, every input).
  if (process_group_detail::launcher_world_size() > 1) return run_across_processes(config);
  Context ctx = make_context(config.device, config.threads);

  RunReport report;
  report.input_path = describe_input(config);
  report.output_path = config.output_path;
  report.backend = to_string(ctx.backend);
  StageClock clock(report, config.progress, ctx);

  // The output folder is created up front so that a bad path fails before the long stages.
  const auto output_dir = std::filesystem::path(config.output_path).parent_path();
  if (!output_dir.empty()) std::filesystem::create_directories(output_dir);

  if (config.host_memory_budget > 0 || config.device_memory_budget > 0) {
    run_in_batches(config, ctx, report, clock);
    return report;
  }

  // --append: the base result's journeys stand for the history, read before the new events.
  std::optional<AppendBase> base;
  if (!config.append_base.empty()) {
    require_appendable(config);
    base = clock.run("ingest", [&] { return read_append_base(config.append_base, config); });
  }
  IngestResult ingest = clock.run("ingest", [&] { return read_configured_input(config, ctx); });
  report.input_bytes = ingest.file_bytes;
  report.rows_read = ingest.rows_read;  // this run's reading; /meta sums the base's rows in
  report.rows_skipped = ingest.rows_skipped;
  report.first_bad_rows = ingest.first_bad_rows;

  const OutcomeDefinition outcome = effective_outcome(config);
  if (config.filter.active()) {
    const EventFilterStats filtered = filter_events(ingest.events, config.filter, outcome);
    report.warnings.push_back("filter: " + describe_event_filter(config.filter, filtered));
  }
  if (config.compare_enabled && !config.flows_enabled)
    throw ConfigError("[compare] needs the flows stage (its funnel): set [flows] enabled = true");
  std::vector<int64_t> customer_last_ms;  // what a later --append compares its events with
  JourneySet append_removed, append_added;  // --append: the base's journeys it replaced, the ones it added
  OutcomeJourneys built = clock.run("journeys", [&] {
    if (!base) {
      customer_last_ms = customer_last_event_ms(ingest.events);
      return build_outcome_journeys(ctx, ingest.events, config.journeys, outcome);
    }
    AppendedJourneys appended = append_journeys(ctx, *base, ingest.events, config);
    customer_last_ms = std::move(appended.customer_last_ms);
    append_removed = std::move(appended.removed);
    append_added = std::move(appended.added);
    return std::move(appended.built);
  });
  if (base)
    report.warnings.push_back("appended " + config.input_path + " (" + std::to_string(ingest.rows_read) +
                              " rows) to the journeys of " + base->path + " (" + std::to_string(base->rows_read) +
                              " rows read before; its /journeys, not its inputs, stand for them). Patterns are updated "
                              "from the base's where that is exact (next line), and flows "
                              "and alerts from the base's tallies (the replaced journeys' counts taken away, the added "
                              "ones' put in); segments, the model and anomaly scores are recomputed over all merged "
                              "journeys (each depends on all journeys together), and attribution recounted over them. "
                              "The outcome-cut counts are those of the new events");
  if (base && config.anomalies_enabled && config.anomalies.alerts_enabled && !base->alerts)
    report.warnings.push_back("alerts: " + base->path + " holds no alert tally (/alerts/tally); the alert buckets were "
                              "counted over all merged journeys");
  if (base && config.flows_enabled && !base->flows)
    report.warnings.push_back("flows: " + base->path + " holds no flow tally (/flows/tally); flows were counted over "
                              "all merged journeys");
  for (std::string& warning : outcome_warnings(built.stats, outcome)) report.warnings.push_back(std::move(warning));
  attach_case_attributes(built.journeys, config.case_attributes_path, &report.warnings);
  built.journeys.covariates = load_covariates(config.covariates_path, config.anomalies.alerts.bucket_seconds);
  const JourneySet& journeys = built.journeys;
  report.build_stats = journeys.stats;
  report.outcome_stats = built.stats;
  report.journey_rule = describe_journey_rule(config.journeys, outcome);
  if (config.progress) std::fprintf(stderr, "[journeymap] %s\n", report.journey_rule.c_str());
  report.summary = summarize_journeys(journeys);

  // Results go to a temporary file as each stage finishes; it replaces the target only at commit.
  ResultWriter writer(config.output_path, config.output_compression);
  clock.run("write", [&] {
    const StepTimer step(ctx, "journeys");
    writer.write_vocab(journeys);
    writer.write_journeys(journeys);
    writer.write("/journeys/customer_last_ms", customer_last_ms);
    if (ingest.sources) write_sources_results(writer, *ingest.sources);
    if (ingest.taxonomy) write_taxonomy_results(writer, *ingest.taxonomy);
  });
  if (ingest.taxonomy) {
    report.stage_summaries.push_back(format_taxonomy_summary(*ingest.taxonomy));
    for (std::string& warning : taxonomy_warnings(*ingest.taxonomy)) report.warnings.push_back(std::move(warning));
  }
  if (ingest.sources) {
    report.stage_summaries.push_back(format_sources_summary(*ingest.sources));
    for (std::string& warning : sources_warnings(*ingest.sources, config.identity)) report.warnings.push_back(std::move(warning));
  }

  if (config.patterns_enabled) {
    const PatternResult patterns = clock.run("patterns", [&] {
      if (!base || !base->patterns) return mine_patterns(ctx, journeys, config.patterns);
      PatternUpdate update = update_patterns(ctx, *base->patterns, append_removed, append_added, journeys, config.patterns);
      report.warnings.push_back(std::move(update.how));
      return std::move(update.result);
    });
    clock.run("write", [&] {
      const StepTimer step(ctx, "patterns");
      write_patterns_results(writer, patterns, journeys);
    });
    report.stage_summaries.push_back(format_patterns_summary(patterns, journeys));
  }

  // Journey features feed segments, anomaly scores (and the prediction stage); computed once.
  std::vector<int32_t> segment_labels;
  int32_t n_segments = 0;
  FeatureMatrix features;
  const bool anomaly_scores = config.anomalies_enabled && config.anomalies.journeys_enabled;
  if (config.segments_enabled || anomaly_scores || config.model_enabled) {
    features = clock.run("features", [&] { return extract_features(ctx, journeys, config.features); });
    clock.run("write", [&] {
      const StepTimer step(ctx, "features");
      write_features_results(writer, features, journeys, config.store_feature_matrix);
    });
    report.stage_summaries.push_back(format_features_summary(features, journeys));
  }
  if (config.segments_enabled) {
    const SegmentResult segments =
        clock.run("segments", [&] { return segment_journeys(ctx, journeys, features, config.segments); });
    clock.run("write", [&] {
      const StepTimer step(ctx, "segments");
      write_segments_results(writer, segments, journeys);
    });
    report.stage_summaries.push_back(format_segments_summary(segments, journeys));
    segment_labels = segments.labels;
    n_segments = segments.k;
  }

  // [filter] segments: the map stages (flows, attribution, comparison) cover those segments' journeys.
  JourneySet segment_subset;
  const JourneySet* mapped = &journeys;
  std::vector<int32_t> mapped_labels = segment_labels;
  if (!config.filter.segments.empty()) {
    if (!config.segments_enabled) throw ConfigError("[filter] segments needs the segments stage ([segments] enabled)");
    std::vector<uint8_t> wanted(static_cast<size_t>(n_segments), 0);
    for (const int32_t segment : config.filter.segments) {
      if (segment >= n_segments)
        throw ConfigError("[filter] segments: segment " + std::to_string(segment) + " does not exist (the run found " +
                          std::to_string(n_segments) + ", numbered from 0, largest first)");
      wanted[static_cast<size_t>(segment)] = 1;
    }
    std::vector<int64_t> rows;
    mapped_labels.clear();
    for (int64_t j = 0; j < journeys.size(); ++j)
      if (wanted[static_cast<size_t>(segment_labels[static_cast<size_t>(j)])]) {
        rows.push_back(j);
        mapped_labels.push_back(segment_labels[static_cast<size_t>(j)]);
      }
    segment_subset = select_journeys(journeys, rows);
    mapped = &segment_subset;
    std::string listed;
    for (const int32_t segment : config.filter.segments) listed += (listed.empty() ? "" : ", ") + std::to_string(segment);
    report.warnings.push_back("filter: flows, attribution and the comparison cover segment" +
                              std::string(config.filter.segments.size() > 1 ? "s " : " ") + listed + " (" +
                              std::to_string(rows.size()) + " of " + std::to_string(journeys.size()) + " journeys)");
  }
  std::vector<std::string> run_funnel;  // the flows stage's funnel, shared by the breakdowns
  FunnelResult run_funnel_counts;       // and its counts, for the proposed experiments
  if (config.flows_enabled) {
    const JourneySet& journeys = *mapped;  // the map stages' journeys
    const std::vector<int32_t>& segment_labels = mapped_labels;
    FlowTally tally;  // what a later --append continues from
    const FlowResult flows = clock.run("flows", [&] {
      if (base && base->flows)
        return update_flows(ctx, *base->flows, append_removed, append_added, journeys, config.flows, segment_labels,
                            n_segments, &tally, &report.warnings);
      return compute_flows_with_tally(ctx, journeys, config.flows, segment_labels, n_segments, &tally);
    });
    for (const int32_t step : flows.funnel.steps) run_funnel.push_back(journeys.touchpoints.name(step));
    run_funnel_counts = flows.funnel;
    clock.run("write", [&] {
      const StepTimer step(ctx, "flows");
      write_flows_results(writer, flows, journeys);
      // A tally of a filtered subset could not be continued: --append refuses filtered runs.
      if (config.filter.segments.empty()) write_flow_tally(writer, tally);
    });
    report.stage_summaries.push_back(format_flows_summary(flows, journeys));
    if (config.compare_enabled) {
      const PeriodComparison comparison = clock.run(
          "compare", [&] { return compare_periods(ctx, journeys, config.compare, flows.funnel); });
      clock.run("write", [&] { write_comparison_results(writer, comparison); });
      report.stage_summaries.push_back(format_comparison_summary(comparison));
    }
  }
  if (config.attribution_enabled) {
    const JourneySet& journeys = *mapped;
    const AttributionResult attribution =
        clock.run("attribution", [&] { return compute_attribution(ctx, journeys, config.attribution); });
    clock.run("write", [&] { write_attribution_results(writer, attribution, journeys); });
    report.stage_summaries.push_back(format_attribution_summary(attribution, journeys));
  }
  if (config.breakdowns_enabled && (!mapped->dimensions.empty() || !config.breakdowns.dimensions.empty())) {
    const JourneySet& journeys = *mapped;
    const BreakdownResult breakdowns = clock.run("breakdowns", [&] {
      return compute_breakdowns(ctx, journeys, config.breakdowns, run_funnel, config.attribution);
    });
    clock.run("write", [&] { write_breakdowns_results(writer, breakdowns); });
    report.stage_summaries.push_back(format_breakdowns_summary(breakdowns));
  }
  // Written after the anomalies stage, which adds its clusters to them.
  std::optional<ProposalResult> proposals;
  if (config.proposals_enabled) {
    const JourneySet& journeys = *mapped;
    proposals = clock.run("proposals", [&] { return propose_experiments(journeys, run_funnel_counts, config.proposals); });
  }
  if (!config.experiment.dimension.empty()) {
    // Customers are the unit: every journey, whatever [filter] segments says about the map stages.
    const ExperimentResult experiment =
        clock.run("experiment", [&] { return analyse_experiment(ctx, journeys, config.experiment, run_funnel); });
    clock.run("write", [&] { write_experiment_results(writer, experiment); });
    report.stage_summaries.push_back(format_experiment_summary(experiment));
    for (std::string& warning : experiment_warnings(experiment)) report.warnings.push_back(std::move(warning));
  }

  // A stage the data cannot support is skipped with its reason (in the summary and in
  // /meta/skipped_stages) instead of failing the whole batch; bad options still fail.
  std::vector<std::string> skipped_stages;
  bool run_model = config.model_enabled;
  Model trained_model;  // saved only after the result is committed, so a failed run leaves the old file
  if (run_model) {
    const auto converted = std::count(journeys.converted.begin(), journeys.converted.end(), uint8_t{1});
    std::string reason = model_skip_reason(config.model, converted, journeys.size());
    if (!reason.empty()) {
      skipped_stages.push_back(std::move(reason));
      run_model = false;
    }
  }
  std::optional<ModelResult> trained;
  if (run_model) {
    try {
      trained = clock.run("model", [&] { return train_journey_model(ctx, journeys, features, config.model); });
    } catch (const InsufficientDataError& error) {
      skipped_stages.push_back(error.reason());
    }
  }
  if (trained) {
    ModelResult& model = *trained;
    trained_model = model_to_save(ctx, config, outcome, model, journeys, features, report);
    clock.run("write", [&] {
      const StepTimer step(ctx, "model");
      write_run_model(writer, model, journeys, journeys.size(), 1);  // every journey: a run in batches may sample
    });
    report.stage_summaries.push_back(format_model_summary(model, journeys));
  }

  if (config.anomalies_enabled) {
    AlertTally alert_tally;  // what a later --append continues from
    const AnomaliesResult anomalies = clock.run("anomalies", [&] {
      AnomaliesOptions journey_scores = config.anomalies;
      journey_scores.alerts_enabled = false;
      AnomaliesResult result = detect_anomalies(ctx, journeys, features, journey_scores);
      if (config.anomalies.alerts_enabled) {
        const StepTimer step(ctx, "metric alerts");
        const AlertOptions& options = config.anomalies.alerts;
        if (base && base->alerts) {
          result.alerts = update_metric_alerts(*base->alerts, append_removed, append_added, journeys, options, &alert_tally);
        } else {
          alert_tally = tally_alerts(journeys, options.bucket_seconds);
          result.alerts = finish_metric_alerts(alert_tally, journeys, options);
        }
        result.has_alerts = true;
      }
      return result;
    });
    clock.run("write", [&] {
      const StepTimer step(ctx, "anomalies");
      write_anomalies_results(writer, anomalies);
      if (anomalies.has_alerts) write_alert_tally(writer, alert_tally);
    });
    report.stage_summaries.push_back(format_anomalies_summary(anomalies));
    // Clusters over the journeys the proposals ranked (all of them unless [filter] segments narrows the map).
    if (proposals && anomalies.has_journeys && mapped == &journeys)
      add_anomaly_cluster_proposals(*proposals, journeys.converted.host(), anomalies.journeys, config.proposals);
  }
  if (proposals) {
    clock.run("write", [&] { write_proposal_results(writer, *proposals); });
    report.stage_summaries.push_back(format_proposal_summary(*proposals));
  }

  RunMetadata meta = describe_run(config, report, ingest);
  if (base) {
    meta.input_files.insert(meta.input_files.begin(), base->input_files.begin(), base->input_files.end());
    meta.input_bytes.insert(meta.input_bytes.begin(), base->input_bytes.begin(), base->input_bytes.end());
    meta.rows_read += base->rows_read;
    meta.rows_skipped += base->rows_skipped;
  }
  writer.write_meta(meta);
  writer.write("/meta/skipped_stages", skipped_stages);
  for (const std::string& skipped : skipped_stages) report.stage_summaries.push_back("skipped " + skipped + "\n");
  clock.run("commit", [&] { writer.commit(); });
  if (!trained_model.empty() && !config.model_path.empty())
    clock.run("write", [&] { save_model(trained_model, config.model_path); });
  return report;
}

}  // namespace jm
