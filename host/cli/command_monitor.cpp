// `journeymap monitor`: the journey-building front half of `score` (the model's journey rule), then
// the comparison with the model's training profile.
#include "host/cli/command_monitor.hpp"

#include <iostream>
#include <memory>
#include <string>

#include "host/cli/command_support.hpp"
#include "host/cli/input_flags.hpp"
#include "host/core/paths.hpp"
#include "journeymap/common.hpp"
#include "journeymap/context.hpp"
#include "journeymap/model.hpp"
#include "journeymap/monitoring.hpp"
#include "journeymap/result_file.hpp"

namespace jm {
namespace {

struct MonitorFlags {
  std::string model_path, output, device = "auto";
  InputFlags input;
  int threads = 0;
  MonitoringOptions monitoring;
};

int run_monitor(const MonitorFlags& flags) {
  if (flags.model_path.empty()) throw ConfigError("monitor: no model file given (--model)");
  if (flags.output.empty()) throw ConfigError("monitor: no output file given (--out)");
  validate(flags.monitoring);
  const Context ctx = make_context(parse_device_choice(flags.device), flags.threads);
  const Model model = load_model(flags.model_path);
  RunConfig config = resolve_input_flags_for_model(flags.input, model);
  config.threads = flags.threads;
  config.output_path = flags.output;
  config.progress = false;
  require_distinct_files(flags.model_path, flags.output, "--out");
  create_parent_folder(flags.output);
  StageTimer timer;
  const CommandJourneys input = ingest_journeys(ctx, config, timer, /*require_outcome_touchpoints=*/false);
  const MonitoringResult result =
      timer.run("monitoring", [&] { return monitor_model(ctx, model, input.journeys, flags.monitoring); });
  ResultWriter writer(flags.output);
  write_monitoring_results(writer, result);
  writer.write_attribute("/monitoring", "model", flags.model_path);
  writer.write_meta(command_metadata("monitor", ctx, config, input, timer));
  writer.commit();
  std::cout << format_monitoring_summary(result) << "written: " << flags.output << "\n";
  return 0;
}

}  // namespace

CLI::App* add_monitor_command(CLI::App& app, std::function<int()>& handler) {
  auto flags = std::make_shared<MonitorFlags>();
  CLI::App* cmd = app.add_subcommand(
      "monitor", "Drift of new journeys against a model's training profile, per time bucket, and whether to retrain");
  add_input_flags(cmd, flags->input);
  cmd->add_option("--model", flags->model_path, "Model written by `train` or `run` ([model] path)")->required();
  cmd->add_option("--out", flags->output, "HDF5 result to write (/monitoring)")->required();
  cmd->add_option("--bucket-days", flags->monitoring.bucket_days, "Length of a time bucket (by journey start)")
      ->capture_default_str();
  cmd->add_option("--maturity-days", flags->monitoring.maturity_days,
                  "Journeys count for ROC-AUC and calibration once their last event is this old")
      ->capture_default_str();
  cmd->add_option("--psi-watch", flags->monitoring.psi_watch, "PSI from which a shift is reported")->capture_default_str();
  cmd->add_option("--psi-retrain", flags->monitoring.psi_retrain, "PSI from which retraining is recommended")
      ->capture_default_str();
  cmd->add_option("--auc-drop", flags->monitoring.auc_drop, "ROC-AUC drop from the training's that calls for retraining")
      ->capture_default_str();
  cmd->add_option("--min-bucket-journeys", flags->monitoring.min_bucket_journeys, "Smaller buckets are not judged")
      ->capture_default_str();
  cmd->add_option("--device", flags->device, "auto | cpu | gpu")->capture_default_str();
  cmd->add_option("--threads", flags->threads, "CPU worker threads (0 = all)");
  cmd->callback([&handler, flags] { handler = [flags] { return run_monitor(*flags); }; });
  return cmd;
}

}  // namespace jm
