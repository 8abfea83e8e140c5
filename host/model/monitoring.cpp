// Model monitoring (monitoring.hpp): the training profile stored in the model, and new journeys
// compared with it bucket by bucket.
#include "journeymap/monitoring.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "host/model/xgboost_api.hpp"
#include "journeymap/common.hpp"

namespace jm {
namespace {

constexpr const char* kReferenceAttribute = "journeymap_reference";
constexpr int kQuantileBins = 10;
constexpr size_t kMaxCategoricalCodes = 64;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kDayMs = 86400000.0;
constexpr int64_t kMaxBuckets = 10000;

// Columns that say when a journey happened or where it sits in the observation window (a window's
// first weeks hold only first journeys; a partial last bucket holds only some weekdays; a campaign
// runs in one period and not the next), not what happened in it: their PSI is stored but does not
// raise a status.
bool judged(const std::string& feature) {
  return feature != "recency_days" && feature != "customer_journey_number" && feature != "start_weekday" &&
         feature.rfind("cov:", 0) != 0;
}

// Bins of a numeric column: the deciles of its finite values, repeated cut points merged.
ModelReference::Column numeric_column(const std::string& name, std::vector<double> values) {
  ModelReference::Column column;
  column.name = name;
  std::vector<double> finite;
  for (double v : values)
    if (std::isfinite(v)) finite.push_back(v);
  std::sort(finite.begin(), finite.end());
  for (int q = 1; q < kQuantileBins && !finite.empty(); ++q) {
    const double cut = finite[static_cast<size_t>(q) * (finite.size() - 1) / kQuantileBins];
    if (column.edges.empty() || cut > column.edges.back()) column.edges.push_back(cut);
  }
  return column;
}

ModelReference::Column categorical_column(const std::string& name, const std::vector<double>& values) {
  ModelReference::Column column;
  column.name = name;
  column.categorical = true;
  std::map<double, int64_t> counts;
  for (double v : values)
    if (std::isfinite(v)) ++counts[v];
  std::vector<std::pair<double, int64_t>> by_count(counts.begin(), counts.end());
  std::stable_sort(by_count.begin(), by_count.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  for (size_t i = 0; i < std::min(by_count.size(), kMaxCategoricalCodes); ++i) column.codes.push_back(by_count[i].first);
  std::sort(column.codes.begin(), column.codes.end());
  return column;
}

size_t bin_count(const ModelReference::Column& column) {
  return (column.categorical ? column.codes.size() + 1 : column.edges.size() + 1) + 1;  // + missing
}

size_t bin_of(const ModelReference::Column& column, double value) {
  const size_t missing = bin_count(column) - 1;
  if (!std::isfinite(value)) return missing;
  if (column.categorical) {
    const auto at = std::lower_bound(column.codes.begin(), column.codes.end(), value);
    return at != column.codes.end() && *at == value ? static_cast<size_t>(at - column.codes.begin()) : column.codes.size();
  }
  return static_cast<size_t>(std::upper_bound(column.edges.begin(), column.edges.end(), value) - column.edges.begin());
}

std::vector<double> shares_of(const ModelReference::Column& column, const std::vector<double>& values) {
  std::vector<double> shares(bin_count(column), 0.0);
  for (double v : values) shares[bin_of(column, v)] += 1.0;
  for (double& s : shares) s /= static_cast<double>(std::max<size_t>(values.size(), 1));
  return shares;
}

// Column `c` of the features of the given rows (all rows when `rows` is empty).
std::vector<double> column_values(const FeatureMatrix& features, int c, const std::vector<int64_t>* rows = nullptr) {
  std::vector<double> values;
  const int64_t n = rows ? static_cast<int64_t>(rows->size()) : features.n_rows;
  values.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) values.push_back(features.at(rows ? (*rows)[static_cast<size_t>(i)] : i, c));
  return values;
}

std::vector<double> as_doubles(const std::vector<float>& values) { return {values.begin(), values.end()}; }

// Mann-Whitney ROC-AUC, NaN without 20 journeys of each outcome.
double auc_or_nan(const std::vector<float>& labels, const std::vector<float>& scores) {
  const auto positives = std::count(labels.begin(), labels.end(), 1.0f);
  if (positives < 20 || static_cast<int64_t>(labels.size()) - positives < 20) return kNaN;
  return weighted_roc_auc(labels, scores, std::vector<double>(labels.size(), 1.0));
}

nlohmann::json column_to_json(const ModelReference::Column& c) {
  return {{"name", c.name}, {"categorical", c.categorical}, {"edges", c.edges}, {"codes", c.codes}, {"shares", c.shares}};
}

ModelReference::Column column_from_json(const nlohmann::json& j) {
  ModelReference::Column c;
  c.name = j.at("name").get<std::string>();
  c.categorical = j.at("categorical").get<bool>();
  c.edges = j.at("edges").get<std::vector<double>>();
  c.codes = j.at("codes").get<std::vector<double>>();
  c.shares = j.at("shares").get<std::vector<double>>();
  if (c.shares.size() != bin_count(c)) throw std::invalid_argument("shares do not match the bins of " + c.name);
  return c;
}

// A JSON number for a double that may be NaN (JSON has none): null.
nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

}  // namespace

double population_stability(const std::vector<double>& expected, const std::vector<double>& actual) {
  double psi = 0.0;
  for (size_t i = 0; i < std::min(expected.size(), actual.size()); ++i) {
    const double e = std::max(expected[i], 1e-4), a = std::max(actual[i], 1e-4);
    psi += (a - e) * std::log(a / e);
  }
  return psi;
}

ModelReference fit_model_reference(const Context& ctx, const Model& model, const JourneySet& journeys,
                                   const FeatureMatrix& features, const ModelResult& result) {
  ModelReference reference;
  reference.journeys = journeys.size();
  for (int64_t j = 0; j < journeys.size(); ++j) {
    reference.first_start_ms = j == 0 ? journeys.start_ms[0] : std::min(reference.first_start_ms, journeys.start_ms[j]);
    reference.last_end_ms = j == 0 ? journeys.end_ms[0] : std::max(reference.last_end_ms, journeys.end_ms[j]);
  }
  for (const std::string& name : model.feature_names) {
    const int c = features.column(name);
    if (c < 0) throw ConfigError("model reference: the features lack the model's column '" + name + "'");
    const std::vector<double> values = column_values(features, c);
    ModelReference::Column column = features.spec.kinds[static_cast<size_t>(c)] == FeatureKind::Categorical
                                        ? categorical_column(name, values)
                                        : numeric_column(name, values);
    column.shares = shares_of(column, values);
    reference.columns.push_back(std::move(column));
  }
  const std::vector<double> scores = as_doubles(score_features(ctx, model, features, 0).prediction);
  reference.score = numeric_column("score", scores);
  reference.score.shares = shares_of(reference.score, scores);
  // The held-out journeys, scored whole as monitoring scores new ones.
  std::vector<float> labels, held_out_scores;
  for (const int64_t j : result.test_journeys) {
    labels.push_back(journeys.converted[j] != 0 ? 1.0f : 0.0f);
    held_out_scores.push_back(static_cast<float>(scores[static_cast<size_t>(j)]));
  }
  reference.holdout_auc = model.target == ModelTarget::Conversion ? auc_or_nan(labels, held_out_scores) : kNaN;
  reference.holdout_rate = labels.empty() ? kNaN
                                          : static_cast<double>(std::count(labels.begin(), labels.end(), 1.0f)) /
                                                static_cast<double>(labels.size());
  double predicted = 0.0;
  for (float score : held_out_scores) predicted += score;
  reference.holdout_mean_score = labels.empty() ? kNaN : predicted / static_cast<double>(labels.size());
  return reference;
}

void attach_model_reference(const Model& model, const ModelReference& reference) {
  if (model.empty()) throw std::logic_error("attach_model_reference: empty model");
  nlohmann::json columns = nlohmann::json::array();
  for (const ModelReference::Column& c : reference.columns) columns.push_back(column_to_json(c));
  const nlohmann::json j = {{"columns", columns},
                            {"score", column_to_json(reference.score)},
                            {"journeys", reference.journeys},
                            {"first_start_ms", reference.first_start_ms},
                            {"last_end_ms", reference.last_end_ms},
                            {"holdout_auc", number_or_null(reference.holdout_auc)},
                            {"holdout_rate", number_or_null(reference.holdout_rate)},
                            {"holdout_mean_score", number_or_null(reference.holdout_mean_score)}};
  model.booster->set_attribute(kReferenceAttribute, j.dump());
}

std::optional<ModelReference> model_reference(const Model& model) {
  if (model.empty()) return std::nullopt;
  bool found = false;
  const std::string text = model.booster->attribute(kReferenceAttribute, &found);
  if (!found) return std::nullopt;
  ModelReference reference;
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    for (const nlohmann::json& c : j.at("columns")) reference.columns.push_back(column_from_json(c));
    reference.score = column_from_json(j.at("score"));
    reference.journeys = j.at("journeys").get<int64_t>();
    reference.first_start_ms = j.at("first_start_ms").get<int64_t>();
    reference.last_end_ms = j.at("last_end_ms").get<int64_t>();
    reference.holdout_auc = j.at("holdout_auc").is_null() ? kNaN : j.at("holdout_auc").get<double>();
    reference.holdout_rate = j.at("holdout_rate").is_null() ? kNaN : j.at("holdout_rate").get<double>();
    reference.holdout_mean_score = j.at("holdout_mean_score").is_null() ? kNaN : j.at("holdout_mean_score").get<double>();
  } catch (const std::exception& error) {
    throw Error(std::string("the model's reference profile is damaged: ") + error.what());
  }
  return reference;
}

