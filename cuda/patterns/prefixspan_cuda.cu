// GPU twin of PrefixSpan: many prefixes are expanded per launch.
//
// A batch is a set of prefixes of one length with their projected entries (node, journey,
// position) on the device, sorted by node then position. For a range of nodes:
//   1. count_extension_support: every (node, item) cell's support, counted once per journey by the
//      shared per-journey step, with atomics into a [nodes x items] matrix;
//   2. flag + DeviceSelect: the frequent cells go to the host (two round trips: their count, then
//      the cells with their supports), which records the patterns in the
//      same PatternCollector the CPU uses (threshold, top-k, cap, canonical order);
//   3. count_child_entries + scan + write_child_entries + stable radix sort by child: the
//      projected entries of the growing cells, i.e. the next batch, pushed on a stack (depth
//      first, so memory stays bounded by depth x batch size).
// Batching: node ranges are cut so that a count matrix and a range's entries fit the budget, and
// a range's children are split into several batches when their entries would not fit.
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>
#include <cub/device/device_select.cuh>
#include <rmm/device_buffer.hpp>
#include <rmm/device_uvector.hpp>
#include <thrust/iterator/counting_iterator.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "cuda/core/cuda_check.cuh"
#include "cuda/core/device_copy.cuh"
#include "cuda/core/device_runtime.cuh"
#include "host/patterns/pattern_collector.hpp"
#include "journeymap/patterns.hpp"
#include "kernels/patterns/prefixspan_kernels.cuh"

namespace jm::cuda_impl {
namespace {

using kernels::kPrefixSpanBlockThreads;
using patterns_detail::PatternBatch;
using patterns_detail::PatternCollector;

constexpr int64_t kDefaultBatchBytes = int64_t{1} << 30;
// Device bytes per projected entry, counting the sort's double buffers and the emission arrays.
constexpr int64_t kBytesPerEntry = 64;
// Device bytes per (node, item) cell: two counters, a flag, a child id and a selected index.
constexpr int64_t kBytesPerCell = 4 + 4 + 1 + 4 + 8;

int bits_for(uint64_t max_value) {
  int bits = 1;
  while (bits < 64 && (max_value >> bits) != 0) ++bits;
  return bits;
}

/// Prefixes of one length with their projected entries on the device.
struct Batch {
  explicit Batch(rmm::cuda_stream_view stream) : node(0, stream), journey(0, stream), position(0, stream) {}
  rmm::device_uvector<int32_t> node;
  rmm::device_uvector<int32_t> journey;
  rmm::device_uvector<int64_t> position;
  std::vector<int64_t> node_offsets{0};  ///< host: entry range of each node
  PatternBatch prefixes;                 ///< host: the prefix of each node (support fields unused)
  int64_t prefix_length = 0;
  int64_t window_gap = 0;                ///< 0 at the root (first item anywhere), else max_gap

  int32_t nodes() const { return static_cast<int32_t>(node_offsets.size()) - 1; }
  kernels::ProjectedEntries view() const { return {node.data(), journey.data(), position.data()}; }
};

class GpuMiner {
 public:
  GpuMiner(const Context& ctx, const MiningProblem& problem, PatternCollector& collector)
      : problem_(problem),
        collector_(collector),
        owner_(ctx.device),
        resources_(cuda_resources(ctx)),
        stream_(resources_.stream()),
        // The journeys' device columns (uploaded only if the journeys were built on the host).
        offsets_(problem.offsets->device_view(ctx).data),
        items_(problem.items->device_view(ctx).data),
        previous_same_item_(problem.previous_same_item.device_view(ctx).data),
        converted_(problem.converted->device_view(ctx).data) {
    const int64_t budget = problem.gpu_batch_bytes > 0 ? problem.gpu_batch_bytes : kDefaultBatchBytes;
    entry_budget_ = std::max<int64_t>(1, budget / kBytesPerEntry);
    cell_budget_ = std::max<int64_t>(problem.n_items, budget / kBytesPerCell);
    db_ = kernels::SequenceDatabase{offsets_, items_, previous_same_item_, converted_, problem.n_items};
  }

