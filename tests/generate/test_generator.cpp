// Tests of jm::generate_dataset: file format, determinism across thread counts, the journey timing
// contract (kGeneratedJourneyGapSeconds), and that every planted structure is really in the events
// (segments, motifs, anomalies, the checkout spike) and agrees with the truth files.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "journeymap/common.hpp"
#include "journeymap/generate.hpp"
#include "journeymap/timestamp.hpp"
#include "test_helpers.hpp"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr int64_t kDay = 86400;

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::vector<std::string> split(const std::string& line, char separator) {
  std::vector<std::string> fields;
  size_t begin = 0;
  while (true) {
    const size_t end = line.find(separator, begin);
    fields.push_back(line.substr(begin, end == std::string::npos ? std::string::npos : end - begin));
    if (end == std::string::npos) return fields;
    begin = end + 1;
  }
}

// Lines of a file without the trailing newline; the file must end with '\n'.
std::vector<std::string> read_lines(const fs::path& path) {
  const std::string text = read_all(path);
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n') << path;
  std::vector<std::string> lines;
  size_t begin = 0;
  while (begin < text.size()) {
    const size_t end = text.find('\n', begin);
    lines.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  return lines;
}

// Strict reader of the generator's timestamp form `YYYY-MM-DDThh:mm:ssZ`, to epoch seconds; -1 if
// the text has any other form. Kept independent of the ingest parser on purpose.
int64_t parse_generated_timestamp(const std::string& text) {
  if (text.size() != 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text[19] != 'Z')
    return -1;
  auto number = [&](size_t pos, size_t count) -> int64_t {
    int64_t value = 0;
    for (size_t i = pos; i < pos + count; ++i) {
      if (text[i] < '0' || text[i] > '9') return -1;
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  const int64_t year = number(0, 4), month = number(5, 2), day = number(8, 2);
  const int64_t hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 59)
    return -1;
  // days_from_civil (H. Hinnant), written out so the test does not lean on the code under test.
  const int64_t y = year - (month <= 2);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = era * 146097 + doe - 719468;
  return days * kDay + hour * 3600 + minute * 60 + second;
}

bool is_customer_id(const std::string& text) {
  if (text.size() != 9 || text[0] != 'c') return false;
  return std::all_of(text.begin() + 1, text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "0" for no value, otherwise a positive amount with at most two decimals and no trailing zero.
bool is_compact_value(const std::string& text) {
  if (text.empty() || text[0] < '0' || text[0] > '9') return false;
  const size_t dot = text.find('.');
  for (size_t i = 0; i < text.size(); ++i)
    if (i != dot && (text[i] < '0' || text[i] > '9')) return false;
  if (dot == std::string::npos) return true;
  const size_t decimals = text.size() - dot - 1;
  return decimals >= 1 && decimals <= 2 && text.back() != '0';
}

bool contains_subsequence(const std::vector<std::string>& sequence, const std::vector<std::string>& items) {
  size_t matched = 0;
  for (const auto& touchpoint : sequence)
    if (matched < items.size() && touchpoint == items[matched]) ++matched;
  return matched == items.size();
}

struct Event {
  int64_t time;
  std::string touchpoint, channel, value;
  int conversion;
};

struct Journey {
  std::string customer;
  int journey_number;
  int64_t start, end;
  int n_events;
  std::string segment;
  bool converted;
  std::string motif, anomaly;
  std::vector<Event> events;  // filled from the events CSV
  std::vector<std::string> touchpoints() const {
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.touchpoint);
    return out;
  }
};

// A generated dataset read back: events grouped into the journeys the truth CSV lists.
struct Dataset {
  jm::GeneratorOptions options;
  jm::GeneratorSummary summary;
  json truth;
  std::vector<std::string> csv_lines;
  std::vector<Journey> journeys;  // truth CSV order
  int64_t start_epoch = 0;
};

// Reads the files and assigns each customer's events (time-ordered) to its journeys in order.
void load(Dataset& data) {
  data.truth = json::parse(read_all(data.summary.truth_json_path));
  data.csv_lines = read_lines(data.summary.csv_path);
  data.start_epoch = parse_generated_timestamp(data.options.start_date + "T00:00:00Z");

  const std::vector<std::string> truth_lines = read_lines(data.summary.truth_csv_path);
  ASSERT_FALSE(truth_lines.empty());
  ASSERT_EQ(truth_lines[0], "customer_id,journey_number,start_timestamp,end_timestamp,n_events,segment,converted,motif,anomaly");
  std::map<std::string, std::vector<size_t>> journeys_of;
  for (size_t i = 1; i < truth_lines.size(); ++i) {
    const auto f = split(truth_lines[i], ',');
    ASSERT_EQ(f.size(), 9u) << truth_lines[i];
    Journey j;
    j.customer = f[0];
    j.journey_number = std::stoi(f[1]);
    j.start = parse_generated_timestamp(f[2]);
    j.end = parse_generated_timestamp(f[3]);
    j.n_events = std::stoi(f[4]);
    j.segment = f[5];
    ASSERT_TRUE(f[6] == "0" || f[6] == "1") << truth_lines[i];
    j.converted = f[6] == "1";
    j.motif = f[7];
    j.anomaly = f[8];
    ASSERT_TRUE(is_customer_id(j.customer)) << truth_lines[i];
    ASSERT_GE(j.start, 0) << truth_lines[i];
    ASSERT_GE(j.end, j.start) << truth_lines[i];
    journeys_of[j.customer].push_back(data.journeys.size());
    data.journeys.push_back(j);
  }

  ASSERT_FALSE(data.csv_lines.empty());
  ASSERT_EQ(data.csv_lines[0], "customer_id,timestamp,touchpoint,channel,value,conversion");
  std::map<std::string, std::vector<Event>> events_of;
  for (size_t i = 1; i < data.csv_lines.size(); ++i) {
    const auto f = split(data.csv_lines[i], ',');
    ASSERT_EQ(f.size(), 6u) << data.csv_lines[i];
    ASSERT_TRUE(is_customer_id(f[0])) << data.csv_lines[i];
    const int64_t time = parse_generated_timestamp(f[1]);
    ASSERT_GE(time, 0) << data.csv_lines[i];
    ASSERT_TRUE(f[5] == "0" || f[5] == "1") << data.csv_lines[i];
    ASSERT_TRUE(is_compact_value(f[4])) << data.csv_lines[i];
    events_of[f[0]].push_back(Event{time, f[2], f[3], f[4], f[5] == "1" ? 1 : 0});
  }

  ASSERT_EQ(events_of.size(), journeys_of.size()) << "customers in the CSV and in the truth differ";
  for (auto& [customer, events] : events_of) {
    auto it = journeys_of.find(customer);
    ASSERT_NE(it, journeys_of.end()) << customer;
    std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) { return a.time < b.time; });
    size_t next = 0;
    for (size_t k = 0; k < it->second.size(); ++k) {
      Journey& j = data.journeys[it->second[k]];
      ASSERT_EQ(j.journey_number, static_cast<int>(k)) << customer;
      ASSERT_LE(next + static_cast<size_t>(j.n_events), events.size()) << customer;
      j.events.assign(events.begin() + static_cast<long>(next), events.begin() + static_cast<long>(next + j.n_events));
      next += static_cast<size_t>(j.n_events);
    }
    ASSERT_EQ(next, events.size()) << customer << ": events beyond the journeys of the truth CSV";
  }
}

jm::GeneratorOptions dataset_options() {
  jm::GeneratorOptions options;
  options.journeys = 20000;
  options.seed = 11;
  options.num_threads = 2;
  options.anomaly_fraction = 0.01;  // enough anomalies of each kind to check at this size
  return options;
}

class GeneratorDataset : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // One folder per process: CTest runs the tests of this suite in parallel processes.
    const fs::path dir = jm::testing::test_output_dir() / ("GeneratorDataset." + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    data_ = new Dataset;
    data_->options = dataset_options();
    data_->summary = jm::generate_dataset(data_->options, (dir / "events.csv").string());
    load(*data_);
  }
  static void TearDownTestSuite() {
    fs::remove_all(jm::testing::test_output_dir() / ("GeneratorDataset." + std::to_string(::getpid())));
    delete data_;
    data_ = nullptr;
  }
  void SetUp() override {
    ASSERT_EQ(data_->journeys.size(), static_cast<size_t>(data_->options.journeys)) << "dataset failed to load";
  }
  static const json& segment_truth(const std::string& name) {
    for (const auto& s : data_->truth["segments"])
      if (s["name"] == name) return s;
    throw std::runtime_error("no segment " + name);
  }
  static Dataset* data_;
};
Dataset* GeneratorDataset::data_ = nullptr;

