// Model evaluation pieces that need no XGBoost: metrics against brute-force definitions written
// here, the row split (no customer on both sides, stratification, determinism), churn labels and
// the rate-by-category baseline.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "journeymap/common.hpp"
#include "journeymap/model.hpp"
#include "host/model/model_support.hpp"

namespace {

// ROC-AUC by its pair definition: P(score_pos > score_neg) + 0.5 P(equal).
double brute_force_auc(const std::vector<float>& y, const std::vector<float>& s) {
  double wins = 0, pairs = 0;
  for (size_t i = 0; i < y.size(); ++i)
    for (size_t j = 0; j < y.size(); ++j)
      if (y[i] == 1 && y[j] == 0) {
        pairs += 1;
        wins += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
      }
  return wins / pairs;
}

// Average precision: sum over distinct thresholds t (descending) of (recall(t) - recall(prev)) * precision(t).
double brute_force_average_precision(const std::vector<float>& y, const std::vector<float>& s) {
  std::set<float, std::greater<float>> thresholds(s.begin(), s.end());
  double positives = 0;
  for (float v : y) positives += v;
  double ap = 0, previous_recall = 0;
  for (float t : thresholds) {
    double tp = 0, predicted = 0;
    for (size_t i = 0; i < y.size(); ++i)
      if (s[i] >= t) {
        predicted += 1;
        tp += y[i];
      }
    ap += (tp / positives - previous_recall) * (tp / predicted);
    previous_recall = tp / positives;
  }
  return ap;
}

TEST(ModelMetrics, AucAndAveragePrecisionMatchDefinitionsWithTies) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 20; ++trial) {
    const int n = 5 + trial * 7;
    std::vector<float> y(n), s(n);
    for (int i = 0; i < n; ++i) {
      y[i] = (rng() % 3 == 0) ? 1.0f : 0.0f;
      s[i] = static_cast<float>(rng() % 7) / 7.0f + 0.1f * y[i];  // coarse scores: many ties
    }
    y[0] = 1.0f;
    y[1] = 0.0f;
    const jm::BinaryMetrics m = jm::evaluate_binary(y, s, 5);
    EXPECT_NEAR(m.roc_auc, brute_force_auc(y, s), 1e-12) << "trial " << trial;
    EXPECT_NEAR(m.pr_auc, brute_force_average_precision(y, s), 1e-12) << "trial " << trial;
  }
}

TEST(ModelMetrics, HandComputedExample) {
  const std::vector<float> y{1, 0, 1, 0, 0, 0, 0, 0, 0, 0};
  const std::vector<float> p{0.9f, 0.8f, 0.35f, 0.3f, 0.2f, 0.2f, 0.1f, 0.1f, 0.05f, 0.0f};
  const jm::BinaryMetrics m = jm::evaluate_binary(y, p, 2);
  EXPECT_EQ(m.n, 10);
  EXPECT_EQ(m.positives, 2);
  EXPECT_NEAR(m.roc_auc, 15.0 / 16.0, 1e-12);  // the 0.35 positive loses only to 0.8
  EXPECT_NEAR(m.pr_auc, 0.5 * 1.0 + 0.5 * (2.0 / 3.0), 1e-12);
  double brier = 0, log_loss = 0;
  for (int i = 0; i < 10; ++i) {
    brier += (p[i] - y[i]) * (p[i] - y[i]);
    const double q = std::min(std::max<double>(p[i], 1e-7), 1 - 1e-7);
    log_loss -= y[i] ? std::log(q) : std::log(1 - q);
  }
  EXPECT_NEAR(m.brier, brier / 10, 1e-7);
  EXPECT_NEAR(m.log_loss, log_loss / 10, 1e-6);
  // Top decile = 1 journey (p = 0.9, a positive): rate 1 / base rate 0.2.
  EXPECT_NEAR(m.top_decile_lift, 5.0, 1e-12);
  ASSERT_EQ(m.calibration.size(), 2u);
  EXPECT_EQ(m.calibration[0].count, 8);  // [0, 0.5)
  EXPECT_EQ(m.calibration[1].count, 2);  // [0.5, 1]
  EXPECT_NEAR(m.calibration[1].observed_rate, 0.5, 1e-12);
  EXPECT_NEAR(m.calibration[1].mean_predicted, 0.85, 1e-6);
}

