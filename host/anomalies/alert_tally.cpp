// Counting, adding and storing the alerts' bucket tally (alert_tally.hpp).
#include "host/anomalies/alert_tally.hpp"

#include <algorithm>
#include <limits>
#include <numeric>
#include <cstdint>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "journeymap/common.hpp"
#include "journeymap/covariates.hpp"
#include "journeymap/feature_rules.hpp"
#include "journeymap/result_file.hpp"

namespace jm {
namespace {

// Most buckets a series may have (alerts: choose a larger bucket_seconds beyond).
constexpr int64_t kMaxBuckets = 1000000;
// Touchpoint x bucket cells counted in a dense array up to this many (32 MB of four counters).
constexpr int64_t kMaxDenseCells = int64_t{1} << 20;

void check_bucket_seconds(int64_t bucket_seconds) {
  if (bucket_seconds < 1 || bucket_seconds > kMaxBucketSeconds)
    throw ConfigError("alerts: bucket_seconds must be between 1 and " + std::to_string(kMaxBucketSeconds));
}

void check_bucket_count(int64_t n_buckets, int64_t bucket_seconds) {
  if (n_buckets > kMaxBuckets)
    throw ConfigError("alerts: " + std::to_string(n_buckets) + " buckets of " + std::to_string(bucket_seconds) +
                      " s; choose a larger bucket_seconds");
}

// The counters of one (touchpoint, bucket) cell while counting.
struct CellCounts {
  int64_t events = 0, events_squared = 0, reached = 0, abandoned = 0;
};

// Cells in a dense [T x buckets] array while it is small, in a hash map otherwise (a vocabulary of
// a hundred thousand page names over a year of days).
class CellCounter {
 public:
  CellCounter(int64_t n_touchpoints, int64_t n_buckets) : n_buckets_(n_buckets) {
    if (n_touchpoints * n_buckets <= kMaxDenseCells) dense_.resize(static_cast<size_t>(n_touchpoints * n_buckets));
  }
  CellCounts& at(int32_t touchpoint, int64_t bucket) {
    const int64_t key = touchpoint * n_buckets_ + bucket;
    return dense_.empty() ? sparse_[key] : dense_[static_cast<size_t>(key)];
  }
  /// The non-empty cells, sorted by (touchpoint, bucket).
  std::vector<TouchpointBucket> cells() const {
    std::vector<std::pair<int64_t, CellCounts>> entries;
    if (!dense_.empty()) {
      for (size_t key = 0; key < dense_.size(); ++key)
        if (dense_[key].events > 0) entries.push_back({static_cast<int64_t>(key), dense_[key]});
    } else {
      entries.assign(sparse_.begin(), sparse_.end());
      std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    }
    std::vector<TouchpointBucket> out;
    out.reserve(entries.size());
    for (const auto& [key, c] : entries)
      out.push_back(TouchpointBucket{static_cast<int32_t>(key / n_buckets_), key % n_buckets_, c.events, c.events_squared,
                                     c.reached, c.abandoned});
    return out;
  }

