// The heavy part of k-means++ (host/segments/kmeans.cpp): how far every sampled point lies from
// each candidate centroid, and the potential (sum of squared distances to the nearest chosen
// centroid) each candidate would leave. The draws stay on the host; this part runs on the run's
// backend. Both backends give the same bits: every distance is kmeans_rules::squared_distance_in_double (the
// dimensions in order, in double, no fused multiply-add), and every potential is summed per task of
// kSeedingRowsPerTask rows in row order, the tasks added in order on the host.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "journeymap/context.hpp"

namespace jm::kmeans_detail {

constexpr int64_t kSeedingRowsPerTask = 4096;

class SeedingDistances {
 public:
  virtual ~SeedingDistances() = default;
  /// For `count` candidates ([count x dims], row-major): potentials[t] = the sum over the sampled
  /// points of the smaller of their closest distance so far and their distance to candidate t.
  virtual void evaluate(const float* candidates, int count, std::vector<double>& potentials) = 0;
  /// Adds candidate t of the last evaluate: the sampled points' closest distances become its.
  virtual void accept(int t) = 0;
  /// The sampled points' closest distances ([s], +inf before the first accept).
  virtual const std::vector<double>& closest() = 0;
};

/// For the sampled points [s x dims] (they must outlive the result) on the backend of `ctx`.
std::unique_ptr<SeedingDistances> make_seeding_distances(const Context& ctx, const float* sample_points, int64_t s,
                                                         int dims);

/// Adds the tasks' partial sums ([tasks x count]) in task order: the potentials both backends report.
void add_task_sums(const std::vector<double>& task_sums, int64_t tasks, int count, std::vector<double>& potentials);

}  // namespace jm::kmeans_detail

namespace jm::cpu_impl {
std::unique_ptr<kmeans_detail::SeedingDistances> make_seeding_distances(const float* sample_points, int64_t s, int dims,
                                                                        int num_threads);
}  // namespace jm::cpu_impl

namespace jm::cuda_impl {
/// Copies the sampled points to the device once; the distances and the potentials' task sums are
/// computed there. Only the task sums come back per evaluation, and the closest distances when
/// the draws ask for them (once per accepted centroid).
std::unique_ptr<kmeans_detail::SeedingDistances> make_seeding_distances(const Context& ctx, const float* sample_points,
                                                                        int64_t s, int dims);
}  // namespace jm::cuda_impl
