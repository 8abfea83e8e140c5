// Journey anomalies: standardise the feature columns, train the autoencoder, score every journey by
// its reconstruction error, threshold, explain the top journeys by the features that carry their
// error, and compare with the isolation forest. Also the `anomalies` stage entry point.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "host/anomalies/anomaly_parts.hpp"
#include "host/core/statistics.hpp"
#include "journeymap/anomalies.hpp"
#include "journeymap/common.hpp"
#include "journeymap/step_timing.hpp"

namespace jm {

ThresholdRule parse_threshold_rule(const std::string& text) {
  if (text == "percentile") return ThresholdRule::Percentile;
  if (text == "robust") return ThresholdRule::Robust;
  if (text == "log_robust") return ThresholdRule::LogRobust;
  throw ConfigError("threshold rule must be 'percentile', 'robust' or 'log_robust' (got '" + text + "')");
}

const char* to_string(ThresholdRule rule) {
  switch (rule) {
    case ThresholdRule::Percentile: return "percentile";
    case ThresholdRule::Robust: return "robust";
    default: return "log_robust";
  }
}

namespace {

/// Each feature's share of a row's reconstruction error: (reconstruction - input)^2, [dims].
void squared_errors(const float* x, const float* reconstructed, int dims, std::vector<double>& out) {
  out.resize(static_cast<size_t>(dims));
  for (int c = 0; c < dims; ++c) {
    const double d = static_cast<double>(reconstructed[c]) - x[c];
    out[static_cast<size_t>(c)] = d * d;
  }
}

/// Ranks 1..n with ties averaged (for Spearman's correlation).
std::vector<double> average_ranks(const std::vector<float>& values) {
  const size_t n = values.size();
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(n);
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && values[order[j + 1]] == values[order[i]]) ++j;
    const double rank = 0.5 * static_cast<double>(i + j) + 1.0;
    for (size_t k = i; k <= j; ++k) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  const size_t n = a.size();
  if (n < 2) return 0.0;
  const double mean_a = std::accumulate(a.begin(), a.end(), 0.0) / n, mean_b = std::accumulate(b.begin(), b.end(), 0.0) / n;
  double cov = 0.0, var_a = 0.0, var_b = 0.0;
  for (size_t i = 0; i < n; ++i) {
    cov += (a[i] - mean_a) * (b[i] - mean_b);
    var_a += (a[i] - mean_a) * (a[i] - mean_a);
    var_b += (b[i] - mean_b) * (b[i] - mean_b);
  }
  return (var_a > 0.0 && var_b > 0.0) ? cov / std::sqrt(var_a * var_b) : 0.0;
}

/// Journey indices by descending score (ties: lower index first).
std::vector<int64_t> order_by_score(const std::vector<float>& scores) {
  std::vector<int64_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return scores[a] > scores[b]; });
  return order;
}

std::string journey_path(const JourneySet& journeys, int64_t j, int max_events) {
  std::string path;
  const int64_t begin = journeys.offsets[j], end = journeys.offsets[j + 1];
  const int64_t shown = std::min<int64_t>(end - begin, std::max(max_events, 1));
  for (int64_t e = begin; e < begin + shown; ++e) {
    if (e > begin) path += " > ";
    path += journeys.touchpoints.name(journeys.touchpoint[e]);
  }
  if (end - begin > shown) path += " > ... (+" + std::to_string(end - begin - shown) + " more)";
  return path;
}

void validate(const JourneyAnomalyOptions& options) {
  if (options.threshold_rule == ThresholdRule::Percentile && !(options.percentile > 0.0 && options.percentile < 100.0))
    throw ConfigError("anomalies: percentile must be in (0, 100)");
  if (!(options.robust_k > 0.0) || !(options.log_robust_k > 0.0))
    throw ConfigError("anomalies: robust_k and log_robust_k must be > 0");
  if (options.top_n < 0 || options.top_features < 0) throw ConfigError("anomalies: top_n and top_features must be >= 0");
  if (options.trim_rounds < 0 || options.trim_epochs < 1 || !(options.trim_k > 0.0))
    throw ConfigError("anomalies: trim_rounds must be >= 0, trim_epochs >= 1 and trim_k > 0");
}

}  // namespace

