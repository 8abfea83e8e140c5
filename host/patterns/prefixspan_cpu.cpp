// CPU PrefixSpan with pseudo-projection: a prefix's projected database is only the list of
// (journey, embedding ends) pairs, never copies of suffixes. The per-journey step (which events
// extend a prefix and which count for support) is pattern_rules::for_each_window_event, the same
// code the GPU kernels run.
//
// Work split: the root (every journey) is counted and projected on all threads, in contiguous
// ranges of journeys joined in order; each frequent first item is a branch mined depth-first by
// one worker, branches handed out largest first. Memory: a node materialises its children's
// projections at once (together no larger than the node's own scanned windows), so the peak is
// bounded by the depth times the database size, per worker.
//
// Without a gap limit (the common case) three things make it cheaper (docs/patterns.md, "Speed"):
// - a projection holds exactly one end per journey, so it is two flat arrays;
// - events of items that are infrequent on their own are dropped from a copy of the database
//   before mining: no frequent pattern contains them, and without a gap limit removing them
//   changes no embedding. On word-like data (leviathan, kosarak) that removes much of every scan;
// - counting reads only each journey's last occurrences after the prefix's end (LAPIN's
//   last-position rule, pattern_rules::for_each_item_after), never the repeats in between, and
//   projecting finds a growing item's first occurrence after the end by a search in that item's
//   occurrences (pattern_rules::first_occurrence_after), reading no event of another item, or by
//   a forward scan when the suffix is short. On journeys that revisit a few pages (msnbc, fifa)
//   or many words (sign, leviathan) that skips most events.
#include <algorithm>
#include <numeric>
#include <type_traits>
#include <vector>

#include "host/core/thread_pool.hpp"
#include "host/patterns/pattern_collector.hpp"
#include "host/patterns/sequence_index.hpp"
#include "journeymap/pattern_rules.hpp"
#include "journeymap/patterns.hpp"

namespace jm::cpu_impl {
namespace {

using patterns_detail::PatternBatch;
using patterns_detail::PatternCollector;

/// The sequences the miner scans: the journeys' own CSR, or a copy without infrequent items.
struct SequenceDatabase {
  const int64_t* offsets = nullptr;             ///< [n_journeys + 1]
  const int32_t* items = nullptr;               ///< [n_events]
  const int64_t* previous_same_item = nullptr;  ///< [n_events] (gap-limited mining only; null until indexed)
  const uint8_t* converted = nullptr;           ///< [n_journeys]
  int64_t n_journeys = 0;

  // Without a gap limit: each journey's last occurrences, latest first, positions counted from
  // the journey's first event (null until indexed; sequence_index.hpp).
  const patterns_detail::LastOccurrences::Start* starts = nullptr;  ///< [n_journeys + 1]
  const patterns_detail::LastOccurrences::Entry* last = nullptr;    ///< [n_entries]
  const int32_t* occurrence_end = nullptr;  ///< [n_entries]
  const int32_t* occurrences = nullptr;     ///< [n_events] grouped by entry, ascending

  // Storage of a compacted copy (empty when the journeys are scanned as they are).
  std::vector<int64_t> offsets_storage;
  std::vector<int32_t> items_storage;
  std::vector<int64_t> previous_storage;
  patterns_detail::LastOccurrences last_storage;

  void index_previous_same_item(int32_t n_items, int num_threads) {
    previous_storage = patterns_detail::index_previous_same_item(num_threads, offsets, n_journeys, items, n_items);
    previous_same_item = previous_storage.data();
  }

