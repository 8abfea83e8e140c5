// Model monitoring: how new journeys differ from the ones a model was trained on, bucket by bucket in
// time, and whether the model still ranks and calibrates them as it did.
//
//   // at training: the reference profile travels inside the model file
//   jm::attach_model_reference(model, jm::fit_model_reference(ctx, model, journeys, features, result));
//   jm::save_model(model, "out/model.ubj");
//   // later, on new events
//   jm::MonitoringResult m = jm::monitor_model(ctx, jm::load_model("out/model.ubj"), new_journeys, {});
//
// Drift is measured by the population stability index (PSI) of every model feature and of the
// score against the training profile: sum over bins of (a - e) ln(a / e), with e the training share
// and a the bucket's share of each bin (deciles of the training values for numeric columns, codes for
// categorical ones, one bin for a missing value). Once a bucket's outcomes have matured, its ROC-AUC
// and calibration (mean predicted probability against the observed rate) are compared with the
// model's on its held-out journeys.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/features.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/model.hpp"

namespace jm {

class ResultWriter;

/// The training data's profile: bins and shares of every model feature and of the score.
struct ModelReference {
  struct Column {
    std::string name;
    bool categorical = false;
    std::vector<double> edges;   ///< numeric: interior cut points (value v is in bin upper_bound(edges, v))
    std::vector<double> codes;   ///< categorical: the codes with their own bin; the rest share the last
    std::vector<double> shares;  ///< per bin, then the share of missing values last
  };
  std::vector<Column> columns;   ///< the model's features, in its order
  Column score;                  ///< the predicted probability (or value), numeric
  int64_t journeys = 0;          ///< journeys profiled
  int64_t first_start_ms = 0, last_end_ms = 0;  ///< the period they span
  double holdout_auc = 0.0;      ///< NaN for a value model: ROC-AUC on the held-out journeys, scored whole
  double holdout_rate = 0.0;     ///< their observed positive rate
  double holdout_mean_score = 0.0;  ///< their mean score (against holdout_rate: the model's own calibration)
};

/// Profiles the journeys a model was trained on (`features`: their whole-journey matrix).
ModelReference fit_model_reference(const Context& ctx, const Model& model, const JourneySet& journeys,
                                   const FeatureMatrix& features, const ModelResult& result);

/// Stores the profile in the model (saved with it by save_model).
void attach_model_reference(const Model& model, const ModelReference& reference);

/// The profile saved in the model, or nothing for a model saved without one.
std::optional<ModelReference> model_reference(const Model& model);

/// Population stability index of `actual` against `expected` shares (each floored at 1e-4).
double population_stability(const std::vector<double>& expected, const std::vector<double>& actual);

struct MonitoringOptions {
  double bucket_days = 7.0;       ///< time buckets, by journey start, aligned to the first day (UTC)
  double maturity_days = 7.0;     ///< journeys count for ROC-AUC and calibration once their last event is this old
  double psi_watch = 0.10;        ///< PSI from which a shift is worth watching
  double psi_retrain = 0.25;      ///< PSI from which the model should be retrained
  double auc_drop = 0.05;         ///< ROC-AUC this far below the training's calls for retraining
  int64_t min_bucket_journeys = 200;  ///< buckets with fewer journeys are reported but not judged
};

/// Throws ConfigError naming the first invalid option.
void validate(const MonitoringOptions& options);

struct MonitoringBucket {
  int64_t start_ms = 0;
  int64_t journeys = 0, matured = 0;
  double mean_score = 0.0;
  double score_psi = 0.0;
  double max_feature_psi = 0.0;
  std::string max_feature;        ///< the judged feature that moved most (recency, the customer's journey
                                  ///< number and the weekday are stored, not judged: they say when, not what)
  double auc = 0.0;               ///< NaN until enough matured journeys of both outcomes
  double observed_rate = 0.0;     ///< matured journeys reaching the positive outcome (NaN: none matured)
  double mean_predicted = 0.0;    ///< mean score of the same journeys
  std::string status;             ///< "ok", "watch", "retrain" or "too few journeys"
  std::vector<std::string> reasons;
};

struct MonitoringResult {
  MonitoringOptions options;
  ModelReference reference;
  std::vector<std::string> features;   ///< the model's features
  std::vector<MonitoringBucket> buckets;
  std::vector<double> feature_psi;     ///< [buckets x features]
  std::string recommendation;          ///< "no action", "watch" or "retrain"
  std::vector<std::string> reasons;    ///< the buckets and shifts behind it
};

/// Buckets `journeys` (cut by the model's rules) by start and compares each bucket with the model's
/// reference. Throws ConfigError when the model has no reference profile.
MonitoringResult monitor_model(const Context& ctx, const Model& model, const JourneySet& journeys,
                               const MonitoringOptions& options);

/// Writes /monitoring (see docs/model.md, "Monitoring").
void write_monitoring_results(ResultWriter& writer, const MonitoringResult& result);
std::string format_monitoring_summary(const MonitoringResult& result);

}  // namespace jm
