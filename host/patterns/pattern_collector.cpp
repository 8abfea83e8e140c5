#include "host/patterns/pattern_collector.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

#include "host/core/thread_pool.hpp"

namespace jm::patterns_detail {

PatternCollector::PatternCollector(int64_t min_count, int64_t keep, int64_t max_explored)
    : min_count_(min_count), keep_(keep), max_explored_(max_explored), threshold_(min_count) {}

void PatternCollector::add(PatternBatch& batch) {
  std::lock_guard<std::mutex> lock(mutex_);
  explored_ += batch.size();
  if (!stopped_ && max_explored_ > 0 && explored_ > max_explored_) {
    stopped_ = true;
    threshold_at_stop_ = threshold();
    threshold_.store(std::numeric_limits<int64_t>::max(), std::memory_order_relaxed);
    stored_.clear();
  }
  if (stopped_) {
    batch.clear();
    return;
  }
  for (int64_t p = 0; p < batch.size(); ++p) {
    const int64_t support = batch.support[p];
    // A worker may have read an older, lower threshold: drop what no longer qualifies.
    if (support < threshold_.load(std::memory_order_relaxed)) {
      if (support >= min_count_) note_pruned();
      continue;
    }
    stored_.add(batch.items.data() + batch.offsets[p], batch.offsets[p + 1] - batch.offsets[p], support,
                batch.converted_support[p]);
    // The keep-th best support is needed only once `keep` patterns are stored; until then every
    // stored pattern would be in the heap, so it is built from them then (the same heap; never
    // empty again once built, keep being at least 1).
    if (best_supports_.empty()) {
      if (stored_.size() < keep_) continue;
      best_supports_ = decltype(best_supports_)(std::greater<int64_t>(), stored_.support);
    } else {
      best_supports_.push(support);
      if (static_cast<int64_t>(best_supports_.size()) > keep_) {
        best_supports_.pop();
        note_pruned();  // more than `keep` patterns reach min_count
      }
    }
    if (static_cast<int64_t>(best_supports_.size()) == keep_ && best_supports_.top() > threshold())
      threshold_.store(best_supports_.top(), std::memory_order_relaxed);
  }
  batch.clear();
  // Patterns that can no longer make the answer are dropped now and then, bounding memory.
  // (written as a difference: keep_ may be as large as int64_t allows)
  if (stored_.size() - keep_ > std::max<int64_t>(keep_, 65536)) compact_locked();  // amortised: each drops > keep
}

void PatternCollector::compact_locked() {
  // Keeps the canonical best `keep`: a pattern beaten by `keep` stored ones can never re-enter the
  // answer. Cutting by the threshold alone would keep every pattern tied at it, unbounded when
  // supports are small integers. nth_element: linear, and finish() sorts what is left.
  std::vector<int64_t> order(static_cast<size_t>(stored_.size()));
  std::iota(order.begin(), order.end(), int64_t{0});
  const CanonicalLess less{stored_};
  std::nth_element(order.begin(), order.begin() + keep_, order.end(), less);
  order.resize(static_cast<size_t>(keep_));
  std::sort(order.begin(), order.end());  // stored order, for locality
  PatternBatch kept;
  for (const int64_t p : order)
    kept.add(stored_.items.data() + stored_.offsets[p], stored_.offsets[p + 1] - stored_.offsets[p],
             stored_.support[p], stored_.converted_support[p]);
  note_pruned();
  stored_ = std::move(kept);
}

bool CanonicalLess::operator()(int64_t a, int64_t b) const {
  if (batch.support[a] != batch.support[b]) return batch.support[a] > batch.support[b];
  const int64_t length_a = batch.offsets[a + 1] - batch.offsets[a];
  const int64_t length_b = batch.offsets[b + 1] - batch.offsets[b];
  if (length_a != length_b) return length_a < length_b;
  return std::lexicographical_compare(batch.items.begin() + batch.offsets[a], batch.items.begin() + batch.offsets[a + 1],
                                      batch.items.begin() + batch.offsets[b], batch.items.begin() + batch.offsets[b + 1]);
}

std::vector<int64_t> canonical_order(const PatternBatch& batch, int num_threads) {
  // Support, length and the leading items packed in two keys held beside the index, so most
  // comparisons read no pattern (supports and lengths tie often: small integers); the rest of the
  // items are read only when all of that ties. The head holds as many leading items as fit in 64
  // bits at the width of the largest item id (2 of any id; 7 of sign's 267, 12 of msnbc's 17),
  // first item highest, so comparing heads compares those items in order. With threads, two
  // halves are sorted at once and merged.
  struct Keyed {
    uint64_t key;   // support descending, then length ascending
    uint64_t head;  // the leading items (a missing one reads 0, only ever compared with another
                    // pattern of the same support and length)
    int64_t index;
  };
  const int64_t n = batch.size();
  int32_t max_item = 0;
  for (const int32_t item : batch.items) max_item = std::max(max_item, item);
  int item_bits = 1;  // ids are >= 0
  while (item_bits < 32 && (static_cast<uint32_t>(max_item) >> item_bits) != 0) ++item_bits;
  const int head_items = 64 / item_bits;
  std::vector<Keyed> keyed(static_cast<size_t>(n));
  for (int64_t p = 0; p < n; ++p) {
    const auto support = static_cast<uint64_t>(std::min<int64_t>(batch.support[p], int64_t{0xFFFFFFFF}));
    const int64_t begin = batch.offsets[p];
    const int64_t length = batch.offsets[p + 1] - begin;
    uint64_t head = 0;
    for (int i = 0; i < head_items; ++i)
      head = (head << item_bits) |
             (i < length ? static_cast<uint32_t>(batch.items[static_cast<size_t>(begin + i)]) : uint64_t{0});
    keyed[static_cast<size_t>(p)] = {
        ((0xFFFFFFFFull - support) << 32) | std::min<uint64_t>(static_cast<uint64_t>(length), 0xFFFFFFFF), head, p};
  }
  const CanonicalLess items_less{batch};
  auto less = [&](const Keyed& a, const Keyed& b) {
    // Supports of 2^32 - 1 or more (sums over batches or processes) share one clamped key, whose
    // length part must not decide before the true supports do: two of them are compared in full.
    if ((a.key >> 32) == 0 && (b.key >> 32) == 0) return items_less(a.index, b.index);
    if (a.key != b.key) return a.key < b.key;
    if (a.head != b.head) return a.head < b.head;
    return items_less(a.index, b.index);
  };
  const auto middle = keyed.begin() + (num_threads > 1 ? n / 2 : n);
  parallel_for(2, num_threads, [&](int64_t half) {
    if (half == 0) std::sort(keyed.begin(), middle, less);
    else std::sort(middle, keyed.end(), less);
  });
  std::inplace_merge(keyed.begin(), middle, keyed.end(), less);
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = keyed[static_cast<size_t>(i)].index;
  return order;
}

FrequentPatterns PatternCollector::finish(int num_threads) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<int64_t> order = canonical_order(stored_, num_threads);
  const auto n_kept = static_cast<size_t>(std::min<int64_t>(keep_, static_cast<int64_t>(order.size())));
  order.resize(n_kept);
  FrequentPatterns out;
  out.budget_exceeded = stopped_;
  out.threshold_at_stop = threshold_at_stop_;
  out.truncated = truncated_.load() || static_cast<int64_t>(stored_.size()) > keep_;
  // Support and converted support one at a time, each stored column released once gathered; the
  // offsets and items are copied together (the copy needs both), then the store is released.
  auto gather = [&](std::vector<int64_t>& column) {
    std::vector<int64_t> gathered(n_kept);
    for (size_t i = 0; i < n_kept; ++i) gathered[i] = column[static_cast<size_t>(order[i])];
    std::vector<int64_t>().swap(column);
    return gathered;
  };
  out.support = gather(stored_.support);
  out.converted_support = gather(stored_.converted_support);
  out.offsets.resize(n_kept + 1);
  out.offsets[0] = 0;
  for (size_t i = 0; i < n_kept; ++i) {
    const auto p = static_cast<size_t>(order[i]);
    out.offsets[i + 1] = out.offsets[i] + stored_.offsets[p + 1] - stored_.offsets[p];
  }
  out.items.resize(static_cast<size_t>(out.offsets[n_kept]));
  for (size_t i = 0; i < n_kept; ++i) {
    const auto p = static_cast<size_t>(order[i]);
    std::copy(stored_.items.begin() + stored_.offsets[p], stored_.items.begin() + stored_.offsets[p + 1],
              out.items.begin() + out.offsets[i]);
  }
  stored_ = PatternBatch{};
  return out;
}

}  // namespace jm::patterns_detail
