// Conversion prediction: gradient-boosted trees (XGBoost 3.4.1 through its C API) on the journey
// feature matrix, with a customer-level holdout, early stopping, a simple baseline side by side,
// feature importance, SHAP reasons per journey and an "how early can we tell?" prefix curve.
//
//   jm::ModelOptions options;                                   // conversion, 200 rounds, 20% holdout
//   jm::ModelResult result = jm::train_journey_model(ctx, journeys, options);
//   std::cout << jm::format_model_summary(result, journeys);   // AUC model vs baseline, top features
//   jm::save_model(result.model, "out/model.ubj");              // UBJSON + feature schema
//   jm::Model model = jm::load_model("out/model.ubj");
//   jm::ScoreResult scores = jm::score_journeys(ctx, model, open_journeys, jm::ScoreOptions{});
//
// The core is matrix-generic: train_model() takes any row-major float matrix, labels and a row
// split; train_journey_model() builds those from journeys (features, labels, split) and adds the
// journey-level evaluation. The GPU backend hands XGBoost a device-resident matrix (CUDA array
// interface) and trains with device=cuda; the CPU backend hands it host memory with device=cpu.
// A build without XGBoost compiles and links; its entry points throw an Error naming
// scripts/setup_xgboost.sh.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/features.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/outcome.hpp"

namespace jm {

class ResultWriter;

namespace model_detail {
class Booster;  // RAII owner of an XGBoost booster (host/model/xgboost_api.hpp)
}  // namespace model_detail

/// What the model predicts for a journey.
enum class ModelTarget : uint8_t {
  Conversion = 0,  ///< binary: the journey converts (JourneySet::converted)
  Churn = 1,       ///< binary: the customer shows no activity within `churn_days` after the journey
  Value = 2,       ///< regression: the journey's conversion value (0 when it does not convert)
};
/// Parses "conversion", "churn" or "value" (throws ConfigError otherwise).
ModelTarget parse_model_target(const std::string& text);
const char* to_string(ModelTarget target);

/// How rows are split into training, early-stopping and test sets.
enum class SplitMode : uint8_t {
  Customer = 0,  ///< by customer, stratified by outcome, seeded: no customer is on both sides
  /// Strictly by time: the latest journeys by start (from T on) are the test set; the model trains
  /// on journeys that start before T and sees none of their events from T on.
  Time = 1,
};
SplitMode parse_split_mode(const std::string& text);
const char* to_string(SplitMode mode);

/// Role of a row in training. Excluded rows (e.g. churn labels not yet observable) are not used.
enum class RowRole : uint8_t { Train = 0, EarlyStop = 1, Test = 2, Excluded = 3 };

struct ModelOptions {
  ModelTarget target = ModelTarget::Conversion;
  double churn_days = 30.0;  ///< Churn: inactivity (days after the journey's end) that counts as churn
  /// Churn: the end of the data the journeys come from, against which a last journey's window is
  /// judged (0: the journeys' own last end). A sample of customers passes the whole input's.
  int64_t churn_data_end_ms = 0;

  // Boosting (XGBoost parameters of the same names).
  int rounds = 200;                 ///< maximum boosting rounds
  int early_stopping_rounds = 20;   ///< stop when the early-stopping loss has not improved for this many rounds (0 = off)
  double learning_rate = 0.1;       ///< eta
  int max_depth = 6;
  double min_child_weight = 1.0;
  double subsample = 1.0;
  double colsample_bytree = 1.0;
  double reg_lambda = 1.0;
  int max_bin = 256;

  // Validation.
  SplitMode split = SplitMode::Customer;
  double test_fraction = 0.2;            ///< share of customers (or latest journeys) held out for the metrics
  double early_stopping_fraction = 0.15; ///< share of the remaining customers used for early stopping
  uint64_t seed = 42;                    ///< split and subsampling seed

  // In-flight training and evaluation.
  /// The model learns from every prefix of k = 1..prefix_max_events events of the training journeys
  /// and from their whole windows, so that it scores a journey of which k events have been seen
  /// (see docs/model.md for why one model over prefixes, not one model per k). The prefix curve
  /// evaluates k = 1..prefix_max_events on the test journeys with at least k events. 0: whole
  /// journeys only, no curve.
  int prefix_max_events = 10;
  /// Also train one dedicated model per k on k-event prefixes only, for comparison in the curve.
  bool prefix_models = false;
  /// The in-flight training set (prefix + whole-journey rows) is built from a seeded sample of whole
  /// customers holding at most this many rows (0 = all); the test rows stay complete. At 200k
  /// generated journeys, 300k rows against 1M: in-flight AUC 0.716 against 0.718, 5.7 s against 15.9 s.
  int64_t max_train_rows = 300000;
  int calibration_bins = 10;       ///< equal-width probability bins of the calibration table
  std::string baseline_column = "last_touchpoint";  ///< categorical column of the rate-by-category baseline
  /// Feature columns the model never sees. recency_days measures the distance to the last event of
  /// the data, which tells journeys that ended long ago from ones still running: on finished history
  /// that is the outcome's censoring, not behaviour.
  std::vector<std::string> excluded_features = {"recency_days"};

