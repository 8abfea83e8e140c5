// Isolation forest (Liu, Ting & Zhou 2008): the second, independent detector. Each tree isolates a
// small random sample by random axis-aligned cuts; anomalies are isolated after few cuts, so their
// mean path length is short. Trees are built on the CPU from per-tree seeded streams (deterministic
// for any thread count) into one flat node array; scoring (the costly part: rows x trees x depth)
// runs on the CPU in parallel row blocks or on the GPU, both through isolation_forest_rules.hpp.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "host/anomalies/anomaly_parts.hpp"
#include "host/anomalies/isolation_forest_driver.hpp"
#include "host/core/splitmix64.hpp"
#include "host/core/thread_pool.hpp"
#include "journeymap/anomalies.hpp"
#include "journeymap/common.hpp"
#include "journeymap/isolation_forest_rules.hpp"

namespace jm {
namespace {


using isolation_forest_rules::ForestNode;
using isolation_forest_rules::average_path_length;

/// One tree; child indices are local to it (0 = its root) until the forest is flattened.
std::vector<ForestNode> build_tree(const float* rows, int dims, std::vector<int64_t> sample, int height_limit,
                                   SplitMix64& rng) {
  std::vector<ForestNode> nodes;
  struct Pending {
    int32_t node;
    int64_t begin, end;
    int depth;
  };
  nodes.push_back(ForestNode{});
  std::vector<Pending> stack{{0, 0, static_cast<int64_t>(sample.size()), 0}};
  while (!stack.empty()) {
    const Pending task = stack.back();
    stack.pop_back();
    // Every node starts as a leaf with its c(size); a split below overwrites the leaf's role.
    nodes[task.node].leaf_path = static_cast<float>(average_path_length(task.end - task.begin));
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
    nodes.push_back(ForestNode{});
    nodes.push_back(ForestNode{});
    nodes[task.node].feature = feature;
    nodes[task.node].threshold = threshold;
    nodes[task.node].left = left;
    nodes[task.node].right = left + 1;
    stack.push_back({left, task.begin, split, task.depth + 1});
    stack.push_back({left + 1, split, task.end, task.depth + 1});
  }
  return nodes;
}

// A tree's rows (indices) and its random stream, which goes on from the draw to the tree's cuts.
struct TreeSample {
  std::vector<int64_t> rows;
  SplitMix64 rng;
};

int64_t tree_sample_size(const IsolationForestOptions& options, int64_t n) { return std::min(options.sample_size, n); }

// Every tree's sample of n rows, each from its own seeded stream (in parallel).
std::vector<TreeSample> draw_tree_samples(int64_t n, int dims, const IsolationForestOptions& options, int threads) {
  if (options.trees < 1) throw ConfigError("isolation forest: trees must be >= 1");
  if (options.sample_size < 2) throw ConfigError("isolation forest: sample_size must be >= 2");
  if (dims < 1) throw ConfigError("isolation forest: needs at least one column");
  const int64_t sample_size = tree_sample_size(options, n);
  std::vector<TreeSample> samples(static_cast<size_t>(options.trees), TreeSample{{}, SplitMix64(0)});
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
    samples[t] = TreeSample{std::move(sample), rng};
  });
  return samples;
}

// Builds every tree on `rows` (indexed by the samples' row indices) and lays them out flat.
anomalies_detail::FlatForest build_forest(const float* rows, int dims, std::vector<TreeSample> samples,
                                          int64_t sample_size, int threads) {
  const int height_limit = static_cast<int>(std::ceil(std::log2(static_cast<double>(std::max<int64_t>(sample_size, 2)))));
  std::vector<std::vector<ForestNode>> trees(samples.size());
  parallel_for(static_cast<int64_t>(samples.size()), threads, [&](int64_t t) {
    trees[t] = build_tree(rows, dims, std::move(samples[t].rows), height_limit, samples[t].rng);
  });

  anomalies_detail::FlatForest forest;
  forest.normaliser = average_path_length(sample_size);
  for (const auto& tree : trees) {
    const auto root = static_cast<int32_t>(forest.nodes.size());
    forest.roots.push_back(root);
    for (ForestNode node : tree) {
      if (node.feature >= 0) {
        node.left += root;
        node.right += root;
      }
      forest.nodes.push_back(node);
    }
  }
  return forest;
}

anomalies_detail::FlatForest build_forest(const float* rows, int64_t n, int dims, const IsolationForestOptions& options,
                                          int threads) {
  return build_forest(rows, dims, draw_tree_samples(n, dims, options, threads), tree_sample_size(options, n), threads);
}

