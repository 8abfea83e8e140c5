// `journeymap train`: the journey-building front half of `run`, then the model stage.
#include "host/cli/command_support.hpp"
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

  StageTimer timer;
  const CsvOptions& csv = options.csv;
  const CommandJourneys input = ingest_journeys(ctx, options.input, csv, options.threads, options.journeys, timer);
  const JourneySet& journeys = input.journeys;
  if (model_options.features.conversion_touchpoint.empty())
    model_options.features.conversion_touchpoint = csv.conversion_touchpoint;
  ModelResult result = timer.run("model", [&] { return train_journey_model(ctx, journeys, model_options); });
  result.model.journey_options = options.journeys;
  save_model(result.model, options.model_path);

  if (!options.output.empty()) {
    create_parent_folder(options.output);
    ResultWriter writer(options.output);
    writer.write_vocab(journeys);
    write_model_results(writer, result, journeys);
    writer.write_meta(command_metadata("train", ctx, options.input, input.ingest, timer));
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
