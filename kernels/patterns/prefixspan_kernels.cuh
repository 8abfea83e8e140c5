// Kernels of GPU PrefixSpan. A batch holds many prefixes ("nodes"); their projected entries are
// (node, journey, position) triples sorted by node, then position. Consecutive entries with the
// same node and journey form a group: the embedding ends of one prefix in one journey. Each kernel
// gives a group to the thread of its first entry, which runs the shared per-journey step
// (pattern_rules::for_each_window_event), exactly as the CPU twin does for one journey.
// Launchers: cuda/patterns/prefixspan_cuda.cu.
#pragma once

#include <cstdint>

#include "journeymap/pattern_rules.hpp"

namespace jm::kernels {

/// Threads per block of every PrefixSpan kernel (launchers size grids with it).
constexpr int kPrefixSpanBlockThreads = 256;

/// The mined sequences on the device (see MiningProblem).
struct SequenceDatabase {
  const int64_t* offsets;             ///< [n_journeys + 1]
  const int32_t* items;               ///< [n_events]
  const int64_t* previous_same_item;  ///< [n_events]
  const uint8_t* converted;           ///< [n_journeys]
  int32_t n_items;
};

/// Projected entries of a batch of prefixes, sorted by (node, position).
struct ProjectedEntries {
  const int32_t* node;
  const int32_t* journey;
  const int64_t* position;
};

__device__ inline bool same_group(const ProjectedEntries& e, int64_t a, int64_t b) {
  return e.node[a] == e.node[b] && e.journey[a] == e.journey[b];
}

/// Entries [i, group_end) form the group starting at i (the caller checked that i starts one).
__device__ inline int64_t group_end(const ProjectedEntries& e, int64_t i, int64_t end) {
  int64_t k = i + 1;
  while (k < end && same_group(e, i, k)) ++k;
  return k;
}

__device__ inline bool starts_group(const ProjectedEntries& e, int64_t i, int64_t begin) {
  return i == begin || !same_group(e, i - 1, i);
}

/// Extension support of every (node, item) cell of nodes [first_node, ...), counted once per
/// journey. One thread per entry of [begin, end), grid-stride; only group-starting entries work.
__global__ void __launch_bounds__(kPrefixSpanBlockThreads)
    count_extension_support(ProjectedEntries entries, int64_t begin, int64_t end, int32_t first_node,
                            SequenceDatabase db, int64_t window_gap, unsigned int* support,
                            unsigned int* converted_support) {
  for (int64_t i = begin + blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < end; i += int64_t{gridDim.x} * blockDim.x) {
    if (!starts_group(entries, i, begin)) continue;
    const int64_t last = group_end(entries, i, end);
    const int32_t journey = entries.journey[i];
    const bool converted = db.converted[journey] != 0;
    const int64_t cell_base = int64_t{entries.node[i] - first_node} * db.n_items;
    pattern_rules::for_each_window_event(entries.position + i, last - i, db.offsets[journey + 1] - 1, window_gap,
                                         db.previous_same_item, [&](int64_t q, bool first) {
                                           if (!first) return;
                                           const int64_t cell = cell_base + db.items[q];
                                           atomicAdd(support + cell, 1u);
                                           if (converted) atomicAdd(converted_support + cell, 1u);
                                         });
  }
}

/// flags[c] = support[c] >= threshold; sets *any_pruned to 1 when a cell has a support in
/// [min_count, threshold) (the host needs only whether one does: one store per block, no counting
/// atomics on one address). One thread per cell, grid-stride.
__global__ void __launch_bounds__(kPrefixSpanBlockThreads)
    flag_frequent_cells(const unsigned int* support, int64_t n_cells, int64_t threshold, int64_t min_count,
                        uint8_t* flags, int64_t* any_pruned) {
  int pruned_here = 0;
  for (int64_t c = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; c < n_cells; c += int64_t{gridDim.x} * blockDim.x) {
    const int64_t s = support[c];
    flags[c] = s >= threshold;
    pruned_here |= s >= min_count && s < threshold;
  }
  if (__syncthreads_or(pruned_here) && threadIdx.x == 0) *any_pruned = 1;
}

/// out[k] = source[index[k]], converted to Out. One thread per output element, grid-stride.
template <typename Out, typename T, typename Index>
__global__ void __launch_bounds__(kPrefixSpanBlockThreads)
    gather_values(const Index* index, const T* source, Out* out, int64_t n) {
  for (int64_t k = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; k < n; k += int64_t{gridDim.x} * blockDim.x)
    out[k] = static_cast<Out>(source[index[k]]);
}

/// Sort key of every event for indexing previous occurrences: journey x n_items + item, the journey
/// found by binary search in `offsets` (the last journey starting at or before the event; empty
/// journeys share their start with the next one). One thread per event, grid-stride.
__global__ void __launch_bounds__(kPrefixSpanBlockThreads)
    journey_item_keys(const int64_t* __restrict__ offsets, int64_t n_journeys, const int32_t* __restrict__ items,
                      int64_t n_events, int32_t n_items, uint64_t* __restrict__ keys) {
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < n_events; e += int64_t{gridDim.x} * blockDim.x) {
    int64_t low = 0, high = n_journeys - 1;
    while (low < high) {
      const int64_t middle = low + (high - low + 1) / 2;
      if (offsets[middle] <= e) low = middle;
      else high = middle - 1;
    }
    keys[e] = static_cast<uint64_t>(low) * static_cast<uint64_t>(n_items) + static_cast<uint64_t>(items[e]);
  }
}

