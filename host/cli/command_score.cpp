// `journeymap score`: journeys of a new events file, scored with a saved model. By default only the
// open journeys are scored: each customer's last journey when it has not converted yet.
#include "host/cli/command_score.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <unistd.h>

#include <fmt/format.h>

#include "host/cli/command_support.hpp"
#include "host/core/paths.hpp"
#include "host/core/temp_files.hpp"
#include "journeymap/common.hpp"
#include "journeymap/context.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/model.hpp"
#include "journeymap/result_file.hpp"
#include "journeymap/timestamp.hpp"

namespace jm {

int run_score_command(const ScoreCommandOptions& options) {
  if (options.model_path.empty()) throw ConfigError("score: no model file given (--model)");
  if (options.output.empty()) throw ConfigError("score: no output file given (--out)");
  const Context ctx = make_context(parse_device_choice(options.device), options.threads);
  const Model model = load_model(options.model_path);

  RunConfig config = resolve_input_flags_for_model(options.input, model);
  config.threads = options.threads;
  config.output_path = options.output;
  for (const std::string& read : {config.input_path, options.model_path}) {
    require_distinct_files(read, options.output, "--out");
    require_distinct_files(read, options.h5_output, "--h5");
  }
  config.progress = false;
  StageTimer timer;
  const CommandJourneys input = ingest_journeys(ctx, config, timer, /*require_outcome_touchpoints=*/false);
  const IngestResult& ingest = input.ingest;
  const JourneySet& all = input.journeys;
  // A dimension the model uses but the input lacks would score every journey as "no value".
  for (const std::string& dimension : model.feature_spec.dimensions)
    if (find_dimension(all, dimension) == nullptr &&
        std::find(model.feature_names.begin(), model.feature_names.end(), "dim:" + dimension) != model.feature_names.end())
      throw ConfigError("score: the model uses the dimension '" + dimension + "'; read it with --dimension " + dimension +
                        " (or " + dimension + "=COLUMN)");

  // The journeys to score, in customer order: by default each customer's last journey while it has
  // no outcome yet (the journeys still in flight).
  std::vector<int64_t> rows;
  for (int64_t j = 0; j < all.size(); ++j) {
    const bool last_of_customer = j + 1 == all.size() || all.customer[static_cast<size_t>(j + 1)] != all.customer[static_cast<size_t>(j)];
    if (options.all_journeys || (last_of_customer && all.outcome[static_cast<size_t>(j)] == 0)) rows.push_back(j);
  }
  const JourneySet scored = select_journeys(all, rows);

  ScoreOptions score_options;
  score_options.top_reasons = options.top_reasons;
  score_options.prefix_events = options.prefix_events;
  // Recency is measured against the whole input, not only the scored journeys.
  score_options.has_reference_time = true;
  score_options.reference_time_ms = 0;
  for (int64_t j = 0; j < all.size(); ++j)
    score_options.reference_time_ms = j == 0 ? all.end_ms[0] : std::max(score_options.reference_time_ms, all.end_ms[static_cast<size_t>(j)]);
  if (!options.as_of.empty()) {
    const auto as_of = parse_timestamp(options.as_of);
    if (!as_of) throw ConfigError("score: --as-of is not a timestamp: '" + options.as_of + "'");
    score_options.reference_time_ms = *as_of;
  }
  const ScoreResult scores = score_journeys(ctx, model, scored, score_options);

  const auto output_dir = std::filesystem::path(options.output).parent_path();
  if (!output_dir.empty()) std::filesystem::create_directories(output_dir);
  const std::string temp = fmt::format("{}.tmp.{}", options.output, ::getpid());
  const TempFileRegistration registration(temp);
  try {
    std::ofstream out(temp, std::ios::binary);
    out << "customer_id,journey_start,events,outcome," << (model.target == ModelTarget::Value ? "value" : "probability");
    for (int k = 1; k <= scores.top_reasons; ++k) out << ",reason_" << k << ",contribution_" << k;
    out << "\n";
    for (size_t r = 0; r < rows.size(); ++r) {
      out << csv_field(scored.customers.name(static_cast<int32_t>(scored.customer[r]))) << ','
          << format_iso8601(scored.start_ms[r]) << ',' << scored.length(static_cast<int64_t>(r)) << ','
          << csv_field(scored.outcome_name(static_cast<int64_t>(r))) << ',' << fmt::format("{:.6f}", scores.prediction[r]);
      for (int k = 0; k < scores.top_reasons; ++k) {
        const size_t at = r * static_cast<size_t>(scores.top_reasons) + static_cast<size_t>(k);
        const int32_t feature = scores.reason_feature[at];
        out << ',' << (feature >= 0 ? csv_field(scores.feature_names[static_cast<size_t>(feature)]) : "") << ','
            << (feature >= 0 ? fmt::format("{:.6f}", scores.reason_contribution[at]) : "");
      }
      out << "\n";
    }
    out.close();
    if (!out) throw Error("cannot write " + options.output + " (disk full?)");
    std::filesystem::rename(temp, options.output);
  } catch (...) {
    std::remove(temp.c_str());  // nothing partial is left, and an earlier file stays as it was
    throw;
  }

  if (!options.h5_output.empty()) {
    const auto h5_dir = std::filesystem::path(options.h5_output).parent_path();
    if (!h5_dir.empty()) std::filesystem::create_directories(h5_dir);
    ResultWriter writer(options.h5_output);
    std::vector<std::string> customers, reason_names;
    for (size_t r = 0; r < rows.size(); ++r) customers.push_back(scored.customers.name(static_cast<int32_t>(scored.customer[r])));
    for (int32_t feature : scores.reason_feature)
      reason_names.push_back(feature >= 0 ? scores.feature_names[static_cast<size_t>(feature)] : std::string());
    std::vector<int64_t> lengths;
    for (size_t r = 0; r < rows.size(); ++r) lengths.push_back(scored.length(static_cast<int64_t>(r)));
    writer.write("/scores/customer", customers);
    writer.write("/scores/journey_start_ms", scored.start_ms);
    writer.write("/scores/events", lengths);
    writer.write("/scores/prediction", scores.prediction);
    writer.write("/scores/reason_feature", reason_names);
    writer.write_matrix("/scores/reason_contribution", scores.reason_contribution, rows.size(),
                        static_cast<size_t>(scores.top_reasons));
    writer.write_attribute("/scores", "model", options.model_path);
    writer.write_attribute("/scores", "target", std::string(to_string(model.target)));
    writer.write_attribute("/scores", "top_reasons", static_cast<int64_t>(scores.top_reasons));
    writer.write_attribute("/scores", "reference_time_ms", score_options.reference_time_ms);
    (void)ingest;
    writer.write_meta(command_metadata("score", ctx, config, input, timer));
    writer.commit();
  }
  std::cout << fmt::format("scored {} {} of {} ({} backend)\nwritten: {}\n", rows.size(),
                           options.all_journeys ? "journeys" : "open journeys", all.size(), to_string(ctx.backend),
                           options.output);
  if (!options.h5_output.empty()) std::cout << "written: " << options.h5_output << "\n";
  return 0;
}

CLI::App* add_score_command(CLI::App& app, std::function<int()>& handler) {
  auto options = std::make_shared<ScoreCommandOptions>();
  CLI::App* cmd = app.add_subcommand("score", "Score open journeys with a model written by train");
  cmd->add_option("--model", options->model_path, "Model file written by journeymap train")->required();
  add_input_flags(cmd, options->input);
  cmd->add_option("--out", options->output, "CSV to write: one row per scored journey")->capture_default_str();
  cmd->add_option("--h5", options->h5_output, "Also write HDF5 /scores here");
  cmd->add_option("--device", options->device, "auto | cpu | gpu")->capture_default_str();
  cmd->add_option("--threads", options->threads, "CPU worker threads (0 = all)");
  cmd->add_option("--top-reasons", options->top_reasons, "Top contributing features per journey")->capture_default_str();
  cmd->add_option("--as-of", options->as_of, "\"Now\" for recency (default: the last event in the input)");
  cmd->add_option("--prefix-events", options->prefix_events, "Score only the first N events of each journey (0 = all)");
  cmd->add_flag("--all", options->all_journeys, "Score every journey, not only open ones");
  cmd->callback([&handler, options] { handler = [options] { return run_score_command(*options); }; });
  return cmd;
}

}  // namespace jm