// ------------------------------------------------------------------ counts and format

TEST_F(GeneratorDataset, CountsAgreeAcrossSummaryTruthAndFiles) {
  const Dataset& d = *data_;
  int64_t events = 0, conversions = 0, anomalies = 0;
  std::set<std::string> customers;
  for (const auto& j : d.journeys) {
    events += j.n_events;
    conversions += j.converted;
    anomalies += !j.anomaly.empty();
    customers.insert(j.customer);
  }
  EXPECT_EQ(d.summary.journeys, d.options.journeys);
  EXPECT_EQ(static_cast<int64_t>(d.journeys.size()), d.options.journeys);
  EXPECT_EQ(d.summary.events, events);
  EXPECT_EQ(static_cast<int64_t>(d.csv_lines.size()) - 1, events);
  EXPECT_EQ(d.summary.conversions, conversions);
  EXPECT_EQ(d.summary.anomalies, anomalies);
  EXPECT_EQ(d.summary.customers, static_cast<int64_t>(customers.size()));
  const json& counts = d.truth["counts"];
  EXPECT_EQ(counts["journeys"].get<int64_t>(), d.summary.journeys);
  EXPECT_EQ(counts["events"].get<int64_t>(), d.summary.events);
  EXPECT_EQ(counts["conversions"].get<int64_t>(), d.summary.conversions);
  EXPECT_EQ(counts["anomalies"].get<int64_t>(), d.summary.anomalies);
  EXPECT_EQ(counts["customers"].get<int64_t>(), d.summary.customers);
  EXPECT_EQ(d.truth["files"]["truth_csv"], "events.truth.csv");
  EXPECT_EQ(d.truth["options"]["journeys"].get<int64_t>(), d.options.journeys);
  EXPECT_FALSE(d.truth["options"].contains("num_threads"));
}