double anomaly_threshold(const std::vector<float>& scores, ThresholdRule rule, double percentile, double robust_k) {
  if (scores.empty()) return std::numeric_limits<double>::infinity();
  std::vector<double> values(scores.begin(), scores.end());
  if (rule == ThresholdRule::Percentile) {
    if (!(percentile > 0.0 && percentile < 100.0)) throw ConfigError("anomalies: percentile must be in (0, 100)");
    // Linear interpolation between closest ranks (numpy's default).
    std::sort(values.begin(), values.end());
    const double position = percentile / 100.0 * static_cast<double>(values.size() - 1);
    const size_t below = static_cast<size_t>(std::floor(position));
    const size_t above = std::min(below + 1, values.size() - 1);
    return values[below] + (position - static_cast<double>(below)) * (values[above] - values[below]);
  }
  if (!(robust_k > 0.0)) throw ConfigError("anomalies: robust_k must be > 0");
  const bool log_scale = rule == ThresholdRule::LogRobust;
  if (log_scale) {
    // Zero scores (perfect reconstructions) sit at the smallest positive score instead of -inf.
    double smallest_positive = std::numeric_limits<double>::max();
    for (double v : values)
      if (v > 0.0) smallest_positive = std::min(smallest_positive, v);
    if (smallest_positive == std::numeric_limits<double>::max()) return 0.0;  // every score is 0
    for (double& v : values) v = std::log(std::max(v, smallest_positive));
  }
  const double median = median_of(values);
  for (double& v : values) v = std::fabs(v - median);
  const double mad = median_of(values);
  const double limit = median + robust_k * 1.4826 * mad;
  return log_scale ? std::exp(limit) : limit;
}

std::vector<std::string> default_anomaly_columns(const FeatureMatrix& features) {
  // When, not what; and two order statistics of the gaps that, for the many journeys of two or
  // three events, repeat the single gap that duration and gap_mean already carry (one long pause
  // would weigh four times).
  static const char* kLeftOut[] = {"start_hour",   "start_hour_sin",    "start_hour_cos",     "start_weekday",
                                   "recency_days", "customer_journey_number", "gap_median_seconds", "gap_max_seconds"};
  std::vector<std::string> columns;
  for (int64_t c = 0; c < features.num_features(); ++c) {
    const std::string& name = features.spec.names[c];
    if (features.spec.kinds[c] != FeatureKind::Numeric) continue;
    if (std::find(std::begin(kLeftOut), std::end(kLeftOut), name) != std::end(kLeftOut)) continue;
    if (name.rfind("case:", 0) == 0) continue;  // who the customer is, not how the journey went
    if (name.rfind("cov:", 0) == 0) continue;   // the calendar around the journey, not the journey
    const std::string block = share_block(name);
    if (!block.empty() && block != "touchpoint_share") continue;
    columns.push_back(name);
  }
  return columns;
}

std::vector<float> ScaledRowsInMemory::gather(const std::vector<int64_t>& indices) const {
  const std::vector<float>& values = values_.host();
  std::vector<float> out(indices.size() * static_cast<size_t>(dims_));
  for (size_t i = 0; i < indices.size(); ++i)
    std::copy_n(values.data() + indices[i] * dims_, dims_, out.data() + i * static_cast<size_t>(dims_));
  return out;
}

void ScaledRowsInMemory::for_each_block(const BlockVisitor& visit) const { visit(0, n_, values_); }

std::vector<float> ScaledRows::autoencoder_errors(const Context& ctx, const AutoencoderModel& model) const {
  return reconstruction_errors(ctx, model, *this);
}

std::vector<float> ScaledRows::forest_scores(const Context& ctx, const anomalies_detail::FlatForest& forest) const {
  return isolation_forest_scores(ctx, forest, *this);
}

std::vector<std::string> anomaly_columns(const FeatureSpec& spec, const JourneyAnomalyOptions& options) {
  if (!options.columns.empty()) return options.columns;
  FeatureMatrix layout;
  layout.spec = spec;
  return default_anomaly_columns(layout);
}

