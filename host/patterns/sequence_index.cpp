#include "host/patterns/sequence_index.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

#include "host/core/thread_pool.hpp"

namespace jm::patterns_detail {

std::vector<int64_t> index_previous_same_item(int num_threads, const int64_t* offsets, int64_t n_sequences,
                                              const int32_t* items, int32_t n_items) {
  std::vector<int64_t> previous_same_item(static_cast<size_t>(offsets[n_sequences]));
  const int threads = std::max(1, num_threads);
  const int64_t n_chunks = std::min<int64_t>(n_sequences, int64_t{threads} * 8);
  // Each chunk remembers, per item, its last position in the current sequence (stamped with the
  // sequence, so the table is never cleared).
  parallel_for(n_chunks, threads, [&](int64_t chunk) {
    const int64_t first = n_sequences * chunk / n_chunks, last = n_sequences * (chunk + 1) / n_chunks;
    std::vector<int64_t> last_position(static_cast<size_t>(n_items), -1);
    std::vector<int64_t> last_sequence(static_cast<size_t>(n_items), -1);
    for (int64_t s = first; s < last; ++s) {
      for (int64_t e = offsets[s]; e < offsets[s + 1]; ++e) {
        const int32_t item = items[e];
        previous_same_item[e] = last_sequence[item] == s ? last_position[item] : -1;
        last_sequence[item] = s;
        last_position[item] = e;
      }
    }
  });
  return previous_same_item;
}

bool fits_relative_positions(const int64_t* offsets, int64_t n_sequences) {
  for (int64_t s = 0; s < n_sequences; ++s)
    if (offsets[s + 1] - offsets[s] > std::numeric_limits<int32_t>::max()) return false;
  return true;
}

LastOccurrences index_last_occurrences(int num_threads, const int64_t* offsets, int64_t n_sequences,
                                       const int32_t* items, int32_t n_items) {
  LastOccurrences out;
  std::vector<int64_t> entry_offsets(static_cast<size_t>(n_sequences + 1), 0);
  const int threads = std::max(1, num_threads);
  const int64_t n_chunks = std::max<int64_t>(1, std::min<int64_t>(n_sequences, int64_t{threads} * 8));
  // Walks each sequence backwards: an event is its item's last occurrence when the item has not
  // been seen yet in this sequence (per-chunk tables stamped with the sequence). The fill pass then
  // counts each entry's occurrences and lays them out in entry order, ascending.
  auto walk = [&](int64_t chunk, bool fill) {
    const int64_t first = n_sequences * chunk / n_chunks, last = n_sequences * (chunk + 1) / n_chunks;
    std::vector<int64_t> seen_in(static_cast<size_t>(n_items), -1);
    std::vector<int64_t> entry_of(static_cast<size_t>(n_items), 0);  // global entry of the item in this sequence
    for (int64_t s = first; s < last; ++s) {
      const int64_t first_event = offsets[s];
      const int64_t entries_begin = fill ? entry_offsets[s] : 0;
      int64_t entry = entries_begin;
      for (int64_t e = offsets[s + 1] - 1; e >= first_event; --e) {
        const int32_t item = items[e];
        if (seen_in[item] == s) {
          if (fill) ++out.occurrence_end[entry_of[item]];  // one more occurrence (counted first)
          continue;
        }
        seen_in[item] = s;
        if (fill) {
          entry_of[item] = entry;
          out.entries[entry] = {static_cast<int32_t>(e - first_event), item};
          out.occurrence_end[entry] = 1;
        }
        ++entry;
      }
      if (!fill) {
        entry_offsets[s + 1] = entry;
        continue;
      }
      // Counts -> begins, then the positions ascending; each entry's slot ends one past its group.
      int32_t begin = 0;
      for (int64_t k = entries_begin; k < entry; ++k) {
        const int32_t count = out.occurrence_end[k];
        out.occurrence_end[k] = begin;  // for now: the next free slot of entry k
        begin += count;
      }
      int32_t* occurrences = out.occurrences.data() + first_event;
      for (int64_t e = first_event; e < offsets[s + 1]; ++e)
        occurrences[out.occurrence_end[entry_of[items[e]]]++] = static_cast<int32_t>(e - first_event);
    }
  };
  parallel_for(n_chunks, threads, [&](int64_t chunk) { walk(chunk, false); });
  std::partial_sum(entry_offsets.begin(), entry_offsets.end(), entry_offsets.begin());
  const auto n_entries = static_cast<size_t>(entry_offsets.back());
  out.entries.resize(n_entries);
  out.occurrence_end.resize(n_entries);
  out.occurrences.resize(static_cast<size_t>(offsets[n_sequences]));
  parallel_for(n_chunks, threads, [&](int64_t chunk) { walk(chunk, true); });
  out.starts.resize(static_cast<size_t>(n_sequences + 1));
  for (int64_t s = 0; s <= n_sequences; ++s) out.starts[static_cast<size_t>(s)] = {entry_offsets[s], offsets[s]};
  return out;
}

}  // namespace jm::patterns_detail