TEST_F(GeneratorDataset, CustomersAreNumberedInGenerationOrder) {
  const Dataset& d = *data_;
  EXPECT_EQ(d.journeys.front().customer, "c00000001");
  int64_t previous = 0;
  for (const auto& j : d.journeys) {
    const int64_t number = std::stoll(j.customer.substr(1));
    ASSERT_TRUE(number == previous || number == previous + 1) << j.customer;
    previous = number;
  }
  EXPECT_EQ(previous, d.summary.customers);
}

TEST_F(GeneratorDataset, VocabularyMatchesTruth) {
  const Dataset& d = *data_;
  std::set<std::string> touchpoints(d.truth["touchpoints"].begin(), d.truth["touchpoints"].end());
  std::set<std::string> channels(d.truth["channels"].begin(), d.truth["channels"].end());
  for (const char* required : {"ad_click", "email_open", "home", "search", "category", "product_view", "reviews",
                               "add_to_cart", "checkout", "purchase", "support_chat"})
    EXPECT_TRUE(touchpoints.count(required)) << required;
  EXPECT_EQ(channels, (std::set<std::string>{"web", "app", "email", "social", "paid_search", "store"}));
  std::set<std::string> seen_touchpoints, seen_channels;
  for (const auto& j : d.journeys)
    for (const auto& e : j.events) {
      seen_touchpoints.insert(e.touchpoint);
      seen_channels.insert(e.channel);
    }
  EXPECT_EQ(seen_touchpoints, touchpoints);
  EXPECT_EQ(seen_channels, channels);
}

TEST_F(GeneratorDataset, EventsOfCustomersInterleaveLikeALog) {
  const Dataset& d = *data_;
  // The file is a few long time-ordered runs (one per block of customers), not one run per customer.
  int64_t time_decreases = 0;
  int64_t previous_time = 0;
  std::map<std::string, std::pair<size_t, int64_t>> rows;  // customer -> (last row, row-order breaks)
  for (size_t i = 1; i < d.csv_lines.size(); ++i) {
    const int64_t time = parse_generated_timestamp(d.csv_lines[i].substr(10, 20));
    time_decreases += i > 1 && time < previous_time;
    previous_time = time;
    auto [it, inserted] = rows.emplace(d.csv_lines[i].substr(0, 9), std::make_pair(i, int64_t{0}));
    if (!inserted) {
      it->second.second += it->second.first + 1 != i;
      it->second.first = i;
    }
  }
  EXPECT_LT(time_decreases, d.summary.customers / 1000 + 1);
  int64_t multi_journey = 0, scattered = 0;
  std::map<std::string, int> journeys_of;
  for (const auto& j : d.journeys) ++journeys_of[j.customer];
  for (const auto& [customer, n] : journeys_of) {
    if (n < 2) continue;
    ++multi_journey;
    scattered += rows[customer].second > 0;
  }
  ASSERT_GT(multi_journey, 1000);
  EXPECT_GT(scattered, multi_journey * 95 / 100);
}

