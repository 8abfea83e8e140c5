#include "host/patterns/pattern_collector.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

#include "host/core/release_memory.hpp"
#include "host/core/thread_pool.hpp"

namespace jm::patterns_detail {

PatternCollector::PatternCollector(int64_t min_count, int64_t keep, int64_t max_explored)
    : min_count_(min_count), keep_(keep), max_explored_(max_explored), threshold_(min_count) {}

int support_bin(int64_t support) {
  if (support < 64) return static_cast<int>(std::max<int64_t>(support, 0));
  const auto value = static_cast<uint64_t>(support);
  const int high_bit = 63 - __builtin_clzll(value);  // >= 6
  return 64 + (high_bit - 6) * 8 + static_cast<int>((value >> (high_bit - 3)) & 7);
}

void PatternCollector::add(PatternBatch& batch) {
  std::lock_guard<std::mutex> lock(mutex_);
  explored_ += batch.size();
  if (!stopped_ && max_explored_ > 0 && explored_ > max_explored_) {
    stopped_ = true;
    threshold_at_stop_ = threshold();
    threshold_.store(std::numeric_limits<int64_t>::max(), std::memory_order_relaxed);
    std::vector<PatternBatch>().swap(bins_);
    n_stored_ = 0;
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
    const auto bin = static_cast<size_t>(support_bin(support));
    if (bin >= bins_.size()) bins_.resize(bin + 1);
    bins_[bin].add_from(batch, p);
    ++n_stored_;
    // The keep-th best support is needed only once `keep` patterns are stored; until then every
    // stored pattern would be in the heap, so it is built from them then (the same heap; never
    // empty again once built, keep being at least 1).
    if (best_supports_.empty()) {
      if (n_stored_ < keep_) continue;
      std::vector<int64_t> supports;
      supports.reserve(static_cast<size_t>(n_stored_));
      for (const PatternBatch& stored : bins_) supports.insert(supports.end(), stored.support.begin(), stored.support.end());
      best_supports_ = decltype(best_supports_)(std::greater<int64_t>(), std::move(supports));
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
  if (n_stored_ - keep_ > std::max<int64_t>(keep_, 65536)) compact_locked();  // amortised: each drops > keep
}

void PatternCollector::compact_locked() {
  // Keeps the canonical best `keep`: a pattern beaten by `keep` stored ones can never re-enter the
  // answer. Cutting by the threshold alone would keep every pattern tied at it, unbounded when
  // supports are small integers. Bins above the cut stay whole, those below are emptied, and the
  // bin the cut falls in keeps its best (nth_element: linear; finish() sorts what is left).
  int64_t still_to_keep = keep_;
  for (size_t b = bins_.size(); b-- > 0;) {
    PatternBatch& bin = bins_[b];
    if (still_to_keep >= bin.size()) {
      still_to_keep -= bin.size();
      continue;
    }
    if (still_to_keep > 0) {
      std::vector<int64_t> order(static_cast<size_t>(bin.size()));
      std::iota(order.begin(), order.end(), int64_t{0});
      std::nth_element(order.begin(), order.begin() + still_to_keep, order.end(), CanonicalLess{bin});
      order.resize(static_cast<size_t>(still_to_keep));
      std::sort(order.begin(), order.end());  // stored order, for locality
      PatternBatch kept;
      for (const int64_t p : order) kept.add_from(bin, p);
      still_to_keep = 0;
      bin = std::move(kept);
    } else {
      bin = PatternBatch{};
    }
  }
  n_stored_ = keep_;
  note_pruned();
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

namespace {

size_t bytes_of(const PatternBatch& batch) {
  return batch.items.capacity() * sizeof(int32_t) +
         (batch.offsets.capacity() + batch.support.capacity() + batch.converted_support.capacity()) * sizeof(int64_t);
}

}  // namespace

FrequentPatterns PatternCollector::finish(int num_threads) {
  std::lock_guard<std::mutex> lock(mutex_);
  const int64_t n_kept = std::min(keep_, n_stored_);
  FrequentPatterns out;
  out.budget_exceeded = stopped_;
  out.threshold_at_stop = threshold_at_stop_;
  out.truncated = truncated_.load() || n_stored_ > keep_;
  // The store and the answer are never both held whole: the answer is reserved, not filled (its
  // pages are touched only as patterns arrive), and each bin is released once handed over. Released
  // bins mostly lie inside malloc's heaps, which keep freed memory mapped, so it is handed back to
  // the system every few MiB; and the bins' spare capacity (up to half of a grown vector, much of
  // it touched memory reused from other bins) is given up first.
  constexpr int64_t kReleaseEvery = int64_t{8} << 20;
  int64_t released = 0;
  auto count_released = [&](int64_t bytes) {
    released += bytes;
    if (released < kReleaseEvery) return;
    release_free_memory();
    released = 0;
  };
  for (PatternBatch& bin : bins_) {
    const size_t before = bytes_of(bin);
    bin.items.shrink_to_fit();
    bin.offsets.shrink_to_fit();
    bin.support.shrink_to_fit();
    bin.converted_support.shrink_to_fit();
    count_released(static_cast<int64_t>(before - bytes_of(bin)));
  }
  // Items of the bins the answer takes (the last one perhaps in part): whole bins from the top.
  size_t items_bound = 0;
  for (size_t b = bins_.size(), counted = 0; b-- > 0 && counted < static_cast<size_t>(n_kept);) {
    items_bound += bins_[b].items.size();
    counted += static_cast<size_t>(bins_[b].size());
  }
  out.offsets.reserve(static_cast<size_t>(n_kept) + 1);
  out.items.reserve(items_bound);
  out.support.reserve(static_cast<size_t>(n_kept));
  out.converted_support.reserve(static_cast<size_t>(n_kept));
  // Bins from the highest supports down: each bin's canonical order continues the previous one's.
  for (size_t b = bins_.size(); b-- > 0 && out.size() < n_kept;) {
    const PatternBatch& bin = bins_[b];
    const std::vector<int64_t> order = canonical_order(bin, num_threads);
    const auto take = static_cast<size_t>(std::min<int64_t>(bin.size(), n_kept - out.size()));
    for (size_t i = 0; i < take; ++i) {
      const int64_t p = order[i];
      out.items.insert(out.items.end(), bin.items.begin() + bin.offsets[p], bin.items.begin() + bin.offsets[p + 1]);
      out.offsets.push_back(static_cast<int64_t>(out.items.size()));
      out.support.push_back(bin.support[p]);
      out.converted_support.push_back(bin.converted_support[p]);
    }
    const size_t bin_bytes = bytes_of(bin);
    bins_[b] = PatternBatch{};
    count_released(static_cast<int64_t>(bin_bytes));
  }
  std::vector<PatternBatch>().swap(bins_);
  n_stored_ = 0;
  release_free_memory();
  return out;
}

}  // namespace jm::patterns_detail
