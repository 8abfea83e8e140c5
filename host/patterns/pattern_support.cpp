#include "host/patterns/pattern_support.hpp"

#include <algorithm>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <unordered_map>

#include "host/core/thread_pool.hpp"

namespace jm::patterns_detail {
namespace {

/// The patterns as a prefix tree: node 0 is the empty pattern; a pattern ends at its terminal node.
struct PatternTrie {
  std::vector<int64_t> child_begin;  ///< [n_nodes + 1] children of node v: child_begin[v] .. child_begin[v + 1)
  std::vector<int32_t> child_item;   ///< item that extends the parent to the child
  std::vector<int32_t> child_node;
  std::vector<int32_t> terminal;     ///< [n_patterns] node where pattern p ends
  int max_depth = 0;

  int32_t size() const { return static_cast<int32_t>(child_begin.size()) - 1; }
};

PatternTrie build_trie(const std::vector<int64_t>& offsets, const std::vector<int32_t>& items) {
  PatternTrie trie;
  std::vector<int32_t> parent{-1}, item_of{-1};
  std::unordered_map<uint64_t, int32_t> child_of;  // (parent << 32 | item) -> child
  const auto n_patterns = static_cast<int64_t>(offsets.size()) - 1;
  trie.terminal.resize(static_cast<size_t>(std::max<int64_t>(n_patterns, 0)));
  for (int64_t p = 0; p < n_patterns; ++p) {
    int32_t node = 0;
    for (int64_t k = offsets[p]; k < offsets[p + 1]; ++k) {
      const uint64_t key = (static_cast<uint64_t>(node) << 32) | static_cast<uint32_t>(items[k]);
      const auto [it, inserted] = child_of.emplace(key, static_cast<int32_t>(parent.size()));
      if (inserted) {
        parent.push_back(node);
        item_of.push_back(items[k]);
      }
      node = it->second;
    }
    trie.terminal[static_cast<size_t>(p)] = node;
    trie.max_depth = std::max<int>(trie.max_depth, static_cast<int>(offsets[p + 1] - offsets[p]));
  }
  // Children grouped by parent (counting sort; node ids grow with insertion, so order is stable).
  const auto n_nodes = static_cast<int32_t>(parent.size());
  trie.child_begin.assign(static_cast<size_t>(n_nodes) + 1, 0);
  for (int32_t v = 1; v < n_nodes; ++v) ++trie.child_begin[static_cast<size_t>(parent[v]) + 1];
  for (int32_t v = 0; v < n_nodes; ++v) trie.child_begin[v + 1] += trie.child_begin[v];
  trie.child_item.resize(static_cast<size_t>(std::max(n_nodes - 1, 0)));
  trie.child_node.resize(trie.child_item.size());
  std::vector<int64_t> next(trie.child_begin.begin(), trie.child_begin.end() - 1);
  for (int32_t v = 1; v < n_nodes; ++v) {
    const int64_t slot = next[static_cast<size_t>(parent[v])]++;
    trie.child_item[static_cast<size_t>(slot)] = item_of[static_cast<size_t>(v)];
    trie.child_node[static_cast<size_t>(slot)] = v;
  }
  // Each node's children by item, so a journey with fewer distinct items than a node has children
  // can look its items up instead of trying every child.
  std::vector<std::pair<int32_t, int32_t>> children;
  for (int32_t v = 0; v < n_nodes; ++v) {
    const auto first = static_cast<size_t>(trie.child_begin[v]), last = static_cast<size_t>(trie.child_begin[v + 1]);
    children.clear();
    for (size_t c = first; c < last; ++c) children.emplace_back(trie.child_item[c], trie.child_node[c]);
    std::sort(children.begin(), children.end());
    for (size_t c = first; c < last; ++c) std::tie(trie.child_item[c], trie.child_node[c]) = children[c - first];
  }
  return trie;
}

/// One thread's walk: per journey, the positions of each item, then the trie nodes the journey
/// contains, each with the end positions of its matches (the earliest one suffices without a gap
/// limit: any later extension of a later match also extends the earliest).
class TrieWalker {
 public:
  TrieWalker(const PatternTrie& trie, int32_t n_items, int max_gap)
      : trie_(trie), max_gap_(max_gap), stamp_(static_cast<size_t>(n_items), -1),
        begin_(static_cast<size_t>(n_items), 0), count_(static_cast<size_t>(n_items), 0),
        fill_(static_cast<size_t>(n_items), 0), ends_by_depth_(static_cast<size_t>(trie.max_depth) + 1) {}