// ------------------------------------------------------------------ journey timing contract

TEST_F(GeneratorDataset, JourneysFollowTheTimingContract) {
  const Dataset& d = *data_;
  const int64_t period_end = d.start_epoch + d.options.days * kDay;
  for (size_t i = 0; i < d.journeys.size(); ++i) {
    const Journey& j = d.journeys[i];
    ASSERT_EQ(static_cast<int>(j.events.size()), j.n_events);
    ASSERT_GE(j.n_events, 1);
    EXPECT_EQ(j.events.front().time, j.start) << j.customer << " #" << j.journey_number;
    EXPECT_EQ(j.events.back().time, j.end) << j.customer << " #" << j.journey_number;
    EXPECT_GE(j.start, d.start_epoch);
    EXPECT_LT(j.start, period_end);
    for (size_t e = 1; e < j.events.size(); ++e) {
      const int64_t gap = j.events[e].time - j.events[e - 1].time;
      ASSERT_GE(gap, 1) << j.customer << " #" << j.journey_number << " event " << e;
      ASSERT_LE(gap, 12 * 3600) << j.customer << " #" << j.journey_number << " event " << e;
    }
    if (i + 1 < d.journeys.size() && d.journeys[i + 1].customer == j.customer) {
      const int64_t quiet = d.journeys[i + 1].start - j.end;
      ASSERT_GE(quiet, 3 * kDay) << j.customer << " #" << j.journey_number;
      ASSERT_GT(quiet, static_cast<int64_t>(jm::kGeneratedJourneyGapSeconds));
    }
  }
}

TEST_F(GeneratorDataset, CustomersHaveOneToThreeJourneysAndOneSegment) {
  const Dataset& d = *data_;
  std::map<std::string, std::pair<int, std::string>> customers;
  for (const auto& j : d.journeys) {
    auto [it, inserted] = customers.emplace(j.customer, std::make_pair(0, j.segment));
    ++it->second.first;
    EXPECT_EQ(it->second.second, j.segment) << j.customer;
  }
  std::array<int64_t, 4> by_count{};
  for (const auto& [customer, info] : customers) {
    ASSERT_GE(info.first, 1);
    ASSERT_LE(info.first, 3) << customer;
    ++by_count[static_cast<size_t>(info.first)];
  }
  EXPECT_GT(by_count[1], by_count[2]);  // geometric-ish
  EXPECT_GT(by_count[2], by_count[3]);
  EXPECT_GT(by_count[3], 0);
}

// ------------------------------------------------------------------ conversions

TEST_F(GeneratorDataset, PurchaseEndsConvertedJourneysAndNothingElse) {
  const Dataset& d = *data_;
  for (const auto& j : d.journeys) {
    for (size_t e = 0; e < j.events.size(); ++e) {
      const Event& event = j.events[e];
      const bool purchase = event.touchpoint == "purchase";
      ASSERT_EQ(event.conversion, purchase ? 1 : 0) << j.customer;
      if (purchase) {
        ASSERT_EQ(e + 1, j.events.size()) << j.customer << ": purchase is not the last event";
        ASSERT_TRUE(j.converted) << j.customer;
        ASSERT_GT(std::stod(event.value), 0.0) << j.customer;
        ASSERT_GE(e, 1u);
        ASSERT_EQ(j.events[e - 1].touchpoint, "checkout") << j.customer;
      } else {
        ASSERT_EQ(event.value, "0") << j.customer;
      }
    }
    ASSERT_EQ(j.converted, j.events.back().touchpoint == "purchase") << j.customer;
  }
}

// ------------------------------------------------------------------ planted structure