JourneyAnomalies score_journey_anomalies(const Context& ctx, const ScaledRows& rows, FeatureScaling scaling,
                                         const JourneyAnomalyOptions& options) {
  validate(options);
  StepTimer step(ctx);
  JourneyAnomalies result;
  result.threshold_rule = options.threshold_rule;
  result.scaling = std::move(scaling);
  const int dims = rows.dims();
  const int64_t n = rows.rows();

  const AutoencoderModel initial = init_autoencoder(dims, options.autoencoder.hidden, options.autoencoder.seed);
  // Robust training: short rounds find the journeys the model cannot reconstruct and leave them
  // out of the next training, so that groups of similar anomalies are not learnt as normal.
  bool trimmed_yet = false;
  std::vector<int64_t> kept;  // the rows the next training draws from, once a round has trimmed
  const RowGather gather_training = [&](const std::vector<int64_t>& positions) {
    if (!trimmed_yet) return rows.gather(positions);
    std::vector<int64_t> indices(positions.size());
    for (size_t i = 0; i < positions.size(); ++i) indices[i] = kept[static_cast<size_t>(positions[i])];
    return rows.gather(indices);
  };
  AutoencoderOptions trim_options = options.autoencoder;
  trim_options.epochs = options.trim_epochs;
  for (int round = 0; round < options.trim_rounds && n > 0; ++round) {
    step.next("autoencoder training");
    const int64_t n_train = trimmed_yet ? static_cast<int64_t>(kept.size()) : n;
    const AutoencoderTraining probe = train_autoencoder(ctx, n_train, dims, gather_training, initial, trim_options);
    step.next("autoencoder scoring");
    const std::vector<float> probe_scores = rows.autoencoder_errors(ctx, probe.model);
    step.next("trimming");
    const double limit = anomaly_threshold(probe_scores, ThresholdRule::Robust, 0.0, options.trim_k);
    kept.clear();
    for (int64_t j = 0; j < n; ++j)
      if (!(probe_scores[j] > limit)) kept.push_back(j);
    result.trimmed_per_round.push_back(n - static_cast<int64_t>(kept.size()));
    trimmed_yet = true;
  }
  step.next("autoencoder training");
  const int64_t n_train = trimmed_yet ? static_cast<int64_t>(kept.size()) : n;
  AutoencoderTraining training = train_autoencoder(ctx, n_train, dims, gather_training, initial, options.autoencoder);
  kept = {};
  result.widths = training.model.widths;
  result.loss_per_epoch = training.loss_per_epoch;
  result.train_rows = training.train_rows;
  step.next("autoencoder scoring");
  result.score = rows.autoencoder_errors(ctx, training.model);
  step.next("thresholds and ranks");
  const double k = options.threshold_rule == ThresholdRule::LogRobust ? options.log_robust_k : options.robust_k;
  result.threshold = anomaly_threshold(result.score, options.threshold_rule, options.percentile, k);
  result.flagged.resize(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) result.flagged[j] = result.score[j] > result.threshold;

  std::vector<int64_t> forest_rank;
  if (options.compare && n > 0) {
    step.next("isolation forest");
    const anomalies_detail::FlatForest forest =
        fit_isolation_forest(n, dims, options.forest, ctx.num_threads, [&](const std::vector<int64_t>& indices) {
          return rows.gather(indices);
        });
    result.forest_score = rows.forest_scores(ctx, forest);
    step.next("thresholds and ranks");
    result.forest_threshold =
        anomaly_threshold(result.forest_score, options.threshold_rule, options.percentile, k);
    result.forest_flagged.resize(static_cast<size_t>(n));
    DetectorComparison& cmp = result.comparison;
    cmp.ran = true;
    for (int64_t j = 0; j < n; ++j) {
      result.forest_flagged[j] = result.forest_score[j] > result.forest_threshold;
      cmp.flagged_autoencoder += result.flagged[j];
      cmp.flagged_forest += result.forest_flagged[j];
      cmp.flagged_both += result.flagged[j] && result.forest_flagged[j];
    }
    cmp.spearman = pearson(average_ranks(result.score), average_ranks(result.forest_score));
    const std::vector<int64_t> by_autoencoder = order_by_score(result.score);
    const std::vector<int64_t> by_forest = order_by_score(result.forest_score);
    forest_rank.resize(static_cast<size_t>(n));
    for (int64_t r = 0; r < n; ++r) forest_rank[by_forest[r]] = r;
    cmp.top_k = std::min<int64_t>(std::max<int64_t>(cmp.flagged_autoencoder, 1), n);
    int64_t overlap = 0;
    for (int64_t r = 0; r < cmp.top_k; ++r) overlap += forest_rank[by_autoencoder[r]] < cmp.top_k;
    cmp.top_k_overlap = static_cast<double>(overlap) / static_cast<double>(cmp.top_k);
  }

  // Every flagged journey's dominant feature: the flagged rows fetched and reconstructed a chunk
  // at a time (a few percent of the rows; wherever they are held).
  step.next("flagged features");
  result.flagged_feature.assign(static_cast<size_t>(n), -1);
  result.flagged_direction.assign(static_cast<size_t>(n), 0);
  {
    constexpr size_t kChunkRows = 4096;
    std::vector<int64_t> flagged;
    for (int64_t j = 0; j < n; ++j)
      if (result.flagged[static_cast<size_t>(j)]) flagged.push_back(j);
    std::vector<double> errors;
    for (size_t begin = 0; begin < flagged.size(); begin += kChunkRows) {
      const std::vector<int64_t> chunk(flagged.begin() + static_cast<std::ptrdiff_t>(begin),
                                       flagged.begin() + static_cast<std::ptrdiff_t>(std::min(flagged.size(), begin + kChunkRows)));
      const std::vector<float> x_rows = rows.gather(chunk);
      const std::vector<float> y = reconstruct_rows(training.model, x_rows.data(), static_cast<int64_t>(chunk.size()));
      for (size_t r = 0; r < chunk.size(); ++r) {
        const float* x = x_rows.data() + r * static_cast<size_t>(dims);
        const float* reconstructed = y.data() + r * static_cast<size_t>(dims);
        squared_errors(x, reconstructed, dims, errors);
        const int best = static_cast<int>(std::max_element(errors.begin(), errors.end()) - errors.begin());
        result.flagged_feature[static_cast<size_t>(chunk[r])] = best;
        result.flagged_direction[static_cast<size_t>(chunk[r])] = x[best] >= reconstructed[best] ? 1 : -1;
      }
    }
  }

  // The top journeys and the features that carry their error.
  step.next("top journeys");
  const std::vector<int64_t> order = order_by_score(result.score);
  const int64_t listed = std::min<int64_t>(options.top_n, n);
  std::vector<int64_t> top(order.begin(), order.begin() + listed);
  std::sort(top.begin(), top.end());
  const std::vector<float> top_rows = rows.gather(top);
  for (int64_t r = 0; r < listed; ++r) {
    const int64_t j = order[r];
    AnomalousJourney item;
    item.journey = j;
    item.score = result.score[j];
    item.forest_score = result.forest_score.empty() ? std::numeric_limits<double>::quiet_NaN() : result.forest_score[j];
    item.forest_rank = forest_rank.empty() ? -1 : forest_rank[j];
    const float* x = top_rows.data() + (std::lower_bound(top.begin(), top.end(), j) - top.begin()) * dims;
    const std::vector<float> y = reconstruct_rows(training.model, x, 1);
    std::vector<double> contribution;
    squared_errors(x, y.data(), dims, contribution);
    const double total = std::accumulate(contribution.begin(), contribution.end(), 0.0);
    std::vector<int> by_contribution(static_cast<size_t>(dims));
    std::iota(by_contribution.begin(), by_contribution.end(), 0);
    std::stable_sort(by_contribution.begin(), by_contribution.end(),
                     [&](int a, int b) { return contribution[a] > contribution[b]; });
    for (int c = 0; c < std::min(options.top_features, dims); ++c) {
      const int column = by_contribution[c];
      AnomalyReason reason;
      reason.feature = result.scaling.columns[column];
      reason.error_share = total > 0.0 ? contribution[column] / total : 0.0;
      reason.value = std::numeric_limits<double>::quiet_NaN();  // the raw value: the caller's
      reason.standardised = x[column];
      reason.reconstructed = y[column];
      item.reasons.push_back(reason);
    }
    result.top.push_back(std::move(item));
  }
  return result;
}

