// `journeymap detect`: the journey-building front half of `run`, then features, the autoencoder
// (with the isolation forest beside it) and the metric alerts.
#include "host/cli/command_support.hpp"
#include "host/cli/command_detect.hpp"
#include "host/core/paths.hpp"

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

int run_detect_command(const DetectCommandOptions& options) {
  if (options.output.empty()) throw ConfigError("detect: no output file given (--out)");
  AnomaliesOptions anomalies = options.anomalies;
  anomalies.journeys.threshold_rule = parse_threshold_rule(options.threshold_rule);
  Context ctx = make_context(parse_device_choice(options.device), options.threads);
  create_parent_folder(options.output);
  RunConfig config = resolve_input_flags(options.input);
  config.anomalies.alerts.bucket_seconds = anomalies.alerts.bucket_seconds;  // the covariates' buckets
  config.threads = options.threads;
  config.output_path = options.output;
  config.progress = false;
  StageTimer timer(false, options.quiet ? nullptr : &ctx);
  const CommandJourneys input = ingest_journeys(ctx, config, timer);
  const JourneySet& journeys = input.journeys;
  FeatureMatrix features = timer.run("features", [&] {
    return anomalies.journeys_enabled ? extract_features(ctx, journeys, options.features) : FeatureMatrix{};
  });
  AnomaliesResult result = timer.run("anomalies", [&] { return detect_anomalies(ctx, journeys, features, anomalies); });

  ResultWriter writer(options.output);
  writer.write_vocab(journeys);
  writer.write_journeys(journeys);
  write_anomalies_results(writer, result);
  writer.write_meta(command_metadata("detect", ctx, config, input, timer));
  writer.commit();

  std::cout << fmt::format("{} journeys, {} events ({} backend)\n", journeys.size(), journeys.num_events(),
                           to_string(ctx.backend));
  std::cout << format_anomalies_summary(result);
  std::cout << "written: " << options.output << "\n";
  return 0;
}

CLI::App* add_detect_command(CLI::App& app, std::function<int()>& handler) {
  auto options = std::make_shared<DetectCommandOptions>();
  AnomaliesOptions& a = options->anomalies;
  CLI::App* cmd = app.add_subcommand("detect", "Unusual journeys (autoencoder vs isolation forest) and metric alerts");
  add_input_flags(cmd, options->input);
  cmd->add_flag("--quiet", options->quiet, "No progress lines on stderr");
  cmd->add_option("--out", options->output, "HDF5 result to write")->capture_default_str();
  cmd->add_option("--device", options->device, "auto | cpu | gpu")->capture_default_str();
  cmd->add_option("--threads", options->threads, "CPU worker threads (0 = all)");
  cmd->add_option("--columns", a.journeys.columns, "Feature columns the detectors see (default: behavioural set)");
  cmd->add_option("--hidden", a.journeys.autoencoder.hidden, "Hidden layer widths, e.g. --hidden 64 16 64")
      ->capture_default_str();
  cmd->add_option("--epochs", a.journeys.autoencoder.epochs, "Training epochs")->capture_default_str();
  cmd->add_option("--batch-size", a.journeys.autoencoder.batch_size, "Mini-batch rows")->capture_default_str();
  cmd->add_option("--learning-rate", a.journeys.autoencoder.learning_rate, "Adam step size")->capture_default_str();
  cmd->add_option("--max-train-rows", a.journeys.autoencoder.max_train_rows,
                  "Train on a sample of at most this many journeys (0 = all)")
      ->capture_default_str();
  cmd->add_option("--seed", a.journeys.autoencoder.seed, "Random seed (weights, batches)")->capture_default_str();
  cmd->add_option("--threshold", options->threshold_rule, "log_robust | robust | percentile")->capture_default_str();
  cmd->add_option("--percentile", a.journeys.percentile, "Percentile threshold (with --threshold percentile)")
      ->capture_default_str();
  cmd->add_option("--log-robust-k", a.journeys.log_robust_k,
                  "exp(median + k x MAD) of the log scores (with --threshold log_robust)")
      ->capture_default_str();
  cmd->add_option("--robust-k", a.journeys.robust_k, "median + k x MAD threshold (with --threshold robust)")
      ->capture_default_str();
  cmd->add_option("--top", a.journeys.top_n, "Anomalous journeys listed with reasons")->capture_default_str();
  cmd->add_flag("--no-compare", [options](int64_t) { options->anomalies.journeys.compare = false; },
                "Skip the isolation-forest comparison");
  cmd->add_option("--trees", a.journeys.forest.trees, "Isolation-forest trees")->capture_default_str();
  cmd->add_flag("--no-journeys", [options](int64_t) { options->anomalies.journeys_enabled = false; },
                "Only the metric alerts");
  cmd->add_flag("--no-alerts", [options](int64_t) { options->anomalies.alerts_enabled = false; },
                "Only the journey anomalies");
  cmd->add_option("--bucket-seconds", a.alerts.bucket_seconds, "Metric time bucket (86400 = daily)")
      ->capture_default_str();
  cmd->add_option("--window", a.alerts.window, "Buckets in the rolling-median baseline")->capture_default_str();
  cmd->add_option("--k-sigma", a.alerts.k_sigma, "Control limits: expected +- k sigma")->capture_default_str();
  cmd->add_option("--min-support", a.alerts.min_support, "Journeys a bucket needs for its rates")->capture_default_str();
  cmd->add_option("--funnel-steps", a.alerts.funnel_steps,
                  "Touchpoints whose drop-off is tracked (default: every touchpoint that occurs)");
  cmd->add_option_function<std::string>(
      "--seasonality", [options](const std::string& text) { options->anomalies.alerts.seasonality = parse_seasonality(text); },
      "Alert baselines: weekly (a factor per bucket of the week) | none");
  cmd->callback([&handler, options] { handler = [options] { return run_detect_command(*options); }; });
  return cmd;
}

}  // namespace jm