  void index_last_occurrences(int32_t n_items, int num_threads) {
    last_storage = patterns_detail::index_last_occurrences(num_threads, offsets, n_journeys, items, n_items);
    starts = last_storage.starts.data();
    last = last_storage.entries.data();
    occurrence_end = last_storage.occurrence_end.data();
    occurrences = last_storage.occurrences.data();
  }
};

/// The journeys as they are, not yet indexed.
SequenceDatabase journeys_as_they_are(const MiningProblem& problem) {
  SequenceDatabase db;
  db.offsets = problem.offsets->data();
  db.items = problem.items->data();
  db.converted = problem.converted->data();
  db.n_journeys = static_cast<int64_t>(problem.offsets->size()) - 1;
  return db;
}

/// A copy of `source` holding only the events whose item is flagged in `keep_item`; journey ids are
/// unchanged (a journey may become empty). Valid for mining only without a gap limit. Not indexed.
SequenceDatabase without_items(const SequenceDatabase& source, const std::vector<uint8_t>& keep_item,
                               int num_threads) {
  SequenceDatabase db;
  db.n_journeys = source.n_journeys;
  db.converted = source.converted;
  const int64_t n = source.n_journeys;
  const int threads = std::max(1, num_threads);
  const int64_t n_chunks = std::max<int64_t>(1, std::min<int64_t>(n, int64_t{threads} * 8));
  auto chunk_range = [&](int64_t chunk) { return std::make_pair(n * chunk / n_chunks, n * (chunk + 1) / n_chunks); };

  db.offsets_storage.assign(static_cast<size_t>(n + 1), 0);
  parallel_for(n_chunks, threads, [&](int64_t chunk) {
    const auto [first, last] = chunk_range(chunk);
    for (int64_t j = first; j < last; ++j) {
      int64_t kept = 0;
      for (int64_t e = source.offsets[j]; e < source.offsets[j + 1]; ++e) kept += keep_item[source.items[e]];
      db.offsets_storage[j + 1] = kept;
    }
  });
  std::partial_sum(db.offsets_storage.begin(), db.offsets_storage.end(), db.offsets_storage.begin());
  db.items_storage.resize(static_cast<size_t>(db.offsets_storage[n]));
  parallel_for(n_chunks, threads, [&](int64_t chunk) {
    const auto [first, last] = chunk_range(chunk);
    for (int64_t j = first; j < last; ++j) {
      int64_t out = db.offsets_storage[j];
      for (int64_t e = source.offsets[j]; e < source.offsets[j + 1]; ++e)
        if (keep_item[source.items[e]]) db.items_storage[out++] = source.items[e];
    }
  });
  db.offsets = db.offsets_storage.data();
  db.items = db.items_storage.data();
  return db;
}

/// The projected database of one prefix: per containing journey, its sorted embedding ends. With a
/// gap limit a journey may have several ends (grouped by `group_begin`), absolute event positions;
/// without, exactly one, counted from the journey's first event in 32 bits (-1 at the root), as
/// the last-occurrence index counts.
template <bool kGapLimited>
struct Projection {
  using End = std::conditional_t<kGapLimited, int64_t, int32_t>;

  std::vector<int32_t> journey;      ///< [n_groups]
  std::vector<End> ends;
  std::vector<int64_t> group_begin;  ///< gap-limited only: [n_groups + 1] range of each group in `ends`

  int64_t groups() const { return static_cast<int64_t>(journey.size()); }
  const End* group_ends(int64_t g) const { return ends.data() + (kGapLimited ? group_begin[g] : g); }
  int64_t group_size(int64_t g) const { return kGapLimited ? group_begin[g + 1] - group_begin[g] : 1; }
  void add_end(int32_t j, End position) {
    if (journey.empty() || journey.back() != j) {
      journey.push_back(j);
      if (kGapLimited) group_begin.push_back(static_cast<int64_t>(ends.size()));
    }
    ends.push_back(position);
  }
  void seal() {
    if (kGapLimited) group_begin.push_back(static_cast<int64_t>(ends.size()));
  }
  /// Appends an unsealed projection of later journeys.
  void append(const Projection& part) {
    if (kGapLimited)
      for (const int64_t begin : part.group_begin) group_begin.push_back(static_cast<int64_t>(ends.size()) + begin);
    journey.insert(journey.end(), part.journey.begin(), part.journey.end());
    ends.insert(ends.end(), part.ends.begin(), part.ends.end());
  }
  /// Room for `n_groups` journeys (their ends too, when each has one).
  void reserve(int64_t n_groups) {
    journey.reserve(static_cast<size_t>(n_groups));
    if (kGapLimited) group_begin.reserve(static_cast<size_t>(n_groups) + 1);
    else ends.reserve(static_cast<size_t>(n_groups));
  }
};

constexpr int64_t kFlushPatterns = 4096;
// Projecting without a gap limit scans a suffix forward when it is at most this long per growing
// item it holds (plus the slack), and searches each item's occurrences otherwise (measured on
// msnbc, which favours scanning, and sign, leviathan and kosarak, which favour the search).
constexpr int64_t kScanFactor = 4;
constexpr int64_t kScanSlack = 16;
// The root is projected on all threads when it holds at least this many journeys, in at most
// 4 parts per thread and kMaxPartProjections part projections (72 bytes each before any end).
constexpr int64_t kMinGroupsPerPart = 1 << 14;
constexpr int64_t kMaxPartProjections = int64_t{1} << 20;

/// Mines the branches below prefixes, depth-first, with per-worker scratch indexed by item.
template <bool kGapLimited>
class BranchMiner {
 public:
  using Proj = Projection<kGapLimited>;

