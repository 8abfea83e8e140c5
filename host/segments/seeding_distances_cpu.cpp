// k-means++ distances on the CPU (host/segments/seeding_distances.hpp): each task of
// kSeedingRowsPerTask sampled points compares its points with every candidate in one pass.
#include <algorithm>
#include <limits>
#include <memory>
#include <vector>

#include "host/core/cpu_features.hpp"
#include "host/core/thread_pool.hpp"
#include "host/segments/seeding_distances.hpp"
#include "journeymap/kmeans_rules.hpp"

namespace jm::cpu_impl {
namespace {

using kmeans_detail::kSeedingRowsPerTask;

// Up to kCandidateLanes candidates are held transposed ([dims x lanes], in double) and compared
// side by side: the compiler vectorises across candidates, while each candidate's sum still runs
// over the dimensions in order, so every distance has the bits of kmeans_rules::squared_distance_in_double.
constexpr int kCandidateLanes = 4;

struct CandidateLanes {
  int count = 0;               // candidates in use (the rest repeat the last one)
  std::vector<double> values;  // [dims x kCandidateLanes]
};

CandidateLanes transpose_candidates(const float* candidates, int count, int dims) {
  CandidateLanes lanes;
  lanes.count = count;
  lanes.values.resize(size_t(dims) * kCandidateLanes);
  for (int t = 0; t < kCandidateLanes; ++t) {
    const float* c = candidates + size_t(std::min(t, count - 1)) * dims;
    for (int j = 0; j < dims; ++j) lanes.values[size_t(j) * kCandidateLanes + t] = c[j];
  }
  return lanes;
}

// Distances of kPointsPerCall consecutive points (rows of `x`) to the lanes: out[p * lanes + t].
// Each (point, lane) sum is one chain of adds over the dimensions in order; the points' chains are
// independent, so they overlap in the pipeline instead of each waiting on the previous add.
constexpr int kPointsPerCall = 4;

inline __attribute__((always_inline)) void squared_distances_to_lanes_body(const float* x, const double* lanes,
                                                                           int dims, double* out) {
  double sum[kPointsPerCall][kCandidateLanes] = {};
  for (int j = 0; j < dims; ++j) {
    for (int p = 0; p < kPointsPerCall; ++p) {
      const double xj = x[size_t(p) * dims + j];
      for (int t = 0; t < kCandidateLanes; ++t) {
        const double diff = xj - lanes[j * kCandidateLanes + t];
        sum[p][t] += diff * diff;
      }
    }
  }
  for (int p = 0; p < kPointsPerCall; ++p)
    for (int t = 0; t < kCandidateLanes; ++t) out[p * kCandidateLanes + t] = sum[p][t];
}

// The AVX2 copy holds four lanes in one register instead of two. Separate multiplies and adds on
// both (AVX2 alone brings no fused multiply-add), so both give the same bits.
__attribute__((target("avx2"))) void squared_distances_to_lanes_avx2(const float* x, const double* lanes, int dims,
                                                                     double* out) {
  squared_distances_to_lanes_body(x, lanes, dims, out);
}

void squared_distances_to_lanes_baseline(const float* x, const double* lanes, int dims, double* out) {
  squared_distances_to_lanes_body(x, lanes, dims, out);
}

using LaneDistances = void (*)(const float*, const double*, int, double*);

LaneDistances lane_distances_for_this_cpu() {
  return cpu_has_avx2() ? squared_distances_to_lanes_avx2 : squared_distances_to_lanes_baseline;
}

class CpuSeedingDistances final : public kmeans_detail::SeedingDistances {
 public:
  CpuSeedingDistances(const float* sample_points, int64_t s, int dims, int num_threads)
      : points_(sample_points), s_(s), dims_(dims), threads_(resolve_thread_count(num_threads)),
        tasks_((s + kSeedingRowsPerTask - 1) / kSeedingRowsPerTask),
        closest_(static_cast<size_t>(s), std::numeric_limits<double>::infinity()) {}

  void evaluate(const float* candidates, int count, std::vector<double>& potentials) override {
    std::vector<CandidateLanes> groups;
    for (int first = 0; first < count; first += kCandidateLanes)
      groups.push_back(transpose_candidates(candidates + size_t(first) * dims_, std::min(kCandidateLanes, count - first), dims_));
    candidate_closest_.resize(size_t(count) * s_);
    task_sums_.assign(size_t(tasks_) * count, 0.0);
    const LaneDistances squared_distances_to_lanes = lane_distances_for_this_cpu();
    parallel_for(tasks_, threads_, [&](int64_t task) {
      double* sums = task_sums_.data() + size_t(task) * count;
      double distances[kPointsPerCall * kCandidateLanes];
      std::vector<float> padded;  // the last points of the sample, repeated up to kPointsPerCall rows
      const int64_t begin = task * kSeedingRowsPerTask, end = std::min(s_, (task + 1) * kSeedingRowsPerTask);
      for (int64_t first = begin; first < end; first += kPointsPerCall) {
        const int points_here = static_cast<int>(std::min<int64_t>(kPointsPerCall, end - first));
        const float* x = points_ + first * dims_;
        if (points_here < kPointsPerCall) {
          padded.resize(size_t(kPointsPerCall) * dims_);
          for (int p = 0; p < kPointsPerCall; ++p) {
            const float* row = x + size_t(std::min(p, points_here - 1)) * dims_;
            std::copy(row, row + dims_, padded.begin() + size_t(p) * dims_);
          }
          x = padded.data();
        }
        for (size_t g = 0; g < groups.size(); ++g) {
          squared_distances_to_lanes(x, groups[g].values.data(), dims_, distances);
          for (int p = 0; p < points_here; ++p) {
            const int64_t i = first + p;
            for (int lane = 0; lane < groups[g].count; ++lane) {
              const int t = static_cast<int>(g) * kCandidateLanes + lane;
              const double d = kmeans_rules::nearer(closest_[i], distances[p * kCandidateLanes + lane]);
              candidate_closest_[size_t(t) * s_ + i] = d;
              sums[t] += d;
            }
          }
        }
      }
    });
    kmeans_detail::add_task_sums(task_sums_, tasks_, count, potentials);
  }

  void accept(int t) override {
    std::copy(candidate_closest_.begin() + size_t(t) * s_, candidate_closest_.begin() + size_t(t + 1) * s_,
              closest_.begin());
  }

  const std::vector<double>& closest() override { return closest_; }

 private:
  const float* points_;
  int64_t s_;
  int dims_;
  int threads_;
  int64_t tasks_;
  std::vector<double> closest_;            // [s]
  std::vector<double> candidate_closest_;  // [count x s]: closest_ if candidate t were added
  std::vector<double> task_sums_;          // [tasks x count]
};

}  // namespace

std::unique_ptr<kmeans_detail::SeedingDistances> make_seeding_distances(const float* sample_points, int64_t s, int dims,
                                                                        int num_threads) {
  return std::make_unique<CpuSeedingDistances>(sample_points, s, dims, num_threads);
}

}  // namespace jm::cpu_impl
