// Anomaly detection on journeys and alerts on journey metrics.
//
// Two independent parts:
//  * Unusual journeys: a fully connected autoencoder (ReLU, MSE, Adam) trained on the standardised
//    journey features; a journey's anomaly score is its reconstruction error. An isolation forest
//    scores the same matrix as an independent second opinion, so users can see whether the
//    autoencoder adds value on their data.
//  * Metric alerts (statistical process control): daily (or any bucket) series of journey volume,
//    conversion rate, drop-off after each funnel step, median length and touchpoint volumes, with
//    robust control limits (rolling median baseline, MAD-estimated over-dispersion).
//
//   jm::FeatureMatrix features = jm::extract_features(ctx, journeys, jm::FeatureOptions{});
//   jm::AnomaliesOptions options;                         // defaults: d -> 64 -> 16 -> 64 -> d, 20 epochs
//   jm::AnomaliesResult result = jm::detect_anomalies(ctx, journeys, features, options);
//   std::cout << jm::format_anomalies_summary(result);
//   jm::write_anomalies_results(writer, result);   // /anomalies and /alerts
//
// The autoencoder core works on any row-major float matrix ([n_rows x dims], host memory); both
// backends start from the same initial weights and see the same mini-batches, so their loss curves
// agree within float rounding (see tests/anomalies/test_autoencoder.cpp for the bound).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/features.hpp"
#include "journeymap/host_device_vector.hpp"
#include "journeymap/journeys.hpp"

namespace jm {

class ResultWriter;

// ------------------------------------------------------------------------------------ autoencoder

struct AutoencoderOptions {
  std::vector<int> hidden = {64, 16, 64};  ///< widths between input and output (d -> 64 -> 16 -> 64 -> d)
  int epochs = 20;
  int64_t batch_size = 256;
  float learning_rate = 1e-3f;  ///< Adam step size
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float epsilon = 1e-8f;
  uint64_t seed = 42;           ///< initial weights and the shuffling of every epoch
  /// Train on a seeded uniform sample of at most this many rows (0 = all rows); every row is scored.
  /// A fixed budget on purpose: with all of 1M journeys the 20 epochs are 5x more steps, the network
  /// reconstructs ordinary journeys so tightly that their error tail passes the threshold (13.6%
  /// flagged, precision@k 0.34 on generated data, against 1.6% and 0.98 with 200k).
  int64_t max_train_rows = 200000;
};

/// Weights of a fully connected network, all parameters in one flat array. Layer l maps width
/// widths[l] to widths[l + 1]: its weight matrix W_l [widths[l] x widths[l + 1]] (row-major, so
/// a layer is Z = A W + b for row-major activations A) starts at weight_offset(l), its bias
/// [widths[l + 1]] at bias_offset(l). Hidden layers use ReLU, the output layer is linear.
struct AutoencoderModel {
  std::vector<int> widths;        ///< [layers + 1], first and last = dims
  std::vector<float> parameters;  ///< all weights and biases

