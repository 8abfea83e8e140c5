#include "host/cli/command_support.hpp"
#include "host/cli/input_flags.hpp"
#include "host/cli/command_mine.hpp"

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <iostream>
#include <memory>
#include <optional>

#include "host/core/paths.hpp"
#include "host/distributed/customer_share.hpp"
#include "host/distributed/distributed_input.hpp"
#include "host/distributed/process_group.hpp"
#include "host/patterns/batched_mining.hpp"
#include "host/pipeline/journey_batches.hpp"
#include "journeymap/common.hpp"
#include "journeymap/context.hpp"
#include "journeymap/ingest.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/outcome.hpp"
#include "journeymap/patterns.hpp"
#include "journeymap/result_file.hpp"
#include "journeymap/run_config.hpp"

namespace jm {
namespace {

struct MineFlags {
  InputFlags input;
  std::string output, device = "auto", min_support = "0.01";
  int threads = 0;
  int max_length = 0, min_length = 1, max_gap = 0, contrast_top_k = 10;
  int64_t top_k = 0, max_patterns = 1000000, max_explored = PatternOptions{}.max_explored;
  int64_t batch_events = 0;  ///< > 0: the input is read and counted in batches of customers
  bool quiet = false, min_support_given = false;
};

// /vocab (touchpoints and channels: patterns name touchpoints, never customers), /patterns, /meta.
void write_mine_result(const std::string& path, const PatternResult& result, const JourneySet& names,
                       const RunMetadata& meta) {
  ResultWriter writer(path);
  writer.write_event_vocab(names);
  write_patterns_results(writer, result, names);
  writer.write_meta(meta);
  writer.commit();
}

// Whether an SPMF file's sequences are its journeys as they are, so that read_spmf_sequences may
// read them straight (ingest.hpp): a regular file read as SPMF, with nothing in the configuration
// that could cut, drop or rename its events or that the general path would check. Event k of a
// sequence is at k seconds, so a session gap of 1 s or more never splits one, and no two events of
// a sequence are duplicates (they differ in time).
bool spmf_sequences_are_journeys(const RunConfig& config) {
  if (!config.sources.empty() || !config.identity.files.empty() || !config.taxonomy.file.empty()) return false;
  if (!config.case_attributes_path.empty() || !config.covariates_path.empty()) return false;
  if (config.csv.on_error == OnError::Skip || !config.csv.columns.dimensions.empty()) return false;
  const JourneyOptions& journeys = config.journeys;
  if (journeys.max_length != 0 || !(journeys.session_gap_seconds == 0.0 || journeys.session_gap_seconds >= 1.0))
    return false;
  // Without outcome events every journey's label is "none": positive only when the model predicts
  // "converted" (the default) is `converted` all 0, as the direct reader writes it; any other
  // positive label is the general path's to refuse or apply.
  const OutcomeDefinition outcome = effective_outcome(config);
  if (!outcome.only_flag_column() || outcome.window_days != 0.0 || outcome.positive != "converted") return false;
  std::error_code error;
  if (!std::filesystem::is_regular_file(config.input_path, error)) return false;
  return config.input_format == InputFormat::Spmf ||
         (config.input_format == InputFormat::Auto && detect_input_format(config.input_path) == InputFormat::Spmf);
}

// The journeys `mine` counts: an SPMF file whose sequences are its journeys read straight into
// them; any other input read as events and built into journeys cut at their outcomes.
CommandJourneys mine_input(const Context& ctx, const RunConfig& config, StageTimer& timer) {
  if (!spmf_sequences_are_journeys(config)) return ingest_journeys(ctx, config, timer);
  require_distinct_files(config.input_path, config.output_path, "the output");
  CommandJourneys input;
  input.outcome = effective_outcome(config);
  validate(input.outcome);
  SpmfSequences read = timer.run("ingest", [&] { return read_spmf_sequences(config.input_path, config.threads); });
  input.ingest = std::move(read.read);
  input.journeys = std::move(read.sequences);
  return input;
}

// `mine --batch-events N`: the input spooled by customer to the output's folder, its journeys
// built one batch at a time, the patterns counted level by level over the batches
// (host/patterns/batched_mining.hpp): the same result as reading everything at once.
int run_mine_in_batches(const MineFlags& flags, const RunConfig& config, const PatternOptions& options,
                        const Context& ctx, StageTimer& timer) {
  require_distinct_files(config.input_path, flags.output, "the output");
  const std::string folder = std::filesystem::path(flags.output).parent_path().string();
  std::unique_ptr<JourneyBatches> batches = timer.run("ingest", [&] {
    return std::make_unique<JourneyBatches>(ctx, config, flags.batch_events, folder.empty() ? "." : folder);
  });
  const int32_t n_items = batches->ingest().events.touchpoints.size();
  const BatchedPatterns mined = timer.run("patterns", [&] {
    return mine_patterns_in_batches(ctx, batches->size(), n_items, [&](int64_t b) { return batches->sequences(b); },
                                    options);
  });

  CommandJourneys input;  // what the metadata records: the reading and the outcome cut
  const IngestResult& read = batches->ingest();
  input.ingest.file = read.file;  // its counts, not its customer dictionary
  input.ingest.file_bytes = read.file_bytes;
  input.ingest.rows_read = read.rows_read;
  input.ingest.rows_skipped = read.rows_skipped;
  input.outcome = batches->outcome();
  input.outcome_stats = batches->outcome_stats();
  JourneySet vocabulary;  // the patterns name touchpoints, never customers
  vocabulary.touchpoints = read.events.touchpoints;
  vocabulary.channels = read.events.channels;
  write_mine_result(flags.output, mined.result, vocabulary, command_metadata("mine", ctx, config, input, timer));

  std::cout << fmt::format("mined {} journeys ({} events) from {} on the {} in {} batches of customers, {:.3f} s\n",
                           batches->journeys_built(), batches->events_in_journeys(), config.input_path,
                           to_string(ctx.backend), batches->size(), timer.seconds().back().second);
  std::cout << "  " << mined.how << "\n";
  std::cout << format_patterns_summary(mined.result, vocabulary);
  std::cout << "  written to " << flags.output << "\n";
  return 0;
}

// `mpirun -np N journeymap mine`: every process reads a share of the input (or the whole input
// where it cannot be read in shares; distributed_input.hpp) and builds the journeys of the
// customers it owns, numbered alike on every process; the patterns are counted
// level by level, every count summed over the processes (batched_mining.hpp), so each process
// finds the patterns of all journeys, and process 0 writes the result: the patterns one process
// finds. A failure that one process can have alone stops every process with its message at the
// next agreement; an unexpected one where the others may be waiting on a collective step (the
// exchange, a sum) ends them all (MPI_Abort).
int mine_across_processes(ProcessGroup& group, const MineFlags& flags, const RunConfig& config,
                          const PatternOptions& options) {
  const bool first = group.rank() == 0;
  group.require_same("binary", binary_fingerprint());
  group.require_same("configuration", to_toml(config) + "\n# device " + flags.device);
  // From here on a failure on one process must reach the others at the next collective step:
  // every step that can fail runs agreed.
  std::optional<Context> context;
  group.run_agreed([&] {
    if (options.top_k > 0)
      throw ConfigError("mine across processes counts patterns against a minimum support: top-k has none");
    if (flags.batch_events < 0) throw ConfigError("--batch-events must be a positive number of events");
    if (flags.batch_events > 0) require_batchable_input(config);  // before any process reads
    context.emplace(make_context(parse_device_choice(flags.device), flags.threads, process_group_device(group)));
    create_parent_folder(flags.output);
  });
  const Context& ctx = *context;

  StageTimer timer(!flags.quiet && first);
  IngestResult read = timer.run("ingest", [&] { return read_own_customers(config, ctx, group); });
  // The same path with other contents on another node would sum counts of different data.
  std::string input_identity;
  group.run_agreed([&] { input_identity = file_fingerprint(config.input_path); });
  group.require_same("input file (size and first and last MiB)", input_identity);
  // The journeys of this process's customers: at once, or (--batch-events) spooled and built batch
  // by batch, each batch's touch sequences kept in a scratch file for the passes of the counting.
  CommandJourneys input;
  JourneySet sequences;  // at once: every journey's touch sequence
  std::unique_ptr<JourneyBatches> batches;
  if (flags.batch_events > 0) {
    const std::string folder = std::filesystem::path(flags.output).parent_path().string();
    group.run_agreed([&] {
      batches = std::make_unique<JourneyBatches>(ctx, config, std::move(read), flags.batch_events,
                                                 folder.empty() ? "." : folder);
      // Every batch built here, where a failure is agreed on, not inside the counting's sums.
      timer.run("journeys", [&] {
        for (int64_t b = 0; b < batches->size(); ++b) batches->sequences(b);
        return batches->size();
      });
    });
    input.ingest = batches->ingest();
    input.ingest.events = EventTable{};  // its counts and bad rows, not its dictionaries
    input.outcome = batches->outcome();
    input.outcome_stats = batches->outcome_stats();
    sequences.touchpoints = batches->ingest().events.touchpoints;
    sequences.channels = batches->ingest().events.channels;
  } else {
    group.run_agreed([&] { input = journeys_of(ctx, config, timer, std::move(read)); });
    // Pattern counting reads the touch sequences alone.
    sequences.touchpoints = input.journeys.touchpoints;
    sequences.channels = input.journeys.channels;
    sequences.offsets = std::move(input.journeys.offsets);
    sequences.converted = std::move(input.journeys.converted);
    sequences.touchpoint = std::move(input.journeys.touchpoint);
    input.journeys = JourneySet{};
  }
  input.outcome_stats = outcome_stats_of_all(group, input.outcome_stats, sequences.touchpoints);
  std::vector<int64_t> totals = batches ? std::vector<int64_t>{batches->journeys_built(), batches->events_in_journeys()}
                                        : std::vector<int64_t>{sequences.size(), sequences.num_events()};
  group.sum(totals);

  BatchedPatterns mined;
  try {
    mined = timer.run("patterns", [&] {
      if (batches)
        return mine_patterns_in_batches(ctx, batches->size(), sequences.touchpoints.size(),
                                        [&](int64_t b) { return batches->sequences(b); }, options,
                                        patterns_detail::kCandidateBudget, &group);
      return mine_patterns_in_batches(ctx, 1, sequences.touchpoints.size(), [&](int64_t) { return sequences; },
                                      options, patterns_detail::kCandidateBudget, &group);
    });
  } catch (const ConfigError& error) {
    // Settings refused up front or a work budget exceeded: decided on counts every process shares,
    // so every process stops here with the same message.
    throw AgreedFailure(error.what(), 2);
  }
  const std::string holding = batches ? fmt::format("its own customers' journeys in batches of at most {} events",
                                                   flags.batch_events)
                                     : std::string("the journeys of its own customers");
  mined.how = fmt::format(
      "patterns counted level by level across {} {}, each holding {} ({} passes, {} candidate patterns counted over "
      "all {} journeys, {} of them frequent)",
      group.size(), group.size() == 1 ? "process" : "processes", holding, mined.passes, mined.candidates, totals[0],
      mined.result.size());
  group.run_agreed([&] {
    if (!first) return;
    RunMetadata meta = command_metadata("mine", ctx, config, input, timer);
    meta.processes = group.size();
    write_mine_result(flags.output, mined.result, sequences, meta);
  });
  if (!first) return 0;
  std::cout << fmt::format("mined {} journeys ({} events) from {} on the {} across {} {}, {:.3f} s\n", totals[0],
                           totals[1], config.input_path, to_string(ctx.backend), group.size(),
                           group.size() == 1 ? "process" : "processes", timer.seconds().back().second);
  std::cout << "  " << mined.how << "\n";
  std::cout << format_patterns_summary(mined.result, sequences);
  std::cout << "  written to " << flags.output << "\n";
  return 0;
}

int run_mine_across_processes(const MineFlags& flags, const RunConfig& config, const PatternOptions& options) {
  ProcessGroup& group = process_group();
  try {
    return mine_across_processes(group, flags, config, options);
  } catch (const AgreedFailure&) {
    throw;  // every process stops on it
  } catch (const std::exception& error) {
    // Any other failure may leave the other processes waiting in a collective step: end them all.
    if (group.size() == 1) throw;
    abort_every_process(group, error);
  }
}

int run_mine(const MineFlags& flags) {
  PatternOptions options;
  options.min_support = MinSupport::parse(flags.min_support);
  options.min_support_given = flags.min_support_given || flags.top_k == 0;
  options.max_length = flags.max_length;
  options.min_length = flags.min_length;
  options.max_gap = flags.max_gap;
  options.top_k = flags.top_k;
  options.max_patterns = flags.max_patterns;
  options.max_explored = flags.max_explored;
  options.contrast_top_k = flags.contrast_top_k;
  validate_pattern_options(options);
  RunConfig config = resolve_input_flags(flags.input);
  config.threads = flags.threads;
  config.output_path = flags.output;
  config.patterns = options;
  config.progress = !flags.quiet;
  if (started_by_mpi_launcher()) return run_mine_across_processes(flags, config, options);
  const Context ctx = make_context(parse_device_choice(flags.device), flags.threads);

  StageTimer timer(!flags.quiet);
  create_parent_folder(flags.output);
  if (flags.batch_events < 0) throw ConfigError("--batch-events must be a positive number of events");
  if (flags.batch_events > 0) {
    if (options.top_k > 0) throw ConfigError("--batch-events counts against a minimum support: top-k has none");
    return run_mine_in_batches(flags, config, options, ctx, timer);
  }
  const CommandJourneys input = mine_input(ctx, config, timer);
  const JourneySet& journeys = input.journeys;
  const PatternResult result = timer.run("patterns", [&] { return mine_patterns(ctx, journeys, options); });

  write_mine_result(flags.output, result, journeys, command_metadata("mine", ctx, config, input, timer));

  std::cout << fmt::format("mined {} journeys ({} events) from {} on the {} in {:.3f} s\n", journeys.size(),
                           journeys.num_events(), config.input_path, to_string(ctx.backend), timer.seconds().back().second);
  std::cout << format_patterns_summary(result, journeys);
  std::cout << "  written to " << flags.output << "\n";
  return 0;
}

}  // namespace

CLI::App* add_patterns_command(CLI::App& app, std::function<int()>& handler) {
  auto flags = std::make_shared<MineFlags>();
  CLI::App* mine = app.add_subcommand("mine", "Frequent journey patterns (PrefixSpan) and what leads to conversion");
  add_input_flags(mine, flags->input, /*journey_cap_flag=*/false);
  mine->add_option("--out", flags->output, "HDF5 result to write")->required();
  CLI::Option* min_support = mine->add_option(
      "--min-support", flags->min_support, "Minimum support: a count (500) or a fraction of journeys (0.01, 1%)");
  min_support->capture_default_str();
  mine->add_option("--max-length", flags->max_length, "Longest pattern in items (0 = unlimited)");
  mine->add_option("--min-length", flags->min_length, "Shortest pattern reported")->capture_default_str();
  mine->add_option("--max-gap", flags->max_gap, "Max distance between consecutive items (1 = contiguous, 0 = any)");
  mine->add_option("--top-k", flags->top_k, "Keep the k most frequent patterns (no threshold needed)");
  mine->add_option("--max-patterns", flags->max_patterns, "Cap on patterns kept")->capture_default_str();
  mine->add_option("--max-explored", flags->max_explored,
                   "Work budget: stop with an error after enumerating this many patterns")->capture_default_str();
  mine->add_option("--contrast-top-k", flags->contrast_top_k, "Length of the conversion / abandonment lists")
      ->capture_default_str();
  mine->add_option("--batch-events", flags->batch_events,
                   "Read and count the input in batches of customers holding at most this many events (CSV, SPMF or Parquet "
                   "input; the same patterns, in less memory)");
  mine->add_option("--device", flags->device, "auto | cpu | gpu")->capture_default_str();
  mine->add_option("--threads", flags->threads, "CPU worker threads (0 = all)");
  mine->add_flag("--quiet", flags->quiet, "No progress lines on stderr");
  handler = [flags, min_support]() {
    flags->min_support_given = min_support->count() > 0;
    return run_mine(*flags);
  };
  return mine;
}

}  // namespace jm
