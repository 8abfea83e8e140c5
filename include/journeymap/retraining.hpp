// The retraining loop: train on a rolling window, record where a model comes from, and replace the
// serving model (the champion) only when the new one (the challenger) does better on the latest
// journeys, with the decision and its numbers kept.
//
//   jm::JourneySet recent = jm::recent_window(journeys, 90);          // the last 90 days
//   jm::ModelResult challenger = jm::train_journey_model(ctx, recent, options);
//   jm::ChampionChallenger decision =
//       jm::compare_champion(ctx, champion, challenger.model, recent, challenger.test_journeys,
//                            challenger.test_labels, 0.0);
//   if (decision.replaced) jm::save_model(challenger.model, path);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/model.hpp"

namespace jm {

/// The journeys that start within the last `window_days` days before the latest start (all when
/// window_days <= 0).
JourneySet recent_window(const JourneySet& journeys, double window_days);

/// The champion against the challenger on the same journeys.
struct ChampionChallenger {
  int64_t journeys = 0;             ///< compared on (the challenger's held-out journeys)
  bool unseen_by_champion = false;  ///< every one starts after the champion's training data ended
  double champion_auc = 0.0, challenger_auc = 0.0;          ///< ROC-AUC (NaN without 20 of each outcome)
  double champion_log_loss = 0.0, challenger_log_loss = 0.0;
  double min_gain = 0.0;            ///< ROC-AUC the challenger must gain to replace the champion
  bool replaced = false;
  std::string reason;               ///< one sentence with the numbers
};

/// Scores both models on `rows` of `journeys` (whole journeys; `labels` [rows] the outcomes the
/// challenger was evaluated on) and decides. When the champion's lineage or profile says when its
/// training data ended and at least 200 of the rows start after that, only those are compared.
ChampionChallenger compare_champion(const Context& ctx, const Model& champion, const Model& challenger,
                                    const JourneySet& journeys, const std::vector<int64_t>& rows,
                                    const std::vector<float>& labels, double min_gain);

/// Where a model comes from, stored in the model file.
struct ModelLineage {
  std::string created_utc;
  int64_t first_start_ms = 0, last_end_ms = 0;  ///< the training journeys' period
  int64_t journeys = 0;
  double window_days = 0.0;         ///< 0: all of the input
  double holdout_auc = 0.0;         ///< NaN for a value model
  std::string parent;               ///< the champion it was compared with ("" for none)
  std::string parent_created_utc;
  bool has_decision = false;
  ChampionChallenger decision;
};

void attach_model_lineage(const Model& model, const ModelLineage& lineage);

class ResultWriter;
/// /model/champion_challenger: auc and log_loss [champion, challenger], attributes journeys,
/// unseen_by_champion, min_gain, replaced and reason.
void write_champion_challenger(ResultWriter& writer, const ChampionChallenger& decision);
std::optional<ModelLineage> model_lineage(const Model& model);

}  // namespace jm
