// jm::generate_dataset: validates the options, then simulates customers in fixed-size blocks and
// streams the CSV and the ground truth to temporary files that are renamed at the end.
//
// Determinism: a customer's events come from its own RNG stream (seed, customer index), blocks hold
// a fixed number of customers (kCustomersPerBlock, not tied to the thread count), each block sorts
// its own events by time, and blocks are written in index order. Threads only decide which block
// is rendered when, so every thread count writes the same bytes.
//
// Memory: one window of blocks is rendered while the previous window is written by a helper
// thread; nothing else grows with the number of journeys (except the per-day spike counters).
#include "journeymap/generate.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/core/thread_pool.hpp"
#include "host/generate/pending_file.hpp"
#include "host/generate/generator_model.hpp"
#include "journeymap/common.hpp"
#include "journeymap/timestamp.hpp"

namespace jm {
namespace {

using namespace generate;

constexpr int64_t kCustomersPerBlock = 2048;
constexpr int kBlocksPerThreadInWindow = 4;

// ------------------------------------------------------------------ options

struct CivilDate {
  int year;
  unsigned month, day;
};

bool is_leap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

CivilDate parse_start_date(const std::string& text) {
  auto fail = [&]() -> CivilDate {
    throw ConfigError("generator start_date '" + text + "' is not a date of the form YYYY-MM-DD (year >= 1970)");
  };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return fail();
  auto digits = [&](size_t pos, size_t count) {
    int value = 0;
    for (size_t i = pos; i < pos + count; ++i) {
      if (text[i] < '0' || text[i] > '9') fail();
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  const int year = digits(0, 4);
  const int month = digits(5, 2);
  const int day = digits(8, 2);
  static constexpr int kDaysInMonth[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1970 || month < 1 || month > 12) return fail();
  const int month_days = kDaysInMonth[month - 1] + (month == 2 && is_leap(year) ? 1 : 0);
  if (day < 1 || day > month_days) return fail();
  return CivilDate{year, static_cast<unsigned>(month), static_cast<unsigned>(day)};
}

void validate(const GeneratorOptions& options, const std::string& csv_path) {
  if (csv_path.empty()) throw ConfigError("generator output path is empty");
  if (options.journeys < 1)
    throw ConfigError("generator journeys must be >= 1 (got " + std::to_string(options.journeys) + ")");
  if (options.days < 1) throw ConfigError("generator days must be >= 1 (got " + std::to_string(options.days) + ")");
  if (options.days > 36600)
    throw ConfigError("generator days must be <= 36600 (got " + std::to_string(options.days) + ")");
  if (options.experiment_day < -1 || options.experiment_day >= options.days)
    throw ConfigError("generator experiment_day must be -1 (none) or in [0, days=" + std::to_string(options.days) +
                      ") (got " + std::to_string(options.experiment_day) + ")");
  if (options.drift_day < -1 || options.drift_day >= options.days)
    throw ConfigError("generator drift_day must be -1 (none) or in [0, days=" + std::to_string(options.days) + ")");
  for (const double lift : options.experiment_lift)
    if (!(lift >= 0.0 && lift <= 1.0)) throw ConfigError("generator experiment_lift values must be in [0, 1]");
  if (options.spike_day < -1 || options.spike_day >= options.days)
    throw ConfigError("generator spike_day must be -1 (none) or in [0, days=" + std::to_string(options.days) +
                      ") (got " + std::to_string(options.spike_day) + ")");
  if (!(options.anomaly_fraction >= 0.0 && options.anomaly_fraction < 0.5))
    throw ConfigError("generator anomaly_fraction must be in [0, 0.5) (got " +
                      std::to_string(options.anomaly_fraction) + ")");
  if (options.campaign_day < -1 || options.campaign_day >= options.days)
    throw ConfigError("generator campaign_day must be -1 (none) or in [0, days=" + std::to_string(options.days) + ")");
  if (options.campaign_days < 1) throw ConfigError("generator campaign_days must be >= 1");
  if (!(options.campaign_lift > -1.0 && options.campaign_lift <= 3.0))
    throw ConfigError("generator campaign_lift must be in (-1, 3]");
  if (options.outage_day < -1 || options.outage_day >= options.days)
    throw ConfigError("generator outage_day must be -1 (none) or in [0, days=" + std::to_string(options.days) + ")");
  if (options.outage_days < 1) throw ConfigError("generator outage_days must be >= 1");
  if (options.outage_day >= 0 && 4 * options.outage_days > options.days)
    throw ConfigError("generator outage_days must be at most a quarter of the period (days=" + std::to_string(options.days) + ")");
  // Start days are redrawn until the calendar keeps them: short periods leave a customer with
  // three journeys too few choices (none, when an outage falls on a forced day).
  if ((options.weekly_pattern || options.campaign_day >= 0 || options.outage_day >= 0) && options.days < 28)
    throw ConfigError("generator calendar plants (weekly pattern, campaign, outage) need days >= 28 (got " +
                      std::to_string(options.days) + ")");
  if (options.num_threads < 0)
    throw ConfigError("generator num_threads must be >= 0 (0 = all cores) (got " +
                      std::to_string(options.num_threads) + ")");
  const CivilDate start = parse_start_date(options.start_date);
  if (days_from_civil(start.year, start.month, start.day) + options.days + 1 > days_from_civil(9999, 12, 31))
    throw ConfigError("generator start_date + days runs past the year 9999");
}

// ------------------------------------------------------------------ files


std::string base_name(const std::string& path) { return std::filesystem::path(path).filename().string(); }

// ------------------------------------------------------------------ statistics

struct Stats {
  int64_t customers = 0, journeys = 0, events = 0, conversions = 0, anomalies = 0;
  std::array<int64_t, kAnomalyKindCount> anomalies_by_kind{};
  std::array<int64_t, kSegmentCount> segment_customers{}, segment_journeys{}, segment_events{},
      segment_conversions{};
  std::array<int64_t, kMotifCount> motif_journeys{}, motif_conversions{};
  std::vector<int64_t> checkout_journeys_by_day, purchases_by_day;  // by day of first checkout

  void reset(int n_days) {
    *this = Stats{};
    checkout_journeys_by_day.assign(static_cast<size_t>(n_days), 0);
    purchases_by_day.assign(static_cast<size_t>(n_days), 0);
  }
  void add(const Stats& other) {
    customers += other.customers;
    journeys += other.journeys;
    events += other.events;
    conversions += other.conversions;
    anomalies += other.anomalies;
    for (int k = 0; k < kAnomalyKindCount; ++k) anomalies_by_kind[k] += other.anomalies_by_kind[k];
    for (int s = 0; s < kSegmentCount; ++s) {
      segment_customers[s] += other.segment_customers[s];
      segment_journeys[s] += other.segment_journeys[s];
      segment_events[s] += other.segment_events[s];
      segment_conversions[s] += other.segment_conversions[s];
    }
    for (int m = 0; m < kMotifCount; ++m) {
      motif_journeys[m] += other.motif_journeys[m];
      motif_conversions[m] += other.motif_conversions[m];
    }
    for (size_t d = 0; d < checkout_journeys_by_day.size(); ++d) {
      checkout_journeys_by_day[d] += other.checkout_journeys_by_day[d];
      purchases_by_day[d] += other.purchases_by_day[d];
    }
  }
};

double rate(int64_t numerator, int64_t denominator) {
  return denominator > 0 ? static_cast<double>(numerator) / static_cast<double>(denominator) : 0.0;
}

// ------------------------------------------------------------------ text rendering

struct TextFormat {
  int customer_digits = 8;
  std::vector<std::array<char, 11>> day_prefix;  // "YYYY-MM-DDT" for day 0 .. days + 1
  std::array<std::string, kTouchpointCount> touchpoint_field;  // "name,"
  std::array<std::string, kChannelCount> channel_field;        // "name,"
};

char* put_customer(char* out, int64_t customer_number, int digits) {
  *out++ = 'c';
  for (int i = digits - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + customer_number % 10);
    customer_number /= 10;
  }
  return out + digits;
}

char* put_two(char* out, int64_t value) {
  out[0] = static_cast<char>('0' + value / 10);
  out[1] = static_cast<char>('0' + value % 10);
  return out + 2;
}

char* put_timestamp(char* out, const TextFormat& format, int64_t time) {
  const int64_t day = time / kSecondsPerDay;
  const int64_t second_of_day = time % kSecondsPerDay;
  std::memcpy(out, format.day_prefix[static_cast<size_t>(day)].data(), 11);
  out += 11;
  out = put_two(out, second_of_day / 3600);
  *out++ = ':';
  out = put_two(out, second_of_day / 60 % 60);
  *out++ = ':';
  out = put_two(out, second_of_day % 60);
  *out++ = 'Z';
  return out;
}

char* put_uint(char* out, uint64_t value) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0);
  while (n > 0) *out++ = digits[--n];
  return out;
}

// 5723 -> "57.23", 5720 -> "57.2", 5700 -> "57", 0 -> "0".
char* put_cents(char* out, uint32_t cents) {
  out = put_uint(out, cents / 100);
  const uint32_t fraction = cents % 100;
  if (fraction != 0) {
    *out++ = '.';
    *out++ = static_cast<char>('0' + fraction / 10);
    if (fraction % 10 != 0) *out++ = static_cast<char>('0' + fraction % 10);
  }
  return out;
}

// A probability in [0, 1] with four decimals ("0.7200"): the planted offers' columns.
char* put_probability(char* out, double probability) {
  const auto ten_thousandths = static_cast<uint32_t>(std::llround(std::clamp(probability, 0.0, 1.0) * 10000.0));
  *out++ = static_cast<char>('0' + ten_thousandths / 10000);
  *out++ = '.';
  for (uint32_t unit = 1000, rest = ten_thousandths % 10000; unit > 0; unit /= 10) {
    *out++ = static_cast<char>('0' + rest / unit);
    rest %= unit;
  }
  return out;
}

char* put_text(char* out, const std::string& text) {
  std::memcpy(out, text.data(), text.size());
  return out + text.size();
}

// ------------------------------------------------------------------ blocks

struct Plan {
  int64_t journeys = 0;
  int64_t customers = 0;
  int last_customer_journeys = 0;  // the last customer may get fewer journeys than it drew
  int64_t blocks = 0;
};

// Sequential pass over the customers' first draws: how many customers make exactly `journeys`.
Plan make_plan(const GeneratorOptions& options) {
  Plan plan;
  plan.journeys = options.journeys;
  int64_t total = 0;
  for (int64_t customer = 0;; ++customer) {
    Rng rng(options.seed, static_cast<uint64_t>(customer));
    const int wanted = draw_journey_count(rng, options.days);
    if (total + wanted >= options.journeys) {
      plan.customers = customer + 1;
      plan.last_customer_journeys = static_cast<int>(options.journeys - total);
      break;
    }
    total += wanted;
  }
  plan.blocks = (plan.customers + kCustomersPerBlock - 1) / kCustomersPerBlock;
  return plan;
}

// Growable text buffer that, unlike std::string::resize, does not zero what it is about to overwrite.
class TextBuffer {
 public:
  char* reserve(size_t bytes) {
    if (bytes > capacity_) {
      data_ = std::make_unique<char[]>(bytes);
      capacity_ = bytes;
    }
    size_ = 0;
    return data_.get();
  }
  void set_end(const char* end) { size_ = static_cast<size_t>(end - data_.get()); }
  const char* data() const { return data_.get(); }
  size_t size() const { return size_; }

