// Alert tallies add up: the tallies of two sets of journeys sum to the tally of both and give
// exactly the alerts detect_metric_alerts gives over both (a planted outage alerting; a second part
// that knows a touchpoint the first does not; a vocabulary large enough for the sparse cells);
// taking a part away gives back the rest, its bucket range included; a stored tally reads back
// unchanged and a damaged one is refused by name.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "generated_data.hpp"
#include "host/anomalies/alert_tally.hpp"
#include "journeymap/anomalies.hpp"
#include "journeymap/common.hpp"
#include "journeymap/result_file.hpp"
#include "test_helpers.hpp"

namespace {

using jm::AlertTally;
using jm::JourneySet;
using jm::MetricAlerts;

bool same_values(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size()) return false;
  for (size_t k = 0; k < x.size(); ++k)
    if (!(x[k] == y[k] || (std::isnan(x[k]) && std::isnan(y[k])))) return false;
  return true;
}

void expect_same_alerts(const MetricAlerts& x, const MetricAlerts& y) {
  EXPECT_EQ(x.bucket_start_ms, y.bucket_start_ms);
  EXPECT_EQ(x.partial, y.partial);
  EXPECT_EQ(x.touchpoints_with_events, y.touchpoints_with_events);
  EXPECT_EQ(x.mean_conversion_value, y.mean_conversion_value);
  ASSERT_EQ(x.series.size(), y.series.size());
  for (size_t s = 0; s < x.series.size(); ++s) {
    SCOPED_TRACE(x.series[s].name);
    EXPECT_EQ(x.series[s].name, y.series[s].name);
    EXPECT_EQ(x.series[s].support, y.series[s].support);
    EXPECT_TRUE(same_values(x.series[s].observed, y.series[s].observed));
    EXPECT_TRUE(same_values(x.series[s].expected, y.series[s].expected));
    EXPECT_TRUE(same_values(x.series[s].z, y.series[s].z));
    EXPECT_TRUE(same_values(x.series[s].lower, y.series[s].lower));
    EXPECT_TRUE(same_values(x.series[s].upper, y.series[s].upper));
  }
  ASSERT_EQ(x.alerts.size(), y.alerts.size());
  for (size_t a = 0; a < x.alerts.size(); ++a) {
    EXPECT_EQ(x.alerts[a].metric, y.alerts[a].metric);
    EXPECT_EQ(x.alerts[a].bucket, y.alerts[a].bucket);
    EXPECT_EQ(x.alerts[a].z, y.alerts[a].z);
  }
}

void expect_same_tally(const AlertTally& x, const AlertTally& y) {
  EXPECT_EQ(x.bucket_seconds, y.bucket_seconds);
  EXPECT_EQ(x.n_touchpoints, y.n_touchpoints);
  EXPECT_EQ(x.first_bucket, y.first_bucket);
  EXPECT_EQ(x.started, y.started);
  EXPECT_EQ(x.ended, y.ended);
  EXPECT_EQ(x.converted, y.converted);
  EXPECT_EQ(x.touchpoint_events, y.touchpoint_events);
  ASSERT_EQ(x.lengths.size(), y.lengths.size());
  for (size_t k = 0; k < x.lengths.size(); ++k) {
    EXPECT_EQ(x.lengths[k].bucket, y.lengths[k].bucket) << k;
    EXPECT_EQ(x.lengths[k].length, y.lengths[k].length) << k;
    EXPECT_EQ(x.lengths[k].journeys, y.lengths[k].journeys) << k;
  }
  ASSERT_EQ(x.cells.size(), y.cells.size());
  for (size_t k = 0; k < x.cells.size(); ++k) {
    EXPECT_EQ(x.cells[k].touchpoint, y.cells[k].touchpoint) << k;
    EXPECT_EQ(x.cells[k].bucket, y.cells[k].bucket) << k;
    EXPECT_EQ(x.cells[k].events, y.cells[k].events) << k;
    EXPECT_EQ(x.cells[k].events_squared, y.cells[k].events_squared) << k;
    EXPECT_EQ(x.cells[k].reached, y.cells[k].reached) << k;
    EXPECT_EQ(x.cells[k].abandoned, y.cells[k].abandoned) << k;
  }
}

