// Attribution models (heuristic and Markov removal effect). Host code for both backends.
//
// Why the sums are deterministic: journeys are processed in fixed blocks, each block accumulates its
// own credit, and the blocks are added in block order, so the result does not depend on threads.
//
// Markov chain: a state is the tuple of the last `order` touches (shorter at the start of a path);
// the chain runs start -> states -> conversion | null. P(conversion) is the absorption probability
// into conversion from start; removing id c sends every state containing c to null. Absorption
// probabilities are solved exactly (Gaussian elimination) for small chains and by Gauss-Seidel
// iteration (monotone from 0, to 1e-15) for large ones.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <sstream>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "host/core/records.hpp"
#include "host/core/thread_pool.hpp"
#include "host/flows/attribution_tally.hpp"
#include "journeymap/attribution.hpp"
#include "journeymap/common.hpp"
#include "journeymap/flows.hpp"
#include "journeymap/result_file.hpp"

namespace jm {
namespace {

constexpr int64_t kJourneysPerBlock = 1 << 15;
constexpr uint64_t kStartKey = 0;
constexpr uint64_t kConversionKey = std::numeric_limits<uint64_t>::max();
constexpr uint64_t kNullKey = kConversionKey - 1;
constexpr int64_t kDenseSolveMaxStates = 400;
// First-order counts use a dense [ids x ids] table per block up to this many ids (8 MiB); above it
// the hash map of the higher orders, so memory follows the transitions that occur, not ids^2.
constexpr uint64_t kDenseCountMaxIds = 1024;

struct PairHash {
  size_t operator()(const std::pair<uint64_t, uint64_t>& p) const {
    uint64_t x = p.first * 0x9e3779b97f4a7c15ULL ^ (p.second + 0x7f4a7c159e3779b9ULL + (p.first << 6));
    x ^= x >> 31;
    return static_cast<size_t>(x * 0xbf58476d1ce4e5b9ULL);
  }
};
using TransitionCounts = std::unordered_map<std::pair<uint64_t, uint64_t>, int64_t, PairHash>;

// One chain state and its outgoing counts.
struct StateRow {
  std::vector<std::pair<int32_t, int64_t>> next;  // (state index, count), self loops included
  int64_t to_conversion = 0;
  int64_t total = 0;
};

// Absorption probability into conversion for every state; states with blocked[s] are absorbed in null.
std::vector<double> absorption_probabilities(const std::vector<StateRow>& rows, const std::vector<uint8_t>& blocked) {
  const int64_t n = static_cast<int64_t>(rows.size());
  std::vector<double> v(n, 0.0);
  if (n == 0) return v;
  if (n <= kDenseSolveMaxStates) {
    // (I - P) v = p_conversion on the unblocked states, blocked rows pinned to 0.
    std::vector<double> a(n * n, 0.0), b(n, 0.0);
    for (int64_t s = 0; s < n; ++s) {
      a[s * n + s] = 1.0;
      if (blocked[s] || rows[s].total == 0) continue;
      const double total = static_cast<double>(rows[s].total);
      b[s] = rows[s].to_conversion / total;
      for (const auto& [t, count] : rows[s].next)
        if (!blocked[t]) a[s * n + t] -= count / total;
    }
    for (int64_t col = 0; col < n; ++col) {  // partial pivoting
      int64_t pivot = col;
      for (int64_t r = col + 1; r < n; ++r)
        if (std::abs(a[r * n + col]) > std::abs(a[pivot * n + col])) pivot = r;
      if (pivot != col) {
        for (int64_t k = 0; k < n; ++k) std::swap(a[col * n + k], a[pivot * n + k]);
        std::swap(b[col], b[pivot]);
      }
      const double diagonal = a[col * n + col];
      if (diagonal == 0.0) throw std::logic_error("Markov chain is not absorbing (singular system)");
      for (int64_t r = col + 1; r < n; ++r) {
        const double factor = a[r * n + col] / diagonal;
        if (factor == 0.0) continue;
        for (int64_t k = col; k < n; ++k) a[r * n + k] -= factor * a[col * n + k];
        b[r] -= factor * b[col];
      }
    }
    for (int64_t r = n - 1; r >= 0; --r) {
      double sum = b[r];
      for (int64_t k = r + 1; k < n; ++k) sum -= a[r * n + k] * v[k];
      v[r] = sum / a[r * n + r];
    }
    return v;
  }
  for (int sweep = 0; sweep < 1000000; ++sweep) {
    double change = 0.0;
    for (int64_t s = 0; s < n; ++s) {
      if (blocked[s] || rows[s].total == 0) continue;
      double numerator = static_cast<double>(rows[s].to_conversion), self = 0.0;
      for (const auto& [t, count] : rows[s].next) {
        if (t == s) self += count;
        else if (!blocked[t]) numerator += count * v[t];
      }
      const double updated = numerator / (static_cast<double>(rows[s].total) - self);
      change = std::max(change, std::abs(updated - v[s]));
      v[s] = updated;
    }
    if (change < 1e-15) break;
  }
  return v;
}

// The touches of every journey in CSR form: every event, since journeys hold no outcome events
// (outcome.hpp). A view of the journey set's own arrays.
struct TouchPaths {
  explicit TouchPaths(const JourneySet& journeys)
      : offsets(journeys.offsets), touchpoint(journeys.touchpoint), channel(journeys.channel),
        timestamp_ms(journeys.timestamp_ms) {}
  const std::vector<int64_t>& offsets;
  const std::vector<int32_t>& touchpoint;
  const std::vector<int32_t>& channel;
  const std::vector<int64_t>& timestamp_ms;
};

constexpr int kHeuristicModels = 5;  // first, last, linear, time decay, position based

// Adds the heuristic credit of journeys [first, last) to `credit` ([5 x n_ids]), one journey after
// another.
void credit_journeys(const JourneySet& journeys, const TouchPaths& paths, const std::vector<int32_t>& ids, int32_t n_ids,
                     const AttributionOptions& options, int64_t first_journey, int64_t last_journey, double* credit) {
  const double half_life_ms = options.time_decay_half_life_days * 86400.0 * 1000.0;
  const double middle_share = 1.0 - options.position_first_share - options.position_last_share;
  double* first = credit;
  double* last = first + n_ids;
  double* linear = last + n_ids;
  double* decay = linear + n_ids;
  double* position = decay + n_ids;
  std::vector<double> weights;
  for (int64_t j = first_journey; j < last_journey; ++j) {
    const int64_t begin = paths.offsets[j], end = paths.offsets[j + 1], m = end - begin;
    if (!journeys.converted[j] || m == 0) continue;
    first[ids[begin]] += 1.0;
    last[ids[end - 1]] += 1.0;
    for (int64_t e = begin; e < end; ++e) linear[ids[e]] += 1.0 / static_cast<double>(m);
    // Time decay relative to the conversion: the outcome event's time (the last touch when the
    // journeys carry no outcome times).
    const int64_t conversion_ms =
        journeys.has_outcomes() && journeys.outcome_ms[j] != 0 ? journeys.outcome_ms[j] : journeys.end_ms[j];
    weights.assign(m, 0.0);
    double weight_sum = 0.0;
    for (int64_t e = begin; e < end; ++e) {
      const double age_ms = static_cast<double>(conversion_ms - paths.timestamp_ms[e]);
      weights[e - begin] = std::exp2(-age_ms / half_life_ms);
      weight_sum += weights[e - begin];
    }
    for (int64_t e = begin; e < end; ++e) decay[ids[e]] += weights[e - begin] / weight_sum;
    // Position based (U-shaped); one touch takes everything, two split first/last evenly.
    if (m == 1) {
      position[ids[begin]] += 1.0;
    } else if (m == 2) {
      position[ids[begin]] += 0.5;
      position[ids[begin + 1]] += 0.5;
    } else {
      position[ids[begin]] += options.position_first_share;
      position[ids[end - 1]] += options.position_last_share;
      for (int64_t e = begin + 1; e < end - 1; ++e) position[ids[e]] += middle_share / static_cast<double>(m - 2);
    }
  }
}

void add_into(std::vector<double>& total, std::vector<double>& part) {
  for (size_t k = 0; k < total.size(); ++k) total[k] += part[k];
  std::fill(part.begin(), part.end(), 0.0);
}

// The heuristic credit summed in blocks of kJourneysPerBlock journeys counted from the first journey
// ever added (each block one journey after another, the blocks added in order): the same sums
// whether the journeys come at once or batch by batch, and whatever the number of threads.
struct HeuristicSums {
  std::vector<double> finished;  ///< [5 x n_ids] the finished blocks, added in order
  std::vector<double> open;      ///< [5 x n_ids] the block being filled
  int64_t journeys = 0;          ///< journeys added so far

