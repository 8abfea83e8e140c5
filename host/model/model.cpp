// Conversion prediction: validation of the public entry points, the row split, training (the
// boosting loop itself in boosting.cpp), the baseline, persistence and scoring. The only CPU/GPU
// difference is how the feature matrix reaches XGBoost (make_dmatrix: host memory vs. a device
// array) and the `device` parameter; everything else is the same code on both backends.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "host/core/temp_files.hpp"
#include "host/core/thread_pool.hpp"
#include "host/model/boosting.hpp"
#include "host/model/model_support.hpp"
#include "host/model/xgboost_api.hpp"
#include "journeymap/common.hpp"
#include "journeymap/model.hpp"

namespace jm {

// ------------------------------------------------------------------ names

ModelTarget parse_model_target(const std::string& text) {
  if (text == "conversion") return ModelTarget::Conversion;
  if (text == "churn") return ModelTarget::Churn;
  if (text == "value") return ModelTarget::Value;
  throw ConfigError("unknown model target '" + text + "' (conversion, churn, value)");
}

const char* to_string(ModelTarget target) {
  switch (target) {
    case ModelTarget::Conversion: return "conversion";
    case ModelTarget::Churn: return "churn";
    case ModelTarget::Value: return "value";
  }
  return "?";
}

SplitMode parse_split_mode(const std::string& text) {
  if (text == "customer") return SplitMode::Customer;
  if (text == "time") return SplitMode::Time;
  throw ConfigError("unknown split '" + text + "' (customer, time)");
}

const char* to_string(SplitMode mode) { return mode == SplitMode::Time ? "time" : "customer"; }

bool xgboost_available() { return model_detail::library_available(); }
std::string xgboost_description() {
  return model_detail::library_available() ? "XGBoost " + model_detail::library_version() + " (opened on first use)"
                                           : "XGBoost: " + model_detail::library_version();
}

namespace {

using model_detail::Booster;
using model_detail::BoostingJob;
using model_detail::DMatrix;
using model_detail::device_parameter;
using model_detail::make_dmatrix;
using namespace model_support;

void check_view(MatrixView m, const char* what) {
  if (m.rows < 0 || m.cols < 0) throw ConfigError(fmt::format("{}: negative matrix shape", what));
  if (m.rows > 0 && m.cols > 0 && m.values == nullptr) throw ConfigError(fmt::format("{}: matrix has no values", what));
}

void require_model(const Model& model) {
  if (model.empty()) throw ConfigError("model is empty (train or load one first)");
}

std::string unique_temp_path(const std::string& path) { return fmt::format("{}.tmp.{}", path, ::getpid()); }

}  // namespace

// ------------------------------------------------------------------ labels and split

std::vector<float> journey_labels(const JourneySet& journeys, const ModelOptions& options, std::vector<uint8_t>* excluded) {
  const int64_t n = journeys.size();
  std::vector<float> labels(static_cast<size_t>(n), 0.0f);
  if (excluded) excluded->assign(static_cast<size_t>(n), 0);
  switch (options.target) {
    case ModelTarget::Conversion:
      for (int64_t j = 0; j < n; ++j) labels[static_cast<size_t>(j)] = journeys.converted[static_cast<size_t>(j)] ? 1.0f : 0.0f;
      break;
    case ModelTarget::Value:
      for (int64_t j = 0; j < n; ++j) labels[static_cast<size_t>(j)] = journeys.conversion_value[static_cast<size_t>(j)];
      break;
    case ModelTarget::Churn: {
      // Journeys are ordered by customer, then time: the customer's next journey is j + 1.
      const auto window_ms = static_cast<int64_t>(options.churn_days * 86400000.0);
      int64_t last_event = std::numeric_limits<int64_t>::min();
      for (int64_t j = 0; j < n; ++j) last_event = std::max(last_event, journeys.end_ms[static_cast<size_t>(j)]);
      if (options.churn_data_end_ms != 0) last_event = std::max(last_event, options.churn_data_end_ms);
      for (int64_t j = 0; j < n; ++j) {
        const auto sj = static_cast<size_t>(j);
        const bool has_next = j + 1 < n && journeys.customer[sj + 1] == journeys.customer[sj];
        if (has_next) {
          labels[sj] = journeys.start_ms[sj + 1] - journeys.end_ms[sj] > window_ms ? 1.0f : 0.0f;
        } else if (last_event - journeys.end_ms[sj] >= window_ms) {
          labels[sj] = 1.0f;
        } else if (excluded) {
          (*excluded)[sj] = 1;  // not yet observable: the window reaches past the data
        }
      }
      break;
    }
  }
  return labels;
}

std::vector<RowRole> split_rows(const std::vector<uint32_t>& group, const std::vector<float>& labels,
                                const std::vector<int64_t>& time, const ModelOptions& options,
                                const std::vector<uint8_t>& excluded) {
  validate(options);
  const size_t n = labels.size();
  if (group.size() != n || (options.split == SplitMode::Time && time.size() != n) || (!excluded.empty() && excluded.size() != n))
    throw ConfigError("split_rows: group, time, labels and excluded must have one entry per row");
  std::vector<RowRole> roles(n, RowRole::Train);
  for (size_t i = 0; i < excluded.size(); ++i)
    if (excluded[i]) roles[i] = RowRole::Excluded;
  std::mt19937_64 rng(options.seed);
  auto shuffle = [&rng](auto& items) { seeded_shuffle(items, rng); };
  auto take = [](size_t count, double fraction) { return static_cast<size_t>(std::llround(fraction * static_cast<double>(count))); };

  if (options.split == SplitMode::Customer) {
    // Customers in id order, split per stratum (any positive row or none). Ids are dictionary
    // codes, dense from 0: a table per id keeps the id order without a tree.
    enum : uint8_t { kAbsent = 0, kNegative = 1, kPositive = 2 };
    const uint32_t id_end = n == 0 ? 0 : *std::max_element(group.begin(), group.end()) + 1;
    std::vector<uint8_t> stratum_of(id_end, kAbsent);
    for (size_t i = 0; i < n; ++i)
      if (roles[i] != RowRole::Excluded)
        stratum_of[group[i]] = std::max<uint8_t>(stratum_of[group[i]], labels[i] > 0.0f ? kPositive : kNegative);
    std::vector<uint32_t> strata[2];
    for (uint32_t customer = 0; customer < id_end; ++customer)
      if (stratum_of[customer] != kAbsent) strata[stratum_of[customer] == kPositive ? 1 : 0].push_back(customer);
    std::vector<RowRole> role_of(id_end, RowRole::Excluded);
    for (auto& stratum : strata) {
      shuffle(stratum);
      const size_t n_test = take(stratum.size(), options.test_fraction);
      const size_t n_early = take(stratum.size() - n_test, options.early_stopping_fraction);
      for (size_t c = 0; c < stratum.size(); ++c)
        role_of[stratum[c]] = c < n_test ? RowRole::Test : c < n_test + n_early ? RowRole::EarlyStop : RowRole::Train;
    }
    for (size_t i = 0; i < n; ++i)
      if (roles[i] != RowRole::Excluded) roles[i] = role_of[group[i]];
  } else {
    // Latest journeys are the test set; the latest of the rest stop the boosting.
    std::vector<size_t> order;
    for (size_t i = 0; i < n; ++i)
      if (roles[i] != RowRole::Excluded) order.push_back(i);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return time[a] < time[b]; });
    const size_t n_test = take(order.size(), options.test_fraction);
    const size_t n_train_all = order.size() - n_test;
    const size_t n_early = take(n_train_all, options.early_stopping_fraction);
    for (size_t r = 0; r < order.size(); ++r)
      roles[order[r]] = r >= n_train_all ? RowRole::Test : r >= n_train_all - n_early ? RowRole::EarlyStop : RowRole::Train;
  }
  return roles;
}

