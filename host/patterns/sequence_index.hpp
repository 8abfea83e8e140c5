// The previous-occurrence index PrefixSpan's per-journey step reads (pattern_rules.hpp), built on
// the CPU for any CSR of item sequences: the journeys themselves, or the CPU miner's copy without
// infrequent items.
#pragma once

#include <cstdint>
#include <vector>

namespace jm::patterns_detail {

/// For every event, the previous event of its sequence with the same item, or -1. Chunks of
/// sequences run on `num_threads` threads.
std::vector<int64_t> index_previous_same_item(int num_threads, const int64_t* offsets, int64_t n_sequences,
                                              const int32_t* items, int32_t n_items);

/// Per sequence, the events that are the last occurrence of their item, latest first: what
/// pattern_rules::for_each_item_after reads.
struct LastOccurrences {
  std::vector<int64_t> offsets;    ///< [n_sequences + 1] range of each sequence in `positions`
  std::vector<int64_t> positions;  ///< event positions, descending within a sequence
  std::vector<int32_t> items;      ///< their items
};

LastOccurrences index_last_occurrences(int num_threads, const int64_t* offsets, int64_t n_sequences,
                                       const int32_t* items, int32_t n_items);

}  // namespace jm::patterns_detail