  void run() {
    // Root: the empty prefix ends just before every non-empty journey.
    std::vector<int32_t> journeys;
    std::vector<int64_t> positions;
    const std::vector<int64_t>& offsets = problem_.offsets->host();
    for (size_t j = 0; j + 1 < offsets.size(); ++j)
      if (offsets[j + 1] > offsets[j]) {
        journeys.push_back(static_cast<int32_t>(j));
        positions.push_back(offsets[j] - 1);
      }
    if (journeys.empty() || problem_.n_items == 0) return;
    Batch root(stream_);
    root.node = upload(std::vector<int32_t>(journeys.size(), 0), resources_);
    root.journey = upload(journeys, resources_);
    root.position = upload(positions, resources_);
    root.node_offsets = {0, static_cast<int64_t>(journeys.size())};
    root.prefixes.add(nullptr, 0, 0, 0);
    stack_.push_back(std::move(root));
    while (!stack_.empty()) {
      Batch batch = std::move(stack_.back());
      stack_.pop_back();
      expand(batch);
    }
  }

 private:
  // Blocks for a grid-stride kernel over n items.
  unsigned grid_for(int64_t n) const { return resources_.grid_for(n, kPrefixSpanBlockThreads); }

  // Cuts the batch into node ranges that fit the count matrix and entry budgets.
  void expand(const Batch& batch) {
    for (int32_t first = 0; first < batch.nodes();) {
      int32_t last = first + 1;
      while (last < batch.nodes() && int64_t{last + 1 - first} * problem_.n_items <= cell_budget_ &&
             batch.node_offsets[last + 1] - batch.node_offsets[first] <= entry_budget_)
        ++last;
      expand_range(batch, first, last);
      first = last;
    }
  }