// ------------------------------------------------------------------ training

Model train_model(const Context& ctx, MatrixView features, const std::vector<std::string>& names,
                  const std::vector<float>& labels, const std::vector<RowRole>& roles, const ModelOptions& options,
                  TrainingHistory* history) {
  return model_detail::train_model(ctx, features, names, labels, roles, options, history, nullptr);
}

Model model_detail::train_model(const Context& ctx, MatrixView features, const std::vector<std::string>& names,
                                const std::vector<float>& labels, const std::vector<RowRole>& roles,
                                const ModelOptions& options, TrainingHistory* history, BoostingPeers* peers) {
  validate(options);
  check_view(features, "train_model");
  if (features.cols == 0) throw ConfigError("train_model: the feature matrix has no columns");
  if (static_cast<int64_t>(names.size()) != features.cols)
    throw ConfigError(fmt::format("train_model: {} feature names for {} columns", names.size(), features.cols));
  if (static_cast<int64_t>(labels.size()) != features.rows || static_cast<int64_t>(roles.size()) != features.rows)
    throw ConfigError(fmt::format("train_model: {} rows but {} labels and {} roles", features.rows, labels.size(), roles.size()));
  for (float y : labels)
    if (!std::isfinite(y) || (is_binary(options.target) && y != 0.0f && y != 1.0f))
      throw ConfigError(fmt::format("train_model: label {} is not {}", y, is_binary(options.target) ? "0 or 1" : "finite"));

  const std::vector<int64_t> train_rows = rows_with_role(roles, RowRole::Train);
  const std::vector<int64_t> early_rows = rows_with_role(roles, RowRole::EarlyStop);
  if (train_rows.empty()) throw ConfigError("train_model: no training rows");
  const std::vector<float> train_labels = gather(labels, train_rows);
  if (is_binary(options.target)) {
    const auto positives = std::count(train_labels.begin(), train_labels.end(), 1.0f);
    if (positives == 0 || positives == static_cast<std::ptrdiff_t>(train_labels.size()))
      throw ConfigError(fmt::format(
          "cannot train a {} model: all {} training journeys have label {} (single-class labels); "
          "the data needs both outcomes",
          to_string(options.target), train_labels.size(), positives == 0 ? 0 : 1));
  }

  // The rows of each set, gathered once; the parameters every process of a collective shares.
  TrainingHistory local_history;
  TrainingHistory& h = history ? *history : local_history;
  h = TrainingHistory{};
  BoostingJob job;
  job.metric = is_binary(options.target) ? "logloss" : "rmse";
  job.parameters = {
      {"objective", is_binary(options.target) ? "binary:logistic" : "reg:squarederror"},
      {"eval_metric", job.metric},
      {"tree_method", "hist"},
      {"eta", fmt::format("{}", options.learning_rate)},
      {"max_depth", std::to_string(options.max_depth)},
      {"min_child_weight", fmt::format("{}", options.min_child_weight)},
      {"subsample", fmt::format("{}", options.subsample)},
      {"colsample_bytree", fmt::format("{}", options.colsample_bytree)},
      {"lambda", fmt::format("{}", options.reg_lambda)},
      {"max_bin", std::to_string(options.max_bin)},
      {"seed", std::to_string(options.seed % 2147483647u)},
      {"verbosity", "1"},
  };
  job.rounds = options.rounds;
  job.early_stopping_rounds = options.early_stopping_rounds;
  job.early_stopping = !early_rows.empty();
  job.feature_names = names;
  job.train_values = gather_rows(features, train_rows);
  job.train_labels = train_labels;
  job.early_values = gather_rows(features, early_rows);
  job.early_labels = gather(labels, early_rows);

  // With peers, each process boosts its share of the rows inside XGBoost's collective.
  Booster booster = peers ? peers->boost(ctx, job, h) : boost(ctx, job, h);

  // Keep the rounds up to the best one, so predictions, importance and the saved file agree.
  if (h.best_round + 1 < booster.boosted_rounds()) booster = booster.slice(0, h.best_round + 1);
  booster.set_feature_names(names);

  Model model;
  model.target = options.target;
  model.feature_names = names;
  model.rounds_trained = booster.boosted_rounds();
  model.device = device_parameter(ctx);
  model.booster = std::make_shared<Booster>(std::move(booster));
  return model;
}