  void add(const Context& ctx, const JourneySet& journeys_, const TouchPaths& paths, const std::vector<int32_t>& ids,
           int32_t n_ids, const AttributionOptions& options) {
    const auto cells = static_cast<size_t>(kHeuristicModels) * static_cast<size_t>(n_ids);
    if (finished.empty()) finished.assign(cells, 0.0), open.assign(cells, 0.0);
    const int64_t n = journeys_.size();
    // The open block first, up to its end.
    const int64_t filled = journeys % kJourneysPerBlock;
    const int64_t head = filled == 0 ? 0 : std::min(n, kJourneysPerBlock - filled);
    credit_journeys(journeys_, paths, ids, n_ids, options, 0, head, open.data());
    if (head > 0 && (journeys + head) % kJourneysPerBlock == 0) add_into(finished, open);
    // Whole blocks in parallel, a window of them at a time (memory: window x 5 x ids), added in
    // order; what is left opens the next block.
    const int64_t whole = (n - head) / kJourneysPerBlock;
    const int64_t window = 2 * static_cast<int64_t>(resolve_thread_count(ctx.num_threads));
    std::vector<std::vector<double>> blocks(static_cast<size_t>(std::min(whole, window)), std::vector<double>(cells, 0.0));
    for (int64_t done = 0; done < whole; done += window) {
      const int64_t count = std::min(window, whole - done);
      parallel_for(count, ctx.num_threads, [&](int64_t b) {
        const int64_t first = head + (done + b) * kJourneysPerBlock;
        credit_journeys(journeys_, paths, ids, n_ids, options, first, first + kJourneysPerBlock, blocks[b].data());
      });
      for (int64_t b = 0; b < count; ++b) add_into(finished, blocks[b]);  // leaves the block zeroed for reuse
    }
    credit_journeys(journeys_, paths, ids, n_ids, options, head + whole * kJourneysPerBlock, n, open.data());
    journeys += n;
  }

