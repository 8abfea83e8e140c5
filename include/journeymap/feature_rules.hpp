// The per-journey feature formulas, written once for both backends: the CPU twin calls
// journey_features() in a parallel loop, the GPU kernel calls it once per thread (one journey each).
//
// Every formula is linear in the journey's length and needs no per-journey scratch memory, so the
// same code runs unchanged on the device and a journey of a million events costs milliseconds:
// distinct counts, revisits and entropies follow precomputed "next event with the same value" links
// (RepeatLinks, built once per journey set), and the median gap is found by bisection on the gap
// value. Sums are accumulated in double in event order and the GPU translation unit is compiled with
// --fmad=false, so both backends agree to the last float bit except for transcendental functions
// (log2, sin, cos), whose device versions differ from glibc by a few ulp.
#pragma once

#include <math.h>  // log2, sin, cos: the global overloads that nvcc also provides on the device

#include <cstdint>

#include "journeymap/common.hpp"

namespace jm {
namespace feature_rules {

/// Fixed leading columns of the feature matrix; the touchpoint-share, channel-share and bigram
/// blocks follow (their offsets are in FeatureLayout). Keep in sync with kScalarFeatureNames.
enum ScalarFeature : int {
  kLength = 0,            ///< events in the feature window
  kDurationSeconds,       ///< last - first event time of the window
  kDistinctTouchpoints,
  kRevisits,              ///< events returning to a touchpoint seen earlier (not an immediate repeat)
  kTouchpointEntropy,     ///< Shannon entropy (bits) of the window's touchpoint frequencies
  kChannelCount,          ///< distinct channels
  kChannelEntropy,        ///< Shannon entropy (bits) of the channel frequencies
  kGapMeanSeconds,        ///< time between consecutive events: mean, median, max (0 below 2 events)
  kGapMedianSeconds,
  kGapMaxSeconds,
  kMomentum,              ///< (events in last quarter of the time span - in first quarter) / (sum); 0 if span is 0
  kStartHour,             ///< UTC hour of day of the first event, fractional [0, 24)
  kStartHourSin,          ///< the same on the unit circle, so 23:30 is close to 00:30
  kStartHourCos,
  kStartWeekday,          ///< 0 = Monday ... 6 = Sunday (UTC)
  kRecencyDays,           ///< reference time - last event of the window, in days
  kCustomerJourneyNumber, ///< 1 for the customer's first journey in the set, 2 for the second, ... (no look-ahead)
  kFirstTouchpoint,       ///< categorical: touchpoint slot of the first event (-1 when the window is empty)
  kLastTouchpoint,        ///< categorical: touchpoint slot of the last event
  kScalarFeatureCount
};

/// Everything the formulas need besides the journey itself. Pointers refer to memory on the side
/// that runs the code (host arrays for the CPU twin, device arrays for the kernel).
struct FeatureLayout {
  int32_t n_columns = 0;
  int32_t touchpoint_share_begin = 0;  ///< first column of the touchpoint-share block
  int32_t n_touchpoint_slots = 0;      ///< top-K touchpoints + "other" (the last slot)
  int32_t channel_share_begin = 0;
  int32_t n_channel_slots = 0;         ///< top-K channels + "other"
  int32_t bigram_begin = 0;
  int32_t n_bigram_buckets = 0;
  const int32_t* touchpoint_slot = nullptr;  ///< [n_touchpoints] share slot of each touchpoint id
  const int32_t* channel_slot = nullptr;     ///< [n_channels]
  const uint32_t* touchpoint_hash = nullptr; ///< [n_touchpoints] hash of the touchpoint's name (bigram buckets)
  int64_t prefix_events = 0;           ///< > 0: only the first k events
  int64_t prefix_ms = 0;               ///< > 0: only events at most this long after the journey's first event
  int64_t cutoff_time_ms = 0;          ///< != 0: only events at or before this time
  bool has_cutoff_time = false;
  int64_t reference_time_ms = 0;       ///< "now" for recency
  /// Repeat links over the journey set's events [n_events] (see link_repeats in features.cpp):
  const int32_t* next_same_touchpoint = nullptr;  ///< distance to the journey's next event with this touchpoint, 0: none
  const int32_t* next_same_channel = nullptr;     ///< the same for the channel
  const uint8_t* first_occurrence = nullptr;      ///< kFirstTouchpointBit / kFirstChannelBit: no earlier event has the value
};

constexpr uint8_t kFirstTouchpointBit = 1;
constexpr uint8_t kFirstChannelBit = 2;

/// End (exclusive) of the events a journey's features may look at: the whole journey (journeys are
/// cut before their outcome, see outcome.hpp), shortened by the prefix and cutoff limits.
JM_HD inline int64_t feature_window_end(const int64_t* timestamp_ms, int64_t begin, int64_t end,
                                        const FeatureLayout& layout) {
  int64_t stop = end;
  if (layout.prefix_events > 0 && stop - begin > layout.prefix_events) stop = begin + layout.prefix_events;
  if (layout.prefix_ms > 0 || layout.has_cutoff_time) {
    for (int64_t e = begin; e < stop; ++e) {
      const bool past_prefix = layout.prefix_ms > 0 && timestamp_ms[e] - timestamp_ms[begin] > layout.prefix_ms;
      const bool past_cutoff = layout.has_cutoff_time && timestamp_ms[e] > layout.cutoff_time_ms;
      if (past_prefix || past_cutoff) {
        stop = e;
        break;
      }
    }
  }
  return stop;
}

/// Bigram bucket of the transition a -> b, from the touchpoints' name hashes (stable across
/// vocabularies, so a fitted feature spec applies to new data).
JM_HD inline int32_t bigram_bucket(uint32_t hash_from, uint32_t hash_to, int32_t n_buckets) {
  uint32_t h = hash_from * 0x9E3779B1u;
  h ^= hash_to + 0x7F4A7C15u + (h << 6) + (h >> 2);
  h ^= h >> 16;
  h *= 0x85EBCA6Bu;
  h ^= h >> 13;
  return static_cast<int32_t>(h % static_cast<uint32_t>(n_buckets));
}

/// floor(a / b) for b > 0 (C++ division truncates towards zero; times before 1970 are negative).
JM_HD inline int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

/// Number of gaps between consecutive events in [begin, end) that are at most `limit`.
JM_HD inline int64_t gaps_at_most(const int64_t* timestamp_ms, int64_t begin, int64_t end, int64_t limit) {
  int64_t count = 0;
  for (int64_t i = begin + 1; i < end; ++i) count += timestamp_ms[i] - timestamp_ms[i - 1] <= limit;
  return count;
}

/// The `rank`-th smallest (0-based) of the gaps between consecutive events in [begin, end), whose
/// smallest and largest values are `low` and `high`: the least g with more than `rank` gaps <= g,
/// found by bisection on g (at most 64 linear passes, no scratch memory).
JM_HD inline int64_t gap_order_statistic(const int64_t* timestamp_ms, int64_t begin, int64_t end, int64_t rank,
                                         int64_t low, int64_t high) {
  while (low < high) {
    const int64_t mid = low + (high - low) / 2;
    if (gaps_at_most(timestamp_ms, begin, end, mid) > rank)
      high = mid;
    else
      low = mid + 1;
  }
  return low;
}

/// Number of events of [i, end) with the value of event i, following the repeat links from i.
JM_HD inline int64_t occurrences_from(const int32_t* next_same, int64_t i, int64_t end) {
  int64_t count = 0;
  for (int64_t k = i; k < end; k += next_same[k]) {
    ++count;
    if (next_same[k] == 0) break;
  }
  return count;
}

/// Writes the features of the events [begin, end) of one journey (its feature window, possibly
/// empty) into `row` [layout.n_columns]. `customer_journey_number` is its rank among its customer's journeys.
JM_HD inline void journey_features(const int32_t* touchpoint, const int32_t* channel, const int64_t* timestamp_ms,
                                   int64_t begin, int64_t end, float customer_journey_number, const FeatureLayout& layout,
                                   float* row) {
  for (int32_t c = 0; c < layout.n_columns; ++c) row[c] = 0.0f;
  row[kCustomerJourneyNumber] = customer_journey_number;
  row[kFirstTouchpoint] = -1.0f;
  row[kLastTouchpoint] = -1.0f;
  const int64_t n = end - begin;
  if (n <= 0) return;

  // Distinct values, revisits and entropies: a value is counted once, at its first occurrence, with
  // the number of its occurrences in the window (the feature window always starts at the journey's
  // first event, so a first occurrence in the journey is one in the window).
  double touchpoint_entropy = 0.0, channel_entropy = 0.0;
  int64_t distinct_touchpoints = 0, distinct_channels = 0, revisits = 0;
  for (int64_t i = begin; i < end; ++i) {
    const bool touchpoint_seen = (layout.first_occurrence[i] & kFirstTouchpointBit) == 0;
    const bool channel_seen = (layout.first_occurrence[i] & kFirstChannelBit) == 0;
    if (touchpoint_seen && touchpoint[i - 1] != touchpoint[i]) ++revisits;
    if (!touchpoint_seen) {
      ++distinct_touchpoints;
      const double p = static_cast<double>(occurrences_from(layout.next_same_touchpoint, i, end)) / static_cast<double>(n);
      touchpoint_entropy -= p * log2(p);
    }
    if (!channel_seen) {
      ++distinct_channels;
      const double p = static_cast<double>(occurrences_from(layout.next_same_channel, i, end)) / static_cast<double>(n);
      channel_entropy -= p * log2(p);
    }
  }

  // Gaps and momentum.
  const int64_t first_ms = timestamp_ms[begin], last_ms = timestamp_ms[end - 1];
  const int64_t span_ms = last_ms - first_ms;
  double gap_mean = 0.0, gap_median = 0.0;
  int64_t gap_max = 0;
  if (n >= 2) {
    int64_t gap_min = timestamp_ms[begin + 1] - timestamp_ms[begin];
    for (int64_t i = begin + 1; i < end; ++i) {
      const int64_t g = timestamp_ms[i] - timestamp_ms[i - 1];
      gap_max = g > gap_max ? g : gap_max;
      gap_min = g < gap_min ? g : gap_min;
    }
    gap_mean = static_cast<double>(span_ms) / static_cast<double>(n - 1);
    const int64_t n_gaps = n - 1;
    const int64_t lower = gap_order_statistic(timestamp_ms, begin, end, (n_gaps - 1) / 2, gap_min, gap_max);
    const int64_t upper = gap_order_statistic(timestamp_ms, begin, end, n_gaps / 2, gap_min, gap_max);
    gap_median = 0.5 * (static_cast<double>(lower) + static_cast<double>(upper));
  }
  double momentum = 0.0;
  if (span_ms > 0) {
    int64_t early = 0, late = 0;
    for (int64_t i = begin; i < end; ++i) {
      const int64_t offset = timestamp_ms[i] - first_ms;
      early += 4 * offset <= span_ms;
      late += 4 * offset >= 3 * span_ms;
    }
    momentum = static_cast<double>(late - early) / static_cast<double>(late + early);
  }

  // Calendar of the first event (UTC); 1970-01-01 was a Thursday (weekday 3 with Monday = 0).
  constexpr int64_t kMsPerDay = 86400000;
  const int64_t day = floor_div(first_ms, kMsPerDay);
  const int64_t ms_of_day = first_ms - day * kMsPerDay;
  const double hour = static_cast<double>(ms_of_day) / 3600000.0;
  const double angle = hour * (6.283185307179586 / 24.0);
  const int64_t weekday = ((day % 7) + 7 + 3) % 7;

  row[kLength] = static_cast<float>(n);
  row[kDurationSeconds] = static_cast<float>(static_cast<double>(span_ms) / 1000.0);
  row[kDistinctTouchpoints] = static_cast<float>(distinct_touchpoints);
  row[kRevisits] = static_cast<float>(revisits);
  row[kTouchpointEntropy] = static_cast<float>(touchpoint_entropy);
  row[kChannelCount] = static_cast<float>(distinct_channels);
  row[kChannelEntropy] = static_cast<float>(channel_entropy);
  row[kGapMeanSeconds] = static_cast<float>(gap_mean / 1000.0);
  row[kGapMedianSeconds] = static_cast<float>(gap_median / 1000.0);
  row[kGapMaxSeconds] = static_cast<float>(static_cast<double>(gap_max) / 1000.0);
  row[kMomentum] = static_cast<float>(momentum);
  row[kStartHour] = static_cast<float>(hour);
  row[kStartHourSin] = static_cast<float>(sin(angle));
  row[kStartHourCos] = static_cast<float>(cos(angle));
  row[kStartWeekday] = static_cast<float>(weekday);
  row[kRecencyDays] = static_cast<float>(static_cast<double>(layout.reference_time_ms - last_ms) / 86400000.0);
  row[kFirstTouchpoint] = static_cast<float>(layout.touchpoint_slot[touchpoint[begin]]);
  row[kLastTouchpoint] = static_cast<float>(layout.touchpoint_slot[touchpoint[end - 1]]);

  // Normalised histograms: share of the window's events per top touchpoint / channel (+ other),
  // and share of its transitions per hashed bigram bucket. Counts are exact in float (< 2^24).
  const float inv_n = static_cast<float>(1.0 / static_cast<double>(n));
  for (int64_t i = begin; i < end; ++i) {
    row[layout.touchpoint_share_begin + layout.touchpoint_slot[touchpoint[i]]] += 1.0f;
    row[layout.channel_share_begin + layout.channel_slot[channel[i]]] += 1.0f;
  }
  for (int32_t s = 0; s < layout.n_touchpoint_slots; ++s) row[layout.touchpoint_share_begin + s] *= inv_n;
  for (int32_t s = 0; s < layout.n_channel_slots; ++s) row[layout.channel_share_begin + s] *= inv_n;
  if (n >= 2 && layout.n_bigram_buckets > 0) {
    for (int64_t i = begin + 1; i < end; ++i)
      row[layout.bigram_begin + bigram_bucket(layout.touchpoint_hash[touchpoint[i - 1]],
                                              layout.touchpoint_hash[touchpoint[i]], layout.n_bigram_buckets)] += 1.0f;
    const float inv_transitions = static_cast<float>(1.0 / static_cast<double>(n - 1));
    for (int32_t b = 0; b < layout.n_bigram_buckets; ++b) row[layout.bigram_begin + b] *= inv_transitions;
  }
}

/// The transform f of a column before standardisation (features.hpp FeatureTransform: 0 identity,
/// 1 log1p, 2 sqrt). Negative inputs of log1p and sqrt (recency with a reference time before the
/// data) are clamped to 0 so that both stay defined.
JM_HD inline double transform_value(double x, uint8_t transform) {
  if (transform == 1) return log1p(x < 0.0 ? 0.0 : x);
  if (transform == 2) return sqrt(x < 0.0 ? 0.0 : x);
  return x;
}

/// One standardised value, (f(x) - mean) / scale: in double, like the fit of mean and scale, then
/// rounded once to float.
JM_HD inline float standardise(float x, uint8_t transform, float mean, float scale) {
  return static_cast<float>((transform_value(static_cast<double>(x), transform) - static_cast<double>(mean)) /
                            static_cast<double>(scale));
}

}  // namespace feature_rules
}  // namespace jm
