// `journeymap bandit`: the simulator on generated data with planted offers, off-policy evaluation
// of logged decisions, and the next action for every journey still in flight.
#include "host/cli/command_bandit.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>

#include <fmt/format.h>

#include "host/cli/command_support.hpp"
#include "host/cli/input_flags.hpp"
#include "host/generate/pending_file.hpp"
#include "journeymap/bandits.hpp"
#include "journeymap/common.hpp"
#include "journeymap/context.hpp"
#include "journeymap/generate.hpp"
#include "journeymap/result_file.hpp"
#include "journeymap/timestamp.hpp"

namespace jm {
namespace {

struct BanditFlags {
  InputFlags input;
  BanditOptions bandit;
  std::string output, device = "auto";
  int threads = 0;
  // simulate
  int64_t journeys = 200000;
  uint64_t data_seed = 11;
};

void add_policy_flags(CLI::App* command, BanditFlags& flags) {
  command->add_option("--action-dimension", flags.bandit.action_dimension, "Dimension naming each decision's action")
      ->capture_default_str();
  command->add_option("--propensity-dimension", flags.bandit.propensity_dimension,
                      "Dimension with the logging policy's probability of that action")
      ->capture_default_str();
  command->add_option("--actions", flags.bandit.actions, "The action set (default: the actions in the data)")->delimiter(',');
  command->add_option("--prior-precision", flags.bandit.prior_precision, "Ridge prior on every weight")->capture_default_str();
  command->add_option("--exploration", flags.bandit.exploration, "Scale of the posterior draws (0: greedy)")
      ->capture_default_str();
  command->add_option("--seed", flags.bandit.seed, "Seed of the policy's draws")->capture_default_str();
  command->add_option("--device", flags.device, "auto | cpu | gpu (features)")->capture_default_str();
  command->add_option("--threads", flags.threads, "CPU worker threads (0 = all)");
}

// The action and propensity columns are read as dimensions unless the flags already name them.
RunConfig bandit_input_config(const BanditFlags& flags) {
  RunConfig config = resolve_input_flags(flags.input);
  config.threads = flags.threads;
  config.progress = false;
  for (const std::string& name : {flags.bandit.action_dimension, flags.bandit.propensity_dimension}) {
    auto& dimensions = config.csv.columns.dimensions;
    if (std::none_of(dimensions.begin(), dimensions.end(), [&](const DimensionColumn& d) { return d.name == name; }))
      dimensions.push_back(DimensionColumn{name, name});
  }
  return config;
}

// The events read, their journeys built and their logged decisions found: the front half of every
// bandit command.
struct LoggedInput {
  RunConfig config;
  Context ctx;
  StageTimer timer;
  CommandJourneys input;
  LoggedDecisions logged;
};

std::unique_ptr<LoggedInput> read_logged_input(const BanditFlags& flags, bool require_outcome_touchpoints) {
  validate(flags.bandit);
  auto out = std::make_unique<LoggedInput>();
  out->config = bandit_input_config(flags);
  out->config.output_path = flags.output;  // ingest_journeys keeps the inputs and this apart
  out->ctx = make_context(parse_device_choice(flags.device), flags.threads);
  create_parent_folder(flags.output);
  out->input = ingest_journeys(out->ctx, out->config, out->timer, require_outcome_touchpoints);
  out->logged = out->timer.run("decisions", [&] {
    return logged_decisions(out->ctx, out->input.journeys, flags.bandit, out->config.input_path);
  });
  return out;
}

std::vector<std::string> decision_warnings(const LoggedDecisions& logged) {
  std::vector<std::string> warnings;
  for (size_t a = 0; a < logged.actions.size(); ++a)
    if (logged.count_by_action[a] == 0)
      warnings.push_back("action '" + logged.actions[a] + "' was never logged: a policy that takes it cannot be evaluated");
  if (logged.journeys_with_several_decisions > 0)
    warnings.push_back(fmt::format("{} journeys hold more than one decision; only the first of each is used",
                                   logged.journeys_with_several_decisions));
  if (logged.decisions_at_journey_start > 0)
    warnings.push_back(fmt::format("{} decisions at a journey's first event are left out (no earlier event to read)",
                                   logged.decisions_at_journey_start));
  if (logged.immature_decisions > 0)
    warnings.push_back(fmt::format("{} decisions too close to the end of the data to know their outcome are left out",
                                   logged.immature_decisions));
  return warnings;
}

int run_evaluate(const BanditFlags& flags) {
  if (flags.output.empty()) throw ConfigError("bandit evaluate: no output file given (--out)");
  const std::unique_ptr<LoggedInput> read = read_logged_input(flags, /*require_outcome_touchpoints=*/true);
  const RunConfig& config = read->config;
  const LoggedDecisions& logged = read->logged;
  StageTimer& timer = read->timer;
  const BanditEvaluation evaluation = timer.run("evaluation", [&] { return evaluate_policies(logged, flags.bandit); });
  ResultWriter writer(flags.output);
  write_bandit_evaluation(writer, evaluation);
  RunMetadata meta = command_metadata("bandit evaluate", read->ctx, config, read->input, timer);
  for (std::string& warning : decision_warnings(logged)) meta.warnings.push_back(std::move(warning));
  writer.write_meta(meta);
  writer.commit();
  for (const std::string& warning : meta.warnings) std::cout << "WARNING: " << warning << "\n";
  std::cout << format_bandit_evaluation(evaluation) << "written: " << flags.output << "\n";
  return 0;
}

int run_recommend(const BanditFlags& flags, double in_flight_hours) {
  if (flags.output.empty()) throw ConfigError("bandit recommend: no output file given (--out)");
  if (!(in_flight_hours > 0.0)) throw ConfigError("bandit recommend: --in-flight-hours must be > 0");
  const std::unique_ptr<LoggedInput> read = read_logged_input(flags, /*require_outcome_touchpoints=*/false);
  const Context& ctx = read->ctx;
  const JourneySet& journeys = read->input.journeys;
  const LoggedDecisions& logged = read->logged;
  const LinearThompsonPolicy policy = fit_policy(logged, flags.bandit);

  // In flight: no outcome, no decision taken yet, and an event within the window before the data's end.
  const JourneyDimension* actions = find_dimension(journeys, flags.bandit.action_dimension);
  const int64_t data_end_ms = *std::max_element(journeys.timestamp_ms.host().begin(), journeys.timestamp_ms.host().end());
  const auto window_ms = static_cast<int64_t>(in_flight_hours * 3600.0 * 1000.0);
  std::vector<int64_t> rows;
  for (int64_t j = 0; j < journeys.size(); ++j) {
    const bool has_outcome = journeys.has_outcomes() ? journeys.outcome[j] != 0 : journeys.converted[j] != 0;
    if (has_outcome || journeys.end_ms[j] < data_end_ms - window_ms) continue;
    bool decided = false;
    for (int64_t e = journeys.offsets[j]; e < journeys.offsets[j + 1] && !decided; ++e)
      decided = actions->event_code[static_cast<size_t>(e)] >= 0;
    if (!decided) rows.push_back(j);
  }

  PendingFile out(flags.output);
  std::string header = "customer_id,journey_start,events,last_event,action,probability";
  for (const std::string& action : logged.actions) header += "," + csv_field("probability:" + action);
  for (const std::string& action : logged.actions) header += "," + csv_field("expected_reward:" + action);
  out.write(header + "\n");
  if (!rows.empty()) {
    const JourneySet in_flight = select_journeys(journeys, rows);
    const BanditContexts contexts = bandit_contexts(ctx, in_flight, flags.bandit.features, &logged.contexts);
    std::mt19937_64 rng(flags.bandit.seed);
    for (int64_t i = 0; i < in_flight.size(); ++i) {
      const std::vector<double> p = policy.probabilities(contexts.row(i));
      const std::vector<double> rewards = policy.expected_rewards(contexts.row(i));
      const int action = policy.choose(contexts.row(i), rng);
      const std::string customer = csv_field(in_flight.customers.name(static_cast<int32_t>(in_flight.customer[i])));
      std::string line = fmt::format("{},{},{},{},{},{:.6f}", customer, format_iso8601(in_flight.start_ms[i]),
                                     in_flight.length(i), format_iso8601(in_flight.end_ms[i]),
                                     csv_field(logged.actions[static_cast<size_t>(action)]), p[static_cast<size_t>(action)]);
      for (double v : p) line += fmt::format(",{:.6f}", v);
      for (double v : rewards) line += fmt::format(",{:.6f}", std::clamp(v, 0.0, 1.0));  // a 0/1 reward's mean
      out.write(line + "\n");
    }
  }
  out.close();
  out.commit();
  for (const std::string& warning : decision_warnings(logged)) std::cout << "WARNING: " << warning << "\n";
  std::cout << fmt::format("policy fitted on {} logged decisions; {} journeys in flight (no outcome, no decision, an "
                           "event in the last {:g} h of the data) get their next action\nwritten: {}\n",
                           logged.size(), rows.size(), in_flight_hours, flags.output);
  return 0;
}

int run_simulate(BanditFlags flags) {
  if (flags.output.empty()) throw ConfigError("bandit simulate: no output file given (--out)");
  validate(flags.bandit);  // before any data is generated
  if (flags.journeys < 1000) throw ConfigError("bandit simulate: --journeys must be >= 1000");
  // The generator's journeys, with their planted offers, unless a generated file is given; the
  // generated files go when the command ends, however it ends.
  struct RemoveScratch {
    std::filesystem::path path;
    ~RemoveScratch() {
      std::error_code ignored;
      if (!path.empty()) std::filesystem::remove_all(path, ignored);
    }
  } scratch;
  if (flags.input.input.empty()) {
    scratch.path = std::filesystem::temp_directory_path() / fmt::format("journeymap-bandit-{}", ::getpid());
    GeneratorOptions generator;
    generator.journeys = flags.journeys;
    generator.seed = flags.data_seed;
    generator.num_threads = flags.threads;
    generator.checkout_offers = true;
    flags.input.input = (scratch.path / "events.csv").string();
    generate_dataset(generator, flags.input.input);
  }
  flags.input.session_gap_seconds = kGeneratedJourneyGapSeconds;  // journey k of a customer is truth row k
  const std::unique_ptr<LoggedInput> read = read_logged_input(flags, /*require_outcome_touchpoints=*/true);
  const LoggedDecisions& logged = read->logged;
  const std::vector<double> truth =
      planted_decision_values(truth_csv_path_for(read->config.input_path), read->input.journeys, logged, "p_purchase_");
  const BanditSimulation simulation = read->timer.run("simulation", [&] {
    return simulate_bandit(logged.contexts, truth, logged.actions, flags.bandit);
  });
  ResultWriter writer(flags.output);
  write_bandit_simulation(writer, simulation);
  RunMetadata meta = command_metadata("bandit simulate", read->ctx, read->config, read->input, read->timer);
  if (!scratch.path.empty())
    meta.warnings.push_back(fmt::format("the input was generated for this simulation ({} journeys with checkout offers, "
                                        "data seed {}) and removed afterwards",
                                        flags.journeys, flags.data_seed));
  writer.write_meta(meta);
  writer.commit();
  std::cout << format_bandit_simulation(simulation) << "written: " << flags.output << "\n";
  return 0;
}

}  // namespace

CLI::App* add_bandit_command(CLI::App& app, std::function<int()>& handler) {
  CLI::App* bandit = app.add_subcommand("bandit", "Contextual bandits: simulate, evaluate logged decisions, recommend");
  bandit->require_subcommand(1);

  auto simulate_flags = std::make_shared<BanditFlags>();
  CLI::App* simulate = bandit->add_subcommand(
      "simulate", "Thompson sampling against a uniform split and every fixed action on generated planted offers");
  simulate->add_option("--journeys", simulate_flags->journeys, "Journeys to generate")->capture_default_str();
  simulate->add_option("--data-seed", simulate_flags->data_seed, "Seed of the generated data")->capture_default_str();
  simulate->add_option("--input", simulate_flags->input.input,
                       "A file written by `generate --checkout-offers` instead (its truth CSV beside it)");
  simulate->add_option("--refresh-every", simulate_flags->bandit.refresh_every, "Decisions between posterior refreshes")
      ->capture_default_str();
  simulate->add_option("--out", simulate_flags->output, "HDF5 result to write")->required();
  add_policy_flags(simulate, *simulate_flags);
  simulate->callback([&handler, simulate_flags] { handler = [simulate_flags] { return run_simulate(*simulate_flags); }; });

  auto evaluate_flags = std::make_shared<BanditFlags>();
  CLI::App* evaluate = bandit->add_subcommand(
      "evaluate", "Off-policy value (inverse propensity, doubly robust) of fixed actions and a learnt policy");
  add_input_flags(evaluate, evaluate_flags->input);
  evaluate->add_option("--alpha", evaluate_flags->bandit.alpha, "1 - confidence of the intervals")->capture_default_str();
  evaluate->add_option("--max-weight", evaluate_flags->bandit.max_importance_weight,
                       "Clip importance weights above this (0: none)")->capture_default_str();
  evaluate->add_option("--maturity-hours", evaluate_flags->bandit.maturity_hours,
                       "Leave out decisions without an outcome this close to the end of the data")->capture_default_str();
  evaluate->add_option("--out", evaluate_flags->output, "HDF5 result to write")->required();
  add_policy_flags(evaluate, *evaluate_flags);
  evaluate->callback([&handler, evaluate_flags] { handler = [evaluate_flags] { return run_evaluate(*evaluate_flags); }; });

  auto recommend_flags = std::make_shared<BanditFlags>();
  auto in_flight_hours = std::make_shared<double>(24.0);
  CLI::App* recommend = bandit->add_subcommand(
      "recommend", "Fit the policy on logged decisions and choose the next action of every journey in flight");
  add_input_flags(recommend, recommend_flags->input);
  recommend->add_option("--in-flight-hours", *in_flight_hours, "Journeys with an event this close to the data's end")
      ->capture_default_str();
  recommend->add_option("--maturity-hours", recommend_flags->bandit.maturity_hours,
                        "Leave out decisions without an outcome this close to the end of the data")->capture_default_str();
  recommend->add_option("--out", recommend_flags->output, "CSV of recommendations to write")->required();
  add_policy_flags(recommend, *recommend_flags);
  recommend->callback([&handler, recommend_flags, in_flight_hours] {
    handler = [recommend_flags, in_flight_hours] { return run_recommend(*recommend_flags, *in_flight_hours); };
  });
  return bandit;
}

}  // namespace jm