TEST_F(GeneratorDataset, SegmentsDifferAsDocumented) {
  const Dataset& d = *data_;
  struct Totals {
    int64_t journeys = 0, events = 0, conversions = 0, web = 0, app_or_social = 0, email = 0, evening_starts = 0;
  };
  std::map<std::string, Totals> totals;
  for (const auto& j : d.journeys) {
    if (!j.anomaly.empty()) continue;
    const json& spec = segment_truth(j.segment);
    EXPECT_GE(j.n_events, spec["length_range"][0].get<int>()) << j.customer << " " << j.segment;
    EXPECT_LE(j.n_events, spec["length_range"][1].get<int>()) << j.customer << " " << j.segment;
    Totals& t = totals[j.segment];
    ++t.journeys;
    t.events += j.n_events;
    t.conversions += j.converted;
    t.evening_starts += ((j.start % kDay) / 3600) >= 19;
    for (const auto& e : j.events) {
      t.web += e.channel == "web";
      t.app_or_social += e.channel == "app" || e.channel == "social";
      t.email += e.channel == "email";
    }
  }
  ASSERT_EQ(totals.size(), d.truth["segments"].size());
  ASSERT_GE(totals.size(), 4u);
  auto mean_length = [&](const char* s) { return double(totals[s].events) / double(totals[s].journeys); };
  auto share = [&](const char* s, int64_t Totals::*field) { return double(totals[s].*field) / double(totals[s].events); };
  EXPECT_GT(mean_length("researcher"), mean_length("comparison") + 3.0);
  EXPECT_GT(mean_length("comparison"), mean_length("impulse") + 5.0);
  EXPECT_GT(mean_length("impulse"), mean_length("churner") + 1.0);
  EXPECT_GT(share("researcher", &Totals::web), 0.7);
  EXPECT_GT(share("impulse", &Totals::app_or_social), 0.6);
  EXPECT_GT(share("churner", &Totals::email), 0.3);
  EXPECT_GT(double(totals["researcher"].evening_starts) / double(totals["researcher"].journeys),
            2.0 * double(totals["churner"].evening_starts) / double(totals["churner"].journeys));
  EXPECT_EQ(totals["churner"].conversions, 0);

  for (const auto& spec : d.truth["segments"]) {
    const std::string name = spec["name"];
    const Totals& t = totals[name];
    // Share: binomial sd at 20k journeys is < 0.004; 0.03 leaves room for customers having 1-3 journeys.
    EXPECT_NEAR(double(t.journeys) / double(d.options.journeys), spec["share"].get<double>(), 0.03) << name;
    // Conversion: sd < 0.007 at ~5k journeys per segment; the expected rates are approximate (1M journeys).
    EXPECT_NEAR(double(t.conversions) / double(t.journeys), spec["expected_conversion_rate"].get<double>(), 0.04)
        << name;
  }
}

TEST_F(GeneratorDataset, MotifsChangeConversionAsPlanted) {
  const Dataset& d = *data_;
  ASSERT_GE(d.truth["motifs"].size(), 2u);
  std::map<std::string, std::pair<int64_t, int64_t>> with;  // effect -> (journeys, conversions)
  int64_t plain_journeys = 0, plain_conversions = 0;
  std::vector<std::pair<std::string, std::vector<std::string>>> motifs;
  for (const auto& motif : d.truth["motifs"])
    motifs.emplace_back(motif["name"].get<std::string>(), motif["items"].get<std::vector<std::string>>());
  for (const auto& j : d.journeys) {
    const auto touchpoints = j.touchpoints();
    std::string labels;
    bool any = false;
    for (size_t m = 0; m < motifs.size(); ++m) {
      if (!contains_subsequence(touchpoints, motifs[m].second)) continue;
      if (!labels.empty()) labels += "|";
      labels += motifs[m].first;
      auto& counts = with[d.truth["motifs"][m]["effect"].get<std::string>()];
      ++counts.first;
      counts.second += j.converted;
      any = true;
    }
    ASSERT_EQ(j.motif, labels) << j.customer << " #" << j.journey_number;
    if (!any) {
      ++plain_journeys;
      plain_conversions += j.converted;
    }
  }
  ASSERT_GT(with["conversion"].first, 1000);
  ASSERT_GT(with["abandonment"].first, 300);
  const double conversion_rate = double(with["conversion"].second) / double(with["conversion"].first);
  const double abandonment_rate = double(with["abandonment"].second) / double(with["abandonment"].first);
  const double plain_rate = double(plain_conversions) / double(plain_journeys);
  EXPECT_GT(conversion_rate, 2.0 * abandonment_rate);
  EXPECT_GT(conversion_rate, 2.0 * plain_rate);
  EXPECT_LT(abandonment_rate, 0.5 * plain_rate);

  // The truth reports what is in the data.
  for (const auto& motif : d.truth["motifs"]) {
    const auto& counts = with[motif["effect"].get<std::string>()];
    EXPECT_EQ(motif["observed"]["journeys_with"].get<int64_t>(), counts.first) << motif["name"];
    EXPECT_EQ(motif["observed"]["conversions_with"].get<int64_t>(), counts.second) << motif["name"];
    // Intended rates are design values; sd of the observed ones here is < 0.02.
    EXPECT_NEAR(motif["observed"]["conversion_rate_with"].get<double>(),
                motif["intended_conversion_rate_with"].get<double>(), 0.08)
        << motif["name"];
  }
}

