// Helpers shared by the model's translation units (model.cpp: training core, persistence and
// scoring; journey_model.cpp: journeys end to end). Internal: not part of the public API.
#pragma once

#include <chrono>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "journeymap/common.hpp"
#include "journeymap/model.hpp"

namespace jm::model_support {

using Clock = std::chrono::steady_clock;

inline bool is_binary(ModelTarget target) { return target != ModelTarget::Value; }

inline double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Fisher-Yates with our own index draws: std::shuffle's use of the engine is implementation-defined,
// and the splits must be the same with every standard library.
template <typename T>
inline void seeded_shuffle(std::vector<T>& items, std::mt19937_64& rng) {
  for (size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[static_cast<size_t>(rng() % i)]);
}

inline void validate(const ModelOptions& o) {
  auto require = [](bool ok, const std::string& what) {
    if (!ok) throw ConfigError("model: " + what);
  };
  require(o.rounds >= 1, "rounds must be >= 1");
  require(o.early_stopping_rounds >= 0, "early_stopping_rounds must be >= 0");
  require(o.learning_rate > 0.0 && o.learning_rate <= 1.0, "learning_rate must be in (0, 1]");
  require(o.max_depth >= 1 && o.max_depth <= 30, "max_depth must be in [1, 30]");
  require(o.min_child_weight >= 0.0, "min_child_weight must be >= 0");
  require(o.subsample > 0.0 && o.subsample <= 1.0, "subsample must be in (0, 1]");
  require(o.colsample_bytree > 0.0 && o.colsample_bytree <= 1.0, "colsample_bytree must be in (0, 1]");
  require(o.reg_lambda >= 0.0, "reg_lambda must be >= 0");
  require(o.max_bin >= 2, "max_bin must be >= 2");
  require(o.test_fraction > 0.0 && o.test_fraction < 1.0, "test_fraction must be in (0, 1)");
  require(o.early_stopping_fraction >= 0.0 && o.early_stopping_fraction < 1.0, "early_stopping_fraction must be in [0, 1)");
  require(o.calibration_bins >= 1, "calibration_bins must be >= 1");
  require(o.prefix_max_events >= 0, "prefix_max_events must be >= 0");
  require(o.max_train_rows >= 0, "max_train_rows must be >= 0 (0 = all)");
  require(o.leakage_auc > 0.5 && o.leakage_auc <= 1.0, "leakage_auc must be in (0.5, 1]");
  require(o.churn_days > 0.0 && std::isfinite(o.churn_days), "churn_days must be a positive number");
}

inline std::vector<float> gather_rows(MatrixView m, const std::vector<int64_t>& rows) {
  std::vector<float> out(rows.size() * static_cast<size_t>(m.cols));
  for (size_t r = 0; r < rows.size(); ++r)
    std::copy_n(m.values + rows[r] * m.cols, m.cols, out.begin() + static_cast<std::ptrdiff_t>(r * m.cols));
  return out;
}

template <typename T>
std::vector<T> gather(const std::vector<T>& values, const std::vector<int64_t>& rows) {
  std::vector<T> out;
  out.reserve(rows.size());
  for (int64_t r : rows) out.push_back(values[static_cast<size_t>(r)]);
  return out;
}

inline std::vector<int64_t> rows_with_role(const std::vector<RowRole>& roles, RowRole role) {
  std::vector<int64_t> rows;
  for (size_t i = 0; i < roles.size(); ++i)
    if (roles[i] == role) rows.push_back(static_cast<int64_t>(i));
  return rows;
}

// Rate-by-category baseline: training-row mean label per category value, add-one smoothed towards
// the overall training mean (so a category seen once does not get a rate of exactly 0 or 1).
struct CategoryRates {
  std::map<float, double> rate;
  double overall = 0.0;
  float operator()(float category) const {
    const auto found = rate.find(category);
    return static_cast<float>(found == rate.end() ? overall : found->second);
  }
};

inline CategoryRates fit_category_rates(MatrixView m, int64_t column, const std::vector<float>& labels,
                                 const std::vector<RowRole>& roles) {
  std::map<float, std::pair<double, double>> sums;  // category -> (label sum, rows)
  double total = 0.0, count = 0.0;
  for (int64_t i = 0; i < m.rows; ++i) {
    if (roles[static_cast<size_t>(i)] != RowRole::Train) continue;
    auto& s = sums[m.values[i * m.cols + column]];
    s.first += labels[static_cast<size_t>(i)];
    s.second += 1.0;
    total += labels[static_cast<size_t>(i)];
    count += 1.0;
  }
  CategoryRates rates;
  rates.overall = count > 0 ? total / count : 0.0;
  for (const auto& [category, s] : sums) rates.rate[category] = (s.first + rates.overall) / (s.second + 1.0);
  return rates;
}

}  // namespace jm::model_support
