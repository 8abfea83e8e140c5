// Journeys end to end: labels -> split -> the in-flight training set (every k-event prefix and
// every whole window of the training journeys) -> one model -> the prefix curve, the pooled in-flight
// metrics and the decision-point diagnostic on the test journeys.
//
// Why one model over prefixes: a journey scored in flight has k events so far; a model fitted on
// whole windows only has never seen a journey cut at k (on generated data it gave one identical
// probability to almost every first half). The `length` column tells the model how far a journey
// has come, so one booster serves every k, the saved file is one file, and `score` needs nothing
// else. Dedicated per-k models (prefix_models) are kept as a comparison; docs/model.md has the
// measurement.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include <fmt/format.h>

#include "host/core/durations.hpp"
#include "host/core/thread_pool.hpp"
#include "host/model/boosting.hpp"
#include "host/model/model_support.hpp"
#include "journeymap/common.hpp"
#include "journeymap/model.hpp"
#include "journeymap/step_timing.hpp"

namespace jm {

using namespace model_support;

namespace {

// 1 for a customer's first journey in the set, 2 for the second, ...: the value of the
// customer_journey_number column for the full set, whatever subset the features are computed on.
std::vector<float> customer_journey_numbers(const JourneySet& journeys) {
  std::vector<float> numbers(static_cast<size_t>(journeys.size()), 1.0f);
  for (int64_t j = 1; j < journeys.size(); ++j)
    if (journeys.customer[static_cast<size_t>(j)] == journeys.customer[static_cast<size_t>(j - 1)])
      numbers[static_cast<size_t>(j)] = numbers[static_cast<size_t>(j - 1)] + 1.0f;
  return numbers;
}

// Model columns of a full feature row, in model order.
struct ColumnSelection {
  std::vector<int64_t> source;  // feature-matrix column of each model column
  std::vector<std::string> names;
};

ColumnSelection select_model_columns(const FeatureSpec& spec, const std::vector<std::string>& excluded) {
  ColumnSelection selection;
  for (int64_t c = 0; c < spec.num_features(); ++c) {
    const std::string& name = spec.names[static_cast<size_t>(c)];
    if (std::find(excluded.begin(), excluded.end(), name) != excluded.end()) continue;
    selection.source.push_back(c);
    selection.names.push_back(name);
  }
  for (const std::string& name : excluded)
    if (spec.column(name) < 0) throw ConfigError("model.excluded_features: '" + name + "' is not a feature column");
  if (selection.names.empty()) throw ConfigError("model: every feature column is excluded");
  return selection;
}

// Appends rows of `features` in model column order: feature row feature_rows[r] for journey
// journey_rows[r], whose customer_journey_number comes from `numbers` (the full set's).
void append_model_rows(const FeatureMatrix& features, const std::vector<int64_t>& feature_rows,
                       const std::vector<int64_t>& journey_rows, const ColumnSelection& columns, int number_column,
                       const std::vector<float>& numbers, std::vector<float>& out) {
  const size_t base = out.size(), width = columns.source.size();
  out.resize(base + feature_rows.size() * width);
  for (size_t r = 0; r < feature_rows.size(); ++r)
    for (size_t c = 0; c < width; ++c) {
      const int64_t source = columns.source[c];
      out[base + r * width + c] = source == number_column ? numbers[static_cast<size_t>(journey_rows[r])]
                                                          : features.at(feature_rows[r], source);
    }
}

// Row-major rows in model column order, one per journey in `rows`. Prefix rows come from features
// computed with `spec` on just those journeys (customer_journey_number restored from the full set);
// whole-window rows are copied from `whole_windows` (the full set's matrix for `spec`) when given.
class RowBuilder {
 public:
  RowBuilder(const Context& ctx, const JourneySet& journeys, const ColumnSelection& columns, const FeatureSpec& spec,
             const FeatureMatrix* whole_windows)
      : ctx_(ctx), journeys_(journeys), columns_(columns), spec_(spec), whole_windows_(whole_windows),
        numbers_(customer_journey_numbers(journeys)), number_column_(spec.column("customer_journey_number")) {}