 private:
  int64_t n_buckets_;
  std::vector<CellCounts> dense_;
  std::unordered_map<int64_t, CellCounts> sparse_;
};

void add_counts(std::vector<int64_t>& total, int64_t offset, const std::vector<int64_t>& part, int64_t sign,
                const char* what) {
  for (size_t b = 0; b < part.size(); ++b) {
    int64_t& count = total[static_cast<size_t>(offset) + b];
    count += sign * part[b];
    if (count < 0) throw Error(fmt::format("alert tally: {} below zero (a part taken away that was never added)", what));
  }
}

// Merges sorted sparse lists after shifting each side's buckets by its offset; zeros dropped.
template <typename Item, typename Key, typename Combine>
std::vector<Item> merged(std::vector<Item> total, int64_t total_shift, std::vector<Item> part, int64_t part_shift,
                         Key key, Combine combine) {
  for (Item& item : total) item.bucket += total_shift;
  for (Item& item : part) item.bucket += part_shift;
  std::vector<Item> out;
  out.reserve(total.size() + part.size());
  size_t a = 0, b = 0;
  while (a < total.size() || b < part.size()) {
    if (b == part.size() || (a < total.size() && key(total[a]) < key(part[b]))) {
      out.push_back(total[a++]);
    } else if (a == total.size() || key(part[b]) < key(total[a])) {
      Item item{};
      combine(item, part[b++]);
      out.push_back(item);
    } else {
      Item item = total[a++];
      combine(item, part[b++]);
      out.push_back(item);
    }
  }
  return out;
}

// Drops the leading buckets no journey starts in and the trailing ones no journey ends in.
void trim_buckets(AlertTally& tally) {
  const int64_t n = tally.n_buckets();
  int64_t first = 0, last = n - 1;
  while (first < n && tally.started[static_cast<size_t>(first)] == 0) ++first;
  while (last >= first && tally.ended[static_cast<size_t>(last)] == 0) --last;
  if (first > last) {  // no journeys left
    tally.started.clear(), tally.ended.clear(), tally.converted.clear(), tally.lengths.clear(), tally.cells.clear();
    tally.first_bucket = 0;
    return;
  }
  if (first == 0 && last == n - 1) return;
  const auto cut = [&](std::vector<int64_t>& v) { v = std::vector<int64_t>(v.begin() + first, v.begin() + last + 1); };
  cut(tally.started), cut(tally.ended), cut(tally.converted);
  for (LengthCount& l : tally.lengths) {
    if (l.bucket < first || l.bucket > last) throw Error("alert tally: journey lengths outside the journeys' buckets");
    l.bucket -= first;
  }
  for (TouchpointBucket& c : tally.cells) {
    if (c.bucket < first || c.bucket > last) throw Error("alert tally: events outside the journeys' buckets");
    c.bucket -= first;
  }
  tally.first_bucket += first;
}

}  // namespace

AlertTally tally_alerts(const JourneySet& journeys, int64_t bucket_seconds) {
  check_bucket_seconds(bucket_seconds);
  AlertTally tally;
  tally.bucket_seconds = bucket_seconds;
  tally.n_touchpoints = journeys.touchpoints.size();
  tally.touchpoint_events.assign(static_cast<size_t>(tally.n_touchpoints), 0);
  const int64_t n_journeys = journeys.size();
  if (n_journeys == 0) return tally;
  const int64_t bucket_ms = bucket_seconds * 1000;
  const auto bucket_of = [&](int64_t ms) { return feature_rules::floor_div(ms, bucket_ms); };
  int64_t first = bucket_of(journeys.start_ms[0]), last = bucket_of(journeys.end_ms[0]);
  for (int64_t j = 0; j < n_journeys; ++j) {
    first = std::min(first, bucket_of(journeys.start_ms[j]));
    last = std::max(last, bucket_of(journeys.end_ms[j]));
  }
  const int64_t n_buckets = last - first + 1;
  check_bucket_count(n_buckets, bucket_seconds);
  tally.first_bucket = first;
  tally.started.assign(static_cast<size_t>(n_buckets), 0);
  tally.ended.assign(static_cast<size_t>(n_buckets), 0);
  tally.converted.assign(static_cast<size_t>(n_buckets), 0);

  // Journeys per (bucket, length), one map for all buckets: bucket in the high bits (< 2^20 buckets).
  std::unordered_map<uint64_t, int64_t> length_counts;
  CellCounter cells(tally.n_touchpoints, n_buckets);
  // A journey's events of one touchpoint in one bucket are one run (events are in time order, so
  // buckets never go back): counted per touchpoint and flushed, squared, when the bucket changes.
  std::vector<int64_t> run_count(static_cast<size_t>(tally.n_touchpoints), 0);
  std::vector<int32_t> run_touchpoints;
  std::vector<int64_t> reached_in(static_cast<size_t>(tally.n_touchpoints), -1);  // journey that last reached it
  int64_t run_bucket = -1;
  const auto flush_run = [&] {
    for (const int32_t t : run_touchpoints) {
      const int64_t c = run_count[static_cast<size_t>(t)];
      cells.at(t, run_bucket).events_squared += c * c;
      run_count[static_cast<size_t>(t)] = 0;
    }
    run_touchpoints.clear();
  };
  for (int64_t j = 0; j < n_journeys; ++j) {
    const int64_t b = bucket_of(journeys.start_ms[j]) - first;
    const bool converted = journeys.converted[j] != 0;
    ++tally.started[static_cast<size_t>(b)];
    ++tally.ended[static_cast<size_t>(bucket_of(journeys.end_ms[j]) - first)];
    tally.converted[static_cast<size_t>(b)] += converted;
    ++length_counts[static_cast<uint64_t>(b) << 43 | static_cast<uint64_t>(journeys.length(j))];
    for (int64_t e = journeys.offsets[j]; e < journeys.offsets[j + 1]; ++e) {
      const int32_t t = journeys.touchpoint[e];
      const int64_t eb = bucket_of(journeys.timestamp_ms[e]) - first;
      ++tally.touchpoint_events[static_cast<size_t>(t)];
      if (eb != run_bucket) flush_run(), run_bucket = eb;
      CellCounts& cell = cells.at(t, eb);
      ++cell.events;
      if (run_count[static_cast<size_t>(t)]++ == 0) run_touchpoints.push_back(t);
      if (reached_in[static_cast<size_t>(t)] != j) {  // the first event at t decides the bucket
        reached_in[static_cast<size_t>(t)] = j;
        ++cell.reached;
        cell.abandoned += converted ? 0 : 1;
      }
    }
    flush_run();
  }
  std::vector<std::pair<uint64_t, int64_t>> counts(length_counts.begin(), length_counts.end());
  std::sort(counts.begin(), counts.end());
  for (const auto& [key, count] : counts)
    tally.lengths.push_back(LengthCount{static_cast<int64_t>(key >> 43), static_cast<int64_t>(key & ((uint64_t{1} << 43) - 1)), count});
  tally.cells = cells.cells();
  return tally;
}

void add_alert_tally(AlertTally& total, const AlertTally& part, int64_t sign) {
  if (sign != 1 && sign != -1) throw Error("alert tally: sign must be +1 or -1");
  if (total.bucket_seconds != part.bucket_seconds)
    throw Error(fmt::format("alert tally: buckets of {} s cannot be added to buckets of {} s", part.bucket_seconds,
                            total.bucket_seconds));
  if (part.n_touchpoints > total.n_touchpoints) {
    total.touchpoint_events.resize(static_cast<size_t>(part.n_touchpoints), 0);
    total.n_touchpoints = part.n_touchpoints;
  }
  for (size_t t = 0; t < part.touchpoint_events.size(); ++t) {
    total.touchpoint_events[t] += sign * part.touchpoint_events[t];
    if (total.touchpoint_events[t] < 0) throw Error("alert tally: touchpoint events below zero");
  }
  if (part.n_buckets() == 0) return;
  // One bucket range covering both, then the counts added, then the range cut to the journeys left.
  const int64_t first = total.n_buckets() == 0 ? part.first_bucket : std::min(total.first_bucket, part.first_bucket);
  const int64_t end = std::max(total.n_buckets() == 0 ? part.first_bucket + part.n_buckets()
                                                      : total.first_bucket + total.n_buckets(),
                               part.first_bucket + part.n_buckets());
  check_bucket_count(end - first, total.bucket_seconds);
  const int64_t total_shift = total.n_buckets() == 0 ? 0 : total.first_bucket - first;
  const int64_t part_shift = part.first_bucket - first;
  if (total_shift + total.n_buckets() > end - first || part_shift + part.n_buckets() > end - first)
    throw Error("alert tally: bucket ranges that do not line up");
  for (auto* counts : {&total.started, &total.ended, &total.converted}) {
    std::vector<int64_t> wide(static_cast<size_t>(end - first), 0);
    std::copy(counts->begin(), counts->end(), wide.begin() + total_shift);
    *counts = std::move(wide);
  }
  add_counts(total.started, part_shift, part.started, sign, "journeys started");
  add_counts(total.ended, part_shift, part.ended, sign, "journeys ended");
  add_counts(total.converted, part_shift, part.converted, sign, "conversions");
  total.lengths = merged(
      std::move(total.lengths), total_shift, part.lengths, part_shift,
      [](const LengthCount& l) { return std::make_pair(l.bucket, l.length); },
      [&](LengthCount& into, const LengthCount& from) {
        into.bucket = from.bucket, into.length = from.length;
        into.journeys += sign * from.journeys;
        if (into.journeys < 0) throw Error("alert tally: journey lengths below zero");
      });
  total.lengths.erase(std::remove_if(total.lengths.begin(), total.lengths.end(),
                                     [](const LengthCount& l) { return l.journeys == 0; }),
                      total.lengths.end());
  total.cells = merged(
      std::move(total.cells), total_shift, part.cells, part_shift,
      [](const TouchpointBucket& c) { return std::make_pair(c.touchpoint, c.bucket); },
      [&](TouchpointBucket& into, const TouchpointBucket& from) {
        into.touchpoint = from.touchpoint, into.bucket = from.bucket;
        into.events += sign * from.events;
        into.events_squared += sign * from.events_squared;
        into.reached += sign * from.reached;
        into.abandoned += sign * from.abandoned;
        if (into.events < 0 || into.events_squared < 0 || into.reached < 0 || into.abandoned < 0)
          throw Error("alert tally: touchpoint counts below zero");
      });
  total.cells.erase(std::remove_if(total.cells.begin(), total.cells.end(),
                                   [](const TouchpointBucket& c) { return c.events == 0; }),
                    total.cells.end());
  total.first_bucket = first;
  trim_buckets(total);
}

MetricAlerts update_metric_alerts(const AlertTally& base, const JourneySet& removed, const JourneySet& added,
                                  const JourneySet& merged_journeys, const AlertOptions& options, AlertTally* tally) {
  AlertTally total = base;
  add_alert_tally(total, tally_alerts(removed, options.bucket_seconds), -1);
  add_alert_tally(total, tally_alerts(added, options.bucket_seconds), +1);
  if (merged_journeys.touchpoints.size() > total.n_touchpoints) {
    total.n_touchpoints = merged_journeys.touchpoints.size();
    total.touchpoint_events.resize(static_cast<size_t>(total.n_touchpoints), 0);
  }
  int64_t journeys = 0;
  for (const int64_t n : total.started)
    if (__builtin_add_overflow(journeys, n, &journeys)) throw Error("alert tally: journeys overflow");
  if (journeys != merged_journeys.size())
    throw Error(fmt::format("--append: the alert buckets of the base and the new journeys add up to {} journeys, the "
                            "merged set has {}",
                            journeys, merged_journeys.size()));
  MetricAlerts alerts = finish_metric_alerts(total, merged_journeys, options);
  if (tally != nullptr) *tally = std::move(total);
  return alerts;
}

void write_alert_tally(ResultWriter& writer, const AlertTally& tally) {
  const std::string g = "/alerts/tally";
  writer.write(g + "/shape", std::vector<int64_t>{tally.bucket_seconds, tally.n_touchpoints, tally.first_bucket,
                                                  tally.n_buckets()});
  writer.write(g + "/started", tally.started);
  writer.write(g + "/ended", tally.ended);
  writer.write(g + "/converted", tally.converted);
  std::vector<int64_t> length_bucket, length, length_journeys;
  for (const LengthCount& l : tally.lengths)
    length_bucket.push_back(l.bucket), length.push_back(l.length), length_journeys.push_back(l.journeys);
  writer.write(g + "/length_bucket", length_bucket);
  writer.write(g + "/length", length);
  writer.write(g + "/length_journeys", length_journeys);
  writer.write(g + "/touchpoint_events", tally.touchpoint_events);
  std::vector<int32_t> touchpoint;
  std::vector<int64_t> bucket, events, squared, reached, abandoned;
  for (const TouchpointBucket& c : tally.cells) {
    touchpoint.push_back(c.touchpoint), bucket.push_back(c.bucket), events.push_back(c.events);
    squared.push_back(c.events_squared), reached.push_back(c.reached), abandoned.push_back(c.abandoned);
  }
  writer.write(g + "/cell_touchpoint", touchpoint);
  writer.write(g + "/cell_bucket", bucket);
  writer.write(g + "/cell_events", events);
  writer.write(g + "/cell_events_squared", squared);
  writer.write(g + "/cell_reached", reached);
  writer.write(g + "/cell_abandoned", abandoned);
}

AlertTally read_alert_tally(const ResultReader& reader, const std::string& file, int32_t n_touchpoints,
                            int64_t n_journeys, int64_t n_events) {
  const std::string g = "/alerts/tally";
  const auto fail = [&](const std::string& what) { return Error(file + ": " + g + "/" + what); };
  const std::vector<int64_t> shape = reader.read_int64(g + "/shape");
  if (shape.size() != 4) throw fail("shape: expected 4 values");
  AlertTally tally;
  tally.bucket_seconds = shape[0];
  tally.first_bucket = shape[2];
  const int64_t n_buckets = shape[3];
  if (shape[1] != n_touchpoints)
    throw fail(fmt::format("shape: {} touchpoints, the vocabulary has {}", shape[1], n_touchpoints));
  tally.n_touchpoints = n_touchpoints;
  if (tally.bucket_seconds < 1 || tally.bucket_seconds > kMaxBucketSeconds || n_buckets < 0 || n_buckets > kMaxBuckets ||
      (n_buckets > 0) != (n_journeys > 0))
    throw fail("shape: bucket length or count out of range");
  // Every bucket's start time must be a valid time in ms.
  const int64_t limit = std::numeric_limits<int64_t>::max() / (tally.bucket_seconds * 1000) - n_buckets - 1;
  if (tally.first_bucket < -limit || tally.first_bucket > limit) throw fail("shape: the first bucket is out of range");
  // Counts are bounded by the journeys and events the base's /journeys hold, so sums cannot overflow.
  const auto read_counts = [&](const std::string& name, int64_t size, int64_t most) {
    std::vector<int64_t> values = reader.read_int64(g + "/" + name);
    if (size >= 0 && static_cast<int64_t>(values.size()) != size) throw fail(name + fmt::format(": expected {} values", size));
    for (const int64_t v : values)
      if (v < 0 || v > most) throw fail(name + fmt::format(": a value outside [0, {}]", most));
    return values;
  };
  const auto sum = [](const std::vector<int64_t>& values) { return std::accumulate(values.begin(), values.end(), int64_t{0}); };
  tally.started = read_counts("started", n_buckets, n_journeys);
  tally.ended = read_counts("ended", n_buckets, n_journeys);
  tally.converted = read_counts("converted", n_buckets, n_journeys);
  if (sum(tally.started) != n_journeys || sum(tally.ended) != n_journeys)
    throw fail(fmt::format("started, ended: not the {} journeys of /journeys", n_journeys));
  if (n_buckets > 0 && (tally.started.front() == 0 || tally.ended.back() == 0))
    throw fail("started, ended: the buckets do not start and end with journeys");
  for (int64_t b = 0; b < n_buckets; ++b)
    if (tally.converted[static_cast<size_t>(b)] > tally.started[static_cast<size_t>(b)])
      throw fail("converted: more conversions than journeys in a bucket");
  tally.touchpoint_events = read_counts("touchpoint_events", n_touchpoints, n_events);
  if (sum(tally.touchpoint_events) != n_events) throw fail(fmt::format("touchpoint_events: not the {} events of /journeys", n_events));

  const std::vector<int64_t> length_bucket = read_counts("length_bucket", -1, n_buckets - 1);
  const std::vector<int64_t> length = read_counts("length", static_cast<int64_t>(length_bucket.size()), n_events);
  const std::vector<int64_t> length_journeys =
      read_counts("length_journeys", static_cast<int64_t>(length_bucket.size()), n_journeys);
  std::vector<int64_t> journeys_by_length(static_cast<size_t>(n_buckets), 0);
  for (size_t k = 0; k < length_bucket.size(); ++k) {
    const LengthCount l{length_bucket[k], length[k], length_journeys[k]};
    if (l.journeys == 0) throw fail("length_journeys: an empty entry");
    if (!tally.lengths.empty() &&
        std::make_pair(tally.lengths.back().bucket, tally.lengths.back().length) >= std::make_pair(l.bucket, l.length))
      throw fail("length_bucket, length: not sorted");
    journeys_by_length[static_cast<size_t>(l.bucket)] += l.journeys;
    tally.lengths.push_back(l);
  }
  if (journeys_by_length != tally.started) throw fail("length_journeys: not the journeys started in each bucket");

  const std::vector<int32_t> touchpoint = reader.read_int32(g + "/cell_touchpoint");
  const auto n_cells = static_cast<int64_t>(touchpoint.size());
  const std::vector<int64_t> bucket = read_counts("cell_bucket", n_cells, n_buckets - 1),
                             events = read_counts("cell_events", n_cells, n_events),
                             squared = read_counts("cell_events_squared", n_cells, std::numeric_limits<int64_t>::max()),
                             reached = read_counts("cell_reached", n_cells, n_journeys),
                             abandoned = read_counts("cell_abandoned", n_cells, n_journeys);
  std::vector<int64_t> events_by_touchpoint(static_cast<size_t>(n_touchpoints), 0);
  for (int64_t k = 0; k < n_cells; ++k) {
    const auto u = static_cast<size_t>(k);
    const TouchpointBucket c{touchpoint[u], bucket[u], events[u], squared[u], reached[u], abandoned[u]};
    if (c.touchpoint < 0 || c.touchpoint >= n_touchpoints || c.events == 0 || c.abandoned > c.reached ||
        c.events_squared < c.events)
      throw fail("cell_touchpoint, cell_bucket: a cell out of range");
    if (!tally.cells.empty() &&
        std::make_pair(tally.cells.back().touchpoint, tally.cells.back().bucket) >= std::make_pair(c.touchpoint, c.bucket))
      throw fail("cell_touchpoint, cell_bucket: not sorted");
    events_by_touchpoint[static_cast<size_t>(c.touchpoint)] += c.events;
    tally.cells.push_back(c);
  }
  if (events_by_touchpoint != tally.touchpoint_events) throw fail("cell_events: not the events of each touchpoint");
  return tally;
}

}  // namespace jm