TEST_F(GeneratorDataset, CheckoutAbandonmentSpikesOnTheSpikeDay) {
  const Dataset& d = *data_;
  std::vector<int64_t> checkouts(static_cast<size_t>(d.options.days) + 1), purchases(checkouts.size());
  for (const auto& j : d.journeys) {
    auto first_checkout = std::find_if(j.events.begin(), j.events.end(),
                                       [](const Event& e) { return e.touchpoint == "checkout"; });
    if (first_checkout == j.events.end()) continue;
    const size_t day = static_cast<size_t>((first_checkout->time - d.start_epoch) / kDay);
    ASSERT_LT(day, checkouts.size());
    ++checkouts[day];
    purchases[day] += j.converted;
  }
  const size_t spike = static_cast<size_t>(d.options.spike_day);
  int64_t base_checkouts = 0, base_purchases = 0;
  for (size_t day = 0; day < checkouts.size(); ++day) {
    if (day == spike) continue;
    base_checkouts += checkouts[day];
    base_purchases += purchases[day];
  }
  const double baseline = 1.0 - double(base_purchases) / double(base_checkouts);
  const double spiked = 1.0 - double(purchases[spike]) / double(checkouts[spike]);
  ASSERT_GT(checkouts[spike], 40);
  // ~75 checkouts on the spike day: sd of the rate ~0.05, so 0.55 is 4 sd below the planted 0.75.
  EXPECT_GT(spiked, 0.55);
  EXPECT_LT(baseline, 0.35);
  EXPECT_GT(spiked, baseline + 0.3);

  const json& truth = d.truth["spike"];
  EXPECT_EQ(truth["metric"], "checkout_abandonment");
  EXPECT_EQ(truth["day"].get<int>(), d.options.spike_day);
  EXPECT_EQ(truth["date"], "2026-03-06");  // 2026-01-05 + 60 days
  EXPECT_NEAR(truth["baseline_rate"].get<double>(), baseline, 1e-12);
  EXPECT_NEAR(truth["spike_rate"].get<double>(), spiked, 1e-12);
  EXPECT_EQ(truth["daily_checkout_journeys"].get<std::vector<int64_t>>(), checkouts);
}

TEST_F(GeneratorDataset, AnomaliesArePlantedAndLabelled) {
  const Dataset& d = *data_;
  std::map<std::string, int64_t> by_kind;
  for (const auto& j : d.journeys) {
    if (j.anomaly.empty()) continue;
    ++by_kind[j.anomaly];
    EXPECT_FALSE(j.converted) << j.customer;
    if (j.anomaly == "navigation_loop") {
      EXPECT_GE(j.n_events, 30);
      for (const auto& e : j.events) EXPECT_TRUE(e.touchpoint == "home" || e.touchpoint == "search");
      EXPECT_LT(j.end - j.start, 3600);
    } else if (j.anomaly == "abrupt_falloff") {
      int64_t checkouts = 0;
      for (const auto& e : j.events) checkouts += e.touchpoint == "checkout";
      EXPECT_GE(checkouts, 8);
      EXPECT_EQ(j.events.back().touchpoint, "checkout");
    } else if (j.anomaly == "bot_burst") {
      EXPECT_GE(j.n_events, 40);
      for (size_t e = 1; e < j.events.size(); ++e) EXPECT_LE(j.events[e].time - j.events[e - 1].time, 3);
    } else {
      ADD_FAILURE() << "unknown anomaly kind " << j.anomaly;
    }
  }
  int64_t total = 0;
  for (const auto& [kind, count] : by_kind) total += count;
  const double expected = d.options.anomaly_fraction * double(d.options.journeys);
  const double sd = std::sqrt(expected * (1.0 - d.options.anomaly_fraction));
  EXPECT_NEAR(double(total), expected, 5.0 * sd);
  EXPECT_GE(by_kind.size(), 3u);
  for (const auto& kind : d.truth["anomalies"]["kinds"])
    EXPECT_EQ(kind["count"].get<int64_t>(), by_kind[kind["name"].get<std::string>()]) << kind["name"];
}