void validate(const MonitoringOptions& options) {
  if (!(options.bucket_days > 0.0 && options.bucket_days <= 3660.0)) throw ConfigError("monitor: bucket_days must be in (0, 3660]");
  if (!(options.maturity_days >= 0.0)) throw ConfigError("monitor: maturity_days must be >= 0");
  if (!(options.psi_watch > 0.0 && options.psi_watch <= options.psi_retrain))
    throw ConfigError("monitor: psi_watch must be > 0 and at most psi_retrain");
  if (!(options.auc_drop > 0.0 && options.auc_drop < 1.0)) throw ConfigError("monitor: auc_drop must be in (0, 1)");
  if (options.min_bucket_journeys < 1) throw ConfigError("monitor: min_bucket_journeys must be >= 1");
}

MonitoringResult monitor_model(const Context& ctx, const Model& model, const JourneySet& journeys,
                               const MonitoringOptions& options) {
  validate(options);
  std::optional<ModelReference> reference = model_reference(model);
  if (!reference)
    throw ConfigError("monitor: the model has no reference profile (it was saved before monitoring existed); train it "
                      "again with this journeymap");
  MonitoringResult result;
  result.options = options;
  result.reference = std::move(*reference);
  for (const ModelReference::Column& c : result.reference.columns) result.features.push_back(c.name);
  if (journeys.size() == 0) {
    result.recommendation = "no action";
    result.reasons.push_back("no journeys to compare");
    return result;
  }
  const FeatureMatrix features = extract_features(ctx, journeys, model.feature_spec);
  const std::vector<float> scores = score_features(ctx, model, features, 0).prediction;

  // Buckets by journey start, from the first start's day (UTC midnight).
  int64_t first_ms = journeys.start_ms[0], last_start_ms = first_ms, data_end_ms = journeys.end_ms[0];
  for (int64_t j = 0; j < journeys.size(); ++j) {
    first_ms = std::min(first_ms, journeys.start_ms[j]);
    last_start_ms = std::max(last_start_ms, journeys.start_ms[j]);
    data_end_ms = std::max(data_end_ms, journeys.end_ms[j]);
  }
  const int64_t origin_ms = static_cast<int64_t>(std::floor(static_cast<double>(first_ms) / kDayMs)) * static_cast<int64_t>(kDayMs);
  const auto bucket_ms = static_cast<int64_t>(options.bucket_days * kDayMs);
  const auto maturity_ms = static_cast<int64_t>(options.maturity_days * kDayMs);
  // An outlier timestamp (a 1970 event among this year's) would otherwise make millions of buckets.
  const int64_t n_buckets = (last_start_ms - origin_ms) / bucket_ms + 1;
  if (n_buckets > kMaxBuckets)
    throw ConfigError(fmt::format("monitor: the journeys start over {:.0f} days, {} buckets of {:g} days (at most {}); "
                                  "choose longer --bucket-days or look for outlier timestamps",
                                  static_cast<double>(last_start_ms - origin_ms) / kDayMs, n_buckets, options.bucket_days,
                                  kMaxBuckets));
  std::vector<std::vector<int64_t>> rows(static_cast<size_t>(n_buckets));
  for (int64_t j = 0; j < journeys.size(); ++j) {
    rows[static_cast<size_t>((journeys.start_ms[j] - origin_ms) / bucket_ms)].push_back(j);
  }

  const size_t n_features = result.reference.columns.size();
  int worst = 0;  // 0 ok, 1 watch, 2 retrain
  for (size_t b = 0; b < rows.size(); ++b) {
    MonitoringBucket bucket;
    bucket.start_ms = origin_ms + static_cast<int64_t>(b) * bucket_ms;
    bucket.journeys = static_cast<int64_t>(rows[b].size());
    std::vector<double> bucket_scores;
    std::vector<float> labels, matured_scores;
    for (const int64_t j : rows[b]) {
      bucket_scores.push_back(scores[static_cast<size_t>(j)]);
      // One rule for both outcomes: counting converted journeys at once but the others only later
      // would fill the recent buckets with conversions.
      if (journeys.end_ms[j] <= data_end_ms - maturity_ms) {
        labels.push_back(journeys.converted[j] != 0 ? 1.0f : 0.0f);
        matured_scores.push_back(scores[static_cast<size_t>(j)]);
      }
    }
    bucket.matured = static_cast<int64_t>(labels.size());
    double total = 0.0;
    for (double s : bucket_scores) total += s;
    bucket.mean_score = bucket_scores.empty() ? kNaN : total / static_cast<double>(bucket_scores.size());
    bucket.score_psi = population_stability(result.reference.score.shares, shares_of(result.reference.score, bucket_scores));
    for (size_t f = 0; f < n_features; ++f) {
      const ModelReference::Column& column = result.reference.columns[f];
      const double psi =
          population_stability(column.shares, shares_of(column, column_values(features, features.column(column.name), &rows[b])));
      result.feature_psi.push_back(psi);
      if (judged(column.name) && (psi > bucket.max_feature_psi || bucket.max_feature.empty())) {
        bucket.max_feature_psi = psi;
        bucket.max_feature = column.name;
      }
    }
    bucket.auc = model.target == ModelTarget::Conversion ? auc_or_nan(labels, matured_scores) : kNaN;
    if (labels.empty()) {
      bucket.observed_rate = bucket.mean_predicted = kNaN;
    } else {
      double positives = 0.0, predicted = 0.0;
      for (size_t i = 0; i < labels.size(); ++i) {
        positives += labels[i];
        predicted += matured_scores[i];
      }
      bucket.observed_rate = positives / static_cast<double>(labels.size());
      bucket.mean_predicted = predicted / static_cast<double>(labels.size());
    }

    int level = 0;
    if (bucket.journeys < options.min_bucket_journeys) {
      bucket.status = "too few journeys";
    } else {
      auto judge = [&](double psi, const std::string& what) {
        if (psi >= options.psi_watch)
          bucket.reasons.push_back(fmt::format("{} shifted (PSI {:.2f})", what, psi));
        level = std::max(level, psi >= options.psi_retrain ? 2 : psi >= options.psi_watch ? 1 : 0);
      };
      judge(bucket.score_psi, "the score distribution");
      for (size_t f = 0; f < n_features; ++f)
        if (judged(result.reference.columns[f].name))
          judge(result.feature_psi[b * n_features + f], result.reference.columns[f].name);
      if (std::isfinite(bucket.auc) && std::isfinite(result.reference.holdout_auc) &&
          bucket.auc < result.reference.holdout_auc - options.auc_drop) {
        bucket.reasons.push_back(fmt::format("ROC-AUC {:.3f} against {:.3f} on the training's held-out journeys", bucket.auc,
                                             result.reference.holdout_auc));
        level = 2;
      }
      bucket.status = level == 2 ? "retrain" : level == 1 ? "watch" : "ok";
      worst = std::max(worst, level);
    }
    result.buckets.push_back(std::move(bucket));
  }
  result.recommendation = worst == 2 ? "retrain" : worst == 1 ? "watch" : "no action";
  for (const MonitoringBucket& bucket : result.buckets) {
    if (bucket.status != "retrain" && bucket.status != "watch") continue;
    if (result.reasons.size() == 5) {
      result.reasons.push_back("...");
      break;
    }
    std::string text = fmt::format("{} of the {}-day bucket from day {}: ", bucket.status, options.bucket_days,
                                   static_cast<int64_t>((bucket.start_ms - origin_ms) / kDayMs));
    for (size_t r = 0; r < std::min<size_t>(bucket.reasons.size(), 3); ++r) text += (r ? "; " : "") + bucket.reasons[r];
    if (bucket.reasons.size() > 3) text += fmt::format("; and {} more", bucket.reasons.size() - 3);
    result.reasons.push_back(text);
  }
  return result;
}

}  // namespace jm
