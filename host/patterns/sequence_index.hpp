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

/// Per sequence, one entry per distinct item, latest last occurrence first: what
/// pattern_rules::for_each_item_after reads, plus each item's occurrences in the sequence. Positions
/// count from the sequence's first event, in 32 bits (half the memory traffic of absolute ones):
/// every sequence must hold fewer than 2^31 events (fits_relative_positions).
struct LastOccurrences {
  std::vector<int64_t> offsets;    ///< [n_sequences + 1] range of each sequence's entries
  std::vector<int32_t> positions;  ///< [n_entries] last occurrence of the entry's item (descending in a sequence)
  std::vector<int32_t> items;      ///< [n_entries] the entry's item
  /// [n_entries] where entry k's occurrences end, counted from its sequence's first event; they
  /// begin where the previous entry's occurrences end (0 for the sequence's first entry)
  std::vector<int32_t> occurrence_end;
  /// [n_events] every event's position in its sequence, grouped by entry, ascending within an entry
  /// (a sequence's groups fill exactly its own event range)
  std::vector<int32_t> occurrences;
};

/// Whether every sequence holds fewer than 2^31 events, as LastOccurrences needs.
bool fits_relative_positions(const int64_t* offsets, int64_t n_sequences);

LastOccurrences index_last_occurrences(int num_threads, const int64_t* offsets, int64_t n_sequences,
                                       const int32_t* items, int32_t n_items);

}  // namespace jm::patterns_detail