  BranchMiner(const MiningProblem& problem, const SequenceDatabase& db, PatternCollector& collector)
      : problem_(problem),
        db_(db),
        max_gap_(kGapLimited ? problem.max_gap : 0),
        collector_(collector),
        support_(static_cast<size_t>(problem.n_items), 0),
        converted_(static_cast<size_t>(problem.n_items), 0),
        child_slot_(static_cast<size_t>(problem.n_items), -1),
        touched_(static_cast<size_t>(problem.n_items) + 1) {}  // add() writes one past the last item

  ~BranchMiner() { flush(); }

  /// Counts the extensions of `prefix` over `projection`, records the frequent ones and returns
  /// the items (ascending) whose extension is to be expanded further. `window_gap` is 0 at the root
  /// (the first item may be anywhere) and max_gap below it.
  std::vector<int32_t> count_extensions(const Proj& projection, const std::vector<int32_t>& prefix,
                                        int64_t window_gap) {
    ItemCounter counter{support_.data(), converted_.data(), touched_.data(), 0};
    if constexpr (kGapLimited) {
      count_by_scanning(projection, window_gap, counter);
    } else {
      count_by_last_occurrences(projection, counter);
    }
    return record_frequent(prefix, counter.n_touched);
  }

  /// The root's count (the empty prefix): the journeys holding each item, on `threads` threads
  /// (each part stamps the items it saw with the journey, so nothing is reset per journey), merged
  /// in part order so that items are touched in the order of their first event, as a scan would.
  /// Returns the frequent items, as count_extensions does.
  std::vector<int32_t> count_root(int threads) {
    const int64_t n = db_.n_journeys;
    const int64_t n_events = n <= 0 ? 0 : db_.offsets[n];
    const size_t n_items = support_.size();
    // A part's tallies are three arrays the size of the vocabulary: one part for huge vocabularies.
    const int64_t parts =
        threads > 1 && n >= kMinGroupsPerPart && static_cast<int64_t>(n_items) * threads <= n_events ? threads : 1;
    struct Tally {
      std::vector<int32_t> support, converted, first_seen;
    };
    std::vector<Tally> tallies(static_cast<size_t>(parts));
    parallel_for(parts, threads, [&](int64_t part) {
      Tally& tally = tallies[static_cast<size_t>(part)];
      tally.support.assign(n_items, 0);
      tally.converted.assign(n_items, 0);
      std::vector<int64_t> seen_in(n_items, -1);  // the last journey that held the item
      for (int64_t j = n * part / parts; j < n * (part + 1) / parts; ++j) {
        const int32_t converted = db_.converted[j] != 0;
        for (int64_t e = db_.offsets[j]; e < db_.offsets[j + 1]; ++e) {
          const int32_t item = db_.items[e];
          if (seen_in[item] == j) continue;
          seen_in[item] = j;
          if (tally.support[item]++ == 0) tally.first_seen.push_back(item);
          tally.converted[item] += converted;
        }
      }
    });
    int64_t n_touched = 0;
    for (const Tally& tally : tallies)
      for (const int32_t item : tally.first_seen) {
        if (support_[item] == 0) touched_[n_touched++] = item;
        support_[item] += tally.support[item];
        converted_[item] += tally.converted[item];
      }
    return record_frequent({}, n_touched);
  }

