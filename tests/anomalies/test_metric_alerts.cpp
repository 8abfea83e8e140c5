// Metric alerts: the generator's checkout-abandonment spike day raises an alert on the drop-off
// after checkout (whose daily values equal the truth file's), data without a spike raises none at
// the default settings, the control limits equal an independent computation of their definition,
// partial edge buckets never alert, and bad options fail clearly.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "anomalies/generated_data.hpp"
#include "journeymap/anomalies.hpp"
#include "journeymap/common.hpp"
#include "test_helpers.hpp"

namespace {

const jm::MetricSeries* find_series(const jm::MetricAlerts& alerts, const std::string& name) {
  for (const auto& s : alerts.series)
    if (s.name == name) return &s;
  return nullptr;
}

TEST(MetricAlerts, SpikeDayRaisesACheckoutAbandonmentAlert) {
  jm::GeneratorOptions generator;
  generator.journeys = 20000;
  generator.seed = 5;
  generator.spike_day = 60;
  const auto data = jm::testing::generate_journeys(jm::testing::scratch_dir(), generator);
  const jm::MetricAlerts alerts = jm::detect_metric_alerts(data.journeys, jm::AlertOptions{});

  std::ifstream truth_file(data.summary.truth_json_path);
  const nlohmann::json truth = nlohmann::json::parse(truth_file);
  const auto& spike = truth.at("spike");
  ASSERT_EQ(spike.at("day").get<int>(), 60);
  ASSERT_EQ(spike.at("metric").get<std::string>(), "checkout_abandonment");

  // Buckets are UTC days from the first day of the data.
  ASSERT_GE(alerts.bucket_start_ms.size(), 90u);
  EXPECT_EQ(alerts.bucket_start_ms[0] % 86400000, 0);
  const jm::MetricSeries* checkout = find_series(alerts, "dropoff:checkout");
  ASSERT_NE(checkout, nullptr);
  // The series is the truth's definition, day by day: journeys whose first checkout falls on the
  // day, and the share of them that end without a purchase.
  const auto checkouts = spike.at("daily_checkout_journeys").get<std::vector<int64_t>>();
  const auto purchases = spike.at("daily_purchases").get<std::vector<int64_t>>();
  for (size_t d = 0; d < 90; ++d) {
    EXPECT_EQ(checkout->support[d], checkouts[d]) << "day " << d;
    if (checkouts[d] >= 30)
      EXPECT_NEAR(checkout->observed[d], 1.0 - static_cast<double>(purchases[d]) / checkouts[d], 1e-12) << "day " << d;
  }

  // The alert: on day 60, on this metric, upwards, with conversions lost.
  const auto on_spike = std::find_if(alerts.alerts.begin(), alerts.alerts.end(), [](const jm::MetricAlert& a) {
    return a.bucket == 60 && a.metric == "dropoff:checkout";
  });
  ASSERT_NE(on_spike, alerts.alerts.end()) << jm::format_anomalies_summary({false, true, {}, alerts});
  EXPECT_EQ(on_spike->direction, "up");
  EXPECT_GT(on_spike->observed, on_spike->upper);
  EXPECT_NEAR(on_spike->observed, spike.at("spike_rate").get<double>(), 1e-9);
  EXPECT_NEAR(on_spike->expected, spike.at("baseline_rate").get<double>(), 0.06);
  EXPECT_GT(on_spike->impact, 0.0);
  EXPECT_EQ(on_spike->impact_unit, "conversions");
  // Every alert is on the spike day: the drop-off after checkout alerts on no other day; the
  // conversion rate, purchase volume and the drop-off after earlier steps (add_to_cart journeys
  // mostly go on to checkout) may move with it.
  for (const auto& a : alerts.alerts) EXPECT_EQ(a.bucket, 60) << a.metric << " z " << a.z;
}

TEST(MetricAlerts, NoSpikeNoAlertAtDefaults) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    jm::GeneratorOptions generator;
    generator.journeys = 20000;
    generator.seed = seed;
    generator.spike_day = -1;
    const auto dir = jm::testing::scratch_dir() / std::to_string(seed);
    std::filesystem::create_directories(dir);
    const auto data = jm::testing::generate_journeys(dir, generator);
    const jm::MetricAlerts alerts = jm::detect_metric_alerts(data.journeys, jm::AlertOptions{});
    EXPECT_GT(alerts.series.size(), 20u);
    EXPECT_TRUE(alerts.alerts.empty()) << "seed " << seed << ":\n"
                                       << jm::format_anomalies_summary({false, true, {}, alerts});
  }
}

