// The isolation forest between its CPU builder and its two scorers (CPU and GPU).
#pragma once

#include <cstdint>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/host_device_vector.hpp"
#include "journeymap/isolation_forest_rules.hpp"

namespace jm::anomalies_detail {

/// Every tree's nodes in one flat array (see isolation_forest_rules.hpp).
struct FlatForest {
  std::vector<isolation_forest_rules::ForestNode> nodes;
  std::vector<int32_t> roots;  ///< [trees] index of each tree's root in `nodes`
  double normaliser = 1.0;     ///< c(sample_size)
};

}  // namespace jm::anomalies_detail

namespace jm::cuda_impl {
/// Scores `rows` [n x dims] (on the device) on the GPU: the forest is copied to the device, one
/// thread scores one row. Equal to the CPU scores within 1e-6 (exp2 rounding).
std::vector<float> isolation_forest_scores(const Context& ctx, const anomalies_detail::FlatForest& forest,
                                           DeviceSpan<const float> rows, int64_t n, int dims);
}  // namespace jm::cuda_impl