std::vector<float> predict(const Context& ctx, const Model& model, MatrixView features) {
  require_model(model);
  check_view(features, "predict");
  if (features.cols != static_cast<int64_t>(model.feature_names.size()))
    throw ConfigError(fmt::format("predict: the model expects {} feature columns, the matrix has {}",
                                  model.feature_names.size(), features.cols));
  if (features.rows == 0) return {};
  DMatrix matrix = make_dmatrix(ctx, features);
  matrix.set_feature_names(model.feature_names);
  // A booster loaded from a file has no device yet: without this it would predict on the CPU.
  model.booster->set_param("device", device_parameter(ctx));
  std::vector<uint64_t> shape;
  std::vector<float> out = model.booster->predict(matrix, 0, 0, &shape);
  if (static_cast<int64_t>(out.size()) != features.rows)
    throw Error(fmt::format("XGBoost returned {} predictions for {} rows", out.size(), features.rows));
  return out;
}

std::vector<float> predict_contributions(const Context& ctx, const Model& model, MatrixView features) {
  require_model(model);
  check_view(features, "predict_contributions");
  if (features.cols != static_cast<int64_t>(model.feature_names.size()))
    throw ConfigError(fmt::format("predict_contributions: the model expects {} feature columns, the matrix has {}",
                                  model.feature_names.size(), features.cols));
  if (features.rows == 0) return {};
  DMatrix matrix = make_dmatrix(ctx, features);
  matrix.set_feature_names(model.feature_names);
  model.booster->set_param("device", device_parameter(ctx));
  std::vector<uint64_t> shape;
  std::vector<float> out = model.booster->predict(matrix, 2, 0, &shape);
  if (out.size() != static_cast<size_t>(features.rows) * static_cast<size_t>(features.cols + 1))
    throw Error(fmt::format("XGBoost returned {} contributions for {} x {} features", out.size(), features.rows, features.cols));
  return out;
}