  void finish(int32_t n_ids, AttributionTable& table) const {
    std::vector<double> total = finished, last = open;
    if (total.empty()) total.assign(static_cast<size_t>(kHeuristicModels) * static_cast<size_t>(n_ids), 0.0);
    else add_into(total, last);
    auto column = [&](int model) {
      return std::vector<double>(total.begin() + static_cast<int64_t>(model) * n_ids,
                                 total.begin() + static_cast<int64_t>(model + 1) * n_ids);
    };
    table.first_touch = column(0);
    table.last_touch = column(1);
    table.linear = column(2);
    table.time_decay = column(3);
    table.position_based = column(4);
  }
};

// Ids of a Markov chain over at most `max_ids` states: the `max_ids - 1` most touched ids keep a
// state of their own (ties: lower id first), the others share the last one. Empty when every
// touched id fits.
struct MarkovPooling {
  std::vector<int32_t> state_of;  ///< [n_ids] state of each id
  int32_t n_states = 0;
  int32_t pool = -1;              ///< the shared state
  std::vector<int64_t> touches;   ///< [n_ids] touches of each id
  int64_t pool_touches = 0;       ///< touches of the pooled ids
};

MarkovPooling pool_rare_ids(std::vector<int64_t> touches, int32_t max_ids) {
  MarkovPooling pooling;
  const auto n_ids = static_cast<int32_t>(touches.size());
  std::vector<int32_t> touched;
  for (int32_t id = 0; id < n_ids; ++id)
    if (touches[static_cast<size_t>(id)] > 0) touched.push_back(id);
  if (static_cast<int64_t>(touched.size()) <= max_ids) return pooling;
  std::stable_sort(touched.begin(), touched.end(), [&](int32_t a, int32_t b) {
    return touches[static_cast<size_t>(a)] > touches[static_cast<size_t>(b)];
  });
  pooling.pool = max_ids - 1;
  pooling.n_states = max_ids;
  pooling.state_of.assign(static_cast<size_t>(n_ids), pooling.pool);
  std::vector<int32_t> kept(touched.begin(), touched.begin() + pooling.pool);
  std::sort(kept.begin(), kept.end());  // states in id order
  for (int32_t s = 0; s < pooling.pool; ++s) pooling.state_of[static_cast<size_t>(kept[static_cast<size_t>(s)])] = s;
  for (int32_t id = 0; id < n_ids; ++id)
    if (pooling.state_of[static_cast<size_t>(id)] == pooling.pool) pooling.pool_touches += touches[static_cast<size_t>(id)];
  pooling.touches = std::move(touches);
  return pooling;
}

// Back from pooled states to ids: kept ids take their state's numbers; pooled ids split the pool's
// credit by their touches and have no removal effect of their own (NaN).
void unpool(const MarkovPooling& pooling, const MarkovAttribution& pooled, int32_t n_ids, std::vector<double>& credit,
            std::vector<double>& removal_effect) {
  credit.assign(static_cast<size_t>(n_ids), 0.0);
  removal_effect.assign(static_cast<size_t>(n_ids), std::numeric_limits<double>::quiet_NaN());
  for (int32_t id = 0; id < n_ids; ++id) {
    const int32_t s = pooling.state_of[static_cast<size_t>(id)];
    if (s != pooling.pool) {
      credit[static_cast<size_t>(id)] = pooled.credit[static_cast<size_t>(s)];
      removal_effect[static_cast<size_t>(id)] = pooled.removal_effect[static_cast<size_t>(s)];
    } else if (pooling.pool_touches > 0) {
      credit[static_cast<size_t>(id)] = pooled.credit[static_cast<size_t>(s)] *
                                        static_cast<double>(pooling.touches[static_cast<size_t>(id)]) /
                                        static_cast<double>(pooling.pool_touches);
    }
  }
}

std::string percent(double x) { return fmt::format("{:.1f}%", 100.0 * x); }

void write_table(ResultWriter& writer, const std::string& group, const AttributionTable& table) {
  writer.write(group + "/names", table.names);
  writer.write(group + "/first_touch", table.first_touch);
  writer.write(group + "/last_touch", table.last_touch);
  writer.write(group + "/linear", table.linear);
  writer.write(group + "/time_decay", table.time_decay);
  writer.write(group + "/position_based", table.position_based);
  writer.write(group + "/markov", table.markov);
  writer.write(group + "/markov_removal_effect", table.markov_removal_effect);
  writer.write_attribute(group, "markov_conversion_probability", table.markov_conversion_probability);
  if (!table.markov_pooled.empty()) writer.write(group + "/markov_pooled", table.markov_pooled);
  if (!table.markov_higher.empty()) {
    writer.write(group + "/markov_higher", table.markov_higher);
    writer.write(group + "/markov_higher_removal_effect", table.markov_higher_removal_effect);
    writer.write_attribute(group, "markov_higher_conversion_probability", table.markov_higher_conversion_probability);
  }
}

}  // namespace

namespace {

// The transitions between chain state keys of paths [offsets, ids, converted] over ids 0..n_ids-1
// (states: the last `order` ids), counted per fixed block of paths and merged.
TransitionCounts count_chain_transitions(const Context& ctx, const std::vector<int64_t>& offsets,
                                         const std::vector<int32_t>& ids, const std::vector<uint8_t>& converted,
                                         int32_t n_ids, int order) {
  if (order < 1 || order > 4) throw ConfigError(fmt::format("Markov order must be in [1, 4], got {}", order));
  if (n_ids < 0) throw ConfigError("Markov attribution: negative number of ids");
  if (std::pow(static_cast<double>(n_ids) + 1.0, order) >= 9.0e18)
    throw ConfigError(fmt::format("Markov order {} with {} ids does not fit 64-bit state keys", order, n_ids));
  if (offsets.empty() || offsets.size() != converted.size() + 1 || offsets.front() != 0 ||
      offsets.back() != static_cast<int64_t>(ids.size()))
    throw ConfigError("Markov attribution: offsets must hold n_paths + 1 entries spanning ids");
  for (int32_t id : ids)
    if (id < 0 || id >= n_ids) throw ConfigError(fmt::format("Markov attribution: id {} outside [0, {})", id, n_ids));

  const int64_t n_paths = static_cast<int64_t>(converted.size());
  const uint64_t base = static_cast<uint64_t>(n_ids) + 1;
  uint64_t top = 1;  // base^(order-1): drops the oldest digit when the tuple is full
  for (int k = 1; k < order; ++k) top *= base;

  // Count transitions between state keys, per fixed block, merged in block order.
  const int64_t n_blocks = std::max<int64_t>(1, (n_paths + kJourneysPerBlock - 1) / kJourneysPerBlock);
  std::vector<TransitionCounts> block_counts(n_blocks);
  parallel_for(n_blocks, ctx.num_threads, [&](int64_t block) {
    TransitionCounts& counts = block_counts[block];
    const int64_t first = block * kJourneysPerBlock, last = std::min(n_paths, (block + 1) * kJourneysPerBlock);
    if (order == 1 && base <= kDenseCountMaxIds) {
      // First order: keys are 0 (start) or id + 1, so count in a dense [base x (base + 2)] table
      // (columns base and base + 1: conversion and null) and hand over the non-zero cells.
      const uint64_t columns = base + 2;
      std::vector<int64_t> dense(base * columns, 0);
      for (int64_t p = first; p < last; ++p) {
        uint64_t from = kStartKey;
        for (int64_t e = offsets[p]; e < offsets[p + 1]; ++e) {
          const uint64_t to = static_cast<uint64_t>(ids[e]) + 1;
          ++dense[from * columns + to];
          from = to;
        }
        ++dense[from * columns + (converted[p] ? base : base + 1)];
      }
      for (uint64_t from = 0; from < base; ++from)
        for (uint64_t to = 1; to < columns; ++to)
          if (const int64_t n = dense[from * columns + to])
            counts[{from, to == base ? kConversionKey : to == base + 1 ? kNullKey : to}] += n;
      return;
    }
    for (int64_t p = first; p < last; ++p) {
      uint64_t key = kStartKey;
      int length = 0;
      for (int64_t e = offsets[p]; e < offsets[p + 1]; ++e) {
        // Tuple of the last `order` ids, most recent in the lowest digit.
        const uint64_t next = (length == order ? key % top : key) * base + static_cast<uint64_t>(ids[e]) + 1;
        ++counts[{key, next}];
        key = next;
        length = std::min(length + 1, order);
      }
      ++counts[{key, converted[p] ? kConversionKey : kNullKey}];
    }
  });
  TransitionCounts counts;
  for (auto& block : block_counts)
    for (const auto& [edge, count] : block) counts[edge] += count;
  return counts;
}

// Removal effects and credit of the chain of `counts` over n_ids ids, `attributed` conversions split.
MarkovAttribution solve_chain(const Context& ctx, const TransitionCounts& counts, int32_t n_ids, int64_t attributed) {
  const uint64_t base = static_cast<uint64_t>(n_ids) + 1;
  // Dense state indices in key order (deterministic).
  std::vector<uint64_t> keys;
  for (const auto& [edge, count] : counts) {
    if (edge.first != kStartKey) keys.push_back(edge.first);
    if (edge.second != kConversionKey && edge.second != kNullKey) keys.push_back(edge.second);
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  auto index_of = [&](uint64_t key) {
    return static_cast<int32_t>(std::lower_bound(keys.begin(), keys.end(), key) - keys.begin());
  };
  std::vector<StateRow> rows(keys.size());
  StateRow start;
  std::vector<std::pair<std::pair<uint64_t, uint64_t>, int64_t>> edges(counts.begin(), counts.end());
  std::sort(edges.begin(), edges.end());
  for (const auto& [edge, count] : edges) {
    StateRow& row = edge.first == kStartKey ? start : rows[index_of(edge.first)];
    row.total += count;
    if (edge.second == kConversionKey) row.to_conversion += count;
    else if (edge.second != kNullKey) row.next.push_back({index_of(edge.second), count});
  }

  auto conversion_probability = [&](const std::vector<uint8_t>& blocked) {
    if (start.total == 0) return 0.0;
    const std::vector<double> v = absorption_probabilities(rows, blocked);
    double reach = static_cast<double>(start.to_conversion);
    for (const auto& [t, count] : start.next)
      if (!blocked[t]) reach += count * v[t];
    return reach / static_cast<double>(start.total);
  };

  MarkovAttribution result;
  result.n_states = static_cast<int64_t>(keys.size());
  result.conversion_probability = conversion_probability(std::vector<uint8_t>(keys.size(), 0));
  result.removal_effect.assign(n_ids, 0.0);
  result.credit.assign(n_ids, 0.0);
  // Ids on some path: every touch makes a state whose latest digit is its id.
  std::vector<uint8_t> present(n_ids, 0);
  for (const uint64_t state : keys)
    for (uint64_t key = state; key != 0; key /= base) present[key % base - 1] = 1;
  // One absorption solve per removed id, independent of the others: in parallel, each writing its own
  // entry, so the result does not depend on the number of threads.
  parallel_for(n_ids, ctx.num_threads, [&](int64_t c) {
    if (!present[c] || result.conversion_probability <= 0.0) return;
    std::vector<uint8_t> blocked(keys.size(), 0);
    for (size_t s = 0; s < keys.size(); ++s)
      for (uint64_t key = keys[s]; key != 0; key /= base)
        if (key % base == static_cast<uint64_t>(c) + 1) blocked[s] = 1;
    result.removal_effect[c] = 1.0 - conversion_probability(blocked) / result.conversion_probability;
  });
  const double effect_sum = std::accumulate(result.removal_effect.begin(), result.removal_effect.end(), 0.0);
  if (effect_sum > 0.0)
    for (int32_t c = 0; c < n_ids; ++c) result.credit[c] = attributed * result.removal_effect[c] / effect_sum;
  return result;
}

}  // namespace

MarkovAttribution markov_attribution(const Context& ctx, const std::vector<int64_t>& offsets,
                                     const std::vector<int32_t>& ids, const std::vector<uint8_t>& converted,
                                     int32_t n_ids, int order) {
  const TransitionCounts counts = count_chain_transitions(ctx, offsets, ids, converted, n_ids, order);
  int64_t attributed = 0;
  for (size_t p = 0; p < converted.size(); ++p) attributed += converted[p] && offsets[p + 1] > offsets[p];
  return solve_chain(ctx, counts, n_ids, attributed);
}

void validate_attribution_options(const AttributionOptions& options) {
  if (!(options.time_decay_half_life_days > 0.0) || !std::isfinite(options.time_decay_half_life_days))
    throw ConfigError("attribution.time_decay_half_life_days must be a finite number > 0");
  if (!(options.position_first_share >= 0.0 && options.position_last_share >= 0.0 &&
        options.position_first_share + options.position_last_share <= 1.0))
    throw ConfigError("attribution: position shares must be >= 0 and sum to at most 1");
  if (options.markov_order < 1 || options.markov_order > 4)
    throw ConfigError(fmt::format("attribution.markov_order must be in [1, 4], got {}", options.markov_order));
  if (options.markov_max_ids < 2)
    throw ConfigError(fmt::format("attribution.markov_max_ids must be >= 2, got {}", options.markov_max_ids));
}

// One kind of id (touchpoints or channels): its heuristic sums and the transitions of its Markov
// chains over the pooled states, which the touches of all journeys fix before the first is added.
struct AttributionTally::Side {
  int32_t n_ids = 0;
  MarkovPooling pooling;
  HeuristicSums heuristic;
  TransitionCounts first_order, higher_order;

