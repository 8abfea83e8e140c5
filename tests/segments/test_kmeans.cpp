// k-means: both Lloyd steps against a naive Lloyd written here, GPU against CPU from the same
// initial centroids, planted blobs, determinism, empty-cluster repair, silhouette, errors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "journeymap/common.hpp"
#include "journeymap/segments.hpp"
#include "segments/cluster_test_helpers.hpp"

namespace {

using jm::Backend;
using jm::KMeansOptions;
using jm::testing::adjusted_rand_index;
using jm::testing::make_blobs;

class KMeans : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::Gpu && !jm::gpu_available()) GTEST_SKIP() << "no CUDA device";
    ctx_ = jm::make_context(GetParam(), 2);
  }
  jm::Context ctx_;
};

struct NaiveResult {
  std::vector<int32_t> labels;
  std::vector<double> centroids;
};

// Textbook Lloyd in double precision with direct distances: assign, average, repeat.
NaiveResult naive_lloyd(const std::vector<float>& x, int64_t n, int d, std::vector<double> c, int k, int iterations) {
  NaiveResult r;
  r.labels.assign(static_cast<size_t>(n), 0);
  auto assign = [&] {
    for (int64_t i = 0; i < n; ++i) {
      double best = std::numeric_limits<double>::infinity();
      for (int j = 0; j < k; ++j) {
        double dist = 0;
        for (int t = 0; t < d; ++t) dist += (x[i * d + t] - c[j * d + t]) * (x[i * d + t] - c[j * d + t]);
        if (dist < best) {
          best = dist;
          r.labels[i] = j;
        }
      }
    }
  };
  for (int it = 0; it < iterations; ++it) {
    assign();
    std::vector<double> sum(c.size(), 0.0);
    std::vector<int64_t> count(static_cast<size_t>(k), 0);
    for (int64_t i = 0; i < n; ++i) {
      ++count[r.labels[i]];
      for (int t = 0; t < d; ++t) sum[r.labels[i] * d + t] += x[i * d + t];
    }
    for (int j = 0; j < k; ++j)
      if (count[j] > 0)
        for (int t = 0; t < d; ++t) c[j * d + t] = sum[j * d + t] / count[j];
  }
  assign();
  r.centroids = c;
  return r;
}

TEST_P(KMeans, NonFiniteInputIsRefusedAtTheBoundary) {
  // NaN (a missing case attribute, say) or infinity has no nearest centroid: a clear error on both
  // backends instead of cluster 0 on one and an out-of-range index on the other.
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    std::vector<float> points{0.0f, 0.0f, 1.0f, 1.0f, 5.0f, 5.0f, 6.0f, 6.0f};
    points[5] = bad;
    EXPECT_THROW(jm::kmeans(ctx_, points.data(), 4, 2, 2, jm::KMeansOptions{}), jm::Error);
    EXPECT_THROW(jm::lloyd(ctx_, points.data(), 4, 2, {0.0f, 0.0f, 5.0f, 5.0f}, 2, jm::KMeansOptions{}), jm::Error);
  }
}

TEST_P(KMeans, AgreesWithNaiveLloyd) {
  // Overlapping blobs, so that several iterations move points between clusters.
  const auto blobs = make_blobs(600, 5, 4, 3.0, 1.0, 17);
  std::vector<float> init;
  for (int64_t i : {0, 1, 2, 3}) init.insert(init.end(), blobs.points.begin() + i * 5, blobs.points.begin() + (i + 1) * 5);
  KMeansOptions options;
  options.max_iterations = 8;
  options.tolerance = 0.0;
  const jm::KMeansResult result = jm::lloyd(ctx_, blobs.points.data(), blobs.n, blobs.dims, init, 4, options);
  const NaiveResult expected =
      naive_lloyd(blobs.points, blobs.n, blobs.dims, std::vector<double>(init.begin(), init.end()), 4, result.iterations);
  EXPECT_EQ(result.labels, expected.labels);
  // Float centroids (means of doubles rounded once) against double ones.
  for (size_t i = 0; i < expected.centroids.size(); ++i) EXPECT_NEAR(result.centroids[i], expected.centroids[i], 1e-5);
  double inertia = 0;
  for (int64_t i = 0; i < blobs.n; ++i)
    for (int t = 0; t < 5; ++t) {
      const double diff = blobs.points[i * 5 + t] - expected.centroids[expected.labels[i] * 5 + t];
      inertia += diff * diff;
    }
  EXPECT_NEAR(result.inertia, inertia, 1e-4 * inertia);  // GEMM expansion of the distance in float
}

