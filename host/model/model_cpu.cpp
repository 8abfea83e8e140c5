// CPU twin of the feature handoff: XGBoost reads the host matrix directly (device=cpu).
#include "host/core/thread_pool.hpp"
#include "host/model/xgboost_api.hpp"

namespace jm::cpu_impl {

model_detail::DMatrix make_dmatrix(const Context& ctx, MatrixView features) {
  return model_detail::dmatrix_from_host(features.values, features.rows, features.cols,
                                         resolve_thread_count(ctx.num_threads));
}

}  // namespace jm::cpu_impl