TEST(ModelMetrics, SingleClassAndBadLabelsAreClearErrors) {
  EXPECT_THROW(jm::evaluate_binary({0, 0, 0}, {0.1f, 0.2f, 0.3f}), jm::ConfigError);
  EXPECT_THROW(jm::evaluate_binary({0, 2, 1}, {0.1f, 0.2f, 0.3f}), jm::ConfigError);
  EXPECT_THROW(jm::evaluate_binary({0, 1}, {0.1f}), jm::ConfigError);
}

TEST(ModelMetrics, Regression) {
  const jm::RegressionMetrics m = jm::evaluate_regression({1, 2, 3, 4}, {1, 2, 3, 6});
  EXPECT_NEAR(m.rmse, 1.0, 1e-12);  // sqrt(4 / 4)
  EXPECT_NEAR(m.mae, 0.5, 1e-12);
  EXPECT_NEAR(m.r2, 1.0 - 4.0 / 5.0, 1e-12);
}

TEST(ModelSplit, CustomerSplitKeepsCustomersTogetherStratifiedAndSeeded) {
  std::vector<uint32_t> group;
  std::vector<float> labels;
  std::vector<int64_t> time;
  std::mt19937 rng(3);
  for (uint32_t c = 0; c < 1000; ++c) {
    const int journeys = 1 + static_cast<int>(rng() % 3);
    const bool positive = c % 4 == 0;  // 250 positive customers
    for (int j = 0; j < journeys; ++j) {
      group.push_back(c);
      labels.push_back(positive && j == 0 ? 1.0f : 0.0f);
      time.push_back(static_cast<int64_t>(rng() % 100000));
    }
  }
  jm::ModelOptions options;
  options.test_fraction = 0.2;
  options.early_stopping_fraction = 0.25;
  const auto roles = jm::split_rows(group, labels, time, options);
  std::vector<int> role_of(1000, -1);
  int test_customers = 0, test_positive = 0, early_customers = 0;
  for (size_t i = 0; i < roles.size(); ++i) {
    const int r = static_cast<int>(roles[i]);
    if (role_of[group[i]] == -1) {
      role_of[group[i]] = r;
      test_customers += roles[i] == jm::RowRole::Test;
      test_positive += roles[i] == jm::RowRole::Test && group[i] % 4 == 0;
      early_customers += roles[i] == jm::RowRole::EarlyStop;
    }
    ASSERT_EQ(role_of[group[i]], r) << "customer " << group[i] << " is on two sides";
  }
  EXPECT_EQ(test_customers, 200);  // 0.2 of 750 negatives + 0.2 of 250 positives
  EXPECT_EQ(test_positive, 50);
  EXPECT_EQ(early_customers, 200);  // 0.25 of the remaining 600 + 200
  EXPECT_EQ(roles, jm::split_rows(group, labels, time, options));
  options.seed = 43;
  EXPECT_NE(roles, jm::split_rows(group, labels, time, options));
}