TEST_F(GeneratorDataset, IngestTimestampParserReadsTheTimestamps) {
  const Dataset& d = *data_;
  for (size_t i = 1; i < d.csv_lines.size(); i += 997) {
    const std::string text = split(d.csv_lines[i], ',')[1];
    const auto parsed = jm::parse_timestamp(text, jm::TimestampFormat::Iso8601);
    ASSERT_TRUE(parsed.has_value()) << text;
    EXPECT_EQ(*parsed, parse_generated_timestamp(text) * 1000) << text;
  }
}

// ------------------------------------------------------------------ determinism and files

struct Files {
  std::string csv, truth_json, truth_csv;
};

Files generate_into(const fs::path& dir, const jm::GeneratorOptions& options) {
  fs::create_directories(dir);
  const auto summary = jm::generate_dataset(options, (dir / "events.csv").string());
  return Files{read_all(summary.csv_path), read_all(summary.truth_json_path), read_all(summary.truth_csv_path)};
}

TEST(Generator, SameSeedGivesIdenticalBytesWhateverTheThreadCount) {
  const fs::path dir = jm::testing::scratch_dir();
  jm::GeneratorOptions options;
  options.journeys = 9000;  // > 2 blocks of customers
  options.seed = 5;
  options.num_threads = 1;
  const Files one = generate_into(dir / "t1", options);
  options.num_threads = 3;
  const Files three = generate_into(dir / "t3", options);
  options.num_threads = 0;
  const Files all = generate_into(dir / "t0", options);
  EXPECT_TRUE(one.csv == three.csv) << "events CSV differs between 1 and 3 threads";
  EXPECT_TRUE(one.truth_json == three.truth_json);
  EXPECT_TRUE(one.truth_csv == three.truth_csv);
  EXPECT_TRUE(one.csv == all.csv);
  EXPECT_TRUE(one.truth_csv == all.truth_csv);

  options.seed = 6;
  const Files other = generate_into(dir / "s6", options);
  EXPECT_FALSE(one.csv == other.csv);
  EXPECT_FALSE(one.truth_csv == other.truth_csv);
}

TEST(Generator, WritesExactlyTheRequestedJourneys) {
  const fs::path dir = jm::testing::scratch_dir();
  for (int64_t journeys : {1, 2, 3, 4, 5, 17, 100, 3001}) {
    jm::GeneratorOptions options;
    options.journeys = journeys;
    options.seed = static_cast<uint64_t>(journeys);
    const auto path = (dir / ("events_" + std::to_string(journeys) + ".csv")).string();
    const auto summary = jm::generate_dataset(options, path);
    EXPECT_EQ(summary.journeys, journeys);
    EXPECT_EQ(read_lines(summary.truth_csv_path).size(), static_cast<size_t>(journeys) + 1);
    EXPECT_EQ(read_lines(summary.csv_path).size(), static_cast<size_t>(summary.events) + 1);
    EXPECT_LE(summary.customers, journeys);
  }
}

TEST(Generator, ShortPeriodsGiveOneJourneyPerCustomer) {
  const fs::path dir = jm::testing::scratch_dir();
  jm::GeneratorOptions options;
  options.journeys = 500;
  options.days = 1;
  options.spike_day = 0;
  Dataset data;
  data.options = options;
  data.summary = jm::generate_dataset(options, (dir / "events.csv").string());
  ASSERT_NO_FATAL_FAILURE(load(data));
  EXPECT_EQ(data.summary.customers, 500);
  for (const auto& j : data.journeys) {
    EXPECT_EQ(j.journey_number, 0);
    EXPECT_GE(j.start, data.start_epoch);
    EXPECT_LT(j.start, data.start_epoch + kDay);
  }
}