/// After a stable sort of the events by journey_item_keys: each event's previous occurrence of its
/// item in its journey is the event before it in sorted order when that has the same key, else -1.
/// One thread per sorted position, grid-stride.
__global__ void __launch_bounds__(kPrefixSpanBlockThreads)
    link_previous_same_item(const uint64_t* __restrict__ sorted_keys, const int64_t* __restrict__ sorted_events,
                            int64_t n_events, int64_t* __restrict__ previous_same_item) {
  for (int64_t k = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; k < n_events; k += int64_t{gridDim.x} * blockDim.x)
    previous_same_item[sorted_events[k]] = k > 0 && sorted_keys[k] == sorted_keys[k - 1] ? sorted_events[k - 1] : -1;
}

/// values[k] = k. One thread per element, grid-stride.
__global__ void __launch_bounds__(kPrefixSpanBlockThreads) fill_sequence(int64_t* values, int64_t n) {
  for (int64_t k = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; k < n; k += int64_t{gridDim.x} * blockDim.x)
    values[k] = k;
}

/// child_of[cell[k]] = first_child + k: the child prefix each growing cell becomes.
__global__ void __launch_bounds__(kPrefixSpanBlockThreads)
    scatter_child_ids(const int64_t* cell, int64_t n, int32_t first_child, int32_t* child_of) {
  for (int64_t k = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; k < n; k += int64_t{gridDim.x} * blockDim.x)
    child_of[cell[k]] = first_child + static_cast<int32_t>(k);
}

/// Per entry of [begin, end): how many child entries its group emits (0 for non-starting
/// entries); with `child_entries` set, also adds them up per child. One thread per entry.
__global__ void __launch_bounds__(kPrefixSpanBlockThreads)
    count_child_entries(ProjectedEntries entries, int64_t begin, int64_t end, int32_t first_node, SequenceDatabase db,
                        int64_t window_gap, int64_t max_gap, const int32_t* child_of, int32_t first_child,
                        int32_t n_children, int64_t* emit_count, unsigned long long* child_entries) {
  for (int64_t i = begin + blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < end; i += int64_t{gridDim.x} * blockDim.x) {
    if (!starts_group(entries, i, begin)) {
      emit_count[i - begin] = 0;
      continue;
    }
    const int64_t last = group_end(entries, i, end);
    const int32_t journey = entries.journey[i];
    const int64_t cell_base = int64_t{entries.node[i] - first_node} * db.n_items;
    int64_t count = 0;
    pattern_rules::for_each_window_event(entries.position + i, last - i, db.offsets[journey + 1] - 1, window_gap,
                                         db.previous_same_item, [&](int64_t q, bool first) {
                                           if (!pattern_rules::is_child_end(first, max_gap)) return;
                                           const int32_t child = child_of[cell_base + db.items[q]] - first_child;
                                           if (child < 0 || child >= n_children) return;
                                           ++count;
                                           if (child_entries) atomicAdd(child_entries + child, 1ull);
                                         });
    emit_count[i - begin] = count;
  }
}

/// Writes the child entries of every group at its offset, in scan order (so a stable sort by child
/// keeps each child's entries ordered by position). One thread per entry.
__global__ void __launch_bounds__(kPrefixSpanBlockThreads)
    write_child_entries(ProjectedEntries entries, int64_t begin, int64_t end, int32_t first_node, SequenceDatabase db,
                        int64_t window_gap, int64_t max_gap, const int32_t* child_of, int32_t first_child,
                        int32_t n_children, const int64_t* emit_offset, int32_t* child_node, int32_t* child_journey,
                        int64_t* child_position) {
  for (int64_t i = begin + blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < end; i += int64_t{gridDim.x} * blockDim.x) {
    if (!starts_group(entries, i, begin)) continue;
    const int64_t last = group_end(entries, i, end);
    const int32_t journey = entries.journey[i];
    const int64_t cell_base = int64_t{entries.node[i] - first_node} * db.n_items;
    int64_t out = emit_offset[i - begin];
    pattern_rules::for_each_window_event(entries.position + i, last - i, db.offsets[journey + 1] - 1, window_gap,
                                         db.previous_same_item, [&](int64_t q, bool first) {
                                           if (!pattern_rules::is_child_end(first, max_gap)) return;
                                           const int32_t child = child_of[cell_base + db.items[q]] - first_child;
                                           if (child < 0 || child >= n_children) return;
                                           child_node[out] = child;
                                           child_journey[out] = journey;
                                           child_position[out] = q;
                                           ++out;
                                         });
  }
}

}  // namespace jm::kernels
