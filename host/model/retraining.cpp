// The retraining loop (retraining.hpp): rolling windows, lineage in the model file, and the
// champion/challenger decision.
#include "journeymap/retraining.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "host/model/xgboost_api.hpp"
#include "journeymap/common.hpp"
#include "journeymap/monitoring.hpp"
#include "journeymap/timestamp.hpp"

namespace jm {
namespace {

constexpr const char* kLineageAttribute = "journeymap_lineage";
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int64_t kMinUnseenJourneys = 200;
constexpr int64_t kMinPerOutcome = 20;

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
double number_or_nan(const nlohmann::json& j) { return j.is_null() ? kNaN : j.get<double>(); }

// When the champion's training data ended: its lineage, else its monitoring profile, else unknown.
std::optional<int64_t> training_end_ms(const Model& model) {
  if (const std::optional<ModelLineage> lineage = model_lineage(model)) return lineage->last_end_ms;
  if (const std::optional<ModelReference> reference = model_reference(model)) return reference->last_end_ms;
  return std::nullopt;
}

std::vector<float> whole_journey_scores(const Context& ctx, const Model& model, const JourneySet& journeys,
                                        int64_t reference_time_ms) {
  ScoreOptions options;
  options.top_reasons = 0;
  options.has_reference_time = true;  // recency measured from the same "now" for both models
  options.reference_time_ms = reference_time_ms;
  return score_journeys(ctx, model, journeys, options).prediction;
}

}  // namespace

JourneySet recent_window(const JourneySet& journeys, double window_days) {
  std::vector<int64_t> rows;
  if (journeys.size() == 0) return select_journeys(journeys, rows);
  int64_t latest = journeys.start_ms[0];
  for (int64_t j = 0; j < journeys.size(); ++j) latest = std::max(latest, journeys.start_ms[j]);
  const auto window_ms = static_cast<int64_t>(window_days * 86400000.0);
  for (int64_t j = 0; j < journeys.size(); ++j)
    if (window_days <= 0.0 || journeys.start_ms[j] >= latest - window_ms) rows.push_back(j);
  return select_journeys(journeys, rows);
}

ChampionChallenger compare_champion(const Context& ctx, const Model& champion, const Model& challenger,
                                    const JourneySet& journeys, const std::vector<int64_t>& rows,
                                    const std::vector<float>& labels, double min_gain) {
  if (rows.size() != labels.size()) throw std::invalid_argument("compare_champion: one label per row expected");
  if (!(min_gain >= 0.0 && min_gain < 1.0)) throw ConfigError("champion/challenger: min_gain must be in [0, 1)");
  if (champion.target != challenger.target)
    throw ConfigError(fmt::format("champion/challenger: the champion predicts {} and the challenger {}",
                                  to_string(champion.target), to_string(challenger.target)));
  ChampionChallenger out;
  out.min_gain = min_gain;
  // The latest journeys: those the champion cannot have seen, when there are enough of them.
  std::vector<int64_t> compared;
  std::vector<float> compared_labels;
  if (const std::optional<int64_t> end_ms = training_end_ms(champion)) {
    for (size_t i = 0; i < rows.size(); ++i)
      if (journeys.start_ms[rows[i]] > *end_ms) {
        compared.push_back(rows[i]);
        compared_labels.push_back(labels[i]);
      }
  }
  out.unseen_by_champion = static_cast<int64_t>(compared.size()) >= kMinUnseenJourneys;
  if (!out.unseen_by_champion) {
    compared = rows;
    compared_labels = labels;
  }
  out.journeys = static_cast<int64_t>(compared.size());
  const JourneySet subset = select_journeys(journeys, compared);
  int64_t now_ms = 0;
  for (int64_t j = 0; j < journeys.size(); ++j) now_ms = std::max(now_ms, journeys.end_ms[j]);
  const int64_t positives = std::count(compared_labels.begin(), compared_labels.end(), 1.0f);
  if (challenger.target == ModelTarget::Value || positives < kMinPerOutcome ||
      out.journeys - positives < kMinPerOutcome) {
    out.champion_auc = out.challenger_auc = out.champion_log_loss = out.challenger_log_loss = kNaN;
    out.replaced = false;
    out.reason = challenger.target == ModelTarget::Value
                     ? "value models are not compared yet: the champion is kept"
                     : fmt::format("{} journeys with {} positive: too few of each outcome to compare; the champion is kept",
                                   out.journeys, positives);
    return out;
  }
  const BinaryMetrics old_metrics = evaluate_binary(compared_labels, whole_journey_scores(ctx, champion, subset, now_ms));
  const BinaryMetrics new_metrics = evaluate_binary(compared_labels, whole_journey_scores(ctx, challenger, subset, now_ms));
  out.champion_auc = old_metrics.roc_auc;
  out.challenger_auc = new_metrics.roc_auc;
  out.champion_log_loss = old_metrics.log_loss;
  out.challenger_log_loss = new_metrics.log_loss;
  out.replaced = out.challenger_auc >= out.champion_auc + min_gain;
  out.reason = fmt::format("on {} held-out journeys{}: ROC-AUC {:.4f} (challenger) against {:.4f} (champion), log loss "
                           "{:.4f} against {:.4f}; {}",
                           out.journeys, out.unseen_by_champion ? " that start after the champion's data" :
                                                                  " (the champion may have trained on some of them)",
                           out.challenger_auc, out.champion_auc, out.challenger_log_loss, out.champion_log_loss,
                           out.replaced ? "the challenger replaces the champion" : "the champion is kept");
  return out;
}

void attach_model_lineage(const Model& model, const ModelLineage& lineage) {
  if (model.empty()) throw std::logic_error("attach_model_lineage: empty model");
  nlohmann::json j = {{"created_utc", lineage.created_utc},
                      {"first_start_ms", lineage.first_start_ms},
                      {"last_end_ms", lineage.last_end_ms},
                      {"journeys", lineage.journeys},
                      {"window_days", lineage.window_days},
                      {"holdout_auc", number_or_null(lineage.holdout_auc)},
                      {"parent", lineage.parent},
                      {"parent_created_utc", lineage.parent_created_utc}};
  if (lineage.has_decision) {
    const ChampionChallenger& d = lineage.decision;
    j["decision"] = {{"journeys", d.journeys},
                     {"unseen_by_champion", d.unseen_by_champion},
                     {"champion_auc", number_or_null(d.champion_auc)},
                     {"challenger_auc", number_or_null(d.challenger_auc)},
                     {"champion_log_loss", number_or_null(d.champion_log_loss)},
                     {"challenger_log_loss", number_or_null(d.challenger_log_loss)},
                     {"min_gain", d.min_gain},
                     {"replaced", d.replaced},
                     {"reason", d.reason}};
  }
  model.booster->set_attribute(kLineageAttribute, j.dump());
}

std::optional<ModelLineage> model_lineage(const Model& model) {
  if (model.empty()) return std::nullopt;
  bool found = false;
  const std::string text = model.booster->attribute(kLineageAttribute, &found);
  if (!found) return std::nullopt;
  ModelLineage lineage;
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    lineage.created_utc = j.at("created_utc").get<std::string>();
    lineage.first_start_ms = j.at("first_start_ms").get<int64_t>();
    lineage.last_end_ms = j.at("last_end_ms").get<int64_t>();
    lineage.journeys = j.at("journeys").get<int64_t>();
    lineage.window_days = j.at("window_days").get<double>();
    lineage.holdout_auc = number_or_nan(j.at("holdout_auc"));
    lineage.parent = j.at("parent").get<std::string>();
    lineage.parent_created_utc = j.at("parent_created_utc").get<std::string>();
    if (j.contains("decision")) {
      const nlohmann::json& d = j.at("decision");
      lineage.has_decision = true;
      lineage.decision.journeys = d.at("journeys").get<int64_t>();
      lineage.decision.unseen_by_champion = d.at("unseen_by_champion").get<bool>();
      lineage.decision.champion_auc = number_or_nan(d.at("champion_auc"));
      lineage.decision.challenger_auc = number_or_nan(d.at("challenger_auc"));
      lineage.decision.champion_log_loss = number_or_nan(d.at("champion_log_loss"));
      lineage.decision.challenger_log_loss = number_or_nan(d.at("challenger_log_loss"));
      lineage.decision.min_gain = d.at("min_gain").get<double>();
      lineage.decision.replaced = d.at("replaced").get<bool>();
      lineage.decision.reason = d.at("reason").get<std::string>();
    }
  } catch (const std::exception& error) {
    throw Error(std::string("the model's lineage is damaged: ") + error.what());
  }
  return lineage;
}

}  // namespace jm
