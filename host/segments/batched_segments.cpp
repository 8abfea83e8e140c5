// Segments of journeys that come in batches (batched_segments.hpp).
#include "host/segments/batched_segments.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "host/core/records.hpp"
#include "host/core/thread_pool.hpp"
#include "host/distributed/combine_across.hpp"
#include "host/distributed/process_group.hpp"
#include "host/segments/kmeans_driver.hpp"
#include "host/segments/lloyd_step_across.hpp"
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
    // (distance, row), ranked by the distances the CPU step ranks its own points by, so the same
    // points as one step over all rows.
    std::vector<std::pair<double, int64_t>> candidates;
    pass(last_centroids_, last_k_, sums, counts, count, &candidates);
    return farthest_.choose(candidates, count);
  }

  double ranked_distance(int64_t index) override { return farthest_.distance(index); }

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
            block_far[b].emplace_back(distance, first + begin + row);
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
  kmeans_detail::FarthestRows farthest_;
};

// What process 0's search chose, for the others: the k-means result the final fit starts from (or,
// when the search ran on every row, the clustering itself).
std::string save_search_choice(const KMeansResult& best) {
  RecordWriter out;
  out.value<int32_t>(best.k);
  out.value<int32_t>(best.iterations);
  out.value(best.inertia);
  out.values(best.centroids);
  out.values(best.initial_centroids);
  return out.take();
}

KMeansResult read_search_choice(const std::string& bytes, int dims) {
  RecordReader in(bytes);
  KMeansResult best;
  best.dims = dims;
  best.k = in.value<int32_t>();
  best.iterations = in.value<int32_t>();
  best.inertia = in.value<double>();
  best.centroids = in.values<float>();
  best.initial_centroids = in.values<float>();
  if (best.k <= 0 || best.centroids.size() != size_t(best.k) * dims || best.initial_centroids.size() != best.centroids.size())
    throw Error("segments: process 0's choice of k and centroids is malformed");
  return best;
}