std::vector<double> feature_importance(const Model& model, const std::string& type) {
  require_model(model);
  static const char* const kTypes[] = {"gain", "cover", "total_gain", "total_cover", "weight"};
  if (std::find(std::begin(kTypes), std::end(kTypes), type) == std::end(kTypes))
    throw ConfigError("unknown importance type '" + type + "' (gain, cover, total_gain, total_cover, weight)");
  const auto [names, scores] = model.booster->feature_score(type);
  std::map<std::string, double> by_name;
  for (size_t i = 0; i < names.size(); ++i) by_name[names[i]] = scores[i];
  std::vector<double> out;
  for (const auto& name : model.feature_names) {
    const auto found = by_name.find(name);
    out.push_back(found == by_name.end() ? 0.0 : found->second);
  }
  return out;
}

std::vector<float> category_rate_baseline(MatrixView features, int64_t column, const std::vector<float>& labels,
                                          const std::vector<RowRole>& roles) {
  check_view(features, "category_rate_baseline");
  if (column < 0 || column >= features.cols) throw ConfigError(fmt::format("baseline column {} is out of range", column));
  if (static_cast<int64_t>(labels.size()) != features.rows || static_cast<int64_t>(roles.size()) != features.rows)
    throw ConfigError("category_rate_baseline: labels and roles need one entry per row");
  const CategoryRates rates = fit_category_rates(features, column, labels, roles);
  std::vector<float> out(static_cast<size_t>(features.rows));
  for (int64_t i = 0; i < features.rows; ++i) out[static_cast<size_t>(i)] = rates(features.values[i * features.cols + column]);
  return out;
}

// ------------------------------------------------------------------ persistence

