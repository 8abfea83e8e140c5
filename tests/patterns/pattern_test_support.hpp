// Shared by the pattern tests: journey sets built from item lists, an independent brute-force
// enumerator of frequent patterns, and comparison helpers.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/patterns.hpp"

namespace jm::testing {

using Sequence = std::vector<int32_t>;

/// A JourneySet whose journey j holds `sequences[j]` (touchpoint ids into a vocabulary of
/// `n_items` names "t0".."t<n-1>"), converted when converted[j] (absent -> not converted).
inline JourneySet journeys_from(const std::vector<Sequence>& sequences, int32_t n_items,
                                const std::vector<uint8_t>& converted = {}) {
  JourneySet set;
  for (int32_t i = 0; i < n_items; ++i) set.touchpoints.encode("t" + std::to_string(i));
  set.channels.encode("none");
  set.offsets.push_back(0);
  for (size_t j = 0; j < sequences.size(); ++j) {
    set.customers.encode("c" + std::to_string(j));
    for (size_t k = 0; k < sequences[j].size(); ++k) {
      set.touchpoint.push_back(sequences[j][k]);
      set.channel.push_back(0);
      set.timestamp_ms.push_back(static_cast<int64_t>(k) * 1000);
      set.value.push_back(0.0f);
    }
    set.offsets.push_back(static_cast<int64_t>(set.touchpoint.size()));
    set.customer.push_back(static_cast<uint32_t>(j));
    set.converted.push_back(j < converted.size() ? converted[j] : 0);
    set.conversion_value.push_back(0.0f);
    set.start_ms.push_back(0);
    set.end_ms.push_back(sequences[j].empty() ? 0 : static_cast<int64_t>(sequences[j].size() - 1) * 1000);
  }
  return set;
}

struct Counts {
  int64_t support = 0;
  int64_t converted = 0;
  bool operator==(const Counts& other) const { return support == other.support && converted == other.converted; }
};
using PatternTable = std::map<Sequence, Counts>;

/// Every subsequence of every journey (positions i1 < i2 < ...; consecutive positions at most
/// `max_gap` apart when max_gap > 0), of length 1..max_len, counted once per journey. Exponential:
/// for short journeys only. Written independently of the miner: no projections, no shared code.
inline PatternTable brute_force_patterns(const std::vector<Sequence>& sequences, const std::vector<uint8_t>& converted,
                                         int max_len, int max_gap) {
  PatternTable table;
  for (size_t j = 0; j < sequences.size(); ++j) {
    const Sequence& s = sequences[j];
    std::set<Sequence> found;
    Sequence current;
    // Extends `current` (whose last item sits at position `last`, -1 for none) by each later position.
    std::function<void(int)> extend = [&](int last) {
      for (int next = last + 1; next < static_cast<int>(s.size()); ++next) {
        if (last >= 0 && max_gap > 0 && next - last > max_gap) break;
        current.push_back(s[next]);
        found.insert(current);
        if (static_cast<int>(current.size()) < max_len) extend(next);
        current.pop_back();
      }
    };
    extend(-1);
    for (const Sequence& pattern : found) {
      Counts& counts = table[pattern];
      ++counts.support;
      counts.converted += (j < converted.size() && converted[j]) ? 1 : 0;
    }
  }
  return table;
}

inline PatternTable filter_table(const PatternTable& all, int64_t min_count, int min_length) {
  PatternTable out;
  for (const auto& [pattern, counts] : all)
    if (counts.support >= min_count && static_cast<int>(pattern.size()) >= min_length) out[pattern] = counts;
  return out;
}

inline PatternTable table_of(const PatternResult& result) {
  PatternTable table;
  for (int64_t p = 0; p < result.size(); ++p) {
    const bool inserted = table.emplace(result.items_of(p), Counts{result.support[p], result.converted_support[p]}).second;
    EXPECT_TRUE(inserted) << "pattern reported twice";
  }
  return table;
}

/// Random database: `n` journeys of length 0..max_journey_length over `n_items` items.
inline std::vector<Sequence> random_sequences(uint32_t seed, int n, int n_items, int max_journey_length,
                                              std::vector<uint8_t>* converted = nullptr) {
  std::mt19937 rng(seed);
  std::vector<Sequence> out(static_cast<size_t>(n));
  for (auto& s : out) {
    const int length = static_cast<int>(rng() % static_cast<uint32_t>(max_journey_length + 1));
    for (int k = 0; k < length; ++k) s.push_back(static_cast<int32_t>(rng() % static_cast<uint32_t>(n_items)));
  }
  if (converted) {
    converted->resize(out.size());
    for (auto& c : *converted) c = static_cast<uint8_t>(rng() % 3 == 0);
  }
  return out;
}

/// Context for a backend; false when the backend cannot run here (then the test skips).
inline bool context_for(Backend backend, Context& ctx, int threads = 2) {
  if (backend == Backend::Gpu && !gpu_available()) return false;
  ctx = make_context(backend, threads);
  return true;
}

inline const char* backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::Gpu ? "Gpu" : "Cpu";
}

}  // namespace jm::testing
