// `journeymap segment`: the journey-building front half of `run`, then features and segments.
#include "host/cli/command_support.hpp"
#include "host/cli/command_segment.hpp"

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "journeymap/common.hpp"
#include "journeymap/context.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/result_file.hpp"

namespace jm {

int run_segment_command(const SegmentCommandOptions& options) {
  if (options.output.empty()) throw ConfigError("segment: no output file given (--out)");
  RunConfig config = resolve_input_flags(options.input);
  config.threads = options.threads;
  config.output_path = options.output;
  config.progress = false;
  Context ctx = make_context(parse_device_choice(options.device), options.threads);
  create_parent_folder(options.output);
  StageTimer timer(false, options.quiet ? nullptr : &ctx);
  const CommandJourneys input = ingest_journeys(ctx, config, timer);
  const JourneySet& journeys = input.journeys;
  FeatureMatrix features = timer.run("features", [&] { return extract_features(ctx, journeys, options.features); });
  SegmentResult segments = timer.run("segments", [&] { return segment_journeys(ctx, journeys, features, options.segments); });

  ResultWriter writer(options.output);
  writer.write_vocab(journeys);
  writer.write_journeys(journeys);
  write_features_results(writer, features, journeys, options.include_feature_matrix);
  write_segments_results(writer, segments, journeys);
  writer.write_meta(command_metadata("segment", ctx, config, input, timer));
  writer.commit();

  std::cout << fmt::format("{} journeys, {} events ({} backend)\n", journeys.size(), journeys.num_events(),
                           to_string(ctx.backend));
  std::cout << format_features_summary(features, journeys) << format_segments_summary(segments, journeys);
  std::cout << "written: " << options.output << "\n";
  return 0;
}

CLI::App* add_segment_command(CLI::App& app, std::function<int()>& handler) {
  auto options = std::make_shared<SegmentCommandOptions>();
  CLI::App* cmd = app.add_subcommand("segment", "Journey features and behavioural segments (k-means)");
  add_input_flags(cmd, options->input);
  cmd->add_flag("--quiet", options->quiet, "No progress lines on stderr");
  cmd->add_option("--out", options->output, "HDF5 result to write")->capture_default_str();
  cmd->add_option("--device", options->device, "auto | cpu | gpu")->capture_default_str();
  cmd->add_option("--threads", options->threads, "CPU worker threads (0 = all)");
  cmd->add_option("--k", options->segments.k, "Number of segments (0 = choose by silhouette)")->capture_default_str();
  cmd->add_option("--k-min", options->segments.k_min, "Smallest k tried when choosing")->capture_default_str();
  cmd->add_option("--k-max", options->segments.k_max, "Largest k tried when choosing")->capture_default_str();
  cmd->add_option("--restarts", options->segments.kmeans.restarts, "k-means++ restarts per k")->capture_default_str();
  cmd->add_option("--max-iterations", options->segments.kmeans.max_iterations, "Lloyd iterations cap")
      ->capture_default_str();
  cmd->add_option("--seed", options->segments.kmeans.seed, "Random seed (same seed, same segments)")->capture_default_str();
  cmd->add_option("--columns", options->segments.columns, "Feature columns to cluster on (default: behavioural set)");
  cmd->add_option("--top-touchpoints", options->features.top_touchpoints, "Touchpoints with their own share column")
      ->capture_default_str();
  cmd->add_option("--prefix-events", options->features.prefix_events,
                  "Features of the first N events of each journey only (0 = whole journeys)");
  cmd->add_flag("--no-feature-matrix", [options](int64_t) { options->include_feature_matrix = false; },
                "Store only the feature summary, not the full matrix");
  cmd->callback([&handler, options] { handler = [options] { return run_segment_command(*options); }; });
  return cmd;
}

}  // namespace jm