  Side(std::vector<int64_t> touches, int32_t max_ids)
      : n_ids(static_cast<int32_t>(touches.size())), pooling(pool_rare_ids(std::move(touches), max_ids)) {}

  int32_t chain_ids() const { return pooling.pool >= 0 ? pooling.n_states : n_ids; }

  void add(const Context& ctx, const JourneySet& journeys, const TouchPaths& paths, const std::vector<int32_t>& ids,
           const AttributionOptions& options) {
    heuristic.add(ctx, journeys, paths, ids, n_ids, options);
    std::vector<int32_t> states;
    if (pooling.pool >= 0) {
      states.resize(ids.size());
      for (size_t e = 0; e < ids.size(); ++e) states[e] = pooling.state_of[static_cast<size_t>(ids[e])];
    }
    const std::vector<int32_t>& chain = pooling.pool >= 0 ? states : ids;
    for (const auto& [edge, count] : count_chain_transitions(ctx, paths.offsets, chain, journeys.converted, chain_ids(), 1))
      first_order[edge] += count;
    if (options.markov_order > 1)
      for (const auto& [edge, count] :
           count_chain_transitions(ctx, paths.offsets, chain, journeys.converted, chain_ids(), options.markov_order))
        higher_order[edge] += count;
  }

  void save(RecordWriter& out) const {
    out.values(heuristic.finished);
    out.values(heuristic.open);
    out.value(heuristic.journeys);
    for (const TransitionCounts* counts : {&first_order, &higher_order}) {
      std::vector<uint64_t> edges;
      std::vector<int64_t> values;
      for (const auto& [edge, count] : *counts) {
        edges.push_back(edge.first);
        edges.push_back(edge.second);
        values.push_back(count);
      }
      out.values(edges);
      out.values(values);
    }
  }