  /// Adds journey `j` (its `length` items) to the counts of every node it contains.
  void add_journey(int64_t j, const int32_t* items, int64_t length, bool converted, std::vector<int64_t>& support,
                   std::vector<int64_t>& converted_support) {
    index_positions(j, items, length);
    support_ = &support;
    converted_support_ = &converted_support;
    converted_ = converted;
    journey_ = j;
    walk();
  }

 private:
  // Positions grouped by item (counting sort over the items the journey holds).
  void index_positions(int64_t j, const int32_t* items, int64_t length) {
    touched_.clear();
    for (int64_t e = 0; e < length; ++e) {
      const auto item = static_cast<size_t>(items[e]);
      if (stamp_[item] != j) {
        stamp_[item] = j;
        count_[item] = 0;
        touched_.push_back(items[e]);
      }
      ++count_[item];
    }
    int64_t total = 0;
    for (const int32_t item : touched_) {
      begin_[static_cast<size_t>(item)] = total;
      total += count_[static_cast<size_t>(item)];
    }
    positions_.resize(static_cast<size_t>(total));
    for (const int32_t item : touched_) fill_[static_cast<size_t>(item)] = 0;
    for (int64_t e = 0; e < length; ++e) {
      const auto item = static_cast<size_t>(items[e]);
      positions_[static_cast<size_t>(begin_[item] + fill_[item]++)] = e;
    }
  }

  // Depth-first over the trie with an explicit stack (patterns can be as long as journeys). The
  // node on frame d has its match ends in ends_by_depth_[d]; a child's go to ends_by_depth_[d + 1],
  // reused by its siblings once its subtree is done.
  void walk() {
    frames_.clear();
    frames_.push_back({0, 0});
    while (!frames_.empty()) {
      const size_t depth = frames_.size() - 1;
      Frame& frame = frames_.back();
      const int64_t first_child = trie_.child_begin[frame.node], n_children = trie_.child_begin[frame.node + 1] - first_child;
      // Children are tried one by one, or found from the journey's distinct items, whichever is fewer.
      const bool by_item = static_cast<int64_t>(touched_.size()) < n_children;
      if (frame.next >= (by_item ? static_cast<int64_t>(touched_.size()) : n_children)) {
        frames_.pop_back();
        continue;
      }
      const int64_t k = frame.next++;
      int64_t c = first_child + k;
      if (by_item) {
        const auto begin = trie_.child_item.begin() + first_child, end = begin + n_children;
        const auto found = std::lower_bound(begin, end, touched_[static_cast<size_t>(k)]);
        if (found == end || *found != touched_[static_cast<size_t>(k)]) continue;
        c = first_child + (found - begin);
      }
      const int32_t node = frame.node;
      const int32_t item = trie_.child_item[static_cast<size_t>(c)];
      if (item < 0 || static_cast<size_t>(item) >= stamp_.size() || stamp_[static_cast<size_t>(item)] != journey_)
        continue;
      const int64_t* first = positions_.data() + begin_[static_cast<size_t>(item)];
      const int64_t* last = first + count_[static_cast<size_t>(item)];
      const std::vector<int64_t>& ends = ends_by_depth_[depth];
      if (node != 0 && max_gap_ == 0 && last[-1] <= ends.front()) continue;  // no occurrence after the match
      const int32_t child = trie_.child_node[static_cast<size_t>(c)];
      const bool leaf = trie_.child_begin[child + 1] == trie_.child_begin[child];
      std::vector<int64_t>& child_ends = ends_by_depth_[depth + 1];
      child_ends.clear();
      if (max_gap_ == 0) {
        // The earliest end suffices: a later match's extensions also extend the earliest one.
        if (!leaf) child_ends.push_back(node == 0 ? *first : *std::upper_bound(first, last, ends.front()));
      } else if (node == 0) {
        child_ends.assign(first, last);
      } else {
        // q extends a match ending at p when p < q <= p + max_gap; both lists ascend.
        size_t i = 0;
        for (const int64_t* q = first; q != last; ++q) {
          while (i < ends.size() && ends[i] < *q - max_gap_) ++i;
          if (i < ends.size() && ends[i] < *q) child_ends.push_back(*q);
        }
        if (child_ends.empty()) continue;
      }
      ++(*support_)[static_cast<size_t>(child)];
      if (converted_) ++(*converted_support_)[static_cast<size_t>(child)];
      if (!leaf) frames_.push_back({child, 0});
    }
  }

