// `journeymap segment`: the journey-building front half of `run`, then features and segments.
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
  if (options.input.empty()) throw ConfigError("segment: no input file given (--input)");
  if (options.output.empty()) throw ConfigError("segment: no output file given (--out)");
  const Context ctx = make_context(parse_device_choice(options.device), options.threads);
  const auto output_dir = std::filesystem::path(options.output).parent_path();
  if (!output_dir.empty()) std::filesystem::create_directories(output_dir);

  std::vector<std::pair<std::string, double>> stage_seconds;
  auto timed = [&](const char* stage, auto&& work) {
    const auto start = std::chrono::steady_clock::now();
    auto value = work();
    stage_seconds.emplace_back(stage, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return value;
  };

  CsvOptions csv = options.csv;
  csv.num_threads = options.threads;
  IngestResult ingest = timed("ingest", [&] { return read_events(options.input, csv); });
  JourneySet journeys = timed("journeys", [&] { return build_journeys(ctx, ingest.events, options.journeys); });
  FeatureOptions feature_options = options.features;
  if (feature_options.conversion_touchpoint.empty()) feature_options.conversion_touchpoint = csv.conversion_touchpoint;
  FeatureMatrix features = timed("features", [&] { return extract_features(ctx, journeys, feature_options); });
  SegmentResult segments = timed("segments", [&] { return segment_journeys(ctx, journeys, features, options.segments); });

  ResultWriter writer(options.output);
  writer.write_vocab(journeys);
  writer.write_journeys(journeys);
  write_features_results(writer, features, journeys, options.include_feature_matrix);
  write_segments_results(writer, segments, journeys);
  RunMetadata meta;
  meta.command = "segment";
  meta.backend = to_string(ctx.backend);
  meta.input_files = {options.input};
  meta.input_bytes = {ingest.file_bytes};
  meta.rows_read = ingest.rows_read;
  meta.rows_skipped = ingest.rows_skipped;
  meta.stage_seconds = stage_seconds;
  writer.write_meta(meta);
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
  cmd->add_option("--input", options->input, "Events file: CSV with header, or SPMF")->required();
  cmd->add_option("--out", options->output, "HDF5 result to write")->capture_default_str();
  cmd->add_option("--device", options->device, "auto | cpu | gpu")->capture_default_str();
  cmd->add_option("--threads", options->threads, "CPU worker threads (0 = all)");
  cmd->add_option("--conversion-touchpoint", options->csv.conversion_touchpoint, "Touchpoint that marks a conversion");
  cmd->add_option("--session-gap", options->journeys.session_gap_seconds,
                  "Start a new journey after this many idle seconds (0 = never)");
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
