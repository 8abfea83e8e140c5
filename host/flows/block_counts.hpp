// Counting over journeys in parallel blocks with exact integer sums, so the counts do not depend on
// the thread count, and funnel matching in the same blocks. Shared by the flow counting passes and
// the flow tally.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "host/core/thread_pool.hpp"
#include "journeymap/context.hpp"
#include "journeymap/flow_rules.hpp"
#include "journeymap/journeys.hpp"

namespace jm::flow_blocks {

constexpr int64_t kJourneysPerBlock = 1 << 16;

/// The flow_rules increment of the CPU (the GPU's is atomic).
struct PlainIncrement {
  void operator()(int64_t* counters, int64_t index) const { ++counters[index]; }
};

/// Runs `count(counters, journey)` over all journeys in blocks, each worker slot with its own dense
/// array of `n_counters`, and returns the summed arrays.
template <typename CountJourney>
std::vector<int64_t> count_dense(const Context& ctx, int64_t n_journeys, int64_t n_counters, CountJourney count) {
  const int64_t n_blocks = (n_journeys + kJourneysPerBlock - 1) / kJourneysPerBlock;
  // At most one counter array per worker slot: block b accumulates into slot b % n_slots, and a
  // slot is only ever touched by one task at a time because tasks of the same slot are grouped.
  const int64_t n_slots = std::max<int64_t>(1, std::min<int64_t>(n_blocks, resolve_thread_count(ctx.num_threads)));
  std::vector<std::vector<int64_t>> slot_counters(n_slots, std::vector<int64_t>(n_counters, 0));
  parallel_for(n_slots, ctx.num_threads, [&](int64_t slot) {
    int64_t* counters = slot_counters[slot].data();
    for (int64_t block = slot; block < n_blocks; block += n_slots) {
      const int64_t end = std::min(n_journeys, (block + 1) * kJourneysPerBlock);
      for (int64_t j = block * kJourneysPerBlock; j < end; ++j) count(counters, j);
    }
  });
  std::vector<int64_t> total(n_counters, 0);
  for (const auto& counters : slot_counters)
    for (int64_t k = 0; k < n_counters; ++k) total[k] += counters[k];
  return total;
}

/// For key spaces too large for dense arrays: `emit(keys, journey)` appends the journey's keys;
/// returns the distinct keys, ascending, with how often each was emitted.
template <typename EmitKeys>
std::vector<std::pair<int64_t, int64_t>> count_sparse(const Context& ctx, int64_t n_journeys, EmitKeys emit) {
  const int64_t n_blocks = (n_journeys + kJourneysPerBlock - 1) / kJourneysPerBlock;
  std::vector<std::vector<std::pair<int64_t, int64_t>>> block_counts(static_cast<size_t>(n_blocks));
  parallel_for(n_blocks, ctx.num_threads, [&](int64_t block) {
    std::vector<int64_t> keys;
    for (int64_t j = block * kJourneysPerBlock, end = std::min(n_journeys, (block + 1) * kJourneysPerBlock); j < end; ++j)
      emit(keys, j);
    std::sort(keys.begin(), keys.end());
    auto& counts = block_counts[static_cast<size_t>(block)];
    for (size_t k = 0; k < keys.size(); ++k) {
      if (k == 0 || keys[k] != keys[k - 1]) counts.push_back({keys[k], 0});
      ++counts.back().second;
    }
  });
  std::vector<std::pair<int64_t, int64_t>> all;
  for (const auto& counts : block_counts) all.insert(all.end(), counts.begin(), counts.end());
  std::sort(all.begin(), all.end());
  std::vector<std::pair<int64_t, int64_t>> merged;
  for (const auto& [key, count] : all) {
    if (merged.empty() || merged.back().first != key) merged.push_back({key, 0});
    merged.back().second += count;
  }
  return merged;
}

/// Every journey matched against `funnel` (flow_rules::match_funnel) in parallel blocks: `depth`
/// [n] the steps matched, `step_time_ms` [n x F] the time of each matched step.
inline void match_funnels(const Context& ctx, const JourneySet& journeys, const std::vector<int32_t>& funnel,
                          std::vector<uint8_t>& depth, std::vector<int64_t>& step_time_ms) {
  const int64_t n = journeys.size();
  const auto F = static_cast<int32_t>(funnel.size());
  depth.assign(static_cast<size_t>(n), 0);
  step_time_ms.assign(static_cast<size_t>(n * F), 0);
  if (F == 0) return;
  const int64_t n_blocks = (n + kJourneysPerBlock - 1) / kJourneysPerBlock;
  parallel_for(n_blocks, ctx.num_threads, [&](int64_t block) {
    const int64_t end = std::min(n, (block + 1) * kJourneysPerBlock);
    for (int64_t j = block * kJourneysPerBlock; j < end; ++j)
      depth[static_cast<size_t>(j)] = static_cast<uint8_t>(flow_rules::match_funnel(
          journeys.touchpoint.data() + journeys.offsets[j], journeys.timestamp_ms.data() + journeys.offsets[j],
          journeys.offsets[j + 1] - journeys.offsets[j], funnel.data(), F, step_time_ms.data() + j * F));
  });
}

}  // namespace jm::flow_blocks