namespace {

constexpr const char* kSchemaAttribute = "journeymap_schema";
// 2: journeys cut at their outcome (the definition travels in the file); 1 predates the cut.
constexpr int kSchemaVersion = 2;

nlohmann::json spec_to_json(const FeatureSpec& spec) {
  const FeatureOptions& o = spec.options;
  nlohmann::json kinds = nlohmann::json::array();
  for (FeatureKind k : spec.kinds) kinds.push_back(static_cast<int>(k));
  return {
      {"options",
       {{"top_touchpoints", o.top_touchpoints},
        {"top_channels", o.top_channels},
        {"bigram_buckets", o.bigram_buckets},
        {"top_dimension_values", o.top_dimension_values},
        {"prefix_events", o.prefix_events},
        {"prefix_seconds", o.prefix_seconds},
        {"has_cutoff_time", o.has_cutoff_time},
        {"cutoff_time_ms", o.cutoff_time_ms},
        {"has_reference_time", o.has_reference_time},
        {"reference_time_ms", o.reference_time_ms}}},
      {"top_touchpoints", spec.top_touchpoints},
      {"top_channels", spec.top_channels},
      {"case_attributes", spec.case_attributes},
      {"case_attribute_categorical", spec.case_attribute_categorical},
      {"case_attribute_categories", spec.case_attribute_categories},
      {"dimensions", spec.dimensions},
      {"dimension_values", spec.dimension_values},
      {"covariates", spec.covariates},
      {"covariate_bucket_seconds", spec.covariate_bucket_seconds},
      {"reference_time_ms", spec.reference_time_ms},
      {"names", spec.names},
      {"kinds", kinds},
  };
}

FeatureSpec spec_from_json(const nlohmann::json& j) {
  FeatureSpec spec;
  const auto& o = j.at("options");
  spec.options.top_touchpoints = o.at("top_touchpoints").get<int>();
  spec.options.top_channels = o.at("top_channels").get<int>();
  spec.options.bigram_buckets = o.at("bigram_buckets").get<int>();
  spec.options.prefix_events = o.at("prefix_events").get<int64_t>();
  spec.options.prefix_seconds = o.at("prefix_seconds").get<double>();
  spec.options.has_cutoff_time = o.at("has_cutoff_time").get<bool>();
  spec.options.cutoff_time_ms = o.at("cutoff_time_ms").get<int64_t>();
  spec.options.has_reference_time = o.at("has_reference_time").get<bool>();
  spec.options.reference_time_ms = o.at("reference_time_ms").get<int64_t>();
  spec.top_touchpoints = j.at("top_touchpoints").get<std::vector<std::string>>();
  spec.top_channels = j.at("top_channels").get<std::vector<std::string>>();
  spec.case_attributes = j.at("case_attributes").get<std::vector<std::string>>();
  spec.case_attribute_categorical = j.at("case_attribute_categorical").get<std::vector<uint8_t>>();
  spec.case_attribute_categories = j.at("case_attribute_categories").get<std::vector<std::vector<std::string>>>();
  // Models saved before custom dimensions have none.
  spec.options.top_dimension_values = o.value("top_dimension_values", spec.options.top_dimension_values);
  spec.dimensions = j.value("dimensions", std::vector<std::string>{});
  spec.dimension_values = j.value("dimension_values", std::vector<std::vector<std::string>>{});
  // Models saved before covariates have none.
  spec.covariates = j.value("covariates", std::vector<std::string>{});
  spec.covariate_bucket_seconds = j.value("covariate_bucket_seconds", int64_t{0});
  spec.reference_time_ms = j.at("reference_time_ms").get<int64_t>();
  spec.names = j.at("names").get<std::vector<std::string>>();
  for (int k : j.at("kinds").get<std::vector<int>>()) spec.kinds.push_back(static_cast<FeatureKind>(k));
  return spec;
}

nlohmann::json outcome_to_json(const OutcomeDefinition& outcome) {
  nlohmann::json events = nlohmann::json::array();
  for (const OutcomeEvent& event : outcome.events) events.push_back({{"touchpoint", event.touchpoint}, {"label", event.label}});
  return {{"events", events},
          {"positive", outcome.positive},
          {"same_instant_seconds", outcome.same_instant_seconds},
          {"after", to_string(outcome.after)},
          {"window_days", outcome.window_days}};
}

// The label file is not carried: scoring labels nothing, it only cuts journeys the same way.
OutcomeDefinition outcome_from_json(const nlohmann::json& j) {
  OutcomeDefinition outcome;
  for (const auto& event : j.at("events"))
    outcome.events.push_back(OutcomeEvent{event.at("touchpoint").get<std::string>(), event.at("label").get<std::string>()});
  outcome.positive = j.at("positive").get<std::string>();
  outcome.same_instant_seconds = j.at("same_instant_seconds").get<double>();
  outcome.after = parse_after_outcome(j.at("after").get<std::string>());
  outcome.window_days = j.at("window_days").get<double>();
  return outcome;
}

}  // namespace