  /// Projections of prefix + item for every item of `grow` (same order, as returned by the last
  /// count_extensions), in one pass. With `threads` > 1 (the root, whose projection holds every
  /// journey) contiguous ranges of the projection are projected on all threads and the parts joined
  /// in journey order: the same projections.
  std::vector<Proj> project(const Proj& projection, const std::vector<int32_t>& grow, int64_t window_gap,
                            int threads = 1) {
    for (size_t c = 0; c < grow.size(); ++c) child_slot_[grow[c]] = static_cast<int32_t>(c);
    std::vector<Proj> children(grow.size());
    const int64_t groups = projection.groups();
    // Each part holds a projection per growing item: bounded for huge vocabularies.
    const int64_t parts =
        threads > 1 && groups >= kMinGroupsPerPart
            ? std::min<int64_t>(int64_t{threads} * 4, kMaxPartProjections / std::max<int64_t>(1, grow.size()))
            : 1;
    if (parts <= 1) {
      for (size_t c = 0; c < grow.size(); ++c) children[c].reserve(grow_support_[c]);
      project_range(projection, 0, groups, children, window_gap);
    } else {
      std::vector<std::vector<Proj>> part_children(static_cast<size_t>(parts), std::vector<Proj>(grow.size()));
      parallel_for(parts, threads, [&](int64_t part) {
        project_range(projection, groups * part / parts, groups * (part + 1) / parts,
                      part_children[static_cast<size_t>(part)], window_gap);
      });
      parallel_for(static_cast<int64_t>(grow.size()), threads, [&](int64_t task) {
        const auto c = static_cast<size_t>(task);
        children[c].reserve(grow_support_[c]);
        for (std::vector<Proj>& part : part_children) {
          children[c].append(part[c]);
          part[c] = Proj{};
        }
      });
    }
    for (size_t c = 0; c < grow.size(); ++c) {
      child_slot_[grow[c]] = -1;
      children[c].seal();
    }
    return children;
  }

  /// Depth-first mining of everything below `prefix` (whose projection is given).
  void mine(const Proj& projection, std::vector<int32_t>& prefix) {
    const std::vector<int32_t> grow = count_extensions(projection, prefix, max_gap_);
    if (grow.empty()) return;
    std::vector<Proj> children = project(projection, grow, max_gap_);
    for (size_t c = 0; c < grow.size(); ++c) {
      // The threshold may have risen (top-k) since the child was counted.
      if (children[c].groups() >= collector_.threshold()) {
        prefix.push_back(grow[c]);
        mine(children[c], prefix);
        prefix.pop_back();
      }
      children[c] = Proj{};  // release memory before the next sibling
    }
  }

  void flush() {
    if (batch_.size() > 0) collector_.add(batch_);
  }

 private:
  // The counting scratch as plain pointers, which the compiler keeps in registers (int32 stores
  // into vector members could otherwise alias the vectors' own fields and force reloads).
  struct ItemCounter {
    int32_t* __restrict support;
    int32_t* __restrict converted;
    int32_t* __restrict touched;  // items counted at least once, first-seen order
    int64_t n_touched;

    void add(int32_t item) {
      touched[n_touched] = item;
      n_touched += support[item]++ == 0;
    }
    void add_converted(int32_t item) {
      add(item);
      ++converted[item];
    }
  };

  // A projection's journeys are ascending but far apart, so visiting one would wait on memory
  // twice in a row: for its start, then for its index entries (and, when projecting, the events
  // after its end). Visiting group g fetches those of group g + kPrefetchDistance, whose start
  // was fetched kPrefetchDistance groups earlier (msnbc @ 990: half the mining time).
  // (Always inlined: GCC 12 finds a helper whose only effect is a prefetch "locally pure" and
  // deletes the call, whose result is unused, before inlining it; a build without the attribute
  // had no prefetch instruction at all.)
  static constexpr int64_t kPrefetchDistance = 8;
  [[gnu::always_inline]] void prefetch_ahead(const Proj& projection, int64_t g, int64_t end_group, bool suffix_events) const {
    if (g + 2 * kPrefetchDistance < end_group)
      __builtin_prefetch(db_.starts + projection.journey[g + 2 * kPrefetchDistance]);
    if (g + kPrefetchDistance < end_group) {
      const auto& start = db_.starts[projection.journey[g + kPrefetchDistance]];
      __builtin_prefetch(db_.last + start.entry);
      if (suffix_events) __builtin_prefetch(db_.items + (start.event + projection.ends[g + kPrefetchDistance] + 1));
    }
  }