TEST_P(KMeans, RecoversSeparatedBlobs) {
  const auto blobs = make_blobs(3000, 8, 6, 10.0, 1.0, 5);
  KMeansOptions options;
  options.seed = 3;
  const jm::KMeansResult result = jm::kmeans(ctx_, blobs.points.data(), blobs.n, blobs.dims, 6, options);
  EXPECT_DOUBLE_EQ(adjusted_rand_index(result.labels, blobs.truth), 1.0);
  EXPECT_TRUE(result.converged);
  int64_t total = 0;
  for (int64_t s : result.sizes) total += s;
  EXPECT_EQ(total, blobs.n);
}

TEST_P(KMeans, DeterministicForASeed) {
  const auto blobs = make_blobs(2000, 4, 5, 2.0, 1.0, 9);
  KMeansOptions options;
  options.seed = 11;
  const auto a = jm::kmeans(ctx_, blobs.points.data(), blobs.n, blobs.dims, 5, options);
  jm::Context other = ctx_;
  other.num_threads = 1;
  const auto b = jm::kmeans(other, blobs.points.data(), blobs.n, blobs.dims, 5, options);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.centroids, b.centroids);
  EXPECT_EQ(a.inertia, b.inertia);
}

TEST_P(KMeans, RepairsEmptyClusters) {
  const auto blobs = make_blobs(500, 3, 3, 8.0, 0.5, 2);
  // The third centroid is far from every point: it empties in the first assignment.
  std::vector<float> init(blobs.points.begin(), blobs.points.begin() + 6);  // the first two points
  init.resize(9, 1000.0f);
  KMeansOptions options;
  const auto result = jm::lloyd(ctx_, blobs.points.data(), blobs.n, blobs.dims, init, 3, options);
  EXPECT_GT(result.empty_clusters_repaired, 0);
  for (int64_t size : result.sizes) EXPECT_GT(size, 0);
  EXPECT_DOUBLE_EQ(adjusted_rand_index(result.labels, blobs.truth), 1.0);
}

TEST_P(KMeans, GpuMatchesCpuFromSameInitialCentroids) {
  if (GetParam() != Backend::Gpu) GTEST_SKIP() << "the CPU is the reference";
  const auto blobs = make_blobs(50000, 16, 12, 6.0, 1.0, 23);
  const std::vector<float> init = jm::kmeans_plus_plus(blobs.points.data(), blobs.n, blobs.dims, 12, 4, 100000);
  KMeansOptions options;
  options.max_iterations = 30;
  jm::Context cpu;
  cpu.num_threads = 2;
  const auto expected = jm::lloyd(cpu, blobs.points.data(), blobs.n, blobs.dims, init, 12, options);
  const auto actual = jm::lloyd(ctx_, blobs.points.data(), blobs.n, blobs.dims, init, 12, options);
  EXPECT_EQ(actual.labels, expected.labels);  // well separated: no point is near a tie
  EXPECT_EQ(actual.sizes, expected.sizes);
  EXPECT_EQ(actual.iterations, expected.iterations);
  // Both backends add the cluster sums in the same fixed order (kmeans_rules::kSumBlockRows), so
  // the same labels give the same centroids, bit for bit.
  EXPECT_EQ(actual.centroids, expected.centroids);
  EXPECT_NEAR(actual.inertia, expected.inertia, 1e-5 * expected.inertia);  // float GEMM summation order
}

