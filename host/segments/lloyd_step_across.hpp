// The Lloyd step of a run across processes (docs/scale-out.md): each process assigns the rows it
// holds (`own`; rows [first_row, first_row + own_rows) of all), and the sums, counts and inertia
// are added over the processes in rank order, so every process holds the same centroids and takes
// the same next step: run_lloyd runs on every process in step, each call of the step a collective.
// The labels are those of this process's rows.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "host/segments/kmeans_driver.hpp"
#include "journeymap/segments.hpp"

namespace jm {

class ProcessGroup;

class LloydStepAcrossProcesses final : public LloydStep {
 public:
  /// `own` must report the distance it ranks its farthest points by (ranked_distance); `own_points`
  /// [own_rows x dims]: this process's rows, for a step that does not copy its points out (null
  /// when `own` does).
  LloydStepAcrossProcesses(ProcessGroup& group, LloydStep& own, const float* own_points, int64_t first_row,
                           int64_t own_rows, int dims)
      : group_(group), own_(own), own_points_(own_points), first_row_(first_row), own_rows_(own_rows), dims_(dims) {}

  double assign(const std::vector<float>& centroids, int k, std::vector<double>& sums,
                std::vector<int64_t>& counts) override;
  void assign_labels(const std::vector<float>& centroids, int k, std::vector<double>& sums,
                     std::vector<int64_t>& counts) override;
  /// The farthest of every process's farthest rows (lower row on ties), as one step over every row
  /// ranks them; row numbers are those of all rows.
  std::vector<int64_t> farthest_points(int count) override;
  double ranked_distance(int64_t index) override;
  std::vector<int32_t> labels() override { return own_.labels(); }
  /// Row `index` of all: the process that holds it sends it to every other.
  bool copy_point(int64_t index, float* out) override;

 private:
  double sum(double inertia, std::vector<double>& sums, std::vector<int64_t>& counts);

  ProcessGroup& group_;
  LloydStep& own_;
  const float* own_points_;
  int64_t first_row_, own_rows_;
  int dims_;
  kmeans_detail::FarthestRows farthest_;
};

}  // namespace jm