// 6,000 generated journeys over 60 days with a 3-day outage from day 30.
const JourneySet& outage_journeys() {
  static const JourneySet journeys = [] {
    jm::GeneratorOptions options;
    options.journeys = 6000;
    options.days = 60;
    options.seed = 41;
    options.outage_day = 30;
    options.spike_day = -1;  // the default spike falls on day 60
    return jm::testing::generate_journeys(jm::testing::scratch_dir(), options).journeys;
  }();
  return journeys;
}

TEST(AlertTally, SumOfPartsGivesTheAlertsOfTheUnion) {
  const JourneySet& all = outage_journeys();
  // The first part: journeys without the highest touchpoint id, in a vocabulary without its name,
  // so the second part brings a touchpoint the first does not know.
  const int32_t last = all.touchpoints.size() - 1;
  std::vector<int64_t> first_rows, second_rows;
  for (int64_t j = 0; j < all.size(); ++j) {
    bool uses_last = false;
    for (int64_t e = all.offsets[j]; e < all.offsets[j + 1]; ++e) uses_last = uses_last || all.touchpoint[e] == last;
    (!uses_last && j % 3 != 0 ? first_rows : second_rows).push_back(j);
  }
  JourneySet first = jm::select_journeys(all, first_rows);
  jm::Vocabulary fewer;
  for (int32_t t = 0; t < last; ++t) fewer.encode(all.touchpoints.name(t));
  first.touchpoints = fewer;
  const JourneySet second = jm::select_journeys(all, second_rows);

  const jm::AlertOptions options;
  AlertTally sum = jm::tally_alerts(first, options.bucket_seconds);
  jm::add_alert_tally(sum, jm::tally_alerts(second, options.bucket_seconds), +1);
  expect_same_tally(sum, jm::tally_alerts(all, options.bucket_seconds));
  const MetricAlerts expected = jm::detect_metric_alerts(all, options);
  bool outage_alerted = false;
  for (const jm::MetricAlert& alert : expected.alerts) outage_alerted = outage_alerted || alert.metric == "journeys";
  EXPECT_TRUE(outage_alerted) << "the planted outage raised no alert: the comparison below would test little";
  expect_same_alerts(jm::finish_metric_alerts(sum, all, options), expected);
}

TEST(AlertTally, TakingAPartAwayGivesTheRestAndItsBuckets) {
  const JourneySet& all = outage_journeys();
  // The second part holds every journey of the first ten days, so taking it away moves the start.
  std::vector<int64_t> first_rows, second_rows;
  int64_t earliest = all.start_ms[0];
  for (int64_t j = 0; j < all.size(); ++j) earliest = std::min(earliest, all.start_ms[j]);
  for (int64_t j = 0; j < all.size(); ++j)
    (all.start_ms[j] < earliest + 10 * 86400000LL || j % 4 == 0 ? second_rows : first_rows).push_back(j);
  const JourneySet first = jm::select_journeys(all, first_rows), second = jm::select_journeys(all, second_rows);
  const jm::AlertOptions options;
  AlertTally rest = jm::tally_alerts(all, options.bucket_seconds);
  jm::add_alert_tally(rest, jm::tally_alerts(second, options.bucket_seconds), -1);
  const AlertTally expected = jm::tally_alerts(first, options.bucket_seconds);
  EXPECT_GT(expected.first_bucket, jm::tally_alerts(all, options.bucket_seconds).first_bucket);
  expect_same_tally(rest, expected);

  // A part that was never added cannot be taken away.
  AlertTally only_first = jm::tally_alerts(first, options.bucket_seconds);
  EXPECT_THROW(jm::add_alert_tally(only_first, jm::tally_alerts(second, options.bucket_seconds), -1), jm::Error);
}