  // With a gap limit the ends are absolute: the events and previous occurrences after the first
  // end of group g + kPrefetchDistance, and its journey's end.
  [[gnu::always_inline]] void prefetch_windows_ahead(const Proj& projection, int64_t g, int64_t end_group) const {
    if (g + kPrefetchDistance < end_group) {
      const int64_t first_event = projection.group_ends(g + kPrefetchDistance)[0] + 1;
      __builtin_prefetch(db_.items + first_event);
      __builtin_prefetch(db_.previous_same_item + first_event);
      __builtin_prefetch(db_.offsets + projection.journey[g + kPrefetchDistance] + 1);
    }
  }

  // The four passes below are kept out of line (one call per node) so that profiles show counting
  // and projecting apart.

  // Without a gap limit: one visit per distinct item after each journey's end.
  [[gnu::noinline]] void count_by_last_occurrences(const Proj& projection, ItemCounter& result) {
    ItemCounter counter = result;  // a local copy stays in registers (the reference would not)
    const int64_t groups = projection.groups();
    for (int64_t g = 0; g < groups; ++g) {
      prefetch_ahead(projection, g, groups, /*suffix_events=*/false);
      const int32_t j = projection.journey[g];
      const int64_t begin = db_.starts[j].entry;
      const auto* entries = db_.last + begin;
      const int64_t n_last = db_.starts[j + 1].entry - begin;
      if (db_.converted[j]) {
        pattern_rules::for_each_item_after(entries, n_last, projection.ends[g],
                                           [&](int32_t item) { counter.add_converted(item); });
      } else {
        pattern_rules::for_each_item_after(entries, n_last, projection.ends[g],
                                           [&](int32_t item) { counter.add(item); });
      }
    }
    result = counter;
  }

  // The shared window scan (any gap limit).
  [[gnu::noinline]] void count_by_scanning(const Proj& projection, int64_t window_gap, ItemCounter& counter) {
    const int32_t* items = db_.items;
    const int64_t groups = projection.groups();
    for (int64_t g = 0; g < groups; ++g) {
      prefetch_windows_ahead(projection, g, groups);
      const int32_t j = projection.journey[g];
      const int64_t last = db_.offsets[j + 1] - 1;
      // Converted journeys are rare or absent (SPMF files): count them in a separate loop.
      if (db_.converted[j]) {
        pattern_rules::for_each_window_event(projection.group_ends(g), projection.group_size(g), last, window_gap,
                                             db_.previous_same_item, [&](int64_t q, bool first) {
                                               if (first) counter.add_converted(items[q]);
                                             });
      } else {
        pattern_rules::for_each_window_event(projection.group_ends(g), projection.group_size(g), last, window_gap,
                                             db_.previous_same_item, [&](int64_t q, bool first) {
                                               if (first) counter.add(items[q]);
                                             });
      }
    }
  }

  // Records the frequent extensions counted in support_ and returns those to grow (ascending).
  std::vector<int32_t> record_frequent(const std::vector<int32_t>& prefix, int64_t n_touched) {
    const int64_t threshold = collector_.threshold();
    const auto length = static_cast<int64_t>(prefix.size()) + 1;
    const bool can_grow = problem_.max_length == 0 || length < problem_.max_length;
    std::vector<int32_t> grow;
    pattern_.assign(prefix.begin(), prefix.end());
    pattern_.push_back(0);
    // Touched items come in first-seen order; only the frequent ones are sorted (usually few).
    for (int64_t t = 0; t < n_touched; ++t) {
      const int32_t item = touched_[t];
      const int64_t support = support_[item];
      if (support >= threshold) {
        if (length >= problem_.min_length) {
          pattern_.back() = item;
          batch_.add(pattern_.data(), length, support, converted_[item]);
        }
        if (can_grow) grow.push_back(item);
      } else if (support >= problem_.min_count && length >= problem_.min_length) {
        collector_.note_pruned();
      }
      if (support < threshold || !can_grow) support_[item] = 0;  // grown items: reset below
      converted_[item] = 0;
    }
    std::sort(grow.begin(), grow.end());
    // Each child's journey count is its support: project() allocates every child once.
    grow_support_.clear();
    for (int32_t item : grow) {
      grow_support_.push_back(support_[item]);
      support_[item] = 0;
    }
    if (batch_.size() >= kFlushPatterns) flush();
    return grow;
  }