  /// Appends the rows of `rows` with the first `k` events (0 = the whole window) to `out`.
  void append(const std::vector<int64_t>& rows, int64_t k, std::vector<float>& out) const {
    if (rows.empty()) return;
    if (k == 0 && whole_windows_ != nullptr) {
      const size_t base = out.size(), width = columns_.source.size();
      out.resize(base + rows.size() * width);
      for (size_t r = 0; r < rows.size(); ++r)
        for (size_t c = 0; c < width; ++c) out[base + r * width + c] = whole_windows_->at(rows[r], columns_.source[c]);
      return;
    }
    FeatureSpec spec = spec_;
    spec.options.prefix_events = k;
    const FeatureMatrix features = extract_features(ctx_, select_journeys(journeys_, rows), spec);
    std::vector<int64_t> feature_rows(rows.size());
    std::iota(feature_rows.begin(), feature_rows.end(), int64_t{0});
    append_model_rows(features, feature_rows, rows, columns_, number_column_, numbers_, out);
  }

  const std::vector<float>& customer_journey_numbers_of_set() const { return numbers_; }

 private:
  const Context& ctx_;
  const JourneySet& journeys_;
  const ColumnSelection& columns_;
  FeatureSpec spec_;
  const FeatureMatrix* whole_windows_;
  std::vector<float> numbers_;
  int number_column_;
};

// The k-event prefix rows of one fixed list of journeys, for several k. The journeys are copied
// out once (on the GPU they then stay on the device for every k) and featurised together per k. A
// journey's features depend on that journey alone (customer_journey_number is restored from the
// full set), so the rows equal RowBuilder::append's on any subset of the list.
class PrefixRows {
 public:
  PrefixRows(const Context& ctx, const JourneySet& journeys, const std::vector<int64_t>& rows,
             const ColumnSelection& columns, const FeatureSpec& spec, const std::vector<float>& numbers)
      : ctx_(ctx), rows_(rows), columns_(columns), spec_(spec), numbers_(numbers),
        number_column_(spec.column("customer_journey_number")), subset_(select_journeys(journeys, rows)) {}

  /// Appends the first-`k`-event rows of the journeys rows[p], p in `positions`, to `out`.
  void append(int64_t k, const std::vector<int64_t>& positions, std::vector<float>& out) const {
    if (positions.empty()) return;
    FeatureSpec spec = spec_;
    spec.options.prefix_events = k;
    const FeatureMatrix features = extract_features(ctx_, subset_, spec);
    std::vector<int64_t> journey_rows(positions.size());
    for (size_t r = 0; r < positions.size(); ++r) journey_rows[r] = rows_[static_cast<size_t>(positions[r])];
    append_model_rows(features, positions, journey_rows, columns_, number_column_, numbers_, out);
  }

