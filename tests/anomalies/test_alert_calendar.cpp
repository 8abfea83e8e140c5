// Metric alerts that know the calendar: a planted weekly pattern raises no alert (and does without
// the weekly factors), a planted campaign is explained by the covariates file instead of alerted
// (and alerts without it), a planted outage alerts on every day; on the BPIC 2012 log no weekend
// alerts "down" outside the 14 days at its end without new applications, and those days alert. The
// covariates file reader refuses bad input with the file, line and field.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "anomalies/generated_data.hpp"
#include "journeymap/anomalies.hpp"
#include "journeymap/common.hpp"
#include "journeymap/covariates.hpp"
#include "journeymap/ingest.hpp"
#include "journeymap/timestamp.hpp"
#include "test_helpers.hpp"

namespace {

constexpr int64_t kDayMs = 86400000;

const jm::MetricSeries& series_named(const jm::MetricAlerts& alerts, const std::string& name) {
  for (const auto& s : alerts.series)
    if (s.name == name) return s;
  throw std::runtime_error("no series " + name);
}

// Monday = 0 .. Sunday = 6 of a UTC day start.
int weekday_of(int64_t day_start_ms) {
  const int64_t day = day_start_ms / kDayMs;
  return static_cast<int>(((day % 7) + 7 + 3) % 7);
}

std::string summary_of(const jm::MetricAlerts& alerts, const jm::JourneySet& journeys) {
  return jm::format_anomalies_summary({false, true, {}, alerts});
}

// Generated data with the calendar plants asked for; no checkout spike.
jm::testing::GeneratedJourneys generate(const std::string& name, jm::GeneratorOptions options) {
  options.journeys = 20000;
  options.seed = 7;
  options.spike_day = -1;
  const auto dir = jm::testing::scratch_dir() / name;
  std::filesystem::create_directories(dir);
  return jm::testing::generate_journeys(dir, options);
}

TEST(AlertCalendar, WeeklyPatternRaisesNoAlert) {
  jm::GeneratorOptions options;
  options.weekly_pattern = true;
  const auto data = generate("weekly", options);

  const jm::MetricAlerts alerts = jm::detect_metric_alerts(data.journeys, jm::AlertOptions{});
  EXPECT_TRUE(alerts.alerts.empty()) << summary_of(alerts, data.journeys);
  EXPECT_EQ(alerts.season_period, 7);
  // The journeys' weekly factors follow the planted weights (scaled to mean 1).
  const auto& factors = series_named(alerts, "journeys").season_factor;
  ASSERT_EQ(factors.size(), 7u);
  const double mean = std::accumulate(jm::kWeekdayStartWeight.begin(), jm::kWeekdayStartWeight.end(), 0.0) / 7.0;
  for (size_t day = 0; day < 7; ++day) EXPECT_NEAR(factors[day], jm::kWeekdayStartWeight[day] / mean, 0.08) << "weekday " << day;

  // Without the weekly factors the ordinary weekends alert: the plant is strong enough to matter.
  jm::AlertOptions plain;
  plain.seasonality = jm::Seasonality::None;
  const jm::MetricAlerts without = jm::detect_metric_alerts(data.journeys, plain);
  const auto weekend_down = std::count_if(without.alerts.begin(), without.alerts.end(), [](const jm::MetricAlert& a) {
    return a.direction == "down" && weekday_of(a.bucket_start_ms) >= 5;
  });
  EXPECT_GE(weekend_down, 3) << summary_of(without, data.journeys);
}

TEST(AlertCalendar, CampaignIsExplainedByTheCovariatesNotAlerted) {
  jm::GeneratorOptions options;
  options.weekly_pattern = true;
  options.campaign_day = 40;
  options.campaign_days = 4;
  options.campaign_lift = 1.0;
  const auto data = generate("campaign", options);
  ASSERT_FALSE(data.summary.covariates_path.empty());
  int64_t day0 = data.journeys.start_ms[0] / kDayMs;
  for (const int64_t start : data.journeys.start_ms) day0 = std::min(day0, start / kDayMs);
  const auto on_campaign = [&](int64_t bucket_start_ms) {
    const int64_t day = bucket_start_ms / kDayMs - day0;
    return day >= 40 && day < 44;
  };

  // Without the covariates the campaign days alert upwards.
  const jm::MetricAlerts unexplained = jm::detect_metric_alerts(data.journeys, jm::AlertOptions{});
  const auto campaign_alerts = std::count_if(unexplained.alerts.begin(), unexplained.alerts.end(),
                                             [&](const jm::MetricAlert& a) { return on_campaign(a.bucket_start_ms); });
  EXPECT_GE(campaign_alerts, 4) << summary_of(unexplained, data.journeys);

  jm::AlertOptions with_file;
  jm::JourneySet with_covariates = data.journeys;
  with_covariates.covariates = jm::load_covariates(data.summary.covariates_path, with_file.bucket_seconds);
  const jm::MetricAlerts alerts = jm::detect_metric_alerts(with_covariates, with_file);
  EXPECT_TRUE(alerts.alerts.empty()) << summary_of(alerts, data.journeys);
  ASSERT_EQ(alerts.covariate_names, std::vector<std::string>{"campaign"});
  // The journeys' campaign effect: the planted +100% of journey starts.
  EXPECT_NEAR(series_named(alerts, "journeys").covariate_effect.at(0), 1.0, 0.25);
  // What would have alerted is recorded as explained, on campaign days, naming the campaign.
  ASSERT_FALSE(alerts.explained.empty());
  for (const auto& e : alerts.explained) {
    EXPECT_TRUE(on_campaign(e.bucket_start_ms)) << e.metric;
    EXPECT_EQ(e.factors, "campaign = 1");
    EXPECT_GT(std::fabs(e.z_without_covariates), with_file.k_sigma);
  }
  // The file covers one day past the last journey start; nothing is left over.
  EXPECT_EQ(alerts.covariate_coverage, "");
}

TEST(AlertCalendar, OutageAlertsOnEveryDay) {
  jm::GeneratorOptions options;
  options.weekly_pattern = true;
  options.outage_day = 50;
  options.outage_days = 3;
  const auto data = generate("outage", options);
  int64_t day0 = data.journeys.start_ms[0] / kDayMs;
  for (const int64_t start : data.journeys.start_ms) day0 = std::min(day0, start / kDayMs);

  const jm::MetricAlerts alerts = jm::detect_metric_alerts(data.journeys, jm::AlertOptions{});
  for (int64_t day = 50; day < 53; ++day) {
    const auto found = std::find_if(alerts.alerts.begin(), alerts.alerts.end(), [&](const jm::MetricAlert& a) {
      return a.metric == "journeys" && a.bucket_start_ms / kDayMs - day0 == day;
    });
    ASSERT_NE(found, alerts.alerts.end()) << "day " << day << "\n" << summary_of(alerts, data.journeys);
    EXPECT_EQ(found->direction, "down");
    EXPECT_EQ(found->observed, 0.0);
  }
  // Only the outage alerts (and the day after, whose journeys of the outage's customers are gone).
  for (const auto& a : alerts.alerts) {
    const int64_t day = a.bucket_start_ms / kDayMs - day0;
    EXPECT_TRUE(day >= 50 && day < 54) << a.metric << " on day " << day;
  }
}

TEST(AlertCalendar, Bpic2012WeekendsAreOrdinaryAndTheMissingApplicationsAlert) {
  const std::string path = jm::testing::shared_data("bpic2012/events.csv");
  if (path.empty()) GTEST_SKIP() << "shared data not present";
  jm::CsvOptions csv;
  csv.columns.customer = "case_id";
  csv.columns.touchpoint = "activity";
  const jm::IngestResult ingest = jm::read_events_csv(path, csv);
  jm::Context ctx;
  const jm::JourneySet journeys = jm::build_journeys(ctx, ingest.events, jm::JourneyOptions{});

  // Applications arrive every day up to 2012-02-29; the log's events run to 2012-03-14.
  const int64_t gap_first = *jm::parse_timestamp("2012-03-01"), gap_last = *jm::parse_timestamp("2012-03-13");
  const auto in_gap = [&](int64_t ms) { return ms >= gap_first && ms <= gap_last; };
  const auto weekend_down_outside_gap = [&](const jm::MetricAlerts& alerts) {
    return std::count_if(alerts.alerts.begin(), alerts.alerts.end(), [&](const jm::MetricAlert& a) {
      return a.direction == "down" && weekday_of(a.bucket_start_ms) >= 5 && !in_gap(a.bucket_start_ms);
    });
  };

  jm::AlertOptions plain;
  plain.seasonality = jm::Seasonality::None;
  const jm::MetricAlerts before = jm::detect_metric_alerts(journeys, plain);
  EXPECT_GE(weekend_down_outside_gap(before), 1) << summary_of(before, journeys);

  const jm::MetricAlerts alerts = jm::detect_metric_alerts(journeys, jm::AlertOptions{});
  EXPECT_EQ(weekend_down_outside_gap(alerts), 0) << summary_of(alerts, journeys);
  // The first working days without new applications alert on the journeys started (the level
  // is a rolling median: after half a window of empty days the gap becomes the baseline).
  std::vector<std::string> gap_days;
  for (const auto& a : alerts.alerts)
    if (a.metric == "journeys" && in_gap(a.bucket_start_ms)) {
      EXPECT_EQ(a.direction, "down");
      EXPECT_EQ(a.observed, 0.0);
      gap_days.push_back(jm::format_iso8601(a.bucket_start_ms).substr(0, 10));
    }
  std::sort(gap_days.begin(), gap_days.end());
  EXPECT_EQ(gap_days, (std::vector<std::string>{"2012-03-01", "2012-03-02", "2012-03-05", "2012-03-06", "2012-03-07"}));
  EXPECT_EQ(std::count_if(before.alerts.begin(), before.alerts.end(),
                          [&](const jm::MetricAlert& a) { return a.metric == "journeys" && in_gap(a.bucket_start_ms); }),
            0);
}

// A hand-built series of journey starts per day (one event each, at noon UTC from 2024-01-01).
jm::JourneySet journeys_per_day(const std::vector<int>& per_day) {
  jm::JourneySet js;
  const int32_t home = js.touchpoints.encode("home");
  js.channels.encode("web");
  js.offsets.push_back(0);
  int customer = 0;
  for (size_t d = 0; d < per_day.size(); ++d)
    for (int i = 0; i < per_day[d]; ++i) {
      const int64_t start = 1704067200000LL + static_cast<int64_t>(d) * kDayMs + 43200000;
      js.touchpoint.push_back(home);
      js.channel.push_back(0);
      js.timestamp_ms.push_back(start);
      js.value.push_back(0.0f);
      js.offsets.push_back(static_cast<int64_t>(js.touchpoint.size()));
      js.customer.push_back(static_cast<uint32_t>(js.customers.encode("c" + std::to_string(customer++))));
      js.converted.push_back(0);
      js.conversion_value.push_back(0.0f);
      js.start_ms.push_back(start);
      js.end_ms.push_back(start);
    }
  return js;
}

TEST(AlertCalendar, EffectsOfFactorsOnDifferentScalesAreRecovered) {
  // 120 days of about 400 journeys; 12 holidays halve them; a spend factor in the tens of
  // thousands moves nothing. The holiday's effect must not shrink next to the spend's scale.
  std::vector<int> per_day(120);
  std::string csv = "date,holiday,spend\n";
  for (int d = 0; d < 120; ++d) {
    const bool holiday = d % 10 == 3;
    per_day[static_cast<size_t>(d)] = (holiday ? 200 : 400) + (d * 37) % 21 - 10;
    csv += jm::format_iso8601(1704067200000LL + d * kDayMs).substr(0, 10) + (holiday ? ",1," : ",0,") +
           std::to_string(20000 + (d * 7919) % 60000) + "\n";
  }
  jm::AlertOptions options;
  options.seasonality = jm::Seasonality::None;
  jm::JourneySet js = journeys_per_day(per_day);
  js.covariates = jm::load_covariates(jm::testing::write_file(jm::testing::scratch_dir() / "holidays.csv", csv),
                                      options.bucket_seconds);
  const jm::MetricAlerts alerts = jm::detect_metric_alerts(js, options);
  const auto& effect = series_named(alerts, "journeys").covariate_effect;
  ASSERT_EQ(effect.size(), 2u);
  EXPECT_NEAR(effect[0], -0.5, 0.05);
  EXPECT_NEAR(effect[1], 0.0, 1e-5);  // per unit of spend
  EXPECT_TRUE(alerts.alerts.empty()) << summary_of(alerts, js);
}

TEST(AlertCalendar, WeekPhasesStartAtTheBucketHoldingMonday) {
  // 7-hour buckets: 24 per week, and Monday 00:00 falls inside a bucket, not on its start.
  const int64_t bucket_ms = 7 * 3600000LL;
  const int64_t monday = 1704067200000LL;  // 2024-01-01T00:00Z, a Monday
  const int64_t holding = monday - ((monday % bucket_ms) + bucket_ms) % bucket_ms;
  // Starting two buckets before the one holding Monday: phases 22, 23, 0, 1, ...
  std::vector<int> per_day(1, 1);
  jm::JourneySet js = journeys_per_day(per_day);
  js.timestamp_ms.host_mut()[0] = js.start_ms.host_mut()[0] = js.end_ms.host_mut()[0] = holding - 2 * bucket_ms + 5;
  for (int i = 1; i < 24 * 4; ++i) {  // four weeks of one journey per bucket
    const int64_t t = holding - 2 * bucket_ms + i * bucket_ms + 5;
    js.touchpoint.push_back(0);
    js.channel.push_back(0);
    js.timestamp_ms.push_back(t);
    js.value.push_back(0.0f);
    js.offsets.push_back(static_cast<int64_t>(js.touchpoint.size()));
    js.customer.push_back(static_cast<uint32_t>(js.customers.encode("w" + std::to_string(i))));
    js.converted.push_back(0);
    js.conversion_value.push_back(0.0f);
    js.start_ms.push_back(t);
    js.end_ms.push_back(t);
  }
  // Twice the journeys in the bucket holding Monday 00:00: its factor is the largest, in column 0.
  for (int week = 0; week < 4; ++week)
    for (int extra = 0; extra < 3; ++extra) {
      const int64_t t = holding + week * 7 * kDayMs + 10 + extra;
      js.touchpoint.push_back(0);
      js.channel.push_back(0);
      js.timestamp_ms.push_back(t);
      js.value.push_back(0.0f);
      js.offsets.push_back(static_cast<int64_t>(js.touchpoint.size()));
      js.customer.push_back(static_cast<uint32_t>(js.customers.encode("m" + std::to_string(week * 3 + extra))));
      js.converted.push_back(0);
      js.conversion_value.push_back(0.0f);
      js.start_ms.push_back(t);
      js.end_ms.push_back(t);
    }
  jm::AlertOptions options;
  options.bucket_seconds = 7 * 3600;
  options.min_support = 1;
  const jm::MetricAlerts alerts = jm::detect_metric_alerts(js, options);
  EXPECT_EQ(alerts.season_period, 24);
  const auto& factors = series_named(alerts, "journeys").season_factor;
  ASSERT_EQ(factors.size(), 24u);
  EXPECT_EQ(std::max_element(factors.begin(), factors.end()) - factors.begin(), 0);
}

// ----------------------------------------------------------------------------- covariates file

std::string covariates_file(const std::string& name, const std::string& text) {
  return jm::testing::write_file(jm::testing::scratch_dir() / name, text);
}

void expect_input_error(const std::string& path, int64_t line, const std::string& column, const std::string& words) {
  try {
    jm::read_covariates(path, 86400);
    ADD_FAILURE() << "no error for " << path;
  } catch (const jm::InputError& error) {
    EXPECT_EQ(error.line(), line) << error.what();
    EXPECT_EQ(error.column(), column) << error.what();
    EXPECT_NE(std::string(error.what()).find(words), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
  }
}

TEST(Covariates, ReadsValuesPerBucketAndReportsCoverage) {
  const std::string path = covariates_file("good.csv", "date,campaign,spend\n2026-01-07,1,2500\n2026-01-05,0,0\n\n2026-01-06,1,1e3\n");
  const jm::CovariateTable table = jm::read_covariates(path, 86400);
  EXPECT_EQ(table.names, (std::vector<std::string>{"campaign", "spend"}));
  const int64_t jan5 = *jm::parse_timestamp("2026-01-05");
  EXPECT_EQ(table.value_at(1, jan5 + kDayMs + 5000), 1000.0);
  EXPECT_EQ(table.value_at(0, jan5 + 2 * kDayMs), 1.0);
  EXPECT_EQ(table.value_at(0, jan5 - 1), 0.0);  // no row: 0
  const jm::CovariateCoverage coverage = jm::covariate_coverage(table, jan5 + kDayMs, jan5 + 4 * kDayMs);
  EXPECT_EQ(coverage.rows_before, 1);
  EXPECT_EQ(coverage.rows_after, 0);
  EXPECT_EQ(coverage.buckets_without, 2);
  EXPECT_NE(jm::describe_covariate_coverage(table, coverage).find("2 buckets of the data have no row"), std::string::npos);
}

TEST(Covariates, BadInputNamesFileLineAndField) {
  expect_input_error(covariates_file("dup.csv", "date,campaign\n2026-01-05,1\n2026-01-06,0\n2026-01-05,0\n"), 4, "date",
                     "listed twice (first on line 2)");
  expect_input_error(covariates_file("noon.csv", "date,campaign\n2026-01-05T12:00:00Z,1\n"), 2, "date",
                     "not the start of a bucket");
  expect_input_error(covariates_file("word.csv", "date,campaign\n2026-01-05,yes\n"), 2, "campaign", "not a finite number");
  expect_input_error(covariates_file("nan.csv", "date,campaign\n2026-01-05,nan\n"), 2, "campaign", "not a finite number");
  expect_input_error(covariates_file("huge.csv", "date,spend\n2026-01-05,1e160\n"), 2, "spend", "beyond +-1e15");
  expect_input_error(covariates_file("date.csv", "date,campaign\nsoon,1\n"), 2, "date", "not a date");
  expect_input_error(covariates_file("short.csv", "date,campaign\n2026-01-05\n"), 2, "", "expected 2 fields");
  expect_input_error(covariates_file("header.csv", "date\n"), 1, "", "expected a header");
  expect_input_error(covariates_file("names.csv", "date,a,a\n"), 1, "a", "distinct");
  expect_input_error(covariates_file("empty.csv", ""), 1, "", "empty");
  EXPECT_THROW(jm::read_covariates((jm::testing::scratch_dir() / "missing.csv").string(), 86400), jm::InputError);
  EXPECT_THROW(jm::read_covariates((jm::testing::scratch_dir() / "dup.csv").string(), int64_t{1} << 61), jm::ConfigError);
}

TEST(Covariates, BadSeasonalityFailsClearly) {
  EXPECT_EQ(jm::parse_seasonality("weekly"), jm::Seasonality::Weekly);
  EXPECT_EQ(jm::parse_seasonality("none"), jm::Seasonality::None);
  EXPECT_THROW(jm::parse_seasonality("monthly"), jm::ConfigError);
}

}  // namespace
