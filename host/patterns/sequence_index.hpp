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
  /// One entry: an item and its last occurrence in the sequence (read together, so side by side).
  struct Entry {
    int32_t position;
    int32_t item;
  };
  /// Where a sequence's entries and events begin (side by side: a visit reads both).
  struct Start {
    int64_t entry;
    int64_t event;
  };
  std::vector<Start> starts;    ///< [n_sequences + 1] sequence s: entries [starts[s].entry, starts[s + 1].entry)
  std::vector<Entry> entries;   ///< [n_entries] latest last occurrence first within a sequence
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