  // Leakage guard (see docs/model.md).
  double leakage_auc = 0.95;  ///< a single feature or touchpoint separating the labels above this is reported
  bool strict_leakage = false; ///< leakage findings are errors instead of warnings

  FeatureOptions features;  ///< how the journey feature matrix is built (prefix_events must stay 0)
};

/// A row-major host float matrix [rows x cols] that the caller keeps alive.
struct MatrixView {
  const float* values = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
};

/// A trained booster together with what is needed to apply it to new data.
struct Model {
  ModelTarget target = ModelTarget::Conversion;
  std::vector<std::string> feature_names;  ///< [n_features] the columns the booster expects, in order (a subset of feature_spec's)
  FeatureSpec feature_spec;                ///< journey models: how to build those columns (empty names otherwise)
  JourneyOptions journey_options;          ///< journey models: how journeys were cut (reused when scoring files)
  OutcomeDefinition outcome;               ///< journey models: the outcome the journeys were cut at (label file not kept)
  int rounds_trained = 0;                  ///< boosting rounds kept (the best early-stopping round + 1)
  std::string device;                      ///< "cpu" or "cuda:N", the device it was trained on
  std::shared_ptr<model_detail::Booster> booster;

  bool empty() const { return !booster; }
};

/// Loss of each boosting round on the training and early-stopping rows (logloss or rmse).
struct TrainingHistory {
  std::string metric;                 ///< "logloss" (binary targets) or "rmse" (value)
  std::vector<double> train_loss;     ///< [rounds run]
  std::vector<double> early_stop_loss;///< [rounds run]; empty without early-stopping rows
  int best_round = -1;                ///< 0-based round with the lowest early-stopping loss
  double handoff_seconds = 0.0;       ///< gathering the rows and building XGBoost's matrices
  double boosting_seconds = 0.0;      ///< the boosting loop (update + evaluation per round)
};

/// One bin of a calibration table: journeys whose predicted probability falls in [lower, upper).
struct CalibrationBin {
  double lower = 0.0, upper = 0.0;
  int64_t count = 0;
  double mean_predicted = 0.0;
  double observed_rate = 0.0;
};

/// Quality of binary scores against 0/1 labels.
struct BinaryMetrics {
  int64_t n = 0, positives = 0;
  double roc_auc = 0.0;           ///< Mann-Whitney, ties counted half
  double pr_auc = 0.0;            ///< average precision (step-wise area under precision-recall)
  double log_loss = 0.0;          ///< probabilities clipped to [1e-7, 1 - 1e-7]
  double brier = 0.0;             ///< mean squared error of the probability
  double top_decile_lift = 0.0;   ///< positive rate among the top 10% of scores / overall positive rate
  std::vector<CalibrationBin> calibration;
};

/// Quality of regression predictions.
struct RegressionMetrics {
  int64_t n = 0;
  double rmse = 0.0, mae = 0.0, r2 = 0.0;
};

/// Mann-Whitney ROC-AUC with a weight per row (ties count half). Throws ConfigError without both classes.
double weighted_roc_auc(const std::vector<float>& labels, const std::vector<float>& scores, const std::vector<double>& weights);

/// Leakage guard: readable findings about training rows (whole windows): any feature column, and
/// any touchpoint's presence, that alone separates the labels with ROC-AUC (either direction) above
/// `threshold`; any journey with an event at or after its outcome. `roles` selects the Train rows.
/// The feature columns are scored on `num_threads` threads (0 = all), on a seeded sample of
/// kLeakageSampleRows training rows when there are more (an AUC near the threshold then has a
/// standard error under 0.001); touchpoint presence and late events use every training row.
std::vector<std::string> find_leakage(const JourneySet& journeys, const FeatureMatrix& features,
                                      const std::vector<float>& labels, const std::vector<RowRole>& roles,
                                      const std::vector<std::string>& model_columns, double threshold,
                                      int num_threads = 0);
inline constexpr int64_t kLeakageSampleRows = 1'000'000;

/// Metrics of `scores` against binary `labels` (0/1). Throws ConfigError when sizes differ or a
/// class is missing (AUC is undefined).
BinaryMetrics evaluate_binary(const std::vector<float>& labels, const std::vector<float>& scores, int calibration_bins = 10);
RegressionMetrics evaluate_regression(const std::vector<float>& labels, const std::vector<float>& predictions);

/// Splits rows into Train / EarlyStop / Test. `group[i]` is the row's customer (rows of one customer
/// share a side); `time[i]` its start time (used by SplitMode::Time); labels stratify the customer
/// split (a customer counts as positive when any of its rows is > 0). Rows already marked Excluded in
/// `excluded` (optional, may be empty) stay excluded. Deterministic for a given seed.
std::vector<RowRole> split_rows(const std::vector<uint32_t>& group, const std::vector<float>& labels,
                                const std::vector<int64_t>& time, const ModelOptions& options,
                                const std::vector<uint8_t>& excluded = {});

/// Trains a booster on the rows marked Train, early-stopping on the EarlyStop rows (when any).
/// `features` [rows x cols] with `names` [cols]; `labels` [rows]. Runs on the backend of `ctx`
/// (GPU: the matrix is uploaded once and handed to XGBoost on the device). Throws ConfigError on
/// bad shapes, options or single-class labels, and Error when XGBoost is not installed.
Model train_model(const Context& ctx, MatrixView features, const std::vector<std::string>& names,
                  const std::vector<float>& labels, const std::vector<RowRole>& roles, const ModelOptions& options,
                  TrainingHistory* history = nullptr);

/// Predictions for every row: probabilities (binary targets) or values. Throws ConfigError when the
/// matrix does not have the model's number of columns.
std::vector<float> predict(const Context& ctx, const Model& model, MatrixView features);

/// SHAP contributions, row-major [rows x (cols + 1)]; the last column is the bias. Contributions
/// are on the margin (log-odds) scale and sum to the margin of the row.
std::vector<float> predict_contributions(const Context& ctx, const Model& model, MatrixView features);

/// Feature importance from the booster: `type` is "gain", "cover", "total_gain", "total_cover" or
/// "weight". Returns one score per model feature (0 for features never used), in model order.
std::vector<double> feature_importance(const Model& model, const std::string& type);

/// Rate-by-category baseline: the training-row mean label of each category value of `column`
/// (with add-one smoothing towards the overall rate), applied to every row.
std::vector<float> category_rate_baseline(MatrixView features, int64_t column, const std::vector<float>& labels,
                                          const std::vector<RowRole>& roles);

/// Writes the model as UBJSON; the feature schema (names, feature spec, journey options, target)
/// travels inside the file as a booster attribute. Throws Error when the file cannot be written.
void save_model(const Model& model, const std::string& path);
/// Reads a file written by save_model. Throws Error naming the file when it is not an XGBoost
/// model or carries no journeymap schema.
Model load_model(const std::string& path);

/// Labels of journeys for a target: converted (0/1), churn (0/1; `excluded` marks journeys whose
/// churn window reaches past the last event in the set) or conversion value.
std::vector<float> journey_labels(const JourneySet& journeys, const ModelOptions& options, std::vector<uint8_t>* excluded);

/// One point of the prefix curve: the first k events of the test journeys that have at least k events.
struct PrefixPoint {
  int64_t k = 0;
  double model_auc = 0.0;         ///< the model on the first k events (value target: R^2; NaN with one class)
  double prefix_model_auc = 0.0;  ///< a model trained on k-event prefixes only (NaN when prefix_models is off)
  double baseline_auc = 0.0;      ///< rate by the baseline column of the first k events
  int64_t journeys = 0;           ///< test journeys with at least k events
  int64_t positives = 0;          ///< of which positive (binary targets)
};

/// The model on journeys in flight: every (test journey, k) prefix for k = 1..min(length, K).
struct InFlightMetrics {
  int64_t prefixes = 0;
  double pooled_auc = 0.0;            ///< AUC over all prefixes (value target: R^2)
  double journey_weighted_auc = 0.0;  ///< each journey's prefixes weighted 1 / its number of prefixes
  double baseline_pooled_auc = 0.0;   ///< the baseline over the same prefixes
  // Every test prefix: its journey (index into the journey set), k, label and prediction.
  std::vector<int64_t> journey;
  std::vector<int32_t> k;
  std::vector<float> label, prediction;
};

struct FeatureImportance {
  std::string feature;
  double gain = 0.0;   ///< average gain of the splits on this feature
  double cover = 0.0;  ///< average number of rows those splits cover
};

/// Everything train_journey_model measured.
struct ModelResult {
  Model model;
  ModelOptions options;
  TrainingHistory history;
  int64_t n_train = 0, n_early_stop = 0, n_test = 0, n_excluded = 0;  ///< journeys per role
  int64_t n_fit_rows = 0;            ///< prefix + whole-journey rows the model was fitted on (training + early stopping)
  int64_t split_time_ms = 0;         ///< SplitMode::Time: T, the start of the test period
  std::vector<std::string> warnings; ///< leakage guard findings
  InFlightMetrics in_flight;         ///< the headline: the model on prefixes of the test journeys
  BinaryMetrics test;                ///< binary targets: the model on the whole test windows (at the decision point)
  BinaryMetrics baseline;            ///< binary targets: the rate-by-category baseline on the same rows
  RegressionMetrics test_regression; ///< value target
  RegressionMetrics baseline_regression;
  std::vector<FeatureImportance> importance;  ///< sorted by gain, descending
  std::vector<PrefixPoint> prefix_curve;
  std::vector<int64_t> test_journeys;         ///< journey index of every test row
  std::vector<float> test_labels, test_predictions, test_baseline;
  double train_seconds = 0.0;   ///< inside XGBoost's boosting loop
  double total_seconds = 0.0;   ///< the whole call (features, split, training, evaluation)
};

/// Features -> labels -> split -> training -> test metrics, baseline, importance, prefix curve.
/// `labels` (optional, [n_journeys]) overrides the target's labels, e.g. an outcome known from
/// elsewhere. Throws ConfigError on bad options or single-class labels.
ModelResult train_journey_model(const Context& ctx, const JourneySet& journeys, const ModelOptions& options,
                                const std::vector<float>* labels = nullptr);

/// The same with a feature matrix already extracted for `journeys` (whole journeys, e.g. by the
/// pipeline's features stage); `options.features` is then ignored in favour of `features.spec`.
ModelResult train_journey_model(const Context& ctx, const JourneySet& journeys, const FeatureMatrix& features,
                                const ModelOptions& options, const std::vector<float>* labels = nullptr);

/// ConfigError when `options` name feature columns that `spec` lacks (excluded features, the
/// baseline column) or leave the model none: what train_journey_model checks first, for a caller
/// that wants to fail before the long stages.
void check_model_columns(const FeatureSpec& spec, const ModelOptions& options);

struct ScoreOptions {
  int top_reasons = 3;              ///< features with the largest |SHAP contribution| reported per journey
  bool has_reference_time = false;  ///< "now" for recency; default: the last event in the scored set
  int64_t reference_time_ms = 0;
  int64_t prefix_events = 0;        ///< > 0: score only the first k events of each journey
};

struct ScoreResult {
  std::vector<std::string> feature_names;
  std::vector<float> prediction;            ///< [n] probability (or value)
  int top_reasons = 0;
  std::vector<int32_t> reason_feature;      ///< [n x top_reasons] feature index, -1 when fewer features
  std::vector<float> reason_contribution;   ///< [n x top_reasons] SHAP contribution (log-odds)
};

/// Scores journeys (their events so far) with a journey model: features from the model's spec
/// (the vocabulary of `journeys` may differ), predictions and the top SHAP reasons. Throws
/// ConfigError when the model's feature schema does not match what the features stage produces.
ScoreResult score_journeys(const Context& ctx, const Model& model, const JourneySet& journeys,
                           const ScoreOptions& options);

/// Scores a feature matrix built elsewhere; its column names must equal the model's (else ConfigError
/// naming the first difference).
ScoreResult score_features(const Context& ctx, const Model& model, const FeatureMatrix& features, int top_reasons);

/// Writes /model: parameters (attributes), metrics model vs baseline, calibration, curves, prefix
/// curve, importance, training history and holdout predictions (see docs/model.md).
void write_model_results(ResultWriter& writer, const ModelResult& result, const JourneySet& journeys);

/// Readable block for the run summary: holdout metrics next to the baseline, the prefix curve and
/// the top features.
std::string format_model_summary(const ModelResult& result, const JourneySet& journeys);

/// True when this build can train (XGBoost found at configure time); "XGBoost 3.4.1" or why not.
bool xgboost_available();
std::string xgboost_description();

}  // namespace jm