 private:
  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
  size_t size_ = 0;
};

constexpr int kEventIndexBits = 24;

// Stable LSD radix sort of (time << kEventIndexBits | index) keys on their time bits; the keys start
// in index order, so ties keep generation order.
void sort_by_time(std::vector<uint64_t>& keys, std::vector<uint64_t>& scratch, int64_t latest) {
  constexpr int kDigitBits = 11;
  constexpr size_t kBuckets = size_t{1} << kDigitBits;
  scratch.resize(keys.size());
  std::vector<uint32_t> counts(kBuckets);
  for (int shift = kEventIndexBits; (latest >> (shift - kEventIndexBits)) > 0; shift += kDigitBits) {
    std::fill(counts.begin(), counts.end(), 0u);
    for (uint64_t key : keys) ++counts[(key >> shift) & (kBuckets - 1)];
    uint32_t running = 0;
    for (uint32_t& count : counts) {
      const uint32_t bucket = count;
      count = running;
      running += bucket;
    }
    for (uint64_t key : keys) scratch[counts[(key >> shift) & (kBuckets - 1)]++] = key;
    keys.swap(scratch);
  }
}

struct BlockBuffer {
  std::vector<Event> events;
  std::vector<JourneyRecord> journeys;
  std::vector<uint64_t> order, sort_scratch;  // (time << kEventIndexBits | event index), sorted by time
  TextBuffer events_csv;
  TextBuffer truth_csv;
  Stats stats;
};

struct BlockRenderer {
  const Model& model;
  const GeneratorOptions& options;
  const Plan& plan;
  const TextFormat& format;
  Calendar calendar;

