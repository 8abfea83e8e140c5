// Segments of journeys that come in batches (batched_segments.hpp).
#include "host/segments/batched_segments.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "host/core/thread_pool.hpp"
#include "host/segments/kmeans_driver.hpp"
#include "host/segments/segment_parts.hpp"
#include "journeymap/common.hpp"
#include "journeymap/feature_rules.hpp"
#include "journeymap/kmeans_rules.hpp"
#include "journeymap/step_timing.hpp"

namespace jm {
namespace {

constexpr int64_t kBlockRows = kmeans_rules::kSumBlockRows;
constexpr int64_t kBlocksPerWindow = 32;  // rows read back and standardised at a time

// A Lloyd step over every row of the inputs, read back a window at a time: each block of
// kSumBlockRows rows is assigned by a CPU step of its own, and the blocks' sums, counts and inertia
// are added in block order, as the CPU step over all rows adds them.
class StreamedLloydStep final : public LloydStep {
 public:
  StreamedLloydStep(const Context& ctx, const SegmentInputs& inputs, const FeatureScaling& scaling)
      : ctx_(ctx), inputs_(inputs), scaling_(scaling), labels_(static_cast<size_t>(inputs.rows()), 0) {}

  double assign(const std::vector<float>& centroids, int k, std::vector<double>& sums,
                std::vector<int64_t>& counts) override {
    return pass(centroids, k, sums, counts, 0, nullptr);
  }

  std::vector<int64_t> farthest_points(int count) override {
    std::vector<double> sums;
    std::vector<int64_t> counts;
    // (-distance, row): the farthest first, lower row on ties, ranked by the distances the CPU step
    // ranks its own points by, so the same points as one step over all rows.
    std::vector<std::pair<double, int64_t>> candidates;
    pass(last_centroids_, last_k_, sums, counts, count, &candidates);
    std::sort(candidates.begin(), candidates.end());
    std::vector<int64_t> far;
    for (size_t c = 0; c < candidates.size() && static_cast<int>(far.size()) < count; ++c) far.push_back(candidates[c].second);
    return far;
  }

  std::vector<int32_t> labels() override { return labels_; }

  bool copy_point(int64_t index, float* out) override {
    std::vector<float> row;
    inputs_.read_scaled(index, 1, scaling_, row);
    std::copy(row.begin(), row.end(), out);
    return true;
  }

 private:
  // One assignment of every row; with `far_count`, each block's farthest rows (distance to their
  // centroid in double) go to `candidates`.
  double pass(const std::vector<float>& centroids, int k, std::vector<double>& sums, std::vector<int64_t>& counts,
              int far_count, std::vector<std::pair<double, int64_t>>* candidates) {
    const int dims = inputs_.dims();
    const int64_t n = inputs_.rows();
    last_centroids_ = centroids;
    last_k_ = k;
    sums.assign(size_t(k) * dims, 0.0);
    counts.assign(size_t(k), 0);
    double inertia = 0.0;
    Context one_thread;
    one_thread.num_threads = 1;
    std::vector<float> window;
    const int64_t window_rows = kBlocksPerWindow * kBlockRows;
    for (int64_t first = 0; first < n; first += window_rows) {
      const int64_t rows = std::min(window_rows, n - first);
      inputs_.read_scaled(first, rows, scaling_, window);
      const int64_t blocks = (rows + kBlockRows - 1) / kBlockRows;
      std::vector<std::vector<double>> block_sums(static_cast<size_t>(blocks));
      std::vector<std::vector<int64_t>> block_counts(static_cast<size_t>(blocks));
      std::vector<double> block_inertia(static_cast<size_t>(blocks), 0.0);
      std::vector<std::vector<std::pair<double, int64_t>>> block_far(static_cast<size_t>(blocks));
      parallel_for(blocks, ctx_.num_threads, [&](int64_t b) {
        const int64_t begin = b * kBlockRows, count = std::min(kBlockRows, rows - begin);
        const float* points = window.data() + begin * dims;
        auto step = kmeans_detail::make_step(one_thread, points, count, dims);
        block_inertia[b] = step->assign(centroids, k, block_sums[b], block_counts[b]);
        const std::vector<int32_t> labels = step->labels();
        std::copy(labels.begin(), labels.end(), labels_.begin() + first + begin);
        if (far_count > 0)
          for (const int64_t row : step->farthest_points(far_count)) {
            double distance = step->ranked_distance(row);
            if (std::isnan(distance))
              distance = kmeans_rules::squared_distance_in_double(points + row * dims,
                                                                  centroids.data() + size_t(labels[row]) * dims, dims);
            block_far[b].emplace_back(-distance, first + begin + row);
          }
      });
      for (int64_t b = 0; b < blocks; ++b) {
        for (size_t i = 0; i < sums.size(); ++i) sums[i] += block_sums[b][i];
        for (int c = 0; c < k; ++c) counts[c] += block_counts[b][c];
        inertia += block_inertia[b];
        if (candidates) candidates->insert(candidates->end(), block_far[b].begin(), block_far[b].end());
      }
    }
    return inertia;
  }