void save_model(const Model& model, const std::string& path) {
  require_model(model);
  const JourneyOptions& jo = model.journey_options;
  const nlohmann::json schema = {
      {"format", "journeymap-model"},
      {"schema_version", kSchemaVersion},
      {"target", to_string(model.target)},
      {"feature_names", model.feature_names},
      {"feature_spec", spec_to_json(model.feature_spec)},
      {"journey_options",
       {{"session_gap_seconds", jo.session_gap_seconds},
        {"drop_duplicates", jo.drop_duplicates},
        {"max_length", jo.max_length}}},
      {"outcome", outcome_to_json(model.outcome)},
      {"rounds_trained", model.rounds_trained},
      {"device", model.device},
  };
  model.booster->set_attribute(kSchemaAttribute, schema.dump());
  const std::string bytes = model.booster->save_ubjson();

  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  const std::string temp = unique_temp_path(path);
  const TempFileRegistration registration(temp);
  {
    std::ofstream out(temp, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      std::remove(temp.c_str());
      throw Error("cannot write model file " + path);
    }
  }
  std::error_code error;
  std::filesystem::rename(temp, path, error);
  if (error) {
    std::remove(temp.c_str());
    throw Error("cannot write model file " + path + ": " + error.message());
  }
}

Model load_model(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, "", "", "cannot open the model file");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string bytes = buffer.str();
  if (bytes.empty()) throw InputError(path, 0, "", "", "the model file is empty");

  model_detail::load_library();  // a missing library is not a bad model file
  std::optional<Booster> booster;
  try {
    booster.emplace(Booster::from_bytes(bytes));
  } catch (const InputError&) {
    throw;
  } catch (const Error& error) {
    if (!model_detail::library_available()) throw;
    throw InputError(path, 0, "", "", std::string("not a valid XGBoost model file (") + error.what() + ")");
  }
  bool found = false;
  const std::string text = booster->attribute(kSchemaAttribute, &found);
  if (!found)
    throw InputError(path, 0, "", "", "the model has no journeymap feature schema (it was not written by journeymap train)");

  Model model;
  try {
    const nlohmann::json schema = nlohmann::json::parse(text);
    if (schema.at("format").get<std::string>() != "journeymap-model")
      throw InputError(path, 0, "", "", "not a journeymap model schema");
    if (schema.at("schema_version").get<int>() != kSchemaVersion)
      throw InputError(path, 0, "", "",
                       fmt::format("model schema version {} is not {}: the model predates outcome-cut journeys; "
                                   "train it again with this journeymap",
                                   schema.at("schema_version").get<int>(), kSchemaVersion));
    model.target = parse_model_target(schema.at("target").get<std::string>());
    model.feature_names = schema.at("feature_names").get<std::vector<std::string>>();
    model.feature_spec = spec_from_json(schema.at("feature_spec"));
    const auto& jo = schema.at("journey_options");
    model.journey_options.session_gap_seconds = jo.at("session_gap_seconds").get<double>();
    model.journey_options.drop_duplicates = jo.at("drop_duplicates").get<bool>();
    model.journey_options.max_length = jo.at("max_length").get<int64_t>();
    model.device = schema.at("device").get<std::string>();
    model.outcome = outcome_from_json(schema.at("outcome"));
  } catch (const nlohmann::json::exception& error) {
    throw InputError(path, 0, "", "", std::string("the journeymap feature schema is damaged: ") + error.what());
  }
  if (booster->num_features() != static_cast<int64_t>(model.feature_names.size()))
    throw InputError(path, 0, "", "",
                     fmt::format("the booster has {} features but its schema names {}", booster->num_features(),
                                 model.feature_names.size()));
  model.rounds_trained = booster->boosted_rounds();
  model.booster = std::make_shared<Booster>(std::move(*booster));
  return model;
}