std::vector<float> score_on_cpu(const anomalies_detail::FlatForest& forest, const float* rows, int64_t n, int dims,
                                int threads) {
  std::vector<float> scores(static_cast<size_t>(n));
  const int trees = static_cast<int>(forest.roots.size());
  constexpr int64_t kRowsPerBlock = 4096;
  parallel_for((n + kRowsPerBlock - 1) / kRowsPerBlock, threads, [&](int64_t block) {
    const int64_t begin = block * kRowsPerBlock, end = std::min(n, begin + kRowsPerBlock);
    // Tree by tree over the block's rows: one tree's nodes stay in cache while every row walks it
    // (row by row, every tree's nodes were fetched again for each row). Each row still adds its
    // path lengths in tree order, so the sums are those of isolation_score.
    std::vector<double> total(static_cast<size_t>(end - begin), 0.0);
    for (int t = 0; t < trees; ++t)
      for (int64_t r = begin; r < end; ++r)
        total[static_cast<size_t>(r - begin)] +=
            isolation_forest_rules::path_length(forest.nodes.data(), forest.roots[t], rows + r * dims);
    for (int64_t r = begin; r < end; ++r)
      scores[r] = isolation_forest_rules::score_of_total_path(total[static_cast<size_t>(r - begin)], trees,
                                                              forest.normaliser);
  });
  return scores;
}

}  // namespace

std::vector<float> isolation_forest_scores(const Context& ctx, const HostDeviceVector<float>& rows, int64_t n, int dims,
                                           const IsolationForestOptions& options) {
  if (n > 0 && rows.size() != static_cast<size_t>(n) * dims)
    throw ConfigError("isolation forest: " + std::to_string(rows.size()) + " values for " + std::to_string(n) +
                      " rows of " + std::to_string(dims));
  const int threads = resolve_thread_count(ctx.num_threads);
  // The trees are built on the host from a few samples per tree, so the host copy is read here.
  const anomalies_detail::FlatForest forest =
      build_forest(rows.host().data(), std::max<int64_t>(n, 0), dims, options, threads);
  if (n <= 0) return {};
  return ctx.backend == Backend::Gpu ? cuda_impl::isolation_forest_scores(ctx, forest, rows.device_view(ctx), n, dims)
                                     : score_on_cpu(forest, rows.host().data(), n, dims, threads);
}

std::vector<float> isolation_forest_scores(const Context& ctx, const float* rows, int64_t n, int dims,
                                           const IsolationForestOptions& options) {
  const int threads = resolve_thread_count(ctx.num_threads);
  if (ctx.backend == Backend::Gpu) {
    const HostDeviceVector<float> copy(rows, rows + std::max<int64_t>(n, 0) * dims);
    return isolation_forest_scores(ctx, copy, n, dims, options);
  }
  const anomalies_detail::FlatForest forest = build_forest(rows, std::max<int64_t>(n, 0), dims, options, threads);
  if (n <= 0) return {};
  return score_on_cpu(forest, rows, n, dims, threads);
}

anomalies_detail::FlatForest fit_isolation_forest(int64_t n, int dims, const IsolationForestOptions& options,
                                                  int num_threads, const RowGather& gather) {
  const int threads = resolve_thread_count(num_threads);
  std::vector<TreeSample> samples = draw_tree_samples(std::max<int64_t>(n, 0), dims, options, threads);
  // The rows any tree samples, fetched once; each tree's indices renumbered into them (in the same
  // order, so the same cuts as on all rows).
  std::vector<int64_t> sampled;
  for (const TreeSample& sample : samples) sampled.insert(sampled.end(), sample.rows.begin(), sample.rows.end());
  std::sort(sampled.begin(), sampled.end());
  sampled.erase(std::unique(sampled.begin(), sampled.end()), sampled.end());
  for (TreeSample& sample : samples)
    for (int64_t& row : sample.rows) row = std::lower_bound(sampled.begin(), sampled.end(), row) - sampled.begin();
  const std::vector<float> rows = gather(sampled);
  return build_forest(rows.data(), dims, std::move(samples), tree_sample_size(options, std::max<int64_t>(n, 0)), threads);
}

std::vector<float> isolation_forest_scores(const Context& ctx, const anomalies_detail::FlatForest& forest,
                                           const ScaledRows& rows) {
  const int threads = resolve_thread_count(ctx.num_threads);
  const int dims = rows.dims();
  std::vector<float> scores(static_cast<size_t>(rows.rows()));
  rows.for_each_block([&](int64_t first, int64_t count, const HostDeviceVector<float>& block) {
    const std::vector<float> part = ctx.backend == Backend::Gpu
                                        ? cuda_impl::isolation_forest_scores(ctx, forest, block.device_view(ctx), count, dims)
                                        : score_on_cpu(forest, block.host().data(), count, dims, threads);
    std::copy(part.begin(), part.end(), scores.begin() + first);
  });
  return scores;
}

std::vector<float> isolation_forest_scores(const float* rows, int64_t n, int dims,
                                           const IsolationForestOptions& options, int num_threads) {
  Context cpu;
  cpu.num_threads = num_threads;
  return isolation_forest_scores(cpu, rows, n, dims, options);
}

}  // namespace jm
