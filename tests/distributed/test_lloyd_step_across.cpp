// The Lloyd step of a run across processes (host/segments/lloyd_step_across.hpp), its processes
// played by threads: Lloyd's iterations over rows split between one to four processes (one of them
// holding none) give what one step over all rows gives, from a start that leaves a cluster empty,
// so that the repair's farthest rows and the copy of a row held by another process are exercised.
#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "distributed/thread_process_group.hpp"
#include "host/segments/kmeans_driver.hpp"
#include "host/segments/lloyd_step_across.hpp"
#include "journeymap/segments.hpp"
#include "segments/cluster_test_helpers.hpp"

namespace {

TEST(LloydStepAcrossProcesses, RowsSplitOverProcessesGiveTheClusteringOfOneStep) {
  const int dims = 4, k = 3;
  const jm::testing::Blobs blobs = jm::testing::make_blobs(3000, dims, k, 8.0, 1.0, 7);
  const float* points = blobs.points.data();
  // Two blob members and a point far from every row: the third cluster is empty at once.
  std::vector<float> start(points, points + 2 * dims);
  start.insert(start.end(), dims, 1000.0f);
  jm::KMeansOptions options;
  options.max_iterations = 50;
  jm::Context ctx;
  ctx.num_threads = 1;
  auto whole = jm::cpu_impl::make_lloyd_step(ctx, points, blobs.n, dims);
  const jm::KMeansResult one = jm::kmeans_detail::run_lloyd(*whole, points, blobs.n, dims, start, k, options, 0.0, true);
  ASSERT_GE(one.empty_clusters_repaired, 1);
  ASSERT_TRUE(one.converged);

  for (const std::vector<int64_t>& split : {std::vector<int64_t>{3000}, {1000, 2000}, {700, 0, 1300, 1000}}) {
    SCOPED_TRACE(std::to_string(split.size()) + " processes");
    const int processes = static_cast<int>(split.size());
    std::vector<jm::KMeansResult> results(split.size());
    jm::testing::run_on_threads(processes, [&](jm::ProcessGroup& group) {
      const auto rank = static_cast<size_t>(group.rank());
      const int64_t first_row = std::accumulate(split.begin(), split.begin() + group.rank(), int64_t{0});
      const float* own = points + first_row * dims;
      auto step = jm::cpu_impl::make_lloyd_step(ctx, own, split[rank], dims);
      jm::LloydStepAcrossProcesses across(group, *step, own, first_row, split[rank], dims);
      results[rank] = jm::kmeans_detail::run_lloyd(across, nullptr, blobs.n, dims, start, k, options, 0.0, true);
    });
    std::vector<int32_t> labels;
    for (const jm::KMeansResult& result : results) {
      labels.insert(labels.end(), result.labels.begin(), result.labels.end());
      EXPECT_EQ(result.iterations, one.iterations);
      EXPECT_EQ(result.empty_clusters_repaired, one.empty_clusters_repaired);
      EXPECT_EQ(result.sizes, one.sizes);
      EXPECT_NEAR(result.inertia, one.inertia, 1e-9 * one.inertia);
      ASSERT_EQ(result.centroids.size(), one.centroids.size());
      for (size_t i = 0; i < one.centroids.size(); ++i)
        EXPECT_NEAR(result.centroids[i], one.centroids[i], 1e-5 * std::max(1.0f, std::abs(one.centroids[i]))) << i;
    }
    EXPECT_EQ(labels, one.labels);
  }
}

}  // namespace