void describe_top_journeys(JourneyAnomalies& result, const JourneySet& journeys, int64_t first_journey, int path_events) {
  for (AnomalousJourney& item : result.top) {
    const int64_t j = item.journey - first_journey;
    if (j < 0 || j >= journeys.size()) continue;
    item.path = journey_path(journeys, j, path_events);
    item.customer = journeys.customers.name(static_cast<int32_t>(journeys.customer[static_cast<size_t>(j)]));
    item.events = journeys.length(j);
  }
}

JourneyAnomalies detect_journey_anomalies(const Context& ctx, const JourneySet& journeys, const FeatureMatrix& features,
                                          const JourneyAnomalyOptions& options) {
  validate(options);
  if (features.n_rows != journeys.size())
    throw ConfigError("anomalies: the feature matrix has " + std::to_string(features.n_rows) + " rows for " +
                      std::to_string(journeys.size()) + " journeys");
  const std::vector<std::string> columns = anomaly_columns(features.spec, options);
  if (columns.empty()) throw ConfigError("anomalies: no numeric feature columns to score");
  FeatureScaling scaling;
  HostDeviceVector<float> scaled;
  {
    const StepTimer step(ctx, "scaling");
    scaling = fit_scaling(features, columns);
    // On the GPU the scaled matrix is computed on the device and every scoring pass reads it there;
    // the host copy (the training samples, the explanations) comes home once.
    scaled = apply_scaling(ctx, features, scaling);
  }
  const ScaledRowsInMemory rows(scaled, features.n_rows, static_cast<int>(scaling.dims()));
  JourneyAnomalies result = score_journey_anomalies(ctx, rows, std::move(scaling), options);
  describe_top_journeys(result, journeys, 0, options.path_events);
  for (AnomalousJourney& item : result.top)
    for (AnomalyReason& reason : item.reasons) reason.value = features.at(item.journey, features.column(reason.feature));
  return result;
}

AnomaliesResult detect_anomalies(const Context& ctx, const JourneySet& journeys, const FeatureMatrix& features,
                                 const AnomaliesOptions& options) {
  AnomaliesResult result;
  if (options.journeys_enabled) {
    result.journeys = detect_journey_anomalies(ctx, journeys, features, options.journeys);
    result.has_journeys = true;
  }
  if (options.alerts_enabled) {
    const StepTimer step(ctx, "metric alerts");
    result.alerts = detect_metric_alerts(journeys, options.alerts);
    result.has_alerts = true;
  }
  return result;
}

}  // namespace jm