  void expand_range(const Batch& batch, int32_t first_node, int32_t last_node) {
    const int64_t begin = batch.node_offsets[first_node], end = batch.node_offsets[last_node];
    const int64_t n_cells = int64_t{last_node - first_node} * problem_.n_items;
    const int64_t length = batch.prefix_length + 1;

    // 1. Support of every extension.
    rmm::device_uvector<unsigned int> support(n_cells, stream_);
    rmm::device_uvector<unsigned int> converted_support(n_cells, stream_);
    JM_CUDA_TRY(cudaMemsetAsync(support.data(), 0, n_cells * sizeof(unsigned int), stream_.value()));
    JM_CUDA_TRY(cudaMemsetAsync(converted_support.data(), 0, n_cells * sizeof(unsigned int), stream_.value()));
    kernels::count_extension_support<<<grid_for(end - begin), kPrefixSpanBlockThreads, 0, stream_.value()>>>(
        batch.view(), begin, end, first_node, db_, batch.window_gap, support.data(), converted_support.data());
    JM_CUDA_CHECK_LAUNCH();

    // 2. Frequent cells to the host in two round trips: their number with the pruned flag, then
    //    the cells with both supports in one array.
    rmm::device_uvector<uint8_t> flags(n_cells, stream_);
    rmm::device_uvector<int64_t> selection(2, stream_);  // [0] frequent cells, [1] any pruned cell
    JM_CUDA_TRY(cudaMemsetAsync(selection.data(), 0, 2 * sizeof(int64_t), stream_.value()));
    kernels::flag_frequent_cells<<<grid_for(n_cells), kPrefixSpanBlockThreads, 0, stream_.value()>>>(
        support.data(), n_cells, collector_.threshold(), problem_.min_count, flags.data(), selection.data() + 1);
    JM_CUDA_CHECK_LAUNCH();
    rmm::device_uvector<int64_t> cells = select_flagged(flags, selection.data(), stream_);
    const std::vector<int64_t> host_selection = download(selection.data(), 2, resources_);  // waits for the kernels
    const int64_t n_frequent = host_selection[0];
    if (host_selection[1] != 0 && length >= problem_.min_length) collector_.note_pruned();
    // frequent = [cells | support | converted support], n_frequent each.
    rmm::device_uvector<int64_t> frequent(3 * static_cast<size_t>(n_frequent), stream_);
    if (n_frequent > 0) {
      JM_CUDA_TRY(cudaMemcpyAsync(frequent.data(), cells.data(), n_frequent * sizeof(int64_t), cudaMemcpyDeviceToDevice,
                                  stream_.value()));
      kernels::gather_values<<<grid_for(n_frequent), kPrefixSpanBlockThreads, 0, stream_.value()>>>(
          cells.data(), support.data(), frequent.data() + n_frequent, n_frequent);
      JM_CUDA_CHECK_LAUNCH();
      kernels::gather_values<<<grid_for(n_frequent), kPrefixSpanBlockThreads, 0, stream_.value()>>>(
          cells.data(), converted_support.data(), frequent.data() + 2 * n_frequent, n_frequent);
      JM_CUDA_CHECK_LAUNCH();
    }
    const std::vector<int64_t> host_frequent = download(frequent.data(), frequent.size(), resources_);
    const int64_t* host_cells = host_frequent.data();
    const int64_t* host_support = host_cells + n_frequent;
    const int64_t* host_converted = host_cells + 2 * n_frequent;

    // Record the patterns (cells come in node-major order).
    std::vector<int32_t> pattern;
    for (int64_t k = 0; k < n_frequent; ++k) {
      if (length < problem_.min_length) break;
      const int32_t node = first_node + static_cast<int32_t>(host_cells[k] / problem_.n_items);
      const auto item = static_cast<int32_t>(host_cells[k] % problem_.n_items);
      pattern.assign(batch.prefixes.items.begin() + batch.prefixes.offsets[node],
                     batch.prefixes.items.begin() + batch.prefixes.offsets[node + 1]);
      pattern.push_back(item);
      found_.add(pattern.data(), length, host_support[k], host_converted[k]);
    }
    collector_.add(found_);

    // 3. Children: frequent cells that may still grow (the threshold may have risen just now).
    if (problem_.max_length > 0 && length >= problem_.max_length) return;
    const int64_t threshold = collector_.threshold();
    std::vector<int64_t> growing_cells;
    std::vector<int64_t> child_support;
    for (int64_t k = 0; k < n_frequent; ++k)
      if (host_support[k] >= threshold) {
        growing_cells.push_back(host_cells[k]);
        child_support.push_back(host_support[k]);
      }
    if (growing_cells.empty()) return;
    const auto n_children = static_cast<int32_t>(growing_cells.size());
    rmm::device_uvector<int32_t> child_of(n_cells, stream_);
    JM_CUDA_TRY(cudaMemsetAsync(child_of.data(), 0xff, n_cells * sizeof(int32_t), stream_.value()));  // -1
    {
      rmm::device_uvector<int64_t> device_growing = upload(growing_cells, resources_);
      kernels::scatter_child_ids<<<grid_for(n_children), kPrefixSpanBlockThreads, 0, stream_.value()>>>(
          device_growing.data(), n_children, 0, child_of.data());
      JM_CUDA_CHECK_LAUNCH();
      // device_growing is freed in stream order after the kernel.
    }

    // Entries per child: the support without a gap limit (one end per journey), counted otherwise.
    std::vector<int64_t> child_entries = child_support;
    if (problem_.max_gap > 0) {
      rmm::device_uvector<int64_t> emit_count(end - begin, stream_);
      rmm::device_uvector<unsigned long long> per_child(n_children, stream_);
      JM_CUDA_TRY(cudaMemsetAsync(per_child.data(), 0, n_children * sizeof(unsigned long long), stream_.value()));
      kernels::count_child_entries<<<grid_for(end - begin), kPrefixSpanBlockThreads, 0, stream_.value()>>>(
          batch.view(), begin, end, first_node, db_, batch.window_gap, problem_.max_gap, child_of.data(), 0, n_children,
          emit_count.data(), per_child.data());
      JM_CUDA_CHECK_LAUNCH();
      const std::vector<unsigned long long> counts = download(per_child.data(), per_child.size(), resources_);
      child_entries.assign(counts.begin(), counts.end());
    }

    // Children of consecutive nodes go together while their entries fit one batch.
    for (int32_t first_child = 0; first_child < n_children;) {
      int32_t last_child = first_child;
      int64_t entries = 0;
      while (last_child < n_children && (last_child == first_child || entries + child_entries[last_child] <= entry_budget_)) {
        entries += child_entries[last_child];
        ++last_child;
      }
      // The parents' entries that can emit into this chunk: those of the nodes owning its cells.
      const int32_t first_parent = first_node + static_cast<int32_t>(growing_cells[first_child] / problem_.n_items);
      const int32_t last_parent = first_node + static_cast<int32_t>(growing_cells[last_child - 1] / problem_.n_items) + 1;
      stack_.push_back(make_children(batch, first_node, batch.node_offsets[first_parent],
                                     batch.node_offsets[last_parent], child_of, first_child, last_child, growing_cells,
                                     child_entries, entries));
      first_child = last_child;
    }
  }