TEST(Generator, NoSpikeDayIsRecorded) {
  const fs::path dir = jm::testing::scratch_dir();
  jm::GeneratorOptions options;
  options.journeys = 300;
  options.spike_day = -1;
  options.anomaly_fraction = 0.0;
  const auto summary = jm::generate_dataset(options, (dir / "events.csv").string());
  const json truth = json::parse(read_all(summary.truth_json_path));
  EXPECT_EQ(truth["spike"]["day"].get<int>(), -1);
  EXPECT_TRUE(truth["spike"]["date"].is_null());
  EXPECT_TRUE(truth["spike"]["spike_rate"].is_null());
  EXPECT_EQ(summary.anomalies, 0);
}

TEST(Generator, LeavesOnlyTheThreeFiles) {
  const fs::path dir = jm::testing::scratch_dir();
  jm::GeneratorOptions options;
  options.journeys = 200;
  const auto summary = jm::generate_dataset(options, (dir / "nested" / "events.csv").string());
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir / "nested")) names.insert(entry.path().filename().string());
  EXPECT_EQ(names, (std::set<std::string>{"events.csv", "events.truth.json", "events.truth.csv"}));
  EXPECT_EQ(summary.truth_json_path, (dir / "nested" / "events.truth.json").string());
  EXPECT_EQ(summary.truth_csv_path, (dir / "nested" / "events.truth.csv").string());
}

TEST(Generator, UnwritablePathThrowsAndLeavesNoTemporaries) {
  const fs::path dir = jm::testing::scratch_dir();
  jm::testing::write_file(dir / "not_a_folder", "x");
  jm::GeneratorOptions options;
  options.journeys = 100;
  EXPECT_THROW(jm::generate_dataset(options, (dir / "not_a_folder" / "events.csv").string()), jm::Error);
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename().string());
  EXPECT_EQ(names, (std::set<std::string>{"not_a_folder"}));
}

TEST(Generator, TruthPathsSitBesideTheCsv) {
  EXPECT_EQ(jm::truth_json_path_for("data/events.csv"), "data/events.truth.json");
  EXPECT_EQ(jm::truth_csv_path_for("data/events.csv"), "data/events.truth.csv");
  EXPECT_EQ(jm::truth_json_path_for("events"), "events.truth.json");
  EXPECT_EQ(jm::truth_csv_path_for("a.b/events.txt"), "a.b/events.txt.truth.csv");
}

TEST(Generator, BadOptionsAreConfigErrors) {
  const fs::path dir = jm::testing::scratch_dir();
  const std::string path = (dir / "events.csv").string();
  auto expect_config_error = [&](const jm::GeneratorOptions& options, const std::string& what) {
    try {
      jm::generate_dataset(options, path);
      ADD_FAILURE() << "no error for " << what;
    } catch (const jm::ConfigError& error) {
      EXPECT_NE(std::string(error.what()).find(what), std::string::npos) << error.what();
    }
  };
  jm::GeneratorOptions options;
  options.journeys = 10;
  auto with = [&](auto change) {
    jm::GeneratorOptions changed = options;
    change(changed);
    return changed;
  };
  expect_config_error(with([](auto& o) { o.journeys = 0; }), "journeys");
  expect_config_error(with([](auto& o) { o.journeys = -5; }), "journeys");
  expect_config_error(with([](auto& o) { o.days = 0; }), "days");
  expect_config_error(with([](auto& o) { o.days = 30; o.spike_day = 30; }), "spike_day");
  expect_config_error(with([](auto& o) { o.spike_day = -2; }), "spike_day");
  expect_config_error(with([](auto& o) { o.anomaly_fraction = 0.5; }), "anomaly_fraction");
  expect_config_error(with([](auto& o) { o.anomaly_fraction = -0.01; }), "anomaly_fraction");
  expect_config_error(with([](auto& o) { o.anomaly_fraction = std::nan(""); }), "anomaly_fraction");
  expect_config_error(with([](auto& o) { o.start_date = "2026-13-01"; }), "start_date");
  expect_config_error(with([](auto& o) { o.start_date = "2026-02-29"; }), "start_date");
  expect_config_error(with([](auto& o) { o.start_date = "not a date"; }), "start_date");
  expect_config_error(with([](auto& o) { o.start_date = "2026-1-05"; }), "start_date");
  expect_config_error(with([](auto& o) { o.num_threads = -1; }), "num_threads");
  EXPECT_TRUE(fs::is_empty(dir)) << "a rejected configuration wrote files";

  options.start_date = "2028-02-29";  // leap day is fine
  EXPECT_NO_THROW(jm::generate_dataset(options, path));
}

}  // namespace
