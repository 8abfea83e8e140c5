// The boosting loop of train_model, on this process's rows alone or with other processes through
// XGBoost's own collective (each process holds a share of the rows; XGBoost sums the histograms,
// quantile sketches and evaluation metrics over them, so every process grows the same trees and
// stops early at the same round). Internal: not part of the public API.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "host/core/records.hpp"
#include "host/model/xgboost_api.hpp"
#include "journeymap/context.hpp"
#include "journeymap/model.hpp"

namespace jm::model_detail {

/// Everything a process needs to run the boosting rounds: the parameters every process shares and
/// this process's rows (row-major, `feature_names.size()` columns).
struct BoostingJob {
  /// XGBoost parameters common to every process (not `device` and `nthread`: each process's own).
  std::vector<std::pair<std::string, std::string>> parameters;
  std::string metric;  ///< "logloss" or "rmse"
  int rounds = 0;
  int early_stopping_rounds = 0;
  /// Whether the rounds are evaluated on early-stopping rows (some process holds them).
  bool early_stopping = false;
  std::vector<std::string> feature_names;
  std::vector<float> train_values, train_labels;
  std::vector<float> early_values, early_labels;

  int64_t train_rows() const { return static_cast<int64_t>(train_labels.size()); }
  int64_t early_rows() const { return static_cast<int64_t>(early_labels.size()); }
  /// The job with every `processes`-th row from `first` on (the share of one process).
  BoostingJob share(int first, int processes) const;
  void save(RecordWriter& out) const;
  static BoostingJob load(RecordReader& in);
};

/// Runs `job`'s rounds on this process's rows, with early stopping on the early-stopping rows:
/// returns the booster with every round run (the caller keeps the rounds up to the best one) and
/// fills the loss history. Inside XGBoost's collective every process must call it with its share.
Booster boost(const Context& ctx, const BoostingJob& job, TrainingHistory& history);

/// Other processes that boost with this one (a run across processes: process 0 trains the model,
/// the others lend their cores to the boosting rounds).
class BoostingPeers {
 public:
  virtual ~BoostingPeers() = default;
  /// boost() on this process and the others inside XGBoost's collective, each on a share of
  /// `job`'s rows; on this process alone when there are too few rows to give every process some.
  virtual Booster boost(const Context& ctx, const BoostingJob& job, TrainingHistory& history) = 0;
};

/// The matrix in host memory or on the device (the backend's make_dmatrix), and the `device`
/// parameter that pairs with it.
DMatrix make_dmatrix(const Context& ctx, MatrixView features);
std::string device_parameter(const Context& ctx);

/// train_model and train_journey_model (journeymap/model.hpp) with `peers` that boost with this
/// process (nullptr: alone, as the public functions do).
Model train_model(const Context& ctx, MatrixView features, const std::vector<std::string>& names,
                  const std::vector<float>& labels, const std::vector<RowRole>& roles, const ModelOptions& options,
                  TrainingHistory* history, BoostingPeers* peers);
ModelResult train_journey_model(const Context& ctx, const JourneySet& journeys, const FeatureMatrix& features,
                                const ModelOptions& options, const std::vector<float>* labels, BoostingPeers* peers);

}  // namespace jm::model_detail
