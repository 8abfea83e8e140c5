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

#include "journeymap/common.hpp"
#include "journeymap/context.hpp"
#include "journeymap/ingest.hpp"
#include "journeymap/journeys.hpp"
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
  bool quiet = false, min_support_given = false;
};

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
  const Context ctx = make_context(parse_device_choice(flags.device), flags.threads);

  StageTimer timer(!flags.quiet);
  create_parent_folder(flags.output);
  const CommandJourneys input = ingest_journeys(ctx, config, timer);
  const JourneySet& journeys = input.journeys;
  const PatternResult result = timer.run("patterns", [&] { return mine_patterns(ctx, journeys, options); });

  ResultWriter writer(flags.output);
  writer.write_event_vocab(journeys);  // patterns name touchpoints, never customers
  write_patterns_results(writer, result, journeys);
  writer.write_meta(command_metadata("mine", ctx, config, input, timer));
  writer.commit();

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