// A hand-built journey set: `per_day[d]` journeys of two events (home, purchase-or-exit) start at
// noon of day d, the first `converted_per_day[d]` of them converted.
jm::JourneySet daily_journeys(const std::vector<int>& per_day, const std::vector<int>& converted_per_day) {
  jm::JourneySet js;
  const int32_t home = js.touchpoints.encode("home"), buy = js.touchpoints.encode("purchase");
  js.channels.encode("web");
  js.offsets.push_back(0);
  int customer = 0;
  for (size_t d = 0; d < per_day.size(); ++d) {
    for (int i = 0; i < per_day[d]; ++i) {
      const int64_t start = static_cast<int64_t>(d) * 86400000 + 43200000;
      const bool converted = i < converted_per_day[d];
      js.touchpoint.push_back(home);
      js.touchpoint.push_back(converted ? buy : home);
      for (int e = 0; e < 2; ++e) {
        js.channel.push_back(0);
        js.timestamp_ms.push_back(start + e * 60000);
        js.value.push_back(e == 1 && converted ? 10.0f : 0.0f);
      }
      js.offsets.push_back(static_cast<int64_t>(js.touchpoint.size()));
      js.customer.push_back(js.customers.encode("c" + std::to_string(customer++)));
      js.converted.push_back(converted ? 1 : 0);
      js.conversion_value.push_back(converted ? 10.0f : 0.0f);
      js.start_ms.push_back(start);
      js.end_ms.push_back(start + 60000);
    }
  }
  return js;
}

TEST(MetricAlerts, ControlLimitsFollowTheirDefinition) {
  // 40 days of 200 journeys with conversion counts wobbling around 40, one day at 90.
  std::vector<int> per_day(40, 200), converted(40);
  for (int d = 0; d < 40; ++d) converted[d] = 40 + ((d * 7) % 9) - 4;
  converted[25] = 90;
  const jm::JourneySet js = daily_journeys(per_day, converted);
  jm::AlertOptions options;
  options.window = 7;
  options.k_sigma = 4.0;
  options.touchpoint_volumes = false;
  options.seasonality = jm::Seasonality::None;  // the rolling median alone (weekly factors: test_alert_calendar)
  const jm::MetricAlerts alerts = jm::detect_metric_alerts(js, options);
  const jm::MetricSeries* rate = find_series(alerts, "conversion_rate");
  ASSERT_NE(rate, nullptr);
  ASSERT_EQ(rate->observed.size(), 40u);

  // Independent computation: baseline = median of the 7 preceding days (the first days take the
  // following ones), sigma = binomial sigma x max(1, 1.4826 x median |standardised residual|).
  std::vector<double> observed(40), expected(40), residual(40);
  for (int d = 0; d < 40; ++d) observed[d] = converted[d] / 200.0;
  for (int d = 0; d < 40; ++d) {
    std::vector<double> window;
    for (int e = d - 1; e >= 0 && window.size() < 7; --e) window.push_back(observed[e]);
    for (int e = d + 1; e < 40 && window.size() < 7; ++e) window.push_back(observed[e]);
    std::sort(window.begin(), window.end());
    expected[d] = window[3];
    residual[d] = (observed[d] - expected[d]) / std::sqrt(expected[d] * (1.0 - expected[d]) / 200.0);
  }
  std::vector<double> absolute(40);
  for (int d = 0; d < 40; ++d) absolute[d] = std::fabs(residual[d]);
  std::sort(absolute.begin(), absolute.end());
  const double dispersion = std::max(1.0, 1.4826 * 0.5 * (absolute[19] + absolute[20]));
  EXPECT_NEAR(rate->dispersion, dispersion, 1e-12);
  for (int d = 0; d < 40; ++d) {
    EXPECT_NEAR(rate->observed[d], observed[d], 1e-15);
    EXPECT_NEAR(rate->expected[d], expected[d], 1e-15) << "day " << d;
    EXPECT_NEAR(rate->z[d], residual[d] / dispersion, 1e-9) << "day " << d;
    EXPECT_EQ(alerts.partial[d], 0);
  }
  // Exactly one conversion-rate alert: day 25, upwards; its impact is negative conversions lost.
  std::vector<jm::MetricAlert> rate_alerts;
  for (const auto& a : alerts.alerts)
    if (a.metric == "conversion_rate") rate_alerts.push_back(a);
  ASSERT_EQ(rate_alerts.size(), 1u);
  EXPECT_EQ(rate_alerts[0].bucket, 25);
  EXPECT_EQ(rate_alerts[0].direction, "up");
  EXPECT_NEAR(rate_alerts[0].impact, -(90.0 - expected[25] * 200.0), 1e-9);
  EXPECT_NEAR(alerts.mean_conversion_value, 10.0, 1e-9);
}

