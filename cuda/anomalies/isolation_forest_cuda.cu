// GPU scorer of the isolation forest: the trees (built on the CPU) are copied to the device, the rows
// are read where they live (the scaled matrix an earlier step left there), one thread scores one row with the traversal of isolation_forest_rules.hpp.
// Scoring is the costly part at scale (rows x trees x depth); building touches only the samples.
#include <vector>

#include <rmm/device_uvector.hpp>

#include "cuda/core/cuda_check.cuh"
#include "cuda/core/device_copy.cuh"
#include "cuda/core/device_runtime.cuh"
#include "host/anomalies/isolation_forest_driver.hpp"
#include "kernels/anomalies/isolation_forest_kernels.cuh"

namespace jm::cuda_impl {

std::vector<float> isolation_forest_scores(const Context& ctx, const anomalies_detail::FlatForest& forest,
                                           DeviceSpan<const float> rows, int64_t n, int dims) {
  if (n <= 0) return {};
  CudaResources& resources = cuda_resources(ctx);
  const auto nodes = upload(forest.nodes, resources);
  const auto roots = upload(forest.roots, resources);
  rmm::device_uvector<float> scores(static_cast<size_t>(n), resources.stream(), resources.memory());
  kernels::isolation_forest_score_rows<<<resources.grid_for(n, kernels::kForestBlockThreads, 16), kernels::kForestBlockThreads, 0,
                                resources.stream().value()>>>(
      nodes.data(), roots.data(), static_cast<int>(forest.roots.size()), forest.normaliser, rows.data, n,
      dims, scores.data());
  JM_CUDA_CHECK_LAUNCH();
  std::vector<float> host = download(scores.data(), scores.size(), resources);
  return host;
}

}  // namespace jm::cuda_impl