// The customer split as it was written first, over ordered maps: the reference for the table-based
// split, which must give every row the same role.
std::vector<jm::RowRole> reference_customer_split(const std::vector<uint32_t>& group, const std::vector<float>& labels,
                                                  const std::vector<uint8_t>& excluded, const jm::ModelOptions& options) {
  std::vector<jm::RowRole> roles(group.size(), jm::RowRole::Train);
  for (size_t i = 0; i < excluded.size(); ++i)
    if (excluded[i]) roles[i] = jm::RowRole::Excluded;
  std::mt19937_64 rng(options.seed);
  auto take = [](size_t count, double fraction) { return static_cast<size_t>(std::llround(fraction * static_cast<double>(count))); };
  std::map<uint32_t, bool> positive;
  for (size_t i = 0; i < group.size(); ++i)
    if (roles[i] != jm::RowRole::Excluded) positive[group[i]] = positive[group[i]] || labels[i] > 0.0f;
  std::vector<uint32_t> strata[2];
  for (const auto& [customer, is_positive] : positive) strata[is_positive ? 1 : 0].push_back(customer);
  std::map<uint32_t, jm::RowRole> role_of;
  for (auto& stratum : strata) {
    jm::model_support::seeded_shuffle(stratum, rng);
    const size_t n_test = take(stratum.size(), options.test_fraction);
    const size_t n_early = take(stratum.size() - n_test, options.early_stopping_fraction);
    for (size_t c = 0; c < stratum.size(); ++c)
      role_of[stratum[c]] = c < n_test ? jm::RowRole::Test : c < n_test + n_early ? jm::RowRole::EarlyStop : jm::RowRole::Train;
  }
  for (size_t i = 0; i < group.size(); ++i)
    if (roles[i] != jm::RowRole::Excluded) roles[i] = role_of[group[i]];
  return roles;
}

TEST(ModelSplit, CustomerSplitEqualsTheOrderedMapReference) {
  // Sparse ids (gaps, a customer whose every row is excluded), rows in no particular order.
  std::mt19937 rng(11);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<uint32_t> group;
    std::vector<float> labels;
    std::vector<int64_t> time;
    std::vector<uint8_t> excluded;
    const int rows = 1 + static_cast<int>(rng() % 3000);
    for (int i = 0; i < rows; ++i) {
      group.push_back(static_cast<uint32_t>(rng() % 5000) * (trial % 3 + 1));
      labels.push_back(rng() % 5 == 0 ? 1.0f : 0.0f);
      time.push_back(static_cast<int64_t>(rng() % 100000));
      excluded.push_back(rng() % 17 == 0);
    }
    jm::ModelOptions options;
    options.seed = static_cast<uint64_t>(trial);
    options.test_fraction = 0.1 + 0.03 * (trial % 5);
    EXPECT_EQ(jm::split_rows(group, labels, time, options, excluded), reference_customer_split(group, labels, excluded, options))
        << "trial " << trial;
  }
}

TEST(ModelSplit, TimeSplitTestsOnTheLatestRowsAndKeepsExclusions) {
  std::vector<uint32_t> group(10);
  std::vector<float> labels(10, 0.0f);
  std::vector<int64_t> time{50, 10, 90, 20, 80, 30, 70, 40, 60, 100};
  std::vector<uint8_t> excluded(10, 0);
  excluded[9] = 1;  // the latest row is excluded, so it is not in the test set
  for (uint32_t i = 0; i < 10; ++i) group[i] = i;
  jm::ModelOptions options;
  options.split = jm::SplitMode::Time;
  options.test_fraction = 1.0 / 3.0;     // 3 of the 9 usable rows
  options.early_stopping_fraction = 1.0 / 6.0;  // 1 of the remaining 6
  const auto roles = jm::split_rows(group, labels, time, options, excluded);
  EXPECT_EQ(roles[9], jm::RowRole::Excluded);
  EXPECT_EQ(roles[2], jm::RowRole::Test);  // 90
  EXPECT_EQ(roles[4], jm::RowRole::Test);  // 80
  EXPECT_EQ(roles[6], jm::RowRole::Test);  // 70
  EXPECT_EQ(roles[8], jm::RowRole::EarlyStop);  // 60, the latest training row
  for (int i : {0, 1, 3, 5, 7}) EXPECT_EQ(roles[static_cast<size_t>(i)], jm::RowRole::Train);
}

