// `journeymap train`: the journey-building front half of `run`, then the model stage.
#include "host/cli/command_train.hpp"

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "journeymap/common.hpp"
#include "journeymap/context.hpp"
#include "journeymap/result_file.hpp"

namespace jm {

int run_train_command(const TrainCommandOptions& options) {
  if (options.input.empty()) throw ConfigError("train: no input file given (--input)");
  if (options.model_path.empty()) throw ConfigError("train: no model file given (--model)");
  ModelOptions model_options = options.model;
  model_options.target = parse_model_target(options.target);
  model_options.split = parse_split_mode(options.split);
  const Context ctx = make_context(parse_device_choice(options.device), options.threads);

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
  if (model_options.features.conversion_touchpoint.empty())
    model_options.features.conversion_touchpoint = csv.conversion_touchpoint;
  ModelResult result = timed("model", [&] { return train_journey_model(ctx, journeys, model_options); });
  result.model.journey_options = options.journeys;
  save_model(result.model, options.model_path);

  if (!options.output.empty()) {
    const auto output_dir = std::filesystem::path(options.output).parent_path();
    if (!output_dir.empty()) std::filesystem::create_directories(output_dir);
    ResultWriter writer(options.output);
    writer.write_vocab(journeys);
    write_model_results(writer, result, journeys);
    RunMetadata meta;
    meta.command = "train";
    meta.backend = to_string(ctx.backend);
    meta.input_files = {options.input};
    meta.input_bytes = {ingest.file_bytes};
    meta.rows_read = ingest.rows_read;
    meta.rows_skipped = ingest.rows_skipped;
    meta.stage_seconds = stage_seconds;
    writer.write_meta(meta);
    writer.commit();
  }
  std::cout << fmt::format("{} journeys, {} events ({} backend)\n", journeys.size(), journeys.num_events(),
                           to_string(ctx.backend));
  std::cout << format_model_summary(result, journeys);
  std::cout << "model:   " << options.model_path << "\n";
  if (!options.output.empty()) std::cout << "written: " << options.output << "\n";
  return 0;
}

CLI::App* add_train_command(CLI::App& app, std::function<int()>& handler) {
  auto options = std::make_shared<TrainCommandOptions>();
  ModelOptions& m = options->model;
  CLI::App* cmd = app.add_subcommand("train", "Train a conversion (or churn / value) model with XGBoost");
  cmd->add_option("--input", options->input, "Events file: CSV with header, or SPMF")->required();
  cmd->add_option("--model", options->model_path, "Model file to write (UBJSON + feature schema)")->capture_default_str();
  cmd->add_option("--out", options->output, "HDF5 result with /model (\"\" for none)")->capture_default_str();
  cmd->add_option("--device", options->device, "auto | cpu | gpu")->capture_default_str();
  cmd->add_option("--threads", options->threads, "CPU worker threads (0 = all)");
  cmd->add_option("--conversion-touchpoint", options->csv.conversion_touchpoint, "Touchpoint that marks a conversion");
  cmd->add_option("--session-gap", options->journeys.session_gap_seconds,
                  "Start a new journey after this many idle seconds (0 = never)");
  cmd->add_option("--target", options->target, "conversion | churn | value")->capture_default_str();
  cmd->add_option("--churn-days", m.churn_days, "Churn: days without activity after a journey")->capture_default_str();
  cmd->add_option("--split", options->split, "Holdout split: customer | time")->capture_default_str();
  cmd->add_option("--test-fraction", m.test_fraction, "Share held out for the metrics")->capture_default_str();
  cmd->add_option("--rounds", m.rounds, "Maximum boosting rounds")->capture_default_str();
  cmd->add_option("--early-stopping", m.early_stopping_rounds, "Stop after this many rounds without improvement (0 = off)")
      ->capture_default_str();
  cmd->add_option("--learning-rate", m.learning_rate, "XGBoost eta")->capture_default_str();
  cmd->add_option("--max-depth", m.max_depth, "Tree depth")->capture_default_str();
  cmd->add_option("--seed", m.seed, "Split and sampling seed")->capture_default_str();
  cmd->add_option("--prefix-max", m.prefix_max_events, "Prefix curve up to k events (0 = none)")->capture_default_str();
  cmd->add_option("--top-touchpoints", m.features.top_touchpoints, "Touchpoints with their own share column")
      ->capture_default_str();
  cmd->callback([&handler, options] { handler = [options] { return run_train_command(*options); }; });
  return cmd;
}

}  // namespace jm
