// Isolation forest (Liu, Ting & Zhou 2008): the second, independent detector. Each tree isolates a
// small random sample by random axis-aligned cuts; anomalies are isolated after few cuts, so their
// mean path length is short. Trees are built from per-tree seeded streams (deterministic for any
// thread count); scoring is parallel over row blocks.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "host/anomalies/autoencoder_driver.hpp"
#include "host/core/thread_pool.hpp"
#include "journeymap/anomalies.hpp"
#include "journeymap/common.hpp"

namespace jm {
namespace {

using anomalies_detail::SplitMix64;

struct TreeNode {
  int32_t feature = -1;  ///< -1: leaf
  float threshold = 0.0f;
  int32_t left = -1;
  int32_t right = -1;
  int64_t size = 0;      ///< sample rows that reached the node
};

/// Average path length of an unsuccessful search in a binary search tree of n points: the
/// normaliser c(n) of the isolation-forest paper.
double average_path_length(int64_t n) {
  if (n <= 1) return 0.0;
  if (n == 2) return 1.0;
  const double harmonic = std::log(static_cast<double>(n - 1)) + 0.5772156649015329;
  return 2.0 * harmonic - 2.0 * static_cast<double>(n - 1) / static_cast<double>(n);
}

std::vector<TreeNode> build_tree(const float* rows, int dims, std::vector<int64_t> sample, int height_limit,
                                 SplitMix64& rng) {
  std::vector<TreeNode> nodes;
  struct Pending {
    int32_t node;
    int64_t begin, end;
    int depth;
  };
  nodes.push_back(TreeNode{});
  std::vector<Pending> stack{{0, 0, static_cast<int64_t>(sample.size()), 0}};
  while (!stack.empty()) {
    const Pending task = stack.back();
    stack.pop_back();
    nodes[task.node].size = task.end - task.begin;
    if (task.depth >= height_limit || task.end - task.begin <= 1) continue;
    // Draw features until one varies inside the node (at most dims draws); none: a leaf.
    int32_t feature = -1;
    float low = 0.0f, high = 0.0f;
    for (int attempt = 0; attempt < dims && feature < 0; ++attempt) {
      const int32_t f = static_cast<int32_t>(rng.below(static_cast<uint64_t>(dims)));
      low = high = rows[sample[task.begin] * dims + f];
      for (int64_t i = task.begin + 1; i < task.end; ++i) {
        const float v = rows[sample[i] * dims + f];
        low = std::min(low, v);
        high = std::max(high, v);
      }
      if (high > low) feature = f;
    }
    if (feature < 0) continue;
    float threshold = static_cast<float>(low + rng.uniform() * (static_cast<double>(high) - low));
    if (!(threshold > low)) threshold = std::nextafter(low, high);  // keep both sides non-empty
    const auto middle = std::partition(sample.begin() + task.begin, sample.begin() + task.end,
                                       [&](int64_t r) { return rows[r * dims + feature] < threshold; });
    const int64_t split = middle - sample.begin();
    const int32_t left = static_cast<int32_t>(nodes.size());
    nodes.push_back(TreeNode{});
    nodes.push_back(TreeNode{});
    nodes[task.node].feature = feature;
    nodes[task.node].threshold = threshold;
    nodes[task.node].left = left;
    nodes[task.node].right = left + 1;
    stack.push_back({left, task.begin, split, task.depth + 1});
    stack.push_back({left + 1, split, task.end, task.depth + 1});
  }
  return nodes;
}

}  // namespace

std::vector<float> isolation_forest_scores(const float* rows, int64_t n, int dims,
                                           const IsolationForestOptions& options, int num_threads) {
  if (options.trees < 1) throw ConfigError("isolation forest: trees must be >= 1");
  if (options.sample_size < 2) throw ConfigError("isolation forest: sample_size must be >= 2");
  if (dims < 1) throw ConfigError("isolation forest: needs at least one column");
  if (n <= 0) return {};
  const int64_t sample_size = std::min(options.sample_size, n);
  const int height_limit = static_cast<int>(std::ceil(std::log2(static_cast<double>(std::max<int64_t>(sample_size, 2)))));
  const int threads = resolve_thread_count(num_threads);

  std::vector<std::vector<TreeNode>> forest(static_cast<size_t>(options.trees));
  parallel_for(options.trees, threads, [&](int64_t t) {
    SplitMix64 rng(options.seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(t) + 1);
    // Sample without replacement by rejection against a sorted list: O(sample^2) per tree, where
    // a partial shuffle of all indices would be O(n) per tree (sample << n).
    std::vector<int64_t> sample;
    sample.reserve(static_cast<size_t>(sample_size));
    if (sample_size == n) {
      sample.resize(static_cast<size_t>(n));
      std::iota(sample.begin(), sample.end(), 0);
    } else {
      std::vector<int64_t> sorted;
      while (static_cast<int64_t>(sample.size()) < sample_size) {
        const int64_t r = static_cast<int64_t>(rng.below(static_cast<uint64_t>(n)));
        const auto at = std::lower_bound(sorted.begin(), sorted.end(), r);
        if (at != sorted.end() && *at == r) continue;
        sorted.insert(at, r);
        sample.push_back(r);
      }
    }
    forest[t] = build_tree(rows, dims, std::move(sample), height_limit, rng);
  });

  const double normaliser = average_path_length(sample_size);
  std::vector<float> scores(static_cast<size_t>(n));
  constexpr int64_t kRowsPerBlock = 4096;
  parallel_for((n + kRowsPerBlock - 1) / kRowsPerBlock, threads, [&](int64_t block) {
    for (int64_t r = block * kRowsPerBlock, end = std::min(n, (block + 1) * kRowsPerBlock); r < end; ++r) {
      const float* x = rows + r * dims;
      double total_path = 0.0;
      for (const auto& tree : forest) {
        int32_t node = 0;
        int depth = 0;
        while (tree[node].feature >= 0) {
          node = x[tree[node].feature] < tree[node].threshold ? tree[node].left : tree[node].right;
          ++depth;
        }
        total_path += depth + average_path_length(tree[node].size);
      }
      const double mean_path = total_path / static_cast<double>(forest.size());
      scores[r] = static_cast<float>(std::pow(2.0, -mean_path / normaliser));
    }
  });
  return scores;
}

}  // namespace jm