  // The batch of children [first_child, last_child) from parent entries [begin, end).
  Batch make_children(const Batch& batch, int32_t first_node, int64_t begin, int64_t end,
                      const rmm::device_uvector<int32_t>& child_of, int32_t first_child, int32_t last_child,
                      const std::vector<int64_t>& growing_cells, const std::vector<int64_t>& child_entries,
                      int64_t total_entries) {
    const int32_t n_children = last_child - first_child;
    const int64_t n_parent_entries = end - begin;
    rmm::device_uvector<int64_t> emit_count(n_parent_entries + 1, stream_);
    rmm::device_uvector<int64_t> emit_offset(n_parent_entries + 1, stream_);
    JM_CUDA_TRY(cudaMemsetAsync(emit_count.data() + n_parent_entries, 0, sizeof(int64_t), stream_.value()));
    kernels::count_child_entries<<<grid_for(n_parent_entries), kPrefixSpanBlockThreads, 0, stream_.value()>>>(
        batch.view(), begin, end, first_node, db_, batch.window_gap, problem_.max_gap, child_of.data(), first_child,
        n_children, emit_count.data(), nullptr);
    JM_CUDA_CHECK_LAUNCH();
    size_t temp_bytes = 0;
    JM_CUDA_TRY(cub::DeviceScan::ExclusiveSum(nullptr, temp_bytes, emit_count.data(), emit_offset.data(),
                                              n_parent_entries + 1, stream_.value()));
    {
      rmm::device_buffer temp(temp_bytes, stream_);
      JM_CUDA_TRY(cub::DeviceScan::ExclusiveSum(temp.data(), temp_bytes, emit_count.data(), emit_offset.data(),
                                                n_parent_entries + 1, stream_.value()));
    }

    rmm::device_uvector<int32_t> child_node(total_entries, stream_);
    rmm::device_uvector<int32_t> child_journey(total_entries, stream_);
    rmm::device_uvector<int64_t> child_position(total_entries, stream_);
    kernels::write_child_entries<<<grid_for(n_parent_entries), kPrefixSpanBlockThreads, 0, stream_.value()>>>(
        batch.view(), begin, end, first_node, db_, batch.window_gap, problem_.max_gap, child_of.data(), first_child,
        n_children, emit_offset.data(), child_node.data(), child_journey.data(), child_position.data());
    JM_CUDA_CHECK_LAUNCH();

    // Group by child with a stable sort: each child keeps its entries in (journey, position) order.
    Batch children(stream_);
    children.prefix_length = batch.prefix_length + 1;
    children.window_gap = problem_.max_gap;
    if (total_entries > 0) {
      rmm::device_uvector<int64_t> order(total_entries, stream_);
      rmm::device_uvector<int64_t> sorted_order(total_entries, stream_);
      children.node = rmm::device_uvector<int32_t>(total_entries, stream_);
      kernels::fill_sequence<<<grid_for(total_entries), kPrefixSpanBlockThreads, 0, stream_.value()>>>(order.data(),
                                                                                                    total_entries);
      JM_CUDA_CHECK_LAUNCH();
      size_t sort_bytes = 0;
      const int end_bit = bits_for(static_cast<uint64_t>(std::max(n_children - 1, 1)));
      JM_CUDA_TRY(cub::DeviceRadixSort::SortPairs(nullptr, sort_bytes, child_node.data(), children.node.data(),
                                                  order.data(), sorted_order.data(), total_entries, 0, end_bit,
                                                  stream_.value()));
      rmm::device_buffer sort_temp(sort_bytes, stream_);
      JM_CUDA_TRY(cub::DeviceRadixSort::SortPairs(sort_temp.data(), sort_bytes, child_node.data(), children.node.data(),
                                                  order.data(), sorted_order.data(), total_entries, 0, end_bit,
                                                  stream_.value()));
      children.journey = rmm::device_uvector<int32_t>(total_entries, stream_);
      children.position = rmm::device_uvector<int64_t>(total_entries, stream_);
      kernels::gather_values<<<grid_for(total_entries), kPrefixSpanBlockThreads, 0, stream_.value()>>>(
          sorted_order.data(), child_journey.data(), children.journey.data(), total_entries);
      JM_CUDA_CHECK_LAUNCH();
      kernels::gather_values<<<grid_for(total_entries), kPrefixSpanBlockThreads, 0, stream_.value()>>>(
          sorted_order.data(), child_position.data(), children.position.data(), total_entries);
      JM_CUDA_CHECK_LAUNCH();
    }
    // Host side of the children: their entry ranges and prefixes.
    children.node_offsets.assign(1, 0);
    std::vector<int32_t> pattern;
    for (int32_t c = first_child; c < last_child; ++c) {
      children.node_offsets.push_back(children.node_offsets.back() + child_entries[c]);
      const int32_t node = first_node + static_cast<int32_t>(growing_cells[c] / problem_.n_items);
      pattern.assign(batch.prefixes.items.begin() + batch.prefixes.offsets[node],
                     batch.prefixes.items.begin() + batch.prefixes.offsets[node + 1]);
      pattern.push_back(static_cast<int32_t>(growing_cells[c] % problem_.n_items));
      children.prefixes.add(pattern.data(), static_cast<int64_t>(pattern.size()), 0, 0);
    }
    return children;
  }

