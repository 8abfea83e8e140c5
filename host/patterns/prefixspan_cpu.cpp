// CPU PrefixSpan with pseudo-projection: a prefix's projected database is only the list of
// (journey, embedding ends) pairs, never copies of suffixes. The per-journey step (which events
// extend a prefix and which count for support) is pattern_rules::for_each_window_event, the same
// code the GPU kernels run.
//
// Work split: the root is counted once; each frequent first item is a branch mined depth-first by
// one worker, branches handed out largest first. Memory: a node materialises its children's
// projections at once (together no larger than the node's own scanned windows), so the peak is
// bounded by the depth times the database size, per worker.
#include <algorithm>
#include <numeric>
#include <vector>

#include "host/core/thread_pool.hpp"
#include "host/patterns/pattern_collector.hpp"
#include "journeymap/pattern_rules.hpp"
#include "journeymap/patterns.hpp"

namespace jm::cpu_impl {
namespace {

using patterns_detail::PatternBatch;
using patterns_detail::PatternCollector;

/// The projected database of one prefix: per containing journey, its sorted embedding ends.
struct Projection {
  std::vector<int32_t> journey;       ///< [n_groups]
  std::vector<int64_t> group_begin;   ///< [n_groups + 1] range of each group in `ends`
  std::vector<int64_t> ends;          ///< absolute event positions

  int64_t groups() const { return static_cast<int64_t>(journey.size()); }
  void add_end(int32_t j, int64_t position) {
    if (journey.empty() || journey.back() != j) {
      journey.push_back(j);
      group_begin.push_back(static_cast<int64_t>(ends.size()));
    }
    ends.push_back(position);
  }
  void seal() { group_begin.push_back(static_cast<int64_t>(ends.size())); }
};

constexpr int64_t kFlushPatterns = 4096;

/// Mines the branches below prefixes, depth-first, with per-worker scratch indexed by item.
class BranchMiner {
 public:
  BranchMiner(const MiningProblem& problem, PatternCollector& collector)
      : problem_(problem),
        offsets_(problem.offsets->data()),
        items_(problem.items->data()),
        journey_converted_(problem.converted->data()),
        previous_same_item_(problem.previous_same_item.data()),
        collector_(collector),
        support_(static_cast<size_t>(problem.n_items), 0),
        converted_(static_cast<size_t>(problem.n_items), 0),
        child_slot_(static_cast<size_t>(problem.n_items), -1) {}

  ~BranchMiner() { flush(); }

  /// Counts the extensions of `prefix` over `projection`, records the frequent ones and returns
  /// the items whose extension is to be expanded further. `window_gap` is 0 at the root (the
  /// first item may be anywhere) and max_gap below it.
  std::vector<int32_t> count_extensions(const Projection& projection, const std::vector<int32_t>& prefix,
                                        int64_t window_gap) {
    std::vector<int32_t> touched;
    for (int64_t g = 0; g < projection.groups(); ++g) {
      const int32_t j = projection.journey[g];
      const int64_t converted = journey_converted_[j];
      pattern_rules::for_each_window_event(
          projection.ends.data() + projection.group_begin[g], projection.group_begin[g + 1] - projection.group_begin[g],
          offsets_[j + 1] - 1, window_gap, previous_same_item_, [&](int64_t q, bool first) {
            if (!first) return;
            const int32_t item = items_[q];
            if (support_[item]++ == 0) touched.push_back(item);
            converted_[item] += converted;
          });
    }
    std::sort(touched.begin(), touched.end());

    const int64_t threshold = collector_.threshold();
    const auto length = static_cast<int64_t>(prefix.size()) + 1;
    const bool can_grow = problem_.max_length == 0 || length < problem_.max_length;
    std::vector<int32_t> grow;
    pattern_.assign(prefix.begin(), prefix.end());
    pattern_.push_back(0);
    for (int32_t item : touched) {
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
      support_[item] = 0;
      converted_[item] = 0;
    }
    if (batch_.size() >= kFlushPatterns) flush();
    return grow;
  }