  // The children's ends in groups [first_group, end_group) of `projection`: reads only the
  // database and child_slot_, so ranges may be projected on several threads at once.
  void project_range(const Proj& projection, int64_t first_group, int64_t end_group, std::vector<Proj>& children,
                     int64_t window_gap) const {
    if constexpr (kGapLimited) {
      project_by_scanning(projection, first_group, end_group, children, window_gap);
    } else {
      project_first_occurrences(projection, first_group, end_group, children);
    }
  }

  // Without a gap limit: each growing item's first occurrence after the journey's end. A short
  // suffix is scanned forward until every growing item it holds was seen; in a long one each item
  // is found by a search in its own occurrences, reading no event of another item.
  [[gnu::noinline]] void project_first_occurrences(const Proj& projection, int64_t first_group, int64_t end_group,
                                                   std::vector<Proj>& children) const {
    // found_in[slot] == g: the child's item was already met in group g's scan, so a later
    // occurrence is not its first after the end (a table per call: ranges run on several threads).
    std::vector<int64_t> found_in(children.size(), -1);
    for (int64_t g = first_group; g < end_group; ++g) {
      prefetch_ahead(projection, g, end_group, /*suffix_events=*/true);
      const int32_t j = projection.journey[g];
      const int32_t end = projection.ends[g];  // from the journey's first event
      const auto* start = db_.starts + j;  // this journey's and the next one's
      const int64_t begin = start[0].entry;
      const int64_t n_last = start[1].entry - begin;
      const auto* entries = db_.last + begin;
      int64_t wanted = 0, n_after = 0;
      for (; n_after < n_last && entries[n_after].position > end; ++n_after)
        wanted += child_slot_[entries[n_after].item] >= 0;
      if (wanted == 0) continue;
      const int64_t first_event = start[0].event;
      const int64_t suffix = start[1].event - 1 - first_event - end;
      if (suffix <= kScanFactor * wanted + kScanSlack) {
        const int32_t* journey_items = db_.items + first_event;
        for (int32_t q = end + 1; wanted > 0; ++q) {  // each wanted item occurs after `end`
          const int32_t slot = child_slot_[journey_items[q]];
          if (slot < 0 || found_in[slot] == g) continue;
          found_in[slot] = g;
          children[slot].add_end(j, q);
          --wanted;
        }
        continue;
      }
      const int32_t* occurrences = db_.occurrences + first_event;
      const int32_t* occurrence_end = db_.occurrence_end + begin;
      for (int64_t k = 0; k < n_after; ++k) {
        const int32_t slot = child_slot_[entries[k].item];
        if (slot < 0) continue;
        const int32_t occurrence_begin = k == 0 ? 0 : occurrence_end[k - 1];
        children[slot].add_end(j, pattern_rules::first_occurrence_after(occurrences + occurrence_begin,
                                                                        occurrence_end[k] - occurrence_begin, end));
      }
    }
  }

  // The shared window scan (any gap limit).
  [[gnu::noinline]] void project_by_scanning(const Proj& projection, int64_t first_group, int64_t end_group,
                                             std::vector<Proj>& children, int64_t window_gap) const {
    const int32_t* items = db_.items;
    for (int64_t g = first_group; g < end_group; ++g) {
      prefetch_windows_ahead(projection, g, end_group);
      const int32_t j = projection.journey[g];
      pattern_rules::for_each_window_event(
          projection.group_ends(g), projection.group_size(g), db_.offsets[j + 1] - 1, window_gap,
          db_.previous_same_item, [&](int64_t q, bool first) {
            if (!pattern_rules::is_child_end(first, max_gap_)) return;
            const int32_t slot = child_slot_[items[q]];
            if (slot >= 0) children[slot].add_end(j, q);
          });
    }
  }

