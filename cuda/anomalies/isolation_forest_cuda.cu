// GPU scorer of the isolation forest: the trees (built on the CPU) and the rows are copied to the
// device once, then one thread scores one row with the traversal of isolation_forest_rules.hpp.
// Scoring is the costly part at scale (rows x trees x depth); building touches only the samples.
#include <algorithm>
#include <vector>

#include <rmm/device_uvector.hpp>

#include "cuda/core/cuda_check.cuh"
#include "cuda/core/device_copy.cuh"
#include "cuda/core/device_runtime.cuh"
#include "host/anomalies/isolation_forest_driver.hpp"
#include "kernels/anomalies/isolation_forest_kernels.cuh"

namespace jm::cuda_impl {

std::vector<float> isolation_forest_scores(const Context& ctx, const anomalies_detail::FlatForest& forest,
                                           const float* rows, int64_t n, int dims) {
  if (n <= 0) return {};
  const rmm::cuda_stream_view stream = device_stream(ctx.cuda_device);
  const auto nodes = upload(forest.nodes, stream);
  const auto roots = upload(forest.roots, stream);
  rmm::device_uvector<float> device_rows(static_cast<size_t>(n) * dims, stream);
  JM_CUDA_TRY(cudaMemcpyAsync(device_rows.data(), rows, device_rows.size() * sizeof(float), cudaMemcpyHostToDevice,
                              stream.value()));
  rmm::device_uvector<float> scores(static_cast<size_t>(n), stream);

  int sm_count = 1;
  JM_CUDA_TRY(cudaDeviceGetAttribute(&sm_count, cudaDevAttrMultiProcessorCount, ctx.cuda_device));
  const int64_t blocks = (n + kForestBlockThreads - 1) / kForestBlockThreads;
  const auto grid = static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(blocks, int64_t{sm_count} * 16)));
  isolation_forest_score_rows<<<grid, kForestBlockThreads, 0, stream.value()>>>(
      nodes.data(), roots.data(), static_cast<int>(forest.roots.size()), forest.normaliser, device_rows.data(), n,
      dims, scores.data());
  JM_CUDA_TRY(cudaGetLastError());
  std::vector<float> host = download(scores.data(), scores.size(), stream);
  JM_CUDA_TRY(cudaStreamSynchronize(stream.value()));
  return host;
}

}  // namespace jm::cuda_impl