 private:
  const Context& ctx_;
  const std::vector<int64_t>& rows_;
  const ColumnSelection& columns_;
  FeatureSpec spec_;
  const std::vector<float>& numbers_;
  int number_column_;
  JourneySet subset_;
};

// Events of journey j at or before `cutoff_ms` (all of them without a cutoff).
int64_t events_seen(const JourneySet& journeys, int64_t j, bool has_cutoff, int64_t cutoff_ms) {
  const int64_t begin = journeys.offsets[j], end = journeys.offsets[j + 1];
  if (!has_cutoff) return end - begin;
  return std::upper_bound(journeys.timestamp_ms.begin() + begin, journeys.timestamp_ms.begin() + end, cutoff_ms) -
         (journeys.timestamp_ms.begin() + begin);
}

// Rows a fitting journey contributes: prefixes k = 1..min(seen - 1, K) and its whole window.
int64_t fit_rows_of(int64_t seen, int64_t max_k) { return std::min(seen - 1, max_k) + 1; }

// The fitting journeys of a seeded sample of whole customers holding at most `max_rows` fitting
// rows (0 = all): customers in random order, each taken while it fits.
std::vector<uint8_t> sample_fitting_customers(const JourneySet& journeys, const std::vector<RowRole>& roles,
                                              const std::vector<int64_t>& rows_of_journey, int64_t max_rows,
                                              uint64_t seed) {
  std::vector<int64_t> rows_of_customer(static_cast<size_t>(journeys.customers.size()), 0);
  int64_t total = 0;
  for (size_t j = 0; j < roles.size(); ++j)
    if (roles[j] == RowRole::Train || roles[j] == RowRole::EarlyStop) {
      rows_of_customer[journeys.customer[j]] += rows_of_journey[j];
      total += rows_of_journey[j];
    }
  std::vector<uint8_t> keep(rows_of_customer.size(), 0);
  for (size_t c = 0; c < keep.size(); ++c) keep[c] = rows_of_customer[c] > 0;
  if (max_rows == 0 || total <= max_rows) return keep;
  std::vector<uint32_t> customers;
  for (size_t c = 0; c < keep.size(); ++c)
    if (keep[c]) customers.push_back(static_cast<uint32_t>(c));
  std::mt19937_64 rng(seed ^ 0x70726566u);
  seeded_shuffle(customers, rng);
  std::fill(keep.begin(), keep.end(), 0);
  int64_t kept = 0;
  for (uint32_t c : customers) {
    if (kept + rows_of_customer[c] > max_rows) continue;
    keep[c] = 1;
    kept += rows_of_customer[c];
  }
  return keep;
}

// AUC (binary) or R^2 (value); NaN when the rows hold a single class.
double quality(ModelTarget target, const std::vector<float>& labels, const std::vector<float>& scores) {
  if (labels.empty()) return std::numeric_limits<double>::quiet_NaN();
  if (!is_binary(target)) return evaluate_regression(labels, scores).r2;
  const auto positives = std::count(labels.begin(), labels.end(), 1.0f);
  if (positives == 0 || positives == static_cast<std::ptrdiff_t>(labels.size())) return std::numeric_limits<double>::quiet_NaN();
  return weighted_roc_auc(labels, scores, std::vector<double>(labels.size(), 1.0));
}

// The fitted in-flight training set: rows in model column order with labels, roles and the number
// of events each row has seen (k for prefixes; the window's length for whole rows).
struct FitRows {
  std::vector<float> values;
  std::vector<float> labels;
  std::vector<RowRole> roles;
  std::vector<int64_t> events;
};

}  // namespace

ModelResult train_journey_model(const Context& ctx, const JourneySet& journeys, const ModelOptions& options,
                                const std::vector<float>* labels_override) {
  const auto start = Clock::now();
  validate(options);
  if (options.features.prefix_events != 0 || options.features.prefix_seconds != 0.0)
    throw ConfigError("model: train on whole journeys (features.prefix_events/prefix_seconds must be 0); "
                      "prefixes are part of training and are scored with ScoreOptions::prefix_events");
  if (journeys.size() == 0) throw ConfigError("model: no journeys to train on");
  const FeatureMatrix features = extract_features(ctx, journeys, fit_feature_spec(journeys, options.features));
  ModelResult result = train_journey_model(ctx, journeys, features, options, labels_override);
  result.total_seconds = seconds_since(start);
  return result;
}

ModelResult train_journey_model(const Context& ctx, const JourneySet& journeys, const FeatureMatrix& features,
                                const ModelOptions& options, const std::vector<float>* labels_override) {
  return model_detail::train_journey_model(ctx, journeys, features, options, labels_override, nullptr);
}

ModelResult model_detail::train_journey_model(const Context& ctx, const JourneySet& journeys, const FeatureMatrix& features,
                                              const ModelOptions& options, const std::vector<float>* labels_override,
                                              BoostingPeers* peers) {
  const auto start = Clock::now();
  validate(options);
  const FeatureSpec& spec = features.spec;
  if (spec.options.prefix_events != 0 || spec.options.prefix_seconds != 0.0 || spec.options.has_cutoff_time)
    throw ConfigError("model: the feature matrix must hold whole windows (no prefix or cutoff); "
                      "prefixes are part of training and are scored with ScoreOptions::prefix_events");
  const int64_t n = journeys.size();
  if (n == 0) throw ConfigError("model: no journeys to train on");
  if (features.n_rows != n)
    throw ConfigError(fmt::format("model: the feature matrix has {} rows for {} journeys", features.n_rows, n));
  if (labels_override && static_cast<int64_t>(labels_override->size()) != n)
    throw ConfigError(fmt::format("model: {} labels given for {} journeys", labels_override->size(), n));

  StepTimer step(ctx, "labels and split");
  ModelResult result;
  result.options = options;
  result.options.features = spec.options;
  std::vector<uint8_t> excluded;
  const std::vector<float> labels = labels_override ? *labels_override : journey_labels(journeys, options, &excluded);
  // Journeys whose outcome is not known yet (a window rule's "open") never enter fitting or metrics.
  const int32_t open_label = journeys.outcome_labels.find("open");
  if (journeys.has_outcomes() && open_label >= 0) {
    excluded.resize(static_cast<size_t>(n), 0);
    for (int64_t j = 0; j < n; ++j)
      if (journeys.outcome[static_cast<size_t>(j)] == open_label) excluded[static_cast<size_t>(j)] = 1;
  }
  check_model_columns(spec, options);
  const ColumnSelection columns = select_model_columns(spec, options.excluded_features);
  const int64_t width = static_cast<int64_t>(columns.names.size());
  const int64_t baseline_column =
      std::find(columns.names.begin(), columns.names.end(), options.baseline_column) - columns.names.begin();

  const std::vector<RowRole> roles = split_rows(journeys.customer, labels, journeys.start_ms, options, excluded);
  for (RowRole role : roles) {
    result.n_train += role == RowRole::Train;
    result.n_early_stop += role == RowRole::EarlyStop;
    result.n_test += role == RowRole::Test;
    result.n_excluded += role == RowRole::Excluded;
  }
  result.test_journeys = rows_with_role(roles, RowRole::Test);
  if (result.test_journeys.empty())
    throw InsufficientDataError("model: the test set is empty (too few customers for test_fraction)");
  if (is_binary(options.target)) {
    int64_t test_positives = 0;
    for (int64_t j : result.test_journeys) test_positives += labels[static_cast<size_t>(j)] > 0.5f;
    const auto tests = static_cast<int64_t>(result.test_journeys.size());
    if (test_positives == 0 || test_positives == tests)
      throw InsufficientDataError(fmt::format(
          "model: every one of the {} test journeys {} {}, so the test set cannot measure the model (it needs both "
          "outcomes); more customers are needed (or a larger test_fraction)",
          tests, test_positives == 0 ? "ends without" : "ends with", to_string(options.target)));
  }

  // Strict time split: training sees no event from the start of the test period on.
  FeatureSpec fit_spec = spec;
  if (options.split == SplitMode::Time) {
    int64_t split_time = std::numeric_limits<int64_t>::max();
    for (int64_t j : result.test_journeys) split_time = std::min(split_time, journeys.start_ms[static_cast<size_t>(j)]);
    result.split_time_ms = split_time;
    fit_spec.options.has_cutoff_time = true;
    fit_spec.options.cutoff_time_ms = split_time - 1;
  }
  const bool has_cutoff = fit_spec.options.has_cutoff_time;

  if (is_binary(options.target) && !labels_override) {
    step.next("leakage guard");
    result.warnings = find_leakage(journeys, features, labels, roles, columns.names, options.leakage_auc, ctx.num_threads);
    if (options.strict_leakage && !result.warnings.empty()) {
      std::string message = "model: leakage guard (strict):";
      for (const std::string& warning : result.warnings) message += "\n  " + warning;
      throw Error(message);
    }
  }

  // The in-flight training set from a sample of whole fitting customers.
  step.next("training rows");
  const int64_t max_k = options.prefix_max_events;
  std::vector<int64_t> seen(static_cast<size_t>(n), 0), rows_of_journey(static_cast<size_t>(n), 0);
  for (int64_t j = 0; j < n; ++j) {
    seen[static_cast<size_t>(j)] = events_seen(journeys, j, has_cutoff, fit_spec.options.cutoff_time_ms);
    rows_of_journey[static_cast<size_t>(j)] = seen[static_cast<size_t>(j)] > 0 ? fit_rows_of(seen[static_cast<size_t>(j)], max_k) : 0;
  }
  const std::vector<uint8_t> sampled =
      sample_fitting_customers(journeys, roles, rows_of_journey, options.max_train_rows, options.seed);
  std::vector<int64_t> fitting;
  for (int64_t j = 0; j < n; ++j) {
    const RowRole role = roles[static_cast<size_t>(j)];
    if ((role == RowRole::Train || role == RowRole::EarlyStop) && sampled[journeys.customer[static_cast<size_t>(j)]] &&
        seen[static_cast<size_t>(j)] > 0)
      fitting.push_back(j);
  }
  // Without a cutoff the fitting windows are the whole windows already computed in `features`.
  const RowBuilder fit_builder(ctx, journeys, columns, fit_spec, has_cutoff ? nullptr : &features);
  FitRows fit;
  auto add_rows = [&](const std::vector<int64_t>& rows, int64_t k) {
    fit_builder.append(rows, k, fit.values);
    for (int64_t j : rows) {
      fit.labels.push_back(labels[static_cast<size_t>(j)]);
      fit.roles.push_back(roles[static_cast<size_t>(j)]);
      fit.events.push_back(k > 0 ? k : seen[static_cast<size_t>(j)]);
    }
  };
  add_rows(fitting, 0);
  for (int64_t k = 1; k <= max_k; ++k) {
    std::vector<int64_t> longer;  // journeys whose window is longer than k: their k-prefix is a real prefix
    for (int64_t j : fitting)
      if (seen[static_cast<size_t>(j)] > k) longer.push_back(j);
    if (longer.empty()) break;
    add_rows(longer, k);
  }
  const int64_t fit_count = static_cast<int64_t>(fit.labels.size());
  result.n_fit_rows = fit_count;
  const MatrixView fit_view{fit.values.data(), fit_count, width};
  step.next("boosting");
  result.model = train_model(ctx, fit_view, columns.names, fit.labels, fit.roles, options, &result.history, peers);
  result.model.feature_spec = spec;
  result.train_seconds = result.history.boosting_seconds;
  const CategoryRates rates = fit_category_rates(fit_view, baseline_column, fit.labels, fit.roles);
  auto baseline_of = [&](const std::vector<float>& rows) {
    std::vector<float> scores;
    for (size_t r = 0; r * static_cast<size_t>(width) < rows.size(); ++r)
      scores.push_back(rates(rows[r * static_cast<size_t>(width) + static_cast<size_t>(baseline_column)]));
    return scores;
  };

  // At the decision point (diagnostic): the whole windows of the test journeys.
  step.next("decision point");
  const RowBuilder test_builder(ctx, journeys, columns, spec, &features);
  std::vector<float> test_values;
  test_builder.append(result.test_journeys, 0, test_values);
  const MatrixView test_view{test_values.data(), static_cast<int64_t>(result.test_journeys.size()), width};
  result.test_labels = gather(labels, result.test_journeys);
  result.test_predictions = predict(ctx, result.model, test_view);
  result.test_baseline = baseline_of(test_values);
  if (is_binary(options.target)) {
    result.test = evaluate_binary(result.test_labels, result.test_predictions, options.calibration_bins);
    result.baseline = evaluate_binary(result.test_labels, result.test_baseline, options.calibration_bins);
  } else {
    result.test_regression = evaluate_regression(result.test_labels, result.test_predictions);
    result.baseline_regression = evaluate_regression(result.test_labels, result.test_baseline);
  }

  const std::vector<double> gain = feature_importance(result.model, "gain");
  const std::vector<double> cover = feature_importance(result.model, "cover");
  for (size_t c = 0; c < columns.names.size(); ++c) result.importance.push_back({columns.names[c], gain[c], cover[c]});
  std::stable_sort(result.importance.begin(), result.importance.end(),
                   [](const FeatureImportance& a, const FeatureImportance& b) { return a.gain > b.gain; });

  // In flight: the first k events of the test journeys with at least k events, k = 1..K.
  step.next("in-flight curve");
  const PrefixRows test_prefixes(ctx, journeys, result.test_journeys, columns, spec,
                                 test_builder.customer_journey_numbers_of_set());
  std::vector<float> pooled_labels, pooled_scores, pooled_baseline;
  std::vector<double> pooled_weights;
  for (int64_t k = 1; k <= max_k; ++k) {
    std::vector<int64_t> rows, positions;  // journeys, and their places in test_journeys
    for (size_t p = 0; p < result.test_journeys.size(); ++p)
      if (journeys.length(result.test_journeys[p]) >= k) {
        rows.push_back(result.test_journeys[p]);
        positions.push_back(static_cast<int64_t>(p));
      }
    if (rows.empty()) break;
    std::vector<float> values;
    test_prefixes.append(k, positions, values);
    const MatrixView view{values.data(), static_cast<int64_t>(rows.size()), width};
    const std::vector<float> point_labels = gather(labels, rows);
    const std::vector<float> scores = predict(ctx, result.model, view);
    const std::vector<float> baseline = baseline_of(values);
    PrefixPoint point;
    point.k = k;
    point.journeys = static_cast<int64_t>(rows.size());
    point.positives = std::count(point_labels.begin(), point_labels.end(), 1.0f);
    point.model_auc = quality(options.target, point_labels, scores);
    point.baseline_auc = quality(options.target, point_labels, baseline);
    point.prefix_model_auc = std::numeric_limits<double>::quiet_NaN();
    if (options.prefix_models) {
      // A dedicated model on k-event rows only: the prefix rows of k and the whole windows of length k.
      std::vector<int64_t> k_rows;
      for (int64_t r = 0; r < fit_count; ++r)
        if (fit.events[static_cast<size_t>(r)] == k) k_rows.push_back(r);
      const std::vector<float> k_values = gather_rows(fit_view, k_rows);
      const std::vector<float> k_labels = gather(fit.labels, k_rows);
      const std::vector<RowRole> k_roles = gather(fit.roles, k_rows);
      const bool trainable = std::count(k_roles.begin(), k_roles.end(), RowRole::Train) > 0 &&
                             (!is_binary(options.target) ||
                              (std::count(k_labels.begin(), k_labels.end(), 1.0f) > 0 &&
                               std::count(k_labels.begin(), k_labels.end(), 0.0f) > 0));
      if (trainable) {
        const Model dedicated = train_model(ctx, MatrixView{k_values.data(), static_cast<int64_t>(k_rows.size()), width},
                                            columns.names, k_labels, k_roles, options, nullptr, peers);
        point.prefix_model_auc = quality(options.target, point_labels, predict(ctx, dedicated, view));
      }
    }
    result.prefix_curve.push_back(point);
    for (size_t r = 0; r < rows.size(); ++r) {
      result.in_flight.journey.push_back(rows[r]);
      result.in_flight.k.push_back(static_cast<int32_t>(k));
      pooled_labels.push_back(point_labels[r]);
      pooled_scores.push_back(scores[r]);
      pooled_baseline.push_back(baseline[r]);
      pooled_weights.push_back(1.0 / static_cast<double>(std::min(journeys.length(rows[r]), max_k)));
    }
  }
  result.in_flight.prefixes = static_cast<int64_t>(pooled_labels.size());
  result.in_flight.label = pooled_labels;
  result.in_flight.prediction = pooled_scores;
  result.in_flight.pooled_auc = quality(options.target, pooled_labels, pooled_scores);
  result.in_flight.baseline_pooled_auc = quality(options.target, pooled_labels, pooled_baseline);
  result.in_flight.journey_weighted_auc = std::numeric_limits<double>::quiet_NaN();
  if (is_binary(options.target) && !std::isnan(result.in_flight.pooled_auc))
    result.in_flight.journey_weighted_auc = weighted_roc_auc(pooled_labels, pooled_scores, pooled_weights);
  result.total_seconds = seconds_since(start);
  return result;
}

void check_model_columns(const FeatureSpec& spec, const ModelOptions& options) {
  const ColumnSelection columns = select_model_columns(spec, options.excluded_features);
  if (std::find(columns.names.begin(), columns.names.end(), options.baseline_column) == columns.names.end())
    throw ConfigError("model: baseline column '" + options.baseline_column + "' is not a model feature");
}

// ------------------------------------------------------------------ leakage guard

std::vector<std::string> find_leakage(const JourneySet& journeys, const FeatureMatrix& features,
                                      const std::vector<float>& labels, const std::vector<RowRole>& roles,
                                      const std::vector<std::string>& model_columns, double threshold,
                                      int num_threads) {
  std::vector<std::string> findings;
  const std::vector<int64_t> train = rows_with_role(roles, RowRole::Train);
  const std::vector<float> train_labels = gather(labels, train);
  const auto positives = std::count(train_labels.begin(), train_labels.end(), 1.0f);
  if (positives == 0 || positives == static_cast<std::ptrdiff_t>(train_labels.size())) return findings;

  // (a) single feature columns the model sees, one column per task, on a sample of the rows when
  // there are many (each column's AUC sorts its rows).
  std::vector<int64_t> scored = train;
  if (static_cast<int64_t>(scored.size()) > kLeakageSampleRows) {
    std::mt19937_64 rng(0x6c65616b61676500ull);
    seeded_shuffle(scored, rng);
    scored.resize(static_cast<size_t>(kLeakageSampleRows));
    std::sort(scored.begin(), scored.end());
  }
  const std::vector<float> scored_labels = gather(labels, scored);
  const auto scored_positives = std::count(scored_labels.begin(), scored_labels.end(), 1.0f);
  const bool sampled = scored.size() < train.size();
  std::vector<double> column_auc(model_columns.size(), 0.0);
  if (scored_positives > 0 && scored_positives < static_cast<std::ptrdiff_t>(scored_labels.size())) {
    const std::vector<double> unit(scored.size(), 1.0);
    parallel_for(static_cast<int64_t>(model_columns.size()), resolve_thread_count(num_threads), [&](int64_t c) {
      const int column = features.column(model_columns[static_cast<size_t>(c)]);
      if (column < 0) return;
      std::vector<float> scores(scored.size());
      for (size_t r = 0; r < scored.size(); ++r) scores[r] = features.at(scored[r], column);
      const double auc = weighted_roc_auc(scored_labels, scores, unit);
      column_auc[static_cast<size_t>(c)] = std::max(auc, 1.0 - auc);
    });
  }
  for (size_t c = 0; c < model_columns.size(); ++c)
    if (column_auc[c] > threshold)
      findings.push_back(fmt::format("feature '{}' alone separates the training labels with AUC {:.3f} (> {:.2f}{}): "
                                     "check that it is not recorded with or after the outcome",
                                     model_columns[c], column_auc[c], threshold,
                                     sampled ? fmt::format("; on a sample of {} training journeys", scored.size()) : ""));
  // (a) presence of a single touchpoint. A 0/1 score has AUC (1 + TPR - FPR) / 2 (ties half), so
  // counting the training journeys that hold each touchpoint, per class, is enough.
  const int32_t n_touchpoints = journeys.touchpoints.size();
  std::vector<int64_t> with_positive(static_cast<size_t>(n_touchpoints), 0), with_negative(with_positive);
  std::vector<int64_t> stamp(static_cast<size_t>(n_touchpoints), -1);
  for (size_t r = 0; r < train.size(); ++r)
    for (int64_t e = journeys.offsets[train[r]]; e < journeys.offsets[train[r] + 1]; ++e) {
      const auto t = static_cast<size_t>(journeys.touchpoint[e]);
      if (stamp[t] == static_cast<int64_t>(r)) continue;
      stamp[t] = static_cast<int64_t>(r);
      ++(train_labels[r] == 1.0f ? with_positive : with_negative)[t];
    }
  const double n_positive = static_cast<double>(positives);
  const double n_negative = static_cast<double>(train_labels.size()) - n_positive;
  for (int32_t t = 0; t < n_touchpoints; ++t) {
    if (with_positive[static_cast<size_t>(t)] + with_negative[static_cast<size_t>(t)] == 0) continue;
    const double presence_auc =
        0.5 * (1.0 + with_positive[static_cast<size_t>(t)] / n_positive - with_negative[static_cast<size_t>(t)] / n_negative);
    const double auc = std::max(presence_auc, 1.0 - presence_auc);
    if (auc <= threshold) continue;
    // How long before the outcome it is last seen: seconds point at logging, days at behaviour.
    std::vector<int64_t> lead_ms;
    for (size_t r = 0; r < train.size(); ++r) {
      const int64_t j = train[r];
      if (!journeys.has_outcomes() || journeys.outcome_ms[static_cast<size_t>(j)] == 0) continue;
      for (int64_t e = journeys.offsets[j + 1] - 1; e >= journeys.offsets[j]; --e)
        if (journeys.touchpoint[e] == t) {
          lead_ms.push_back(journeys.outcome_ms[static_cast<size_t>(j)] - journeys.timestamp_ms[e]);
          break;
        }
    }
    std::string timing;
    if (!lead_ms.empty()) {
      std::nth_element(lead_ms.begin(), lead_ms.begin() + static_cast<std::ptrdiff_t>(lead_ms.size() / 2), lead_ms.end());
      timing = "; last seen a median " + readable_duration(std::round(lead_ms[lead_ms.size() / 2] / 1000.0)) +
               " before the outcome";
    }
    findings.push_back(fmt::format("touchpoint '{}': its presence alone separates the training labels with AUC "
                                   "{:.3f} (> {:.2f}){}: if it is logged with or after the outcome, declare it an "
                                   "outcome event or raise outcome.same_instant_seconds",
                                   journeys.touchpoints.name(t), auc, threshold, timing));
  }
  // (c) events at or after the outcome (a label file or window rule cannot make these, the cut
  // guarantees it; this catches a journey set built without the outcome cut).
  if (journeys.has_outcomes()) {
    int64_t late = 0;
    for (int64_t j = 0; j < journeys.size(); ++j)
      late += journeys.outcome_ms[static_cast<size_t>(j)] != 0 && journeys.end_ms[static_cast<size_t>(j)] >= journeys.outcome_ms[static_cast<size_t>(j)];
    if (late > 0) findings.push_back(fmt::format("{} journeys have events at or after their outcome", late));
  } else {
    findings.push_back("the journeys were not cut at their outcomes (build them with build_outcome_journeys)");
  }
  return findings;
}

}  // namespace jm