 private:
  const MiningProblem& problem_;
  const SequenceDatabase& db_;
  const int64_t max_gap_;  // 0 when !kGapLimited: the per-journey step then folds to one comparison
  PatternCollector& collector_;
  std::vector<int32_t> support_;  // supports never exceed the journey count, an int32
  std::vector<int32_t> converted_;
  std::vector<int32_t> child_slot_;
  std::vector<int32_t> touched_;
  std::vector<int32_t> grow_support_;  // support of each item count_extensions returned last
  std::vector<int32_t> pattern_;
  PatternBatch batch_;
};

/// Root projection: the empty prefix "ends" just before every non-empty journey.
template <bool kGapLimited>
Projection<kGapLimited> root_projection(const SequenceDatabase& db) {
  Projection<kGapLimited> root;
  for (int64_t j = 0; j < db.n_journeys; ++j) {
    if (db.offsets[j + 1] == db.offsets[j]) continue;
    if constexpr (kGapLimited) root.add_end(static_cast<int32_t>(j), db.offsets[j] - 1);
    else root.add_end(static_cast<int32_t>(j), -1);  // counted from the journey's first event
  }
  root.seal();
  return root;
}

template <bool kGapLimited>
FrequentPatterns mine(const Context& ctx, const MiningProblem& problem) {
  using Proj = Projection<kGapLimited>;
  PatternCollector collector(problem.min_count, problem.keep, problem.max_explored);
  const int threads = std::max(1, ctx.num_threads);
  SequenceDatabase db = journeys_as_they_are(problem);

  std::vector<int32_t> first_items;
  std::vector<Proj> branches;
  {
    BranchMiner<kGapLimited> miner(problem, db, collector);  // reads `db` as it is at each call
    first_items = miner.count_root(threads);
    if (!kGapLimited && !first_items.empty()) {
      // Items below the threshold now can never reach it later (it only rises), nor can any
      // pattern holding them. Worth a copy when that drops at least 5% of the events.
      std::vector<uint8_t> keep_item(static_cast<size_t>(problem.n_items), 0);
      for (int32_t item : first_items) keep_item[item] = 1;
      int64_t kept = 0;
      const int64_t n_events = db.offsets[db.n_journeys];
      for (int64_t e = 0; e < n_events; ++e) kept += keep_item[db.items[e]];
      if (kept < n_events - n_events / 20) db = without_items(db, keep_item, threads);
      db.index_last_occurrences(problem.n_items, threads);
    }
    if (!first_items.empty()) {
      // The window scan's index (gap-limited mining only: the last occurrences serve otherwise).
      if (kGapLimited) db.index_previous_same_item(problem.n_items, threads);
      branches = miner.project(root_projection<kGapLimited>(db), first_items, /*window_gap=*/0, threads);
    }
  }

  // Largest branches first, so that a long one does not start last.
  std::vector<size_t> order(branches.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return branches[a].ends.size() > branches[b].ends.size(); });
  parallel_for(static_cast<int64_t>(order.size()), threads, [&](int64_t task) {
    const size_t b = order[static_cast<size_t>(task)];
    BranchMiner<kGapLimited> miner(problem, db, collector);
    std::vector<int32_t> prefix{first_items[b]};
    miner.mine(branches[b], prefix);
    branches[b] = Proj{};
  });
  return collector.finish(ctx.num_threads);
}

}  // namespace

FrequentPatterns mine_frequent_patterns(const Context& ctx, const MiningProblem& problem) {
  // Without a gap limit the miner counts positions within a journey in 32 bits; a journey of 2^31
  // events or more (never met in practice) takes the general window scan, which finds the same.
  const int64_t n_journeys = static_cast<int64_t>(problem.offsets->size()) - 1;
  if (problem.max_gap > 0 || !patterns_detail::fits_relative_positions(problem.offsets->data(), n_journeys))
    return mine<true>(ctx, problem);
  return mine<false>(ctx, problem);
}

FrequentPatterns mine_frequent_patterns_by_window_scan(const Context& ctx, const MiningProblem& problem) {
  return mine<true>(ctx, problem);
}

}  // namespace jm::cpu_impl