  struct Frame {
    int32_t node;
    int64_t next;  ///< next child (or next distinct item of the journey) to try
  };

  const PatternTrie& trie_;
  const int max_gap_;
  std::vector<int64_t> stamp_;  ///< journey whose positions begin_/count_ hold for the item
  std::vector<int64_t> begin_, count_, fill_;  ///< per item: first position slot, occurrences, slots filled
  std::vector<int32_t> touched_;
  std::vector<int64_t> positions_;
  std::vector<std::vector<int64_t>> ends_by_depth_;  ///< match ends of the node on each frame
  std::vector<Frame> frames_;
  std::vector<int64_t>* support_ = nullptr;
  std::vector<int64_t>* converted_support_ = nullptr;
  bool converted_ = false;
  int64_t journey_ = -1;
};

}  // namespace

PatternSupports count_pattern_supports(const Context& ctx, const JourneySet& journeys,
                                       const std::vector<int64_t>& offsets, const std::vector<int32_t>& items,
                                       int max_gap) {
  if (offsets.empty() || offsets.back() != static_cast<int64_t>(items.size()))
    throw std::invalid_argument("count_pattern_supports: offsets do not cover the items");
  const PatternTrie trie = build_trie(offsets, items);
  const int32_t n_items = journeys.touchpoints.size();
  const int64_t n_journeys = journeys.size();
  const int threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(resolve_thread_count(ctx.num_threads), n_journeys)));
  std::vector<std::vector<int64_t>> support(static_cast<size_t>(threads)), converted(static_cast<size_t>(threads));
  parallel_for(threads, threads, [&](int64_t t) {
    auto& my_support = support[static_cast<size_t>(t)];
    auto& my_converted = converted[static_cast<size_t>(t)];
    my_support.assign(static_cast<size_t>(trie.size()), 0);
    my_converted.assign(static_cast<size_t>(trie.size()), 0);
    TrieWalker walker(trie, n_items, max_gap);
    const int64_t first = n_journeys * t / threads, last = n_journeys * (t + 1) / threads;
    for (int64_t j = first; j < last; ++j)
      walker.add_journey(j, journeys.touchpoint.data() + journeys.offsets[j], journeys.length(j),
                         journeys.converted[j] != 0, my_support, my_converted);
  });
  PatternSupports out;
  out.support.assign(trie.terminal.size(), 0);
  out.converted_support.assign(trie.terminal.size(), 0);
  for (size_t p = 0; p < trie.terminal.size(); ++p)
    for (int t = 0; t < threads; ++t) {
      out.support[p] += support[static_cast<size_t>(t)][static_cast<size_t>(trie.terminal[p])];
      out.converted_support[p] += converted[static_cast<size_t>(t)][static_cast<size_t>(trie.terminal[p])];
    }
  return out;
}

}  // namespace jm::patterns_detail