  const Context& ctx_;
  const SegmentInputs& inputs_;
  const FeatureScaling& scaling_;
  std::vector<int32_t> labels_;
  std::vector<float> last_centroids_;
  int last_k_ = 0;
};

}  // namespace

std::unique_ptr<SegmentInputs> make_segment_inputs(const std::string& directory, const FeatureSpec& spec,
                                                   const SegmentOptions& options) {
  FeatureMatrix layout;
  layout.spec = spec;
  return std::make_unique<SegmentInputs>(directory, ".jm-segment-rows", spec,
                                         options.columns.empty() ? default_segment_columns(layout) : options.columns,
                                         "segments");
}

void require_points_fit(const SegmentOptions& options, int64_t n, int64_t max_points_in_memory) {
  segments_detail::validate(options);
  // plan_search's rule for a sampled search, without drawing the sample.
  const bool on_sample = options.k == 0 && std::min<int64_t>(options.k_max, n) > options.k_min &&
                         options.search_sample > 0 && n > options.search_sample;
  if (!on_sample && n > max_points_in_memory)
    throw ConfigError("segments: k-means would run on all " + std::to_string(n) +
                      " journeys at once (k is fixed, or there are no more than [segments] search_sample), more than "
                      "the memory budget holds (" + std::to_string(max_points_in_memory) +
                      "); set [segments] k = 0 with a smaller search_sample, or a larger [run] host_memory_budget");
}

SegmentResult cluster_in_batches(const Context& ctx, const SegmentInputs& inputs, const SegmentOptions& options,
                                 int64_t max_points_in_memory) {
  using namespace segments_detail;
  validate(options);
  const int64_t n = inputs.rows();
  const int dims = inputs.dims();
  StepTimer timer(ctx, "scaling");
  SegmentResult result;
  result.scaling = inputs.scaling();
  if (n == 0) return result;
  if (options.k > n)
    throw ConfigError("segments.k = " + std::to_string(options.k) + " exceeds the number of journeys (" +
                      std::to_string(n) + ")");
  timer.next("search sample");
  const SearchPlan plan = plan_search(options, n);
  result.k_chosen_automatically = plan.automatic;
  result.k_tried = plan.ks;
  require_points_fit(options, n, max_points_in_memory);

  // One pass over the rows: the tolerance's variance (each column summed in row order, as
  // mean_variance does) and the search rows.
  kmeans_detail::ColumnMoments moments(dims);
  std::vector<float> search_points, window;
  size_t next_sample = 0;
  const int64_t window_rows = kBlocksPerWindow * kBlockRows;
  for (int64_t first = 0; first < n; first += window_rows) {
    const int64_t rows = std::min(window_rows, n - first);
    inputs.read_scaled(first, rows, result.scaling, window);
    moments.add(window.data(), rows);
    if (plan.sample.empty()) {
      search_points.insert(search_points.end(), window.begin(), window.end());
      continue;
    }
    for (; next_sample < plan.sample.size() && plan.sample[next_sample] < first + rows; ++next_sample) {
      const auto at = window.begin() + (plan.sample[next_sample] - first) * dims;
      search_points.insert(search_points.end(), at, at + dims);
    }
  }
  const double tolerance = options.kmeans.tolerance * moments.mean_variance();

  const int64_t search_n = static_cast<int64_t>(search_points.size()) / dims;
  result.search_rows = search_n;
  KMeansResult best;
  {
    auto step = kmeans_detail::make_step(ctx, search_points.data(), search_n, dims);
    best = search_k(ctx, timer, *step, search_points.data(), search_n, dims, options, tolerance, result);
  }
  if (!plan.sample.empty()) {
    timer.next("final fit");
    search_points = std::vector<float>();
    StreamedLloydStep full_step(ctx, inputs, result.scaling);
    best = kmeans_detail::run_lloyd(full_step, nullptr, n, dims, best.centroids, best.k, options.kmeans, tolerance, true);
  }
  take_clustering(best, result);
  return result;
}

}  // namespace jm