  void render(int64_t block, BlockBuffer& out) const {
    const int64_t first_customer = block * kCustomersPerBlock;
    const int64_t n_customers = std::min(kCustomersPerBlock, plan.customers - first_customer);
    out.events.clear();
    out.journeys.clear();
    out.stats.reset(calendar.days + 1);

    for (int64_t local = 0; local < n_customers; ++local) {
      const int64_t customer = first_customer + local;
      Rng rng(options.seed, static_cast<uint64_t>(customer));
      int n_journeys = draw_journey_count(rng, options.days);
      if (customer == plan.customers - 1) n_journeys = plan.last_customer_journeys;
      simulate_customer(model, rng, n_journeys, calendar, options.anomaly_fraction, static_cast<uint32_t>(local),
                        out.events, out.journeys);
    }
    // Event indices must fit beside the time in the sort key (a block holds < 1M events).
    if (out.events.size() >= (size_t{1} << kEventIndexBits)) throw std::logic_error("generator block too large");

    // Like a real log: the block's customers interleave in time order (ties keep generation order).
    out.order.resize(out.events.size());
    int64_t latest = 0;
    for (size_t i = 0; i < out.events.size(); ++i) {
      out.order[i] = (static_cast<uint64_t>(out.events[i].time) << kEventIndexBits) | i;
      latest = std::max(latest, out.events[i].time);
    }
    sort_by_time(out.order, out.sort_scratch, latest);

    std::vector<std::array<char, 24>> ids(static_cast<size_t>(n_customers));
    const int id_length = 1 + format.customer_digits;
    for (int64_t local = 0; local < n_customers; ++local)
      put_customer(ids[static_cast<size_t>(local)].data(), first_customer + local + 1, format.customer_digits);

    constexpr size_t kMaxEventLine = 128;
    char* p = out.events_csv.reserve(out.events.size() * kMaxEventLine);
    for (uint64_t key : out.order) {
      const Event& e = out.events[key & ((uint64_t{1} << kEventIndexBits) - 1)];
      p = static_cast<char*>(std::memcpy(p, ids[e.local_customer].data(), id_length)) + id_length;
      *p++ = ',';
      p = put_timestamp(p, format, e.time);
      *p++ = ',';
      p = put_text(p, format.touchpoint_field[e.touchpoint]);
      p = put_text(p, format.channel_field[e.channel]);
      p = put_cents(p, e.value_cents);
      *p++ = ',';
      *p++ = e.touchpoint == kPurchase ? '1' : '0';
      if (options.experiment_day >= 0) {
        *p++ = ',';
        if (e.variant != 0) *p++ = e.variant == 1 ? 'A' : 'B';
      }
      if (options.checkout_offers) {
        *p++ = ',';
        if (e.offer != 0) {
          p = put_text(p, offer_name(e.offer - 1));
          *p++ = ',';
          p = put_probability(p, kOfferPropensity[e.offer_device][e.offer - 1]);
        } else {
          *p++ = ',';
        }
      }
      *p++ = '\n';
    }
    out.events_csv.set_end(p);

    Stats& stats = out.stats;
    stats.customers = n_customers;
    constexpr size_t kMaxTruthLine = 256;  // with the planted offers' columns
    p = out.truth_csv.reserve(out.journeys.size() * kMaxTruthLine);
    uint32_t previous_customer = UINT32_MAX;
    for (const JourneyRecord& j : out.journeys) {
      p = static_cast<char*>(std::memcpy(p, ids[j.local_customer].data(), id_length)) + id_length;
      *p++ = ',';
      p = put_uint(p, j.journey_number);
      *p++ = ',';
      p = put_timestamp(p, format, j.start_time);
      *p++ = ',';
      p = put_timestamp(p, format, j.end_time);
      *p++ = ',';
      p = put_uint(p, static_cast<uint64_t>(j.n_events));
      *p++ = ',';
      p = put_text(p, model.segments[j.segment].name);
      *p++ = ',';
      *p++ = j.converted ? '1' : '0';
      *p++ = ',';
      bool first_motif = true;
      for (int m = 0; m < kMotifCount; ++m) {
        if (!(j.motif_mask & (1u << m))) continue;
        if (!first_motif) *p++ = '|';
        p = put_text(p, model.motifs[m].name);
        first_motif = false;
      }
      *p++ = ',';
      p = put_text(p, anomaly_name(j.anomaly));
      if (options.checkout_offers) {
        *p++ = ',';
        if (j.offer != 0) p = put_text(p, offer_name(j.offer - 1));
        *p++ = ',';
        if (j.offer != 0) p = put_probability(p, j.offer_propensity);
        for (int k = 0; k < kOfferCount; ++k) {
          *p++ = ',';
          if (j.offer != 0) p = put_probability(p, j.offer_purchase_probability[k]);
        }
        for (int k = 0; k < kOfferCount; ++k) {
          *p++ = ',';
          if (j.offer != 0) p = put_probability(p, kOfferPropensity[j.offer_device][k]);
        }
      }
      *p++ = '\n';

      if (j.local_customer != previous_customer) ++stats.segment_customers[j.segment];
      previous_customer = j.local_customer;
      ++stats.journeys;
      stats.events += j.n_events;
      stats.conversions += j.converted;
      ++stats.segment_journeys[j.segment];
      stats.segment_events[j.segment] += j.n_events;
      stats.segment_conversions[j.segment] += j.converted;
      if (j.anomaly != kNoAnomaly) {
        ++stats.anomalies;
        ++stats.anomalies_by_kind[j.anomaly];
      }
      for (int m = 0; m < kMotifCount; ++m) {
        if (!(j.motif_mask & (1u << m))) continue;
        ++stats.motif_journeys[m];
        stats.motif_conversions[m] += j.converted;
      }
      if (j.checkout_day >= 0) {
        ++stats.checkout_journeys_by_day[static_cast<size_t>(j.checkout_day)];
        stats.purchases_by_day[static_cast<size_t>(j.checkout_day)] += j.converted;
      }
    }
    out.truth_csv.set_end(p);
  }
};

// ------------------------------------------------------------------ truth JSON

std::string format_date(int64_t epoch_day) { return format_iso8601(epoch_day * 86400 * 1000).substr(0, 10); }

nlohmann::ordered_json truth_json(const GeneratorOptions& options, const Model& model, const Stats& stats,
                                  int64_t epoch_day0, const std::string& csv_path) {
  using json = nlohmann::ordered_json;
  json truth;
  truth["generator"] = "journeymap synthetic omnichannel e-commerce journeys";
  truth["format_version"] = 1;
  // num_threads is left out on purpose: the files do not depend on it.
  truth["options"] = {{"journeys", options.journeys},           {"seed", options.seed},
                      {"start_date", options.start_date},       {"days", options.days},
                      {"spike_day", options.spike_day},         {"anomaly_fraction", options.anomaly_fraction}};
  truth["files"] = {{"events_csv", base_name(csv_path)}, {"truth_csv", base_name(truth_csv_path_for(csv_path))}};
  truth["truth_csv_columns"] = {"customer_id", "journey_number", "start_timestamp", "end_timestamp",
                                "n_events",    "segment",        "converted",       "motif",
                                "anomaly"};
  truth["counts"] = {{"customers", stats.customers},     {"journeys", stats.journeys},
                     {"events", stats.events},           {"conversions", stats.conversions},
                     {"anomalies", stats.anomalies}};

  json touchpoints = json::array();
  for (int t = 0; t < kTouchpointCount; ++t) touchpoints.push_back(touchpoint_name(t));
  json channels = json::array();
  for (int c = 0; c < kChannelCount; ++c) channels.push_back(channel_name(c));
  truth["touchpoints"] = touchpoints;
  truth["channels"] = channels;
  truth["conversion_touchpoint"] = touchpoint_name(kPurchase);
  truth["journey_rules"] = {
      {"session_gap_seconds", kGeneratedJourneyGapSeconds},
      {"max_gap_within_journey_seconds", kMaxGapSeconds},
      {"max_journey_duration_seconds", kMaxJourneySeconds},
      {"min_gap_between_journeys_seconds", 3 * kSecondsPerDay},
      {"journeys_per_customer", {1, kMaxJourneysPerCustomer}},
      {"journeys_per_customer_probabilities", {0.60, 0.28, 0.12}},
  };

  json segments = json::array();
  for (int s = 0; s < kSegmentCount; ++s) {
    const SegmentSpec& spec = model.segments[s];
    segments.push_back({
        {"name", spec.name},
        {"share", spec.share},
        {"description", spec.description},
        {"length_range", {spec.length_min, spec.length_max}},
        {"expected_conversion_rate", spec.expected_conversion_rate},
        {"checkout_intent", spec.checkout_intent},
        {"web_device_probability", spec.primary_web_probability},
        {"observed",
         {{"customers", stats.segment_customers[s]},
          {"journeys", stats.segment_journeys[s]},
          {"events", stats.segment_events[s]},
          {"conversions", stats.segment_conversions[s]},
          {"conversion_rate", rate(stats.segment_conversions[s], stats.segment_journeys[s])},
          {"mean_length", rate(stats.segment_events[s], stats.segment_journeys[s])}}},
    });
  }
  truth["segments"] = segments;

  json motifs = json::array();
  for (int m = 0; m < kMotifCount; ++m) {
    const MotifSpec& motif = model.motifs[m];
    json items = json::array();
    for (uint8_t item : motif.items) items.push_back(touchpoint_name(item));
    const int64_t with = stats.motif_journeys[m];
    const int64_t with_conversions = stats.motif_conversions[m];
    motifs.push_back({
        {"name", motif.name},
        {"items", items},
        {"effect", motif.effect},
        {"containment", "subsequence"},
        {"description", motif.description},
        {"intended_conversion_rate_with", motif.intended_rate_with},
        {"intended_conversion_rate_without", motif.intended_rate_without},
        {"observed",
         {{"journeys_with", with},
          {"conversions_with", with_conversions},
          {"conversion_rate_with", rate(with_conversions, with)},
          {"journeys_without", stats.journeys - with},
          {"conversions_without", stats.conversions - with_conversions},
          {"conversion_rate_without", rate(stats.conversions - with_conversions, stats.journeys - with)}}},
    });
  }
  truth["motifs"] = motifs;

  json kinds = json::array();
  const char* descriptions[kAnomalyKindCount] = {
      "", "home <-> search repeated 15-40 times, 2-20 s apart",
      "home, product_view, add_to_cart, then 8-20 checkout attempts 2-8 s apart and nothing more",
      "40-120 product_view/search hits 1-3 s apart on web"};
  for (int k = 1; k < kAnomalyKindCount; ++k)
    kinds.push_back({{"name", anomaly_name(k)}, {"description", descriptions[k]}, {"count", stats.anomalies_by_kind[k]}});
  truth["anomalies"] = {{"fraction", options.anomaly_fraction}, {"count", stats.anomalies}, {"kinds", kinds}};

  // Checkout abandonment by the day of a journey's first checkout event.
  int64_t base_checkouts = 0, base_purchases = 0;
  for (size_t d = 0; d < stats.checkout_journeys_by_day.size(); ++d) {
    if (static_cast<int>(d) == options.spike_day) continue;
    base_checkouts += stats.checkout_journeys_by_day[d];
    base_purchases += stats.purchases_by_day[d];
  }
  json spike;
  spike["metric"] = "checkout_abandonment";
  spike["definition"] =
      "share of journeys with a checkout event that end without purchase, by UTC day of the first checkout";
  spike["day"] = options.spike_day;
  spike["date"] = options.spike_day >= 0 ? json(format_date(epoch_day0 + options.spike_day)) : json(nullptr);
  spike["intended_checkout_conversion"] = {{"baseline", kCheckoutConversion},
                                           {"with_conversion_motif", kMotifCheckoutConversion},
                                           {"spike_day", kSpikeCheckoutConversion}};
  spike["expected_spike_rate"] = options.spike_day >= 0 ? 1.0 - kSpikeCheckoutConversion : 0.0;
  spike["baseline_rate"] = 1.0 - rate(base_purchases, base_checkouts);
  if (options.spike_day >= 0) {
    const int64_t checkouts = stats.checkout_journeys_by_day[static_cast<size_t>(options.spike_day)];
    const int64_t purchases = stats.purchases_by_day[static_cast<size_t>(options.spike_day)];
    spike["spike_rate"] = checkouts > 0 ? 1.0 - rate(purchases, checkouts) : 0.0;
  } else {
    spike["spike_rate"] = nullptr;
  }
  spike["daily_checkout_journeys"] = stats.checkout_journeys_by_day;
  spike["daily_purchases"] = stats.purchases_by_day;
  truth["spike"] = spike;
  if (options.experiment_day >= 0) {
    json lift;
    for (int segment = 0; segment < kSegmentCount; ++segment) lift[segment_name(segment)] = options.experiment_lift[segment];
    truth["experiment"] = {{"dimension_column", "variant"},
                           {"start_day", options.experiment_day},
                           {"start_date", format_date(epoch_day0 + options.experiment_day)},
                           {"assignment", "each customer A or B with probability 1/2"},
                           {"effect", "B adds this much to the probability that a checkout becomes a purchase"},
                           {"checkout_purchase_lift_by_segment", lift}};
  }
  if (options.weekly_pattern || options.campaign_day >= 0 || options.outage_day >= 0) {
    json calendar;
    if (options.weekly_pattern)
      calendar["weekday_start_weight_monday_first"] = std::vector<double>(kWeekdayStartWeight.begin(), kWeekdayStartWeight.end());
    if (options.campaign_day >= 0)
      calendar["campaign"] = {{"start_day", options.campaign_day},
                              {"start_date", format_date(epoch_day0 + options.campaign_day)},
                              {"days", options.campaign_days},
                              {"start_lift", options.campaign_lift},
                              {"covariates_file", base_name(covariates_path_for(csv_path))}};
    if (options.outage_day >= 0)
      calendar["outage"] = {{"start_day", options.outage_day},
                            {"start_date", format_date(epoch_day0 + options.outage_day)},
                            {"days", options.outage_days},
                            {"effect", "no journey starts on these days"}};
    truth["calendar"] = calendar;
  }
  if (options.drift_day >= 0)
    truth["drift"] = {{"start_day", options.drift_day},
                      {"start_date", format_date(epoch_day0 + options.drift_day)},
                      {"effect", "journeys starting on or after the day are made on the web with a quarter of their "
                                 "segment's usual probability (the rest on the app)"}};
  if (options.checkout_offers) {
    json offers = json::array(), effects = json::object(), policy = json::object();
    for (int k = 0; k < kOfferCount; ++k) {
      offers.push_back(offer_name(k));
      json by_segment;
      for (int segment = 0; segment < kSegmentCount; ++segment) by_segment[segment_name(segment)] = kOfferEffect[k][segment];
      effects[offer_name(k)] = by_segment;
    }
    for (int device = 0; device < 2; ++device) {
      json row;
      for (int k = 0; k < kOfferCount; ++k) row[offer_name(k)] = kOfferPropensity[device][k];
      policy[device == 0 ? "web" : "app"] = row;
    }
    truth["checkout_offers"] = {
        {"action_column", "offer"},
        {"propensity_column", "offer_propensity"},
        {"decision", "at every checkout of a normal journey, logged on the checkout event"},
        {"actions", offers},
        {"effect", "added to the probability that the checkout becomes a purchase, clamped to [0, 1]"},
        {"checkout_purchase_effect_by_segment", effects},
        {"logging_policy_by_main_device", policy},
        {"truth_csv_columns",
         "offer, offer_propensity; p_purchase_<offer>: the purchase probability under each offer; propensity_<offer>: "
         "the logging policy's probability of each offer"}};
  }
  return truth;
}

bool in_days(int day, int first, int count) { return first >= 0 && day >= first && day < first + count; }

// Relative chance that a journey starts on each day (empty: uniform, the default datasets' bytes):
// the weekday pattern, times 1 + lift on campaign days, 0 on outage days.
std::vector<double> start_day_weights(const GeneratorOptions& options, int64_t epoch_day0) {
  if (!options.weekly_pattern && options.campaign_day < 0 && options.outage_day < 0) return {};
  std::vector<double> weight(static_cast<size_t>(options.days), 1.0);
  for (int d = 0; d < options.days; ++d) {
    const int64_t monday_based = ((epoch_day0 + d) % 7 + 7 + 3) % 7;  // 1970-01-01 was a Thursday
    if (options.weekly_pattern) weight[static_cast<size_t>(d)] *= kWeekdayStartWeight[static_cast<size_t>(monday_based)];
    if (in_days(d, options.campaign_day, options.campaign_days)) weight[static_cast<size_t>(d)] *= 1.0 + options.campaign_lift;
    if (in_days(d, options.outage_day, options.outage_days)) weight[static_cast<size_t>(d)] = 0.0;
  }
  return weight;
}

// The campaign as a covariates file for the metric alerts: every day of the period, campaign 1 or 0.
void write_campaign_covariates(const GeneratorOptions& options, int64_t epoch_day0, const std::string& path) {
  std::string text = "date,campaign\n";
  for (int d = 0; d <= options.days; ++d)
    text += format_date(epoch_day0 + d) + (in_days(d, options.campaign_day, options.campaign_days) ? ",1\n" : ",0\n");
  PendingFile file(path);
  file.write(text);
  file.close();
  file.commit();
}

}  // namespace

