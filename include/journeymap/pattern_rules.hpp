// The per-journey step of PrefixSpan, written once for both backends: which events of a journey can
// extend a prefix, and which of them count for the support of their item. The CPU miner calls it
// in a loop per projected journey; the GPU kernels call it once per thread.
//
// A prefix's projection in one journey is the sorted list of event positions where an embedding of
// the prefix can end ("ends"). Without a gap limit only the earliest end matters (every extension
// reachable from a later end is reachable from it), so the list has one entry. With max_gap = g an
// extension event q must satisfy end < q <= end + g for some end, so every distinct end is kept.
//
// The union of those windows is scanned once in increasing position. An event counts for the
// support of its item when it is the first event of that item inside the union: walking back the
// chain of previous occurrences of the same item (precomputed once per database) until it leaves
// the union's span decides that, without any per-item scratch state. Without a gap limit the walk
// is a single comparison.
#pragma once

#include <cstdint>

#include "journeymap/common.hpp"

namespace jm {
namespace pattern_rules {

/// Last event (inclusive) an extension of an embedding ending at `end` may use.
/// `max_gap` 0 = unlimited; `journey_last` is the journey's last event.
JM_HD inline int64_t window_last(int64_t end, int64_t journey_last, int64_t max_gap) {
  return (max_gap > 0 && end + max_gap < journey_last) ? end + max_gap : journey_last;
}

/// True when `position` lies in the union of windows (ends[i], window_last(ends[i])].
/// `ends` is sorted ascending; binary search for the last end before `position`.
JM_HD inline bool in_windows(const int64_t* ends, int64_t n_ends, int64_t position, int64_t journey_last,
                             int64_t max_gap) {
  int64_t lo = 0, hi = n_ends;  // first index with ends[i] >= position
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (ends[mid] < position) lo = mid + 1; else hi = mid;
  }
  return lo > 0 && position <= window_last(ends[lo - 1], journey_last, max_gap);
}

/// Calls `visit(q, first)` for every event q in the union of the extension windows of one journey,
/// in increasing order; `first` says whether q is the first event of its item in the union.
///   ends[0..n_ends)    sorted distinct embedding ends in this journey (the root uses begin - 1)
///   journey_last       last event of the journey
///   max_gap            0 = unlimited
///   previous_same_item previous event of the same journey with the same item, or -1
template <typename Visit>
JM_HD inline void for_each_window_event(const int64_t* ends, int64_t n_ends, int64_t journey_last, int64_t max_gap,
                                        const int64_t* previous_same_item, Visit&& visit) {
  int64_t scanned_to = ends[0];  // every event <= scanned_to has been visited
  for (int64_t i = 0; i < n_ends; ++i) {
    const int64_t last = window_last(ends[i], journey_last, max_gap);
    for (int64_t q = (ends[i] > scanned_to ? ends[i] : scanned_to) + 1; q <= last; ++q) {
      bool first = true;
      for (int64_t r = previous_same_item[q]; r > ends[0]; r = previous_same_item[r]) {
        if (max_gap == 0 || in_windows(ends, n_ends, r, journey_last, max_gap)) {
          first = false;
          break;
        }
      }
      visit(q, first);
    }
    if (last > scanned_to) scanned_to = last;
  }
}

/// Without a gap limit, the items that extend a prefix whose embedding ends at `end` in one journey
/// are exactly the items whose last occurrence in the journey lies after `end` (the last-position
/// rule of LAPIN, Yang et al. 2005). Calls `visit(item)` once per such item, reading only the
/// journey's last occurrences (`entries[0..n_last)`, each with a `position` and an `item`, latest
/// first), never its repeats. Positions and `end` count alike (from the journey's start, or absolute).
template <typename Entry, typename Position, typename Visit>
JM_HD inline void for_each_item_after(const Entry* entries, int64_t n_last, Position end, Visit&& visit) {
  for (int64_t k = 0; k < n_last && entries[k].position > end; ++k) visit(entries[k].item);
}

/// Without a gap limit: the first of an item's occurrences (ascending positions, `n` of them, the
/// last one after `end`) that lies after `end`: the child prefix's end in this journey. A search
/// without branches on the data (conditional moves): the lists are short and unpredictable.
template <typename Position>
JM_HD inline Position first_occurrence_after(const Position* occurrences, int64_t n, Position end) {
  const Position* base = occurrences;  // the answer lies in [base, base + n)
  while (n > 1) {
    const int64_t half = n / 2;
    base = base[half - 1] <= end ? base + half : base;
    n -= half;
  }
  return *base;
}

/// Whether event q (visited with `first`) becomes an end of the child prefix that adds its item:
/// with a gap limit every occurrence is a distinct end; without, only the earliest one matters.
JM_HD inline bool is_child_end(bool first, int64_t max_gap) { return max_gap > 0 || first; }

}  // namespace pattern_rules
}  // namespace jm