  // Adds a saved side of other journeys. The heuristic sums add block for block (finished to
  // finished, open to open): a merged side takes no more journeys.
  void add_saved(RecordReader& in) {
    const std::vector<double> finished = in.values<double>(), open = in.values<double>();
    heuristic.journeys += in.value<int64_t>();
    if (!finished.empty()) {
      if (heuristic.finished.empty()) heuristic.finished.assign(finished.size(), 0.0), heuristic.open.assign(open.size(), 0.0);
      if (finished.size() != heuristic.finished.size() || open.size() != heuristic.open.size())
        throw Error("attribution: the processes' tallies know different numbers of ids");
      for (size_t i = 0; i < finished.size(); ++i) heuristic.finished[i] += finished[i];
      for (size_t i = 0; i < open.size(); ++i) heuristic.open[i] += open[i];
    }
    for (TransitionCounts* counts : {&first_order, &higher_order}) {
      const std::vector<uint64_t> edges = in.values<uint64_t>();
      const std::vector<int64_t> values = in.values<int64_t>();
      if (edges.size() != 2 * values.size()) throw Error("attribution: a saved tally's transitions do not pair up");
      for (size_t k = 0; k < values.size(); ++k) (*counts)[{edges[2 * k], edges[2 * k + 1]}] += values[k];
    }
  }