  // The indices of the flagged cells (in order) and their number in *n_selected, both on the device:
  // the caller reads the count with whatever else it downloads.
  static rmm::device_uvector<int64_t> select_flagged(const rmm::device_uvector<uint8_t>& flags, int64_t* n_selected,
                                                     rmm::cuda_stream_view stream) {
    const auto n = static_cast<int64_t>(flags.size());
    rmm::device_uvector<int64_t> selected(flags.size(), stream);
    size_t temp_bytes = 0;
    thrust::counting_iterator<int64_t> cells(0);
    JM_CUDA_TRY(cub::DeviceSelect::Flagged(nullptr, temp_bytes, cells, flags.data(), selected.data(), n_selected, n,
                                           stream.value()));
    rmm::device_buffer temp(temp_bytes, stream);
    JM_CUDA_TRY(cub::DeviceSelect::Flagged(temp.data(), temp_bytes, cells, flags.data(), selected.data(), n_selected,
                                           n, stream.value()));
    return selected;
  }

  const MiningProblem& problem_;
  PatternCollector& collector_;
  std::shared_ptr<DeviceResources> owner_;  // the stream outlives the miner's buffers
  CudaResources& resources_;
  rmm::cuda_stream_view stream_;
  const int64_t* offsets_;  // device columns owned by the journeys and the problem
  const int32_t* items_;
  const int64_t* previous_same_item_;
  const uint8_t* converted_;
  kernels::SequenceDatabase db_{};
  int64_t entry_budget_ = 0;
  int64_t cell_budget_ = 0;
  std::vector<Batch> stack_;
  PatternBatch found_;
};

}  // namespace

void index_previous_same_item(const Context& ctx, const JourneySet& journeys, int32_t n_items,
                              HostDeviceVector<int64_t>& previous_same_item) {
  CudaResources& resources = cuda_resources(ctx);
  const rmm::cuda_stream_view stream = resources.stream();
  const int64_t n_journeys = journeys.size(), n_events = journeys.num_events();
  int64_t* previous = previous_same_item.resize_on_device(ctx, static_cast<size_t>(n_events)).data;
  if (n_events == 0) return;
  const unsigned blocks = resources.grid_for(n_events, kPrefixSpanBlockThreads);
  // Events sorted stably by (journey, item): each one's predecessor with the same key is its
  // previous occurrence (the values start in event order, and the radix sort keeps it per key).
  rmm::device_uvector<uint64_t> keys(static_cast<size_t>(n_events), stream);
  rmm::device_uvector<uint64_t> sorted_keys(static_cast<size_t>(n_events), stream);
  rmm::device_uvector<int64_t> events(static_cast<size_t>(n_events), stream);
  rmm::device_uvector<int64_t> sorted_events(static_cast<size_t>(n_events), stream);
  kernels::journey_item_keys<<<blocks, kPrefixSpanBlockThreads, 0, stream.value()>>>(
      journeys.offsets.device_view(ctx).data, n_journeys, journeys.touchpoint.device_view(ctx).data, n_events,
      n_items, keys.data());
  JM_CUDA_CHECK_LAUNCH();
  kernels::fill_sequence<<<blocks, kPrefixSpanBlockThreads, 0, stream.value()>>>(events.data(), n_events);
  JM_CUDA_CHECK_LAUNCH();
  const int end_bit = bits_for(static_cast<uint64_t>(n_journeys) * static_cast<uint64_t>(std::max(n_items, 1)) - 1);
  size_t sort_bytes = 0;
  JM_CUDA_TRY(cub::DeviceRadixSort::SortPairs(nullptr, sort_bytes, keys.data(), sorted_keys.data(), events.data(),
                                              sorted_events.data(), n_events, 0, end_bit, stream.value()));
  rmm::device_buffer sort_temp(sort_bytes, stream);
  JM_CUDA_TRY(cub::DeviceRadixSort::SortPairs(sort_temp.data(), sort_bytes, keys.data(), sorted_keys.data(),
                                              events.data(), sorted_events.data(), n_events, 0, end_bit,
                                              stream.value()));
  kernels::link_previous_same_item<<<blocks, kPrefixSpanBlockThreads, 0, stream.value()>>>(
      sorted_keys.data(), sorted_events.data(), n_events, previous);
  JM_CUDA_CHECK_LAUNCH();
}

FrequentPatterns mine_frequent_patterns(const Context& ctx, const MiningProblem& problem) {
  PatternCollector collector(problem.min_count, problem.keep, problem.max_explored);
  GpuMiner miner(ctx, problem, collector);
  miner.run();
  return collector.finish(ctx.num_threads);
}

}  // namespace jm::cuda_impl
