// Where both PrefixSpan backends put the patterns they find. It owns the support threshold: it
// starts at the minimum support and, once `keep` patterns have been seen, rises to the keep-th
// highest support seen so far. That makes top-k exact without a threshold given and bounds memory
// under the pattern cap.
//
// Why it is exact: the threshold is always the support of some keep-th best pattern already found,
// so it never exceeds the true keep-th best support; patterns of the true top `keep` (and, by
// anti-monotonicity, all their prefixes) are never pruned. finish() sorts canonically and cuts to
// `keep`, so the answer does not depend on the order in which branches were explored.
//
// Patterns are stored in bins by support (support_bin), so finish() can sort and hand over one bin
// at a time, highest supports first, releasing each: the answer and the store are then never both
// held whole (on sign @ 19's 7M patterns the run's peak fell by a third).
//
// It also keeps the work budget: once more than `max_explored` patterns have been added, the
// threshold jumps to "nothing qualifies", so every backend's search unwinds at once without knowing
// about budgets, and finish() reports the stop.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <queue>
#include <vector>

#include "journeymap/patterns.hpp"

namespace jm::patterns_detail {

/// Patterns found by one worker, flushed to the collector in batches.
struct PatternBatch {
  std::vector<int64_t> offsets{0};
  std::vector<int32_t> items;
  std::vector<int64_t> support;
  std::vector<int64_t> converted_support;

  int64_t size() const { return static_cast<int64_t>(support.size()); }
  void add(const int32_t* pattern, int64_t length, int64_t pattern_support, int64_t converted) {
    items.insert(items.end(), pattern, pattern + length);
    offsets.push_back(static_cast<int64_t>(items.size()));
    support.push_back(pattern_support);
    converted_support.push_back(converted);
  }
  void clear() {
    offsets.assign(1, 0);
    items.clear();
    support.clear();
    converted_support.clear();
  }
  /// Appends pattern p of `from`.
  void add_from(const PatternBatch& from, int64_t p) {
    add(from.items.data() + from.offsets[p], from.offsets[p + 1] - from.offsets[p], from.support[p],
        from.converted_support[p]);
  }
};

/// The bin of a support in the collector's store: supports below 64 have one bin each (most
/// patterns of a large result have small supports, and a bin is sorted whole), larger ones share a
/// bin with those of the same highest bit and next three bits (bins at most 1/8 of a support wide;
/// 520 bins cover every int64_t). A larger support never has a lower bin.
int support_bin(int64_t support);

class PatternCollector {
 public:
  PatternCollector(int64_t min_count, int64_t keep, int64_t max_explored);

  /// Current support threshold: extensions below it are pruned. Safe to read from any thread.
  int64_t threshold() const { return threshold_.load(std::memory_order_relaxed); }

  int64_t min_count() const { return min_count_; }

  /// A worker pruned an extension that reached min_count but not the raised threshold: more than
  /// `keep` patterns are frequent. Thread-safe.
  void note_pruned() { truncated_.store(true, std::memory_order_relaxed); }

  /// Takes the patterns of `batch` (clears it). Thread-safe.
  void add(PatternBatch& batch);

  /// Patterns held now (at most keep + max(keep, 65536) after any add). Thread-safe.
  int64_t stored() {
    std::lock_guard<std::mutex> lock(mutex_);
    return n_stored_;
  }

  /// Canonical order, cut to `keep`, sorted on up to `num_threads` threads. Call once, after every
  /// worker has flushed.
  FrequentPatterns finish(int num_threads);

 private:
  void compact_locked();

  const int64_t min_count_;
  const int64_t keep_;
  const int64_t max_explored_;
  int64_t explored_ = 0;
  int64_t threshold_at_stop_ = 0;
  bool stopped_ = false;
  std::atomic<int64_t> threshold_;
  std::mutex mutex_;
  // The best `keep` supports, min first: empty until `keep` patterns are stored (add()).
  std::priority_queue<int64_t, std::vector<int64_t>, std::greater<int64_t>> best_supports_;
  std::vector<PatternBatch> bins_;  ///< stored patterns by support_bin(); grows to the highest bin used
  int64_t n_stored_ = 0;            ///< patterns in all bins
  std::atomic<bool> truncated_{false};
};

/// The canonical order as a comparison of two patterns (indices into `batch`).
struct CanonicalLess {
  const PatternBatch& batch;
  bool operator()(int64_t a, int64_t b) const;
};

/// Sorts patterns canonically: support descending, length ascending, items lexicographically.
/// Returns the permutation (indices into `batch`).
std::vector<int64_t> canonical_order(const PatternBatch& batch, int num_threads);

}  // namespace jm::patterns_detail