jm::JourneySet journeys_for_churn() {
  // Customer a: journeys ending on day 0 and day 50 (next starts day 10 -> active within 30 days,
  // then its last journey ends on day 50 with data up to day 100 -> churned).
  // Customer b: one journey ending day 40, next day 80 (gap 40 > 30 -> churn); last ends day 80
  // with only 20 days of data after it -> excluded.
  constexpr int64_t day = 86400000;
  jm::JourneySet js;
  js.offsets = {0, 1, 2, 3, 4, 5};
  js.touchpoint.assign(5, 0);
  js.channel.assign(5, 0);
  js.value.assign(5, 0.0f);
  js.timestamp_ms = {0, 10 * day, 40 * day, 80 * day, 100 * day};
  js.customer = {0, 0, 1, 1, 2};
  js.start_ms = js.timestamp_ms;
  js.end_ms = {0, 50 * day, 40 * day, 80 * day, 100 * day};
  js.converted = {0, 1, 0, 0, 1};
  js.conversion_value = {0, 7.5f, 0, 0, 3.0f};
  return js;
}

TEST(ModelLabels, ConversionChurnAndValue) {
  jm::JourneySet js = journeys_for_churn();
  jm::ModelOptions options;
  std::vector<uint8_t> excluded;
  EXPECT_EQ(jm::journey_labels(js, options, &excluded), (std::vector<float>{0, 1, 0, 0, 1}));
  options.target = jm::ModelTarget::Value;
  EXPECT_EQ(jm::journey_labels(js, options, &excluded), (std::vector<float>{0, 7.5f, 0, 0, 3.0f}));
  options.target = jm::ModelTarget::Churn;
  options.churn_days = 30;
  EXPECT_EQ(jm::journey_labels(js, options, &excluded), (std::vector<float>{0, 1, 1, 0, 0}));
  EXPECT_EQ(excluded, (std::vector<uint8_t>{0, 0, 0, 1, 1}));
  // A sample of customers is judged against the end of all the data (day 120 here): customer b's
  // last journey (day 80) is then 40 days before it, past the window -> churned; customer c's (day
  // 100) still within it -> excluded.
  options.churn_data_end_ms = 120 * int64_t{86400000};
  EXPECT_EQ(jm::journey_labels(js, options, &excluded), (std::vector<float>{0, 1, 1, 1, 0}));
  EXPECT_EQ(excluded, (std::vector<uint8_t>{0, 0, 0, 0, 1}));
}

TEST(ModelBaseline, RateByCategoryIsSmoothedTrainingRate) {
  // Column 0 is the category; rows 0-5 train, 6-7 test.
  const std::vector<float> matrix{1, 1, 1, 2, 2, 3, 1, 9};
  const std::vector<float> labels{1, 1, 0, 0, 0, 1, 1, 0};
  std::vector<jm::RowRole> roles(8, jm::RowRole::Train);
  roles[6] = roles[7] = jm::RowRole::Test;
  const auto rates = jm::category_rate_baseline(jm::MatrixView{matrix.data(), 8, 1}, 0, labels, roles);
  const double overall = 3.0 / 6.0;
  EXPECT_NEAR(rates[0], (2 + overall) / 4, 1e-6);
  EXPECT_NEAR(rates[3], (0 + overall) / 3, 1e-6);
  EXPECT_NEAR(rates[5], (1 + overall) / 2, 1e-6);
  EXPECT_NEAR(rates[7], overall, 1e-6);  // unseen category
  EXPECT_THROW(jm::category_rate_baseline(jm::MatrixView{matrix.data(), 8, 1}, 1, labels, roles), jm::ConfigError);
}

TEST(ModelOptionsTest, ParsersRejectUnknownNames) {
  EXPECT_EQ(jm::parse_model_target("churn"), jm::ModelTarget::Churn);
  EXPECT_EQ(jm::parse_split_mode("time"), jm::SplitMode::Time);
  EXPECT_THROW(jm::parse_model_target("revenue"), jm::ConfigError);
  EXPECT_THROW(jm::parse_split_mode("random"), jm::ConfigError);
}

}  // namespace