// ------------------------------------------------------------------ scoring

ScoreResult score_features(const Context& ctx, const Model& model, const FeatureMatrix& features, int top_reasons) {
  require_model(model);
  if (top_reasons < 0) throw ConfigError("top_reasons must be >= 0");
  const auto& want = model.feature_names;
  // The model's columns by name: a model may use a subset of the feature matrix (excluded features).
  std::vector<int64_t> columns;
  for (const std::string& name : want) {
    const int column = features.column(name);
    if (column < 0)
      throw ConfigError(fmt::format(
          "feature schema mismatch: the model expects column '{}', which the data's {} feature columns lack "
          "(score with the feature spec stored in the model)",
          name, features.num_features()));
    columns.push_back(column);
  }
  std::vector<float> selected(static_cast<size_t>(features.n_rows) * columns.size());
  for (int64_t r = 0; r < features.n_rows; ++r)
    for (size_t c = 0; c < columns.size(); ++c)
      selected[static_cast<size_t>(r) * columns.size() + c] = features.at(r, columns[c]);
  const MatrixView view{selected.data(), features.n_rows, static_cast<int64_t>(columns.size())};
  ScoreResult out;
  out.feature_names = want;
  out.prediction = predict(ctx, model, view);
  const int64_t f = view.cols;
  out.top_reasons = static_cast<int>(std::min<int64_t>(top_reasons, f));
  if (out.top_reasons == 0 || features.n_rows == 0) return out;
  const std::vector<float> contributions = predict_contributions(ctx, model, view);
  out.reason_feature.assign(static_cast<size_t>(features.n_rows * out.top_reasons), -1);
  out.reason_contribution.assign(out.reason_feature.size(), 0.0f);
  std::vector<int32_t> order(static_cast<size_t>(f));
  for (int64_t r = 0; r < features.n_rows; ++r) {
    const float* row = contributions.data() + r * (f + 1);  // the last entry is the bias
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + out.top_reasons, order.end(), [&](int32_t a, int32_t b) {
      const float ma = std::abs(row[a]), mb = std::abs(row[b]);
      return ma != mb ? ma > mb : a < b;
    });
    for (int k = 0; k < out.top_reasons; ++k) {
      const size_t at = static_cast<size_t>(r * out.top_reasons + k);
      if (row[order[static_cast<size_t>(k)]] == 0.0f) break;  // unused features explain nothing
      out.reason_feature[at] = order[static_cast<size_t>(k)];
      out.reason_contribution[at] = row[order[static_cast<size_t>(k)]];
    }
  }
  return out;
}

ScoreResult score_journeys(const Context& ctx, const Model& model, const JourneySet& journeys, const ScoreOptions& options) {
  require_model(model);
  if (model.feature_spec.names.empty())
    throw ConfigError("this model was trained on a plain matrix, not on journey features; use score_features");
  if (options.prefix_events < 0) throw ConfigError("prefix_events must be >= 0");
  FeatureSpec spec = model.feature_spec;
  spec.options.prefix_events = options.prefix_events;
  // "Now" for recency: the scored data's own last event unless given.
  int64_t last_event = 0;
  for (int64_t j = 0; j < journeys.size(); ++j)
    last_event = j == 0 ? journeys.end_ms[0] : std::max(last_event, journeys.end_ms[static_cast<size_t>(j)]);
  spec.reference_time_ms = options.has_reference_time ? options.reference_time_ms : last_event;
  const FeatureMatrix features = extract_features(ctx, journeys, spec);
  return score_features(ctx, model, features, options.top_reasons);
}

}  // namespace jm
