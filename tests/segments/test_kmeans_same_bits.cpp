// The fast paths of the segments stage give the same bits as the straightforward computations
// they replace (written out here): k-means++ that evaluates all candidates in one pass, the
// silhouette that scores every k against one distance matrix, and the CPU Lloyd step that skips
// points whose label provably cannot change and keeps the sums of unchanged clusters.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "host/core/splitmix64.hpp"
#include "host/segments/silhouette.hpp"
#include "journeymap/common.hpp"
#include "journeymap/segments.hpp"
#include "segments/cluster_test_helpers.hpp"

namespace {

using jm::testing::make_blobs;

double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

double squared_distance(const float* a, const float* b, int dims) {
  double sum = 0.0;
  for (int i = 0; i < dims; ++i) {
    const double diff = static_cast<double>(a[i]) - static_cast<double>(b[i]);
    sum += diff * diff;
  }
  return sum;
}

// Greedy k-means++ one candidate at a time, each candidate's potential summed over the sample in
// blocks of 4096 points added in order (the block size of the implementation's deterministic sums).
std::vector<float> reference_kmeans_plus_plus(const float* points, int64_t n, int dims, int k, uint64_t seed,
                                              int64_t init_sample) {
  std::mt19937_64 rng(seed);
  std::vector<int64_t> sample;
  if (n <= init_sample) {
    sample.resize(static_cast<size_t>(n));
    std::iota(sample.begin(), sample.end(), 0);
  } else {
    sample.resize(static_cast<size_t>(init_sample));
    for (auto& index : sample) index = static_cast<int64_t>(uniform01(rng) * static_cast<double>(n));
  }
  const int64_t s = static_cast<int64_t>(sample.size());
  const int trials = 2 + static_cast<int>(std::log(static_cast<double>(k)));
  std::vector<float> centroids;
  std::vector<double> closest(static_cast<size_t>(s), std::numeric_limits<double>::infinity());
  auto potential_with = [&](int64_t candidate, bool keep) {
    double total = 0.0;
    for (int64_t block = 0; block < s; block += 4096) {
      double sum = 0.0;
      for (int64_t i = block; i < std::min(s, block + 4096); ++i) {
        const double d = std::min(closest[i], squared_distance(points + sample[i] * dims, points + candidate * dims, dims));
        if (keep) closest[i] = d;
        sum += d;
      }
      total += sum;
    }
    return total;
  };
  const int64_t first = sample[static_cast<size_t>(uniform01(rng) * static_cast<double>(s))];
  centroids.insert(centroids.end(), points + first * dims, points + (first + 1) * dims);
  double potential = potential_with(first, true);
  std::vector<double> cumulative(static_cast<size_t>(s));
  for (int c = 1; c < k; ++c) {
    std::partial_sum(closest.begin(), closest.end(), cumulative.begin());
    int64_t best = -1;
    double best_potential = 0.0;
    for (int t = 0; t < trials; ++t) {
      int64_t pick;
      if (potential > 0.0) {
        const double target = uniform01(rng) * cumulative.back();
        pick = std::min<int64_t>(std::upper_bound(cumulative.begin(), cumulative.end(), target) - cumulative.begin(), s - 1);
      } else {
        pick = static_cast<int64_t>(uniform01(rng) * static_cast<double>(s));
      }
      const double candidate_potential = potential_with(sample[pick], false);
      if (best < 0 || candidate_potential < best_potential) {
        best = pick;
        best_potential = candidate_potential;
      }
    }
    centroids.insert(centroids.end(), points + sample[best] * dims, points + (sample[best] + 1) * dims);
    potential = potential_with(sample[best], true);
  }
  return centroids;
}

TEST(KMeansPlusPlusSameBits, EqualsOneCandidateAtATime) {
  // 7 dimensions and sample sizes that are not multiples of 4: the padded tails are exercised.
  const auto blobs = make_blobs(9003, 7, 5, 4.0, 1.5, 11);
  for (const int64_t init_sample : {int64_t(100000), int64_t(5001)}) {
    for (const int k : {1, 2, 5, 9, 25}) {
      for (const uint64_t seed : {uint64_t(1), uint64_t(77)}) {
        const auto expected = reference_kmeans_plus_plus(blobs.points.data(), blobs.n, blobs.dims, k, seed, init_sample);
        EXPECT_EQ(jm::kmeans_plus_plus(blobs.points.data(), blobs.n, blobs.dims, k, seed, init_sample, 2), expected)
            << "k " << k << ", seed " << seed << ", sample " << init_sample;
      }
    }
  }
}

// The silhouette as computed before the distance matrix: every distance measured at every score.
double reference_silhouette(const float* points, int64_t n, int dims, const std::vector<int32_t>& labels, int k,
                            int64_t sample_size, uint64_t seed) {
  std::vector<int64_t> sample;
  if (n <= sample_size) {
    sample.resize(static_cast<size_t>(n));
    std::iota(sample.begin(), sample.end(), 0);
  } else {
    std::mt19937_64 rng(seed);
    std::vector<bool> taken(static_cast<size_t>(n), false);
    while (static_cast<int64_t>(sample.size()) < sample_size) {
      const int64_t i = static_cast<int64_t>(uniform01(rng) * static_cast<double>(n));
      if (taken[i]) continue;
      taken[i] = true;
      sample.push_back(i);
    }
    std::sort(sample.begin(), sample.end());
  }
  const int64_t s = static_cast<int64_t>(sample.size());
  std::vector<int64_t> size(static_cast<size_t>(k), 0);
  for (int64_t i : sample) ++size[labels[i]];
  if (std::count_if(size.begin(), size.end(), [](int64_t v) { return v > 0; }) < 2) return 0.0;
  double total = 0.0;
  for (int64_t a = 0; a < s; ++a) {
    std::vector<double> sum(static_cast<size_t>(k), 0.0);
    for (int64_t b = 0; b < s; ++b)
      if (b != a) sum[labels[sample[b]]] += std::sqrt(squared_distance(points + sample[a] * dims, points + sample[b] * dims, dims));
    const int own = labels[sample[a]];
    if (size[own] < 2) continue;
    const double within = sum[own] / static_cast<double>(size[own] - 1);
    double other = std::numeric_limits<double>::infinity();
    for (int c = 0; c < k; ++c)
      if (c != own && size[c] > 0) other = std::min(other, sum[c] / static_cast<double>(size[c]));
    const double larger = std::max(within, other);
    total += larger > 0.0 ? (other - within) / larger : 0.0;
  }
  return total / static_cast<double>(s);
}

TEST(KMeansPlusPlusSameBits, GpuDistancesGiveTheSameCentroids) {
  if (!jm::gpu_available()) GTEST_SKIP() << "no CUDA device";
  const jm::Context gpu = jm::make_context(jm::Backend::Gpu, 2);
  // 9,003 sampled rows: three tasks of 4,096 rows, the last one short.
  const auto blobs = make_blobs(9003, 7, 5, 4.0, 1.5, 11);
  for (const int64_t init_sample : {int64_t(100000), int64_t(5001)}) {
    for (const int k : {1, 2, 9, 25}) {
      const auto expected = reference_kmeans_plus_plus(blobs.points.data(), blobs.n, blobs.dims, k, 77, init_sample);
      EXPECT_EQ(jm::kmeans_plus_plus(gpu, blobs.points.data(), blobs.n, blobs.dims, k, 77, init_sample), expected)
          << "k " << k << ", sample " << init_sample;
    }
  }
}

TEST(SilhouetteSameBits, OneDistanceMatrixScoresEveryLabelling) {
  const auto blobs = make_blobs(3000, 5, 4, 3.0, 1.0, 5);
  const jm::SilhouetteSample sample(jm::make_context(jm::Backend::Cpu, 2), blobs.points.data(), blobs.n, blobs.dims, 700, 9);
  for (const int k : {2, 3, 4, 6}) {
    std::vector<int32_t> labels(static_cast<size_t>(blobs.n));
    for (int64_t i = 0; i < blobs.n; ++i) labels[i] = (blobs.truth[i] + static_cast<int32_t>(i % 7 == 0)) % k;
    EXPECT_EQ(sample.score(labels, k), reference_silhouette(blobs.points.data(), blobs.n, blobs.dims, labels, k, 700, 9))
        << "k " << k;
  }
}

TEST(SilhouetteSameBits, SingletonAndEmptyClustersScoreAsBefore) {
  const auto blobs = make_blobs(700, 5, 4, 3.0, 1.0, 5);
  const jm::SilhouetteSample sample(jm::make_context(jm::Backend::Cpu, 2), blobs.points.data(), blobs.n, blobs.dims, 700, 9);
  std::vector<int32_t> labels = blobs.truth;
  for (int64_t i = 0; i < 4; ++i) labels[i * 101] = static_cast<int32_t>(36 + i);  // one point each; 4..35 empty
  EXPECT_EQ(sample.score(labels, 40), reference_silhouette(blobs.points.data(), blobs.n, blobs.dims, labels, 40, 700, 9));
}

TEST(SilhouetteSameBits, SamplesTooLargeForTheMatrixRecomputeTheDistances) {
  // 6,000 points: 6,000^2 doubles exceed kMaxMatrixBytes, so the distances are measured per score.
  static_assert(int64_t(6000) * 6000 * 8 > jm::SilhouetteSample::kMaxMatrixBytes, "the sample must exceed the matrix cap");
  const auto blobs = make_blobs(6000, 2, 3, 3.0, 1.0, 6);
  const jm::SilhouetteSample sample(jm::make_context(jm::Backend::Cpu, 2), blobs.points.data(), blobs.n, blobs.dims, 6000, 1);
  EXPECT_EQ(sample.score(blobs.truth, 3), reference_silhouette(blobs.points.data(), blobs.n, 2, blobs.truth, 3, 6000, 1));
}

TEST(SilhouetteSameBits, GpuScoresEqualTheCpuScores) {
  if (!jm::gpu_available()) GTEST_SKIP() << "no CUDA device";
  const jm::Context cpu = jm::make_context(jm::Backend::Cpu, 2), gpu = jm::make_context(jm::Backend::Gpu, 2);
  // Every one of 700 points sampled (the CPU stores their distances), and 6,000 of 9,000 (it
  // measures them at every score).
  for (const auto& [n, sample_size] : {std::pair<int64_t, int64_t>{700, 700}, {9000, 6000}}) {
    const auto points = make_blobs(n, 5, 4, 3.0, 1.0, 5);
    const jm::SilhouetteSample on_cpu(cpu, points.points.data(), points.n, points.dims, sample_size, 9);
    const jm::SilhouetteSample on_gpu(gpu, points.points.data(), points.n, points.dims, sample_size, 9);
    for (const int k : {2, 3, 4, 6, 40}) {
      std::vector<int32_t> labels(static_cast<size_t>(points.n));
      for (int64_t i = 0; i < points.n; ++i) labels[i] = (points.truth[i] + static_cast<int32_t>(i % 7 == 0)) % std::min(k, 4);
      // At k = 40: clusters 36..39 of one point each (singletons when sampled, always at n = 700),
      // and clusters 4..35 empty.
      if (k == 40)
        for (int64_t i = 0; i < 4; ++i) labels[i * 101] = static_cast<int32_t>(36 + i);
      EXPECT_EQ(on_gpu.score(labels, k), on_cpu.score(labels, k)) << "k " << k << ", sample " << sample_size;
    }
  }
}

// Lloyd iterations on overlapping blobs (points keep switching clusters near the boundaries):
// a step that skips settled points and keeps sums must match, call for call, a new step that
// measures every point and sums every cluster.
TEST(CpuLloydStepSameBits, SkippingSettledPointsKeepsLabelsSumsAndFarthestPoints) {
  const auto blobs = make_blobs(50000, 6, 5, 2.5, 1.0, 8);
  const jm::Context ctx = jm::make_context(jm::Backend::Cpu, 2);
  const int k = 7, dims = blobs.dims;
  auto kept = jm::cpu_impl::make_lloyd_step(ctx, blobs.points.data(), blobs.n, dims);
  std::vector<float> centroids = jm::kmeans_plus_plus(blobs.points.data(), blobs.n, dims, k, 3, 100000, 2);
  std::vector<double> sums, fresh_sums;
  std::vector<int64_t> counts, fresh_counts;
  for (int iteration = 0; iteration < 40; ++iteration) {
    kept->assign_labels(centroids, k, sums, counts);
    auto fresh = jm::cpu_impl::make_lloyd_step(ctx, blobs.points.data(), blobs.n, dims);
    fresh->assign(centroids, k, fresh_sums, fresh_counts);
    ASSERT_EQ(counts, fresh_counts) << "iteration " << iteration;
    ASSERT_EQ(sums, fresh_sums) << "iteration " << iteration;
    ASSERT_EQ(kept->labels(), fresh->labels()) << "iteration " << iteration;
    ASSERT_EQ(kept->farthest_points(5), fresh->farthest_points(5)) << "iteration " << iteration;
    for (int c = 0; c < k; ++c)
      for (int j = 0; j < dims; ++j)
        if (counts[c] > 0) centroids[size_t(c) * dims + j] = static_cast<float>(sums[size_t(c) * dims + j] / counts[c]);
    // Every fifth iteration a centroid jumps: the bounds must follow large moves too.
    if (iteration % 5 == 4) centroids[size_t(iteration % k) * dims] += 1.5f;
  }
  // The full pass (the last of a Lloyd run) gives the same inertia as a new step.
  auto fresh = jm::cpu_impl::make_lloyd_step(ctx, blobs.points.data(), blobs.n, dims);
  EXPECT_EQ(kept->assign(centroids, k, sums, counts), fresh->assign(centroids, k, fresh_sums, fresh_counts));
}

TEST(CpuLloydStepSameBits, ExactTiesStayWithTheLowerCluster) {
  // Points at 0 and centroids at -1 and +1: every distance ties, so no point is ever settled and
  // the tie rule (lower cluster index) decides, as in a full measurement.
  std::vector<float> points(2000, 0.0f);
  for (size_t i = 1000; i < points.size(); ++i) points[i] = 3.0f;
  const jm::Context ctx = jm::make_context(jm::Backend::Cpu, 2);
  auto step = jm::cpu_impl::make_lloyd_step(ctx, points.data(), 2000, 1);
  std::vector<double> sums;
  std::vector<int64_t> counts;
  for (int repeat = 0; repeat < 3; ++repeat) {
    step->assign_labels({1.0f, -1.0f, 3.0f}, 3, sums, counts);
    EXPECT_EQ(counts, (std::vector<int64_t>{1000, 0, 1000}));
  }
}

}  // namespace