TEST(MetricAlerts, PartialEdgeBucketsNeverAlert) {
  // A normal series whose last day holds only 5 journeys, none converted.
  std::vector<int> per_day(20, 100), converted(20, 30);
  per_day[19] = 5;
  converted[19] = 0;
  jm::AlertOptions options;
  options.min_support = 1;
  const jm::MetricAlerts alerts = jm::detect_metric_alerts(daily_journeys(per_day, converted), options);
  ASSERT_EQ(alerts.partial.size(), 20u);
  EXPECT_EQ(alerts.partial[19], 1);
  EXPECT_EQ(alerts.partial[0], 0);
  EXPECT_TRUE(alerts.alerts.empty());
}

TEST(MetricAlerts, SeriesOnlyForTheBusiestTouchpoints) {
  // 3,000 distinct touchpoints over 30 days; touchpoint "t<k>" has k+1 events per day in long
  // journeys that cross midnight, so the busiest are t2999, t2998, ...
  jm::JourneySet js;
  js.channels.encode("web");
  js.offsets.push_back(0);
  constexpr int kTouchpoints = 3000, kDays = 30;
  std::map<std::pair<int32_t, int64_t>, int64_t> expected_volume;  // (touchpoint, day) -> events
  for (int k = 0; k < kTouchpoints; ++k) js.touchpoints.encode("t" + std::to_string(k));
  for (int d = 0; d < kDays; ++d) {
    const int64_t start = d * 86400000LL + 80000000LL;  // 22:13 UTC: journeys run into the next day
    for (int j = 0; j < 4; ++j) {
      const int64_t journey_start = start + j;
      int64_t t = journey_start;
      for (int k = kTouchpoints - 40; k < kTouchpoints; ++k) {
        for (int r = 0; r < (k - (kTouchpoints - 40)) % 5 + 1; ++r) {
          js.touchpoint.push_back(k);
          js.channel.push_back(0);
          js.timestamp_ms.push_back(t);
          js.value.push_back(0.0f);
          ++expected_volume[{k, t / 86400000LL}];
          t += 1000000;  // ~17 minutes
        }
      }
      js.offsets.push_back(static_cast<int64_t>(js.touchpoint.size()));
      js.customer.push_back(js.customers.encode("c" + std::to_string(d * 4 + j)));
      js.converted.push_back(j == 0 ? 1 : 0);
      js.conversion_value.push_back(0.0f);
      js.start_ms.push_back(journey_start);
      js.end_ms.push_back(js.timestamp_ms.back());
    }
  }
  jm::AlertOptions options;
  options.max_touchpoints = 8;
  const jm::MetricAlerts alerts = jm::detect_metric_alerts(js, options);
  EXPECT_EQ(alerts.touchpoints_with_events, 40);
  EXPECT_EQ(alerts.max_touchpoints, 8);
  // Events per journey and touchpoint: (k - 2960) % 5 + 1, so the eight busiest are those with 5.
  std::vector<std::string> volume_names;
  for (const auto& series : alerts.series)
    if (series.name.rfind("volume:", 0) == 0) volume_names.push_back(series.name);
  std::vector<std::string> busiest;
  for (int k = kTouchpoints - 40; k < kTouchpoints; ++k)
    if ((k - (kTouchpoints - 40)) % 5 == 4) busiest.push_back("volume:t" + std::to_string(k));
  EXPECT_EQ(volume_names, busiest);
  for (const std::string& name : busiest) {
    const jm::MetricSeries* series = find_series(alerts, name);
    ASSERT_NE(series, nullptr);
    const int32_t k = std::stoi(name.substr(std::string("volume:t").size()));
    for (size_t b = 0; b < series->observed.size(); ++b) {
      const auto at = expected_volume.find({k, static_cast<int64_t>(b)});
      EXPECT_EQ(series->observed[b], at == expected_volume.end() ? 0.0 : static_cast<double>(at->second)) << name;
    }
  }
}

TEST(MetricAlerts, BadOptionsFailClearly) {
  const jm::JourneySet js = daily_journeys({10, 10, 10}, {1, 2, 3});
  jm::AlertOptions options;
  options.bucket_seconds = 0;
  EXPECT_THROW(jm::detect_metric_alerts(js, options), jm::ConfigError);
  options = jm::AlertOptions{};
  options.window = 2;
  EXPECT_THROW(jm::detect_metric_alerts(js, options), jm::ConfigError);
  options = jm::AlertOptions{};
  options.funnel_steps = {"checkout"};
  EXPECT_THROW(jm::detect_metric_alerts(js, options), jm::ConfigError);
  options = jm::AlertOptions{};
  options.bucket_seconds = 1;  // 12 days in seconds: over the limit of a million buckets
  EXPECT_THROW(jm::detect_metric_alerts(daily_journeys(std::vector<int>(13, 1), std::vector<int>(13, 0)), options),
               jm::ConfigError);
  // Empty input: no buckets, no alerts.
  jm::JourneySet empty;
  empty.offsets = {0};
  EXPECT_TRUE(jm::detect_metric_alerts(empty, jm::AlertOptions{}).alerts.empty());
}

}  // namespace
