// `journeymap train`: the journey-building front half of `run`, then the model stage.
#include "host/cli/command_support.hpp"
#include "host/cli/command_train.hpp"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "journeymap/common.hpp"
#include "journeymap/context.hpp"
#include "journeymap/monitoring.hpp"
#include "journeymap/retraining.hpp"
#include "journeymap/timestamp.hpp"
#include "journeymap/result_file.hpp"

namespace jm {

int run_train_command(const TrainCommandOptions& options) {
  if (options.model_path.empty()) throw ConfigError("train: no model file given (--model)");
  ModelOptions model_options = options.model;
  model_options.target = parse_model_target(options.target);
  model_options.split = parse_split_mode(options.split);
  Context ctx = make_context(parse_device_choice(options.device), options.threads);

  RunConfig config = resolve_input_flags(options.input);
  config.threads = options.threads;
  config.output_path = options.output;
  config.model_path = options.model_path;
  config.progress = false;
  if (options.strict) model_options.strict_leakage = true;
  StageTimer timer(false, options.quiet ? nullptr : &ctx);
  const CommandJourneys input = ingest_journeys(ctx, config, timer);
  if (options.window_days < 0.0) throw ConfigError("train: --train-days must be >= 0");
  // A rolling window: only the latest journeys train the model.
  const JourneySet windowed = options.window_days > 0.0 ? recent_window(input.journeys, options.window_days) : JourneySet{};
  const JourneySet& journeys = options.window_days > 0.0 ? windowed : input.journeys;
  ModelResult result = timer.run("model", [&] { return train_journey_model(ctx, journeys, model_options); });
  result.model.journey_options = config.journeys;
  result.model.outcome = input.outcome;
  // The training profile travels in the model file, for `journeymap monitor`.
  timer.run("reference", [&] {
    const FeatureMatrix features = extract_features(ctx, journeys, result.model.feature_spec);
    attach_model_reference(result.model, fit_model_reference(ctx, result.model, journeys, features, result));
    return 0;
  });
  // Where the model comes from and, against a champion, whether it replaces it.
  ModelLineage lineage;
  lineage.created_utc = format_iso8601(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now().time_since_epoch()).count());
  if (const std::optional<ModelReference> reference = model_reference(result.model)) {
    lineage.first_start_ms = reference->first_start_ms;
    lineage.last_end_ms = reference->last_end_ms;
  }
  lineage.journeys = journeys.size();
  lineage.window_days = options.window_days;
  lineage.holdout_auc = result.model.target == ModelTarget::Value ? std::nan("") : result.test.roc_auc;
  if (!options.champion_path.empty()) {
    lineage.has_decision = true;
    lineage.parent = options.champion_path;
    if (!std::filesystem::exists(options.champion_path)) {
      lineage.decision.replaced = true;
      lineage.decision.reason = "no champion at " + options.champion_path + " yet: the new model is saved";
    } else {
      const Model champion = load_model(options.champion_path);
      if (const std::optional<ModelLineage> parent = model_lineage(champion)) lineage.parent_created_utc = parent->created_utc;
      lineage.decision = timer.run("champion", [&] {
        return compare_champion(ctx, champion, result.model, journeys, result.test_journeys, result.test_labels,
                                options.min_gain);
      });
    }
  }
  attach_model_lineage(result.model, lineage);
  if (!options.output.empty()) {
    create_parent_folder(options.output);
    ResultWriter writer(options.output);
    writer.write_vocab(journeys);
    writer.write_journeys(journeys);
    write_model_results(writer, result, journeys);
    if (lineage.has_decision) write_champion_challenger(writer, lineage.decision);
    RunMetadata meta = command_metadata("train", ctx, config, input, timer);
    for (const std::string& warning : result.warnings) meta.warnings.push_back("model: " + warning);
    writer.write_meta(meta);
    writer.commit();
  }
  // After the result: a failed run leaves the old model. A champion that wins stays where it is.
  const bool save = !lineage.has_decision || lineage.decision.replaced;
  if (save) save_model(result.model, options.model_path);
  std::cout << fmt::format("{} journeys, {} events ({} backend)\n", journeys.size(), journeys.num_events(),
                           to_string(ctx.backend));
  std::cout << format_model_summary(result, journeys);
  if (lineage.has_decision) std::cout << "champion/challenger: " << lineage.decision.reason << "\n";
  std::cout << (save ? "model:   " + options.model_path : "model:   not written (the champion " + options.champion_path +
                                                               " is kept)")
            << "\n";
  if (!options.output.empty()) std::cout << "written: " << options.output << "\n";
  return 0;
}

CLI::App* add_train_command(CLI::App& app, std::function<int()>& handler) {
  auto options = std::make_shared<TrainCommandOptions>();
  ModelOptions& m = options->model;
  CLI::App* cmd = app.add_subcommand("train", "Train a conversion (or churn / value) model with XGBoost");
  add_input_flags(cmd, options->input);
  cmd->add_flag("--quiet", options->quiet, "No progress lines on stderr");
  cmd->add_option("--model", options->model_path, "Model file to write (UBJSON + feature schema)")->capture_default_str();
  cmd->add_option("--out", options->output, "HDF5 result with /model (\"\" for none)")->capture_default_str();
  cmd->add_option("--device", options->device, "auto | cpu | gpu")->capture_default_str();
  cmd->add_option("--threads", options->threads, "CPU worker threads (0 = all)");
  cmd->add_flag("--strict", options->strict, "Leakage warnings are errors");
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
  cmd->add_option("--prefix-max", m.prefix_max_events, "Train on and evaluate prefixes of k = 1..N events (0 = whole journeys only)")
      ->capture_default_str();
  cmd->add_flag("--prefix-models", m.prefix_models, "Also train one model per k, for comparison in the curve");
  cmd->add_option("--max-train-rows", m.max_train_rows, "Cap on prefix + whole-journey training rows (0 = all)")
      ->capture_default_str();
  cmd->add_option("--top-touchpoints", m.features.top_touchpoints, "Touchpoints with their own share column")
      ->capture_default_str();
  cmd->add_option("--train-days", options->window_days, "Train on the journeys that start in the last N days (0 = all)")
      ->capture_default_str();
  cmd->add_option("--champion", options->champion_path,
                  "Serving model to beat on the latest held-out journeys; --model is written only if it is beaten");
  cmd->add_option("--min-gain", options->min_gain, "ROC-AUC the new model must gain over the champion")
      ->capture_default_str();
  cmd->callback([&handler, options] { handler = [options] { return run_train_command(*options); }; });
  return cmd;
}

}  // namespace jm