  /// Projections of prefix + item for every item of `grow` (same order), in one pass.
  std::vector<Projection> project(const Projection& projection, const std::vector<int32_t>& grow, int64_t window_gap) {
    std::vector<Projection> children(grow.size());
    for (size_t c = 0; c < grow.size(); ++c) child_slot_[grow[c]] = static_cast<int32_t>(c);
    const int64_t max_gap = problem_.max_gap;
    for (int64_t g = 0; g < projection.groups(); ++g) {
      const int32_t j = projection.journey[g];
      pattern_rules::for_each_window_event(
          projection.ends.data() + projection.group_begin[g], projection.group_begin[g + 1] - projection.group_begin[g],
          offsets_[j + 1] - 1, window_gap, previous_same_item_, [&](int64_t q, bool first) {
            if (!pattern_rules::is_child_end(first, max_gap)) return;
            const int32_t slot = child_slot_[items_[q]];
            if (slot >= 0) children[slot].add_end(j, q);
          });
    }
    for (size_t c = 0; c < grow.size(); ++c) {
      child_slot_[grow[c]] = -1;
      children[c].seal();
    }
    return children;
  }

  /// Depth-first mining of everything below `prefix` (whose projection is given).
  void mine(const Projection& projection, std::vector<int32_t>& prefix) {
    const std::vector<int32_t> grow = count_extensions(projection, prefix, problem_.max_gap);
    if (grow.empty()) return;
    std::vector<Projection> children = project(projection, grow, problem_.max_gap);
    for (size_t c = 0; c < grow.size(); ++c) {
      // The threshold may have risen (top-k) since the child was counted.
      if (children[c].groups() >= collector_.threshold()) {
        prefix.push_back(grow[c]);
        mine(children[c], prefix);
        prefix.pop_back();
      }
      children[c] = Projection{};  // release memory before the next sibling
    }
  }

  void flush() {
    if (batch_.size() > 0) collector_.add(batch_);
  }

 private:
  const MiningProblem& problem_;
  const int64_t* offsets_;             // the journeys' CSR (host side)
  const int32_t* items_;
  const uint8_t* journey_converted_;
  const int64_t* previous_same_item_;
  PatternCollector& collector_;
  std::vector<int64_t> support_;
  std::vector<int64_t> converted_;
  std::vector<int32_t> child_slot_;
  std::vector<int32_t> pattern_;
  PatternBatch batch_;
};

}  // namespace

FrequentPatterns mine_frequent_patterns(const Context& ctx, const MiningProblem& problem) {
  PatternCollector collector(problem.min_count, problem.keep, problem.max_explored);
  const int64_t n_journeys = static_cast<int64_t>(problem.offsets->size()) - 1;
  const int64_t* offsets = problem.offsets->data();

  // Root: the empty prefix "ends" just before every non-empty journey.
  Projection root;
  for (int64_t j = 0; j < n_journeys; ++j)
    if (offsets[j + 1] > offsets[j]) root.add_end(static_cast<int32_t>(j), offsets[j] - 1);
  root.seal();

  std::vector<int32_t> first_items;
  std::vector<Projection> branches;
  {
    BranchMiner miner(problem, collector);
    first_items = miner.count_extensions(root, {}, /*window_gap=*/0);
    branches = miner.project(root, first_items, /*window_gap=*/0);
  }
  root = Projection{};

  // Largest branches first, so that a long one does not start last.
  std::vector<size_t> order(branches.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return branches[a].ends.size() > branches[b].ends.size(); });
  parallel_for(static_cast<int64_t>(order.size()), std::max(1, ctx.num_threads), [&](int64_t task) {
    const size_t b = order[static_cast<size_t>(task)];
    BranchMiner miner(problem, collector);
    std::vector<int32_t> prefix{first_items[b]};
    miner.mine(branches[b], prefix);
    branches[b] = Projection{};
  });
  return collector.finish();
}

}  // namespace jm::cpu_impl