std::string covariates_path_for(const std::string& csv_path) {
  const bool has_csv = csv_path.size() >= 4 && csv_path.compare(csv_path.size() - 4, 4, ".csv") == 0;
  return (has_csv ? csv_path.substr(0, csv_path.size() - 4) : csv_path) + ".covariates.csv";
}

std::string truth_json_path_for(const std::string& csv_path) {
  const bool has_csv = csv_path.size() >= 4 && csv_path.compare(csv_path.size() - 4, 4, ".csv") == 0;
  return (has_csv ? csv_path.substr(0, csv_path.size() - 4) : csv_path) + ".truth.json";
}

std::string truth_csv_path_for(const std::string& csv_path) {
  const bool has_csv = csv_path.size() >= 4 && csv_path.compare(csv_path.size() - 4, 4, ".csv") == 0;
  return (has_csv ? csv_path.substr(0, csv_path.size() - 4) : csv_path) + ".truth.csv";
}

GeneratorSummary generate_dataset(const GeneratorOptions& options, const std::string& csv_path) {
  validate(options, csv_path);
  const CivilDate start = parse_start_date(options.start_date);
  const int64_t epoch_day0 = days_from_civil(start.year, start.month, start.day);
  const Model& model = default_model();
  const int threads = resolve_thread_count(options.num_threads);

  const std::filesystem::path parent = std::filesystem::path(csv_path).parent_path();
  if (!parent.empty()) {
    std::error_code error;
    std::filesystem::create_directories(parent, error);  // a failure shows up when opening
  }

  const Plan plan = make_plan(options);
  TextFormat format;
  int64_t capacity = 99999999;
  while (plan.customers > capacity) {
    ++format.customer_digits;
    capacity = capacity * 10 + 9;
  }
  // Journeys start before day `days` and last < 1 day, so events fall on days 0 .. days.
  format.day_prefix.resize(static_cast<size_t>(options.days) + 1);
  for (size_t d = 0; d < format.day_prefix.size(); ++d) {
    const std::string text = format_date(epoch_day0 + static_cast<int64_t>(d)) + "T";
    std::memcpy(format.day_prefix[d].data(), text.data(), 11);
  }
  for (int t = 0; t < kTouchpointCount; ++t) format.touchpoint_field[t] = std::string(touchpoint_name(t)) + ",";
  for (int c = 0; c < kChannelCount; ++c) format.channel_field[c] = std::string(channel_name(c)) + ",";

  PendingFile events_file(csv_path);
  PendingFile truth_csv_file(truth_csv_path_for(csv_path));
  PendingFile truth_json_file(truth_json_path_for(csv_path));
  events_file.write(std::string("customer_id,timestamp,touchpoint,channel,value,conversion") +
                    (options.experiment_day >= 0 ? ",variant" : "") +
                    (options.checkout_offers ? ",offer,offer_propensity" : "") + "\n");
  std::string truth_header =
      "customer_id,journey_number,start_timestamp,end_timestamp,n_events,segment,converted,motif,anomaly";
  if (options.checkout_offers) {
    truth_header += ",offer,offer_propensity";
    for (int k = 0; k < kOfferCount; ++k) truth_header += std::string(",p_purchase_") + offer_name(k);
    for (int k = 0; k < kOfferCount; ++k) truth_header += std::string(",propensity_") + offer_name(k);
  }
  truth_csv_file.write(truth_header + "\n");

  Calendar calendar;
  calendar.days = options.days;
  calendar.spike_day = options.spike_day;
  calendar.experiment_day = options.experiment_day;
  for (int segment = 0; segment < kSegmentCount; ++segment) calendar.experiment_lift[segment] = options.experiment_lift[segment];
  calendar.checkout_offers = options.checkout_offers;
  calendar.drift_day = options.drift_day;
  calendar.start_weight = start_day_weights(options, epoch_day0);
  if (options.campaign_day >= 0) write_campaign_covariates(options, epoch_day0, covariates_path_for(csv_path));
  const BlockRenderer renderer{model, options, plan, format, calendar};
  const int64_t window = static_cast<int64_t>(std::max(2, threads * kBlocksPerThreadInWindow));
  std::vector<BlockBuffer> rendering(static_cast<size_t>(window)), writing(static_cast<size_t>(window));
  Stats total;
  total.reset(options.days + 1);
  std::future<void> pending_write;
  for (int64_t first = 0; first < plan.blocks; first += window) {
    const int64_t n = std::min(window, plan.blocks - first);
    parallel_for(n, threads, [&](int64_t i) { renderer.render(first + i, rendering[static_cast<size_t>(i)]); });
    for (int64_t i = 0; i < n; ++i) total.add(rendering[static_cast<size_t>(i)].stats);
    if (pending_write.valid()) pending_write.get();
    std::swap(rendering, writing);
    // The previous window is written while the next one renders.
    pending_write = std::async(std::launch::async, [&, n] {
      for (int64_t i = 0; i < n; ++i) {
        const BlockBuffer& block = writing[static_cast<size_t>(i)];
        events_file.write(block.events_csv.data(), block.events_csv.size());
        truth_csv_file.write(block.truth_csv.data(), block.truth_csv.size());
      }
    });
  }
  if (pending_write.valid()) pending_write.get();
  if (total.journeys != options.journeys) throw std::logic_error("generator wrote the wrong number of journeys");

  truth_json_file.write(truth_json(options, model, total, epoch_day0, csv_path).dump(2) + "\n");
  events_file.close();
  truth_csv_file.close();
  truth_json_file.close();
  truth_json_file.commit();
  truth_csv_file.commit();
  events_file.commit();

  GeneratorSummary summary;
  summary.customers = total.customers;
  summary.journeys = total.journeys;
  summary.events = total.events;
  summary.conversions = total.conversions;
  summary.anomalies = total.anomalies;
  summary.csv_path = csv_path;
  summary.truth_json_path = truth_json_path_for(csv_path);
  summary.truth_csv_path = truth_csv_path_for(csv_path);
  if (options.campaign_day >= 0) summary.covariates_path = covariates_path_for(csv_path);
  return summary;
}

}  // namespace jm