  void finish(const Context& ctx, int64_t attributed, const AttributionOptions& options, AttributionTable& table) const {
    heuristic.finish(n_ids, table);
    const bool pooled = pooling.pool >= 0;
    if (pooled) {
      table.markov_pooled.assign(static_cast<size_t>(n_ids), 0);
      for (int32_t id = 0; id < n_ids; ++id)
        table.markov_pooled[static_cast<size_t>(id)] = pooling.state_of[static_cast<size_t>(id)] == pooling.pool;
    }
    const MarkovAttribution first = solve_chain(ctx, first_order, chain_ids(), attributed);
    if (pooled) unpool(pooling, first, n_ids, table.markov, table.markov_removal_effect);
    else table.markov = first.credit, table.markov_removal_effect = first.removal_effect;
    table.markov_conversion_probability = first.conversion_probability;
    if (options.markov_order > 1) {
      const MarkovAttribution higher = solve_chain(ctx, higher_order, chain_ids(), attributed);
      if (pooled) unpool(pooling, higher, n_ids, table.markov_higher, table.markov_higher_removal_effect);
      else table.markov_higher = higher.credit, table.markov_higher_removal_effect = higher.removal_effect;
      table.markov_higher_conversion_probability = higher.conversion_probability;
    }
  }
};

AttributionTally::AttributionTally(const AttributionOptions& options, std::vector<int64_t> touchpoint_touches,
                                   std::vector<int64_t> channel_touches)
    : options_(options) {
  validate_attribution_options(options);
  touchpoints_ = std::make_unique<Side>(std::move(touchpoint_touches), options.markov_max_ids);
  channels_ = std::make_unique<Side>(std::move(channel_touches), options.markov_max_ids);
}

AttributionTally::~AttributionTally() = default;
AttributionTally::AttributionTally(AttributionTally&&) noexcept = default;
AttributionTally& AttributionTally::operator=(AttributionTally&&) noexcept = default;

void AttributionTally::add(const Context& ctx, const JourneySet& journeys) {
  if (journeys.offsets.empty()) throw ConfigError("attribution: the journey set has no offsets array");
  if (journeys.touchpoints.size() > touchpoints_->n_ids || journeys.channels.size() > channels_->n_ids)
    throw Error("attribution: the journeys know more touchpoints or channels than the tally was made for");
  const TouchPaths paths(journeys);
  for (int64_t j = 0; j < journeys.size(); ++j) {
    conversions_ += journeys.converted[j];
    attributed_ += journeys.converted[j] && paths.offsets[j + 1] > paths.offsets[j];
  }
  touchpoints_->add(ctx, journeys, paths, paths.touchpoint, options_);
  channels_->add(ctx, journeys, paths, paths.channel, options_);
}

void AttributionTally::save(RecordWriter& out) const {
  out.value(conversions_);
  out.value(attributed_);
  touchpoints_->save(out);
  channels_->save(out);
}

void AttributionTally::add_saved(RecordReader& in) {
  conversions_ += in.value<int64_t>();
  attributed_ += in.value<int64_t>();
  touchpoints_->add_saved(in);
  channels_->add_saved(in);
}

AttributionResult AttributionTally::finish(const Context& ctx, const Vocabulary& touchpoints,
                                           const Vocabulary& channels) const {
  AttributionResult result;
  result.options = options_;
  result.conversions = conversions_;
  result.conversions_attributed = attributed_;
  result.by_touchpoint.names = touchpoints.names();
  result.by_channel.names = channels.names();
  touchpoints_->finish(ctx, attributed_, options_, result.by_touchpoint);
  channels_->finish(ctx, attributed_, options_, result.by_channel);
  return result;
}

std::vector<int64_t> count_touches(const std::vector<int32_t>& ids, int32_t n_ids) {
  std::vector<int64_t> touches(static_cast<size_t>(n_ids), 0);
  for (const int32_t id : ids) ++touches[static_cast<size_t>(id)];
  return touches;
}

AttributionResult compute_attribution(const Context& ctx, const JourneySet& journeys, const AttributionOptions& options) {
  validate_attribution_options(options);
  if (journeys.offsets.empty()) throw ConfigError("attribution: the journey set has no offsets array");
  AttributionTally tally(options, count_touches(journeys.touchpoint, journeys.touchpoints.size()),
                         count_touches(journeys.channel, journeys.channels.size()));
  tally.add(ctx, journeys);
  return tally.finish(ctx, journeys.touchpoints, journeys.channels);
}

void write_attribution_results(ResultWriter& writer, const AttributionResult& attribution, const JourneySet&) {
  write_table(writer, "/attribution/touchpoint", attribution.by_touchpoint);
  write_table(writer, "/attribution/channel", attribution.by_channel);
  writer.write_attribute("/attribution", "conversions", attribution.conversions);
  writer.write_attribute("/attribution", "conversions_attributed", attribution.conversions_attributed);
  writer.write_attribute("/attribution", "time_decay_half_life_days", attribution.options.time_decay_half_life_days);
  writer.write_attribute("/attribution", "position_first_share", attribution.options.position_first_share);
  writer.write_attribute("/attribution", "position_last_share", attribution.options.position_last_share);
  writer.write_attribute("/attribution", "markov_order", static_cast<int64_t>(attribution.options.markov_order));
  writer.write_attribute("/attribution", "markov_max_ids", static_cast<int64_t>(attribution.options.markov_max_ids));
}

std::string format_attribution_summary(const AttributionResult& attribution, const JourneySet&) {
  std::ostringstream out;
  out << fmt::format("attribution: {} conversions credited ({} without touches)\n", attribution.conversions_attributed,
                     attribution.conversions - attribution.conversions_attributed);
  const double total = static_cast<double>(std::max<int64_t>(1, attribution.conversions_attributed));
  auto line = [&](const char* what, const AttributionTable& table) {
    std::vector<size_t> order(table.names.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return table.markov[a] > table.markov[b]; });
    out << fmt::format("  {} (Markov / last touch / first touch):", what);
    for (size_t k = 0; k < std::min<size_t>(5, order.size()); ++k) {
      const size_t i = order[k];
      out << fmt::format("{} {} {}/{}/{}", k == 0 ? "" : ",", table.names[i], percent(table.markov[i] / total),
                         percent(table.last_touch[i] / total), percent(table.first_touch[i] / total));
    }
    out << "\n";
  };
  line("channels", attribution.by_channel);
  line("touchpoints", attribution.by_touchpoint);
  return out.str();
}

}  // namespace jm