INSTANTIATE_TEST_SUITE_P(Backends, KMeans, ::testing::Values(Backend::Cpu, Backend::Gpu),
                         [](const auto& info) { return info.param == Backend::Cpu ? "Cpu" : "Gpu"; });

TEST(KMeansPlusPlus, PicksDistinctDataPointsDeterministically) {
  const auto blobs = make_blobs(1000, 3, 4, 20.0, 0.1, 1);
  const auto a = jm::kmeans_plus_plus(blobs.points.data(), blobs.n, 3, 4, 99, 100000, 2);
  const auto b = jm::kmeans_plus_plus(blobs.points.data(), blobs.n, 3, 4, 99, 100000, 1);
  EXPECT_EQ(a, b);
  // On far-apart blobs, D^2 sampling puts one centroid in each blob.
  std::vector<int> blob_hit(4, 0);
  for (int c = 0; c < 4; ++c) {
    bool found = false;
    for (int64_t i = 0; i < blobs.n && !found; ++i)
      if (std::equal(a.begin() + c * 3, a.begin() + (c + 1) * 3, blobs.points.begin() + i * 3)) {
        found = true;
        ++blob_hit[blobs.truth[i]];
      }
    EXPECT_TRUE(found) << "centroid " << c << " is not a data point";
  }
  EXPECT_EQ(blob_hit, (std::vector<int>{1, 1, 1, 1}));
}

TEST(Silhouette, EqualsFullComputationWhenTheSampleCoversAllPoints) {
  const auto blobs = make_blobs(120, 2, 3, 3.0, 1.0, 4);
  const int64_t n = blobs.n;
  double expected = 0;
  for (int64_t i = 0; i < n; ++i) {
    std::vector<double> sum(3, 0);
    std::vector<int> count(3, 0);
    for (int64_t j = 0; j < n; ++j) {
      if (j == i) continue;
      const double dx = blobs.points[i * 2] - blobs.points[j * 2], dy = blobs.points[i * 2 + 1] - blobs.points[j * 2 + 1];
      sum[blobs.truth[j]] += std::sqrt(dx * dx + dy * dy);
      ++count[blobs.truth[j]];
    }
    const int own = blobs.truth[i];
    const double a = sum[own] / count[own];
    double b = std::numeric_limits<double>::infinity();
    for (int c = 0; c < 3; ++c)
      if (c != own) b = std::min(b, sum[c] / count[c]);
    expected += (b - a) / std::max(a, b);
  }
  expected /= n;
  EXPECT_NEAR(jm::sampled_silhouette(blobs.points.data(), n, 2, blobs.truth, 3, 1000, 1, 2), expected, 1e-9);
  EXPECT_EQ(jm::sampled_silhouette(blobs.points.data(), n, 2, std::vector<int32_t>(n, 0), 3, 1000, 1), 0.0);
}

TEST(KMeansErrors, RejectsBadArguments) {
  jm::Context ctx;
  const auto blobs = make_blobs(10, 2, 2, 5.0, 1.0, 1);
  EXPECT_THROW(jm::kmeans(ctx, blobs.points.data(), blobs.n, 2, 0, KMeansOptions{}), jm::ConfigError);
  EXPECT_THROW(jm::kmeans(ctx, blobs.points.data(), blobs.n, 2, 11, KMeansOptions{}), jm::ConfigError);
  KMeansOptions bad;
  bad.max_iterations = 0;
  EXPECT_THROW(jm::kmeans(ctx, blobs.points.data(), blobs.n, 2, 2, bad), jm::ConfigError);
  EXPECT_THROW(jm::lloyd(ctx, blobs.points.data(), blobs.n, 2, {1.0f, 2.0f, 3.0f}, 2, KMeansOptions{}), jm::ConfigError);
}

}  // namespace