TEST(AlertTally, LargeVocabulariesCountSparseCellsAlike) {
  // 20,000 touchpoints over ~60 days: more cells than the dense array holds.
  JourneySet js;
  for (int t = 0; t < 20000; ++t) js.touchpoints.encode("page" + std::to_string(t));
  js.channels.encode("web");
  js.customers.encode("c");
  js.offsets.push_back(0);
  uint64_t state = 7;
  const auto next = [&] { return state = state * 6364136223846793005ULL + 1442695040888963407ULL, state >> 33; };
  for (int64_t j = 0; j < 3000; ++j) {
    int64_t time = 1'767'225'600'000 + static_cast<int64_t>(next() % (60 * 86400)) * 1000;
    const int length = 1 + static_cast<int>(next() % 8);
    for (int i = 0; i < length; ++i) {
      js.touchpoint.push_back(static_cast<int32_t>(next() % 20000));
      js.channel.push_back(0);
      js.timestamp_ms.push_back(time);
      js.value.push_back(0.0f);
      time += static_cast<int64_t>(next() % 7200) * 1000;
    }
    js.offsets.push_back(static_cast<int64_t>(js.touchpoint.size()));
    js.customer.push_back(0);
    js.converted.push_back(next() % 4 == 0);
    js.conversion_value.push_back(1.0f);
    js.start_ms.push_back(js.timestamp_ms[js.offsets[j]]);
    js.end_ms.push_back(js.timestamp_ms.back());
  }
  std::vector<int64_t> even, odd;
  for (int64_t j = 0; j < js.size(); ++j) (j % 2 ? odd : even).push_back(j);
  const jm::AlertOptions options;
  AlertTally sum = jm::tally_alerts(jm::select_journeys(js, even), options.bucket_seconds);
  jm::add_alert_tally(sum, jm::tally_alerts(jm::select_journeys(js, odd), options.bucket_seconds), +1);
  expect_same_tally(sum, jm::tally_alerts(js, options.bucket_seconds));
  expect_same_alerts(jm::finish_metric_alerts(sum, js, options), jm::detect_metric_alerts(js, options));
}

TEST(AlertTally, StoredTallyReadsBackUnchangedAndDamageIsRefusedByName) {
  const auto dir = jm::testing::scratch_dir();
  const JourneySet& all = outage_journeys();
  const AlertTally tally = jm::tally_alerts(all, 86400);
  const std::string path = (dir / "tally.h5").string();
  {
    jm::ResultWriter writer(path);
    jm::write_alert_tally(writer, tally);
    writer.commit();
  }
  const jm::ResultReader reader(path);
  expect_same_tally(jm::read_alert_tally(reader, path, all.touchpoints.size(), all.size(), all.touchpoint.size()), tally);

  // Damaged or hostile tallies: each refused, naming the dataset, before anything is allocated for it.
  struct Damage {
    std::string name, dataset;
    void (*apply)(AlertTally&);
  };
  const std::vector<Damage> damages = {
      {"cells out of order", "cell_touchpoint",
       [](AlertTally& t) { t.cells[1].touchpoint = t.cells[0].touchpoint, t.cells[1].bucket = t.cells[0].bucket; }},
      {"a first bucket whose times overflow", "shape", [](AlertTally& t) { t.first_bucket = INT64_MAX - 5; }},
      {"a billion journeys of one length", "length_journeys", [](AlertTally& t) { t.lengths[0].journeys = 1000000000; }},
      {"more journeys than the base holds", "started", [](AlertTally& t) { t.started[3] += 1; }},
      {"events that are not the touchpoint's", "cell_events",
       [](AlertTally& t) { t.cells[2].events += 1, t.cells[2].events_squared += 10; }},
  };
  for (const Damage& damage : damages) {
    SCOPED_TRACE(damage.name);
    AlertTally damaged = tally;
    damage.apply(damaged);
    const std::string bad = (dir / "damaged.h5").string();
    {
      jm::ResultWriter writer(bad);
      jm::write_alert_tally(writer, damaged);
      writer.commit();
    }
    const jm::ResultReader bad_reader(bad);
    try {
      jm::read_alert_tally(bad_reader, bad, all.touchpoints.size(), all.size(), all.touchpoint.size());
      ADD_FAILURE() << "a damaged tally was accepted";
    } catch (const jm::Error& e) {
      EXPECT_NE(std::string(e.what()).find("/alerts/tally/" + damage.dataset), std::string::npos) << e.what();
    }
  }
}

}  // namespace