// search_k with its trials shared out: every process holds the search rows and tries k_tried[i]
// for the i that fall to it (i modulo the processes), then every process learns every trial's
// inertia, silhouette and clustering and keeps the one search_k keeps (the trials do not depend
// on each other, so the same one).
KMeansResult search_k_across_processes(const Context& ctx, StepTimer& timer, ProcessGroup& group, const float* points,
                                       int64_t n, int dims, const SegmentOptions& options, double tolerance,
                                       SegmentResult& result) {
  using namespace segments_detail;
  const std::vector<int> ks = result.k_tried;
  RecordWriter own;
  const StepFailure failure = failure_of([&] {
    timer.next("k search: silhouette");
    const SilhouetteSample sample(ctx, points, n, dims, options.silhouette_sample, silhouette_seed(options));
    auto step = kmeans_detail::make_step(ctx, points, n, dims);
    for (size_t i = static_cast<size_t>(group.rank()); i < ks.size(); i += static_cast<size_t>(group.size())) {
      double silhouette = 0.0;
      const KMeansResult candidate = try_k(ctx, timer, *step, points, n, dims, ks[i], options, tolerance, sample, silhouette);
      own.value<uint64_t>(i);
      own.value(silhouette);
      own.text(save_search_choice(candidate));
    }
  });
  const std::vector<std::string> parts = group.all_gather(failure.message.empty() ? own.take() : std::string());
  group.agree(failure.message, failure.exit_code);
  std::vector<double> silhouettes(ks.size(), 0.0);
  std::vector<std::string> choices(ks.size());
  for (const std::string& part : parts) {
    RecordReader in(part);
    while (!in.done()) {
      const auto i = static_cast<size_t>(in.value<uint64_t>());
      if (i >= ks.size()) throw Error("segments: another process tried a k that is not in the search");
      silhouettes[i] = in.value<double>();
      choices[i] = in.text();
    }
  }
  // As search_k keeps them: in the order of k, the highest silhouette, the smaller k on ties.
  size_t best = 0;
  result.inertia_per_k.clear();
  result.silhouette_per_k.clear();
  for (size_t i = 0; i < ks.size(); ++i) {
    if (choices[i].empty()) throw Error("segments: no process tried k = " + std::to_string(ks[i]));
    result.inertia_per_k.push_back(read_search_choice(choices[i], dims).inertia);
    result.silhouette_per_k.push_back(silhouettes[i]);
    if (silhouettes[i] > silhouettes[best]) best = i;
  }
  result.silhouette = silhouettes[best];
  return read_search_choice(choices[best], dims);
}

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
                                 int64_t max_points_in_memory, ProcessGroup* across) {
  using namespace segments_detail;
  validate(options);
  // This process's rows are rows [first_row, first_row + own_rows) of all n.
  const int64_t own_rows = inputs.rows();
  const ItemsOfProcesses rows = across ? items_of_processes(*across, own_rows) : ItemsOfProcesses{0, own_rows};
  const int64_t n = rows.total, first_row = rows.first;
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
  size_t next_sample = static_cast<size_t>(
      std::lower_bound(plan.sample.begin(), plan.sample.end(), first_row) - plan.sample.begin());
  const int64_t window_rows = kBlocksPerWindow * kBlockRows;
  auto read_own_rows = [&] {
    for (int64_t first = 0; first < own_rows; first += window_rows) {
      const int64_t rows = std::min(window_rows, own_rows - first);
      inputs.read_scaled(first, rows, result.scaling, window);
      moments.add(window.data(), rows);
      if (plan.sample.empty()) {
        search_points.insert(search_points.end(), window.begin(), window.end());
        continue;
      }
      for (; next_sample < plan.sample.size() && plan.sample[next_sample] < first_row + first + rows; ++next_sample) {
        const auto at = window.begin() + (plan.sample[next_sample] - first_row - first) * dims;
        search_points.insert(search_points.end(), at, at + dims);
      }
    }
  };
  if (!across) {
    read_own_rows();
  } else {
    // A process that cannot read its rows stops every process with its message.
    const StepFailure failure = failure_of(read_own_rows);
    across->agree(failure.message, failure.exit_code);
  }
  // Across processes the trials of the different k are shared out when there are several and
  // their rows (a sample, or no more than search_sample) can go to every process; otherwise
  // process 0 searches alone.
  const int64_t search_rows = plan.sample.empty() ? n : static_cast<int64_t>(plan.sample.size());
  const bool share_ks = across && plan.ks.size() > 1 && search_rows * dims * int64_t{sizeof(float)} <= (int64_t{1} << 30);
  if (across) {
    // The moments of every row, and the search rows of every process, in row order.
    sum_saved(*across, moments, kmeans_detail::ColumnMoments(dims));
    search_points = share_ks ? concatenated_everywhere(*across, search_points) : concatenated_on_first(*across, search_points);
  }
  const double tolerance = options.kmeans.tolerance * moments.mean_variance();

  result.search_rows = search_rows;
  KMeansResult best;
  auto search = [&] {
    auto step = kmeans_detail::make_step(ctx, search_points.data(), search_rows, dims);
    best = search_k(ctx, timer, *step, search_points.data(), search_rows, dims, options, tolerance, result);
  };
  if (!across) {
    search();
  } else if (share_ks) {
    best = search_k_across_processes(ctx, timer, *across, search_points.data(), search_rows, dims, options, tolerance, result);
  } else if (across->rank() == 0) {
    // Process 0 searches alone; every process learns its choice, or its failure.
    const StepFailure failure = failure_of(search);
    across->all_gather(failure.message.empty() ? save_search_choice(best) : std::string());
    across->agree(failure.message, failure.exit_code);
  } else {
    const std::vector<std::string> choice = across->all_gather(std::string());
    across->agree("");
    best = read_search_choice(choice[0], dims);
  }
  search_points = std::vector<float>();
  if (!plan.sample.empty() || across) {
    timer.next("final fit");
    StreamedLloydStep own_step(ctx, inputs, result.scaling);
    if (!across) {
      best = kmeans_detail::run_lloyd(own_step, nullptr, n, dims, best.centroids, best.k, options.kmeans, tolerance, true);
    } else {
      LloydStepAcrossProcesses step(*across, own_step, nullptr, first_row, own_rows, dims);
      if (!plan.sample.empty()) {
        best = kmeans_detail::run_lloyd(step, nullptr, n, dims, best.centroids, best.k, options.kmeans, tolerance, true);
      } else {
        // The search ran on every row: its clustering stands; each process learns which segment
        // its own rows are in and how large every segment is.
        std::vector<double> sums;
        std::vector<int64_t> counts;
        step.assign(best.centroids, best.k, sums, counts);
        best.sizes = counts;
        best.labels = step.labels();
      }
    }
  }
  take_clustering(best, result);
  return result;
}

}  // namespace jm