  int layers() const { return static_cast<int>(widths.size()) - 1; }
  int dims() const { return widths.empty() ? 0 : widths.front(); }
  int64_t weight_offset(int layer) const;
  int64_t bias_offset(int layer) const;
  int64_t parameter_count() const;
};

/// Glorot-uniform initial weights (zero biases) for dims -> hidden... -> dims, from `seed`.
AutoencoderModel init_autoencoder(int dims, const std::vector<int>& hidden, uint64_t seed);

struct AutoencoderTraining {
  AutoencoderModel model;
  std::vector<double> loss_per_epoch;  ///< mean squared error over the epoch's batches (before each update)
  int64_t train_rows = 0;
};

/// Trains from `initial` on `rows` [n x dims] (host, row-major). Epoch e visits the training rows
/// in the order of a seeded shuffle; batches are consecutive slices of that order (the last one
/// may be smaller). Throws ConfigError on invalid options or a dims mismatch.
AutoencoderTraining train_autoencoder(const Context& ctx, const float* rows, int64_t n, int dims,
                                      const AutoencoderModel& initial, const AutoencoderOptions& options);

/// Reconstruction error of every row: mean over the dims of (x - reconstruction)^2, [n].
std::vector<float> reconstruction_errors(const Context& ctx, const AutoencoderModel& model, const float* rows,
                                         int64_t n);
/// The same on rows that may already be on the device (a GPU context reads them there).
std::vector<float> reconstruction_errors(const Context& ctx, const AutoencoderModel& model,
                                         const HostDeviceVector<float>& rows, int64_t n);

/// Forward pass of a few rows on the host (reference and per-feature explanations): [n x dims].
std::vector<float> reconstruct_rows(const AutoencoderModel& model, const float* rows, int64_t n);

/// One backend's training state: the data lives where the backend computes.
class AutoencoderTrainer {
 public:
  virtual ~AutoencoderTrainer() = default;
  /// One epoch over `order` [n_order] (row indices into the training rows), in batches of
  /// `batch_size`; `first_step` is the Adam step count before the epoch. Returns the sum over
  /// batches of the squared error (before the batch's update), summed over rows and dims.
  virtual double run_epoch(const std::vector<int64_t>& order, int64_t batch_size, int64_t first_step) = 0;
  /// Forward and backward pass of one batch (row indices) without updating: the batch loss
  /// (mean squared error) and the gradient of every parameter, [parameter_count()]. For checks.
  virtual double loss_and_gradients(const std::vector<int64_t>& batch, std::vector<float>& gradients) = 0;
  /// The current weights.
  virtual std::vector<float> parameters() = 0;
};

namespace cpu_impl {
std::unique_ptr<AutoencoderTrainer> make_autoencoder_trainer(const Context& ctx, const float* rows, int64_t n,
                                                             const AutoencoderModel& initial,
                                                             const AutoencoderOptions& options);
std::vector<float> reconstruction_errors(const Context& ctx, const AutoencoderModel& model, const float* rows,
                                         int64_t n);
}  // namespace cpu_impl

namespace cuda_impl {
/// Copies the rows to the device once; each batch is a gather kernel, cuBLAS SGEMMs and fused
/// element-wise kernels on one stream, with one host synchronisation per epoch (for its loss).
std::unique_ptr<AutoencoderTrainer> make_autoencoder_trainer(const Context& ctx, const float* rows, int64_t n,
                                                             const AutoencoderModel& initial,
                                                             const AutoencoderOptions& options);
std::vector<float> reconstruction_errors(const Context& ctx, const AutoencoderModel& model, const float* rows,
                                         int64_t n);
/// Scores rows that are on the device already (no host copy).
std::vector<float> reconstruction_errors(const Context& ctx, const AutoencoderModel& model, DeviceSpan<const float> rows,
                                         int64_t n);
}  // namespace cuda_impl

// ------------------------------------------------------------------------------- isolation forest

struct IsolationForestOptions {
  int trees = 100;
  int64_t sample_size = 256;  ///< rows per tree (the height limit is ceil(log2(sample_size)))
  uint64_t seed = 42;
};

/// Isolation-forest anomaly scores s = 2^(-E[h(x)] / c(sample_size)) in (0, 1] of `rows`
/// [n x dims] (host): higher is more anomalous; about 0.5 and below is ordinary. The trees are
/// built on the CPU; rows are scored on ctx's backend (the GPU's scores equal the CPU's within 1e-6).
std::vector<float> isolation_forest_scores(const Context& ctx, const float* rows, int64_t n, int dims,
                                           const IsolationForestOptions& options);
/// The same on rows that may already be on the device (a GPU context scores them there).
std::vector<float> isolation_forest_scores(const Context& ctx, const HostDeviceVector<float>& rows, int64_t n, int dims,
                                           const IsolationForestOptions& options);

/// The same on the CPU with `num_threads` threads (0 = all cores).
std::vector<float> isolation_forest_scores(const float* rows, int64_t n, int dims,
                                           const IsolationForestOptions& options, int num_threads = 1);

// ---------------------------------------------------------------------------- journey anomalies

enum class ThresholdRule : uint8_t {
  Percentile = 0,  ///< flag scores above the given percentile
  Robust = 1,      ///< flag scores above median + k x 1.4826 x MAD
  /// Flag scores above exp(median + k x 1.4826 x MAD) of the log scores. Reconstruction errors are
  /// spread over orders of magnitude (roughly log-normal), so a robust rule on their raw values
  /// flags a large share of ordinary journeys; on the log scale it keeps to the real outliers.
  LogRobust = 2,
};

/// Parses "percentile", "robust" or "log_robust" (ConfigError otherwise).
ThresholdRule parse_threshold_rule(const std::string& text);
const char* to_string(ThresholdRule rule);

/// The threshold of `scores` by `rule`. `percentile` in (0, 100); `robust_k` > 0 (the k of Robust
/// or LogRobust).
double anomaly_threshold(const std::vector<float>& scores, ThresholdRule rule, double percentile, double robust_k);

struct JourneyAnomalyOptions {
  /// Feature columns (standardised) the detectors see; empty = default_anomaly_columns(features).
  std::vector<std::string> columns;
  AutoencoderOptions autoencoder;
  /// Robust training. A flexible autoencoder also learns to reconstruct anomalies that come in
  /// groups of similar journeys (bots, loops), which hides them. So first `trim_rounds` short
  /// trainings (`trim_epochs` each) score every journey, and journeys above median + trim_k x
  /// 1.4826 x MAD of those scores are left out of the next training; the final model (all
  /// `autoencoder.epochs`) is trained on the journeys left and scores every journey.
  int trim_rounds = 2;
  int trim_epochs = 3;
  double trim_k = 6.0;
  ThresholdRule threshold_rule = ThresholdRule::LogRobust;
  double percentile = 99.5;
  double robust_k = 6.0;      ///< k of the Robust rule (raw scores)
  double log_robust_k = 3.0;  ///< k of the LogRobust rule (log scores)
  bool compare = true;  ///< also run the isolation forest
  IsolationForestOptions forest;
  int top_n = 20;        ///< anomalous journeys listed with reasons
  int top_features = 3;  ///< reasons per listed journey
  int path_events = 12;  ///< events of a listed journey's path printed before "..."
};

/// The scalar behavioural columns (length, duration, variety, revisits, entropies, mean gap,
/// momentum) and the touchpoint mix. Left out: calendar position, recency and customer frequency
/// (when a journey happened, not what happened in it), categorical columns, the median and max gap
/// (for journeys of 2-3 events they repeat the one gap that duration and gap_mean carry), and the
/// channel and bigram blocks, whose many sparse columns make rare-but-normal journeys outscore
/// real anomalies.
std::vector<std::string> default_anomaly_columns(const FeatureMatrix& features);

struct AnomalyReason {
  std::string feature;
  double error_share = 0.0;   ///< share of the journey's reconstruction error from this feature
  double value = 0.0;         ///< the raw feature value
  double standardised = 0.0;  ///< the standardised input value (sd units from the mean)
  double reconstructed = 0.0; ///< the autoencoder's reconstruction, standardised
};

struct AnomalousJourney {
  int64_t journey = 0;
  double score = 0.0;
  double forest_score = 0.0;   ///< NaN when the forest did not run
  int64_t forest_rank = -1;    ///< 0-based rank by the forest score; -1 when it did not run
  std::vector<AnomalyReason> reasons;
  std::string path;            ///< touchpoint names joined by " > "
  std::string customer;        ///< the journey's customer
  int64_t events = 0;          ///< the journey's length
};

/// How the two detectors relate on this data.
struct DetectorComparison {
  bool ran = false;
  double spearman = 0.0;        ///< rank correlation of the two scores over all journeys
  int64_t top_k = 0;            ///< k used for the overlap: the number of autoencoder-flagged journeys (>= 1)
  double top_k_overlap = 0.0;   ///< |top-k(autoencoder) & top-k(forest)| / k
  int64_t flagged_autoencoder = 0;
  int64_t flagged_forest = 0;
  int64_t flagged_both = 0;
};

struct JourneyAnomalies {
  FeatureScaling scaling;              ///< the standardisation the detectors saw ([dims] columns)
  std::vector<int> widths;             ///< autoencoder layer widths
  std::vector<double> loss_per_epoch;
  int64_t train_rows = 0;
  std::vector<int64_t> trimmed_per_round;  ///< journeys left out of training after each trim round
  std::vector<float> score;            ///< [n_journeys] reconstruction error
  double threshold = 0.0;
  std::vector<uint8_t> flagged;        ///< [n_journeys] score > threshold
  std::vector<float> forest_score;     ///< [n_journeys], empty when compare is off
  double forest_threshold = 0.0;
  std::vector<uint8_t> forest_flagged; ///< [n_journeys], empty when compare is off
  DetectorComparison comparison;
  std::vector<AnomalousJourney> top;   ///< highest scores first
  /// [n_journeys] for a flagged journey, the column (index into scaling.columns) that carries most
  /// of its reconstruction error; -1 for the others. Groups flagged journeys into clusters.
  std::vector<int32_t> flagged_feature;
  /// [n_journeys] +1 when that column is above its reconstruction, -1 below; 0 when not flagged.
  std::vector<int8_t> flagged_direction;
  ThresholdRule threshold_rule = ThresholdRule::Robust;
};

/// Standardises the columns, trains the autoencoder, scores every journey, thresholds, explains
/// the top journeys and (optionally) compares with the isolation forest.
JourneyAnomalies detect_journey_anomalies(const Context& ctx, const JourneySet& journeys, const FeatureMatrix& features,
                                          const JourneyAnomalyOptions& options);

// ----------------------------------------------------------------------------------- metric alerts

/// Built-in calendar of the alert baselines.
enum class Seasonality : uint8_t {
  None = 0,    ///< a rolling median alone
  Weekly = 1,  ///< times a factor per bucket of the week (day of week for daily buckets)
};
Seasonality parse_seasonality(const std::string& text);  ///< "none" | "weekly"; ConfigError otherwise
const char* to_string(Seasonality seasonality);

struct AlertOptions {
  int64_t bucket_seconds = 86400;  ///< buckets are aligned to multiples of this since the epoch (UTC)
  int window = 14;                 ///< buckets in the rolling-median baseline
  /// Weekly factors apply when a week is a whole number of buckets and a series has three weeks of
  /// usable buckets; month-scale movements are followed by the rolling level.
  Seasonality seasonality = Seasonality::Weekly;
  double k_sigma = 5.0;            ///< control limits: expected +- k x sigma
  int64_t min_support = 30;        ///< rates need at least this many journeys in the bucket
  /// Touchpoints whose drop-off is tracked ("dropoff:<name>": share of the journeys whose first
  /// <name> event falls in the bucket that do not convert). Empty = every touchpoint except the
  /// conversion touchpoint.
  std::vector<std::string> funnel_steps;
  bool touchpoint_volumes = true;     ///< "volume:<name>": events per touchpoint
  /// Drop-off (default steps) and volume series are kept for this many touchpoints, the busiest by
  /// events: series and memory stay bounded with huge vocabularies.
  int64_t max_touchpoints = 200;
};

enum class MetricKind : uint8_t {
  Count = 0,   ///< compound Poisson noise (events arrive in bunches of one journey)
  Rate = 1,    ///< binomial sampling noise over `support` journeys
  Median = 2,  ///< bootstrap standard error of a median over `support` journeys
};

struct MetricSeries {
  std::string name;  ///< "journeys", "conversion_rate", "median_length", "dropoff:<t>", "volume:<t>"
  MetricKind kind = MetricKind::Count;
  std::vector<double> observed;   ///< [n_buckets] NaN where the bucket lacks support
  std::vector<int64_t> support;   ///< [n_buckets] journeys behind the value (events for counts)
  std::vector<double> expected;   ///< [n_buckets] rolling-median baseline (NaN: none)
  std::vector<double> lower;      ///< [n_buckets] control limits
  std::vector<double> upper;
  std::vector<double> z;          ///< [n_buckets] (observed - expected) / sigma
  double dispersion = 1.0;        ///< robust over-dispersion factor applied to the sampling sigma
  std::vector<double> season_factor;     ///< [buckets per week] from Monday 00:00 UTC, mean 1; empty: none
  std::vector<double> covariate_effect;  ///< [covariates] relative change per unit, exp(beta) - 1
};

/// A deviation that would have alerted without the covariates and does not with them: the
/// covariates explain it (a campaign's lift, a holiday's dip).
struct ExplainedDeviation {
  int64_t bucket = 0;
  int64_t bucket_start_ms = 0;
  std::string metric;
  double observed = 0.0;
  double expected = 0.0;                     ///< with the covariates' effects
  double expected_without_covariates = 0.0;  ///< level x weekly factor alone
  double z_without_covariates = 0.0;
  std::string factors;                       ///< the bucket's non-zero covariates, "campaign = 1; spend = 2500"
};

struct MetricAlert {
  int64_t bucket = 0;
  int64_t bucket_start_ms = 0;
  std::string metric;
  double observed = 0.0;
  double expected = 0.0;
  double lower = 0.0;
  double upper = 0.0;
  double z = 0.0;
  std::string direction;    ///< "up" or "down"
  double impact = 0.0;      ///< e.g. conversions lost (positive = harm for rate metrics)
  std::string impact_unit;  ///< "conversions", "journeys", "events", "events per journey"
};

struct MetricAlerts {
  int64_t bucket_seconds = 0;
  std::vector<int64_t> bucket_start_ms;  ///< [n_buckets]
  std::vector<uint8_t> partial;          ///< [n_buckets] edge bucket with too little data: never alerts
  std::vector<MetricSeries> series;
  std::vector<MetricAlert> alerts;       ///< by |z|, largest first
  double mean_conversion_value = 0.0;    ///< for impact in money: conversions lost x this
  int64_t touchpoints_with_events = 0;   ///< of which the busiest AlertOptions::max_touchpoints have series
  int64_t max_touchpoints = 0;           ///< the cap that applied
  std::string seasonality;               ///< "weekly" or "none", as configured
  int32_t season_period = 0;             ///< buckets per week when weekly factors could apply, else 0
  std::string covariates_file;
  std::vector<std::string> covariate_names;
  std::vector<double> covariate_values;  ///< [n_buckets x covariates] the file's values (0 where no row)
  std::string covariate_coverage;        ///< what did not line up with the data's period ("" when all did)
  std::vector<ExplainedDeviation> explained;  ///< by |z_without_covariates|, largest first
};

/// Builds the bucketed metric series of `journeys` and raises alerts. The journeys' covariates
/// (JourneySet::covariates, include/journeymap/covariates.hpp), when they carry any, are the external
/// factors whose effects are estimated per metric and explain what they cover instead of alerting
/// on it. Throws ConfigError on invalid options, unknown funnel steps, or covariates read for
/// buckets of another length.
MetricAlerts detect_metric_alerts(const JourneySet& journeys, const AlertOptions& options);

// ------------------------------------------------------------------------------------ the stage

struct AnomaliesOptions {
  bool journeys_enabled = true;  ///< autoencoder scoring of journeys
  bool alerts_enabled = true;    ///< metric alerts
  JourneyAnomalyOptions journeys;
  AlertOptions alerts;
};

struct AnomaliesResult {
  bool has_journeys = false;
  bool has_alerts = false;
  JourneyAnomalies journeys;
  MetricAlerts alerts;
};

/// The `anomalies` stage: journey anomalies and metric alerts as enabled in `options`.
AnomaliesResult detect_anomalies(const Context& ctx, const JourneySet& journeys, const FeatureMatrix& features,
                                 const AnomaliesOptions& options);

/// Writes /anomalies and /alerts (see docs/anomalies.md).
void write_anomalies_results(ResultWriter& writer, const AnomaliesResult& result);

/// Readable block for the run summary: top anomalous journeys with reasons and paths, the detector
/// comparison and the alerts.
std::string format_anomalies_summary(const AnomaliesResult& result);

}  // namespace jm
