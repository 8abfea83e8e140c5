// XGBoost's own collective across the processes of a run. Process 0 trains the model on the
// sample gathered from every process (the split, the leakage guard, the in-flight rows and every
// evaluation need the whole sample); each boosting job it meets (the model, and each dedicated
// prefix model) is dealt out: process 0 starts XGBoost's tracker, sends every process its share of
// the rows (every N-th row) with the tracker's address, and all of them run the rounds inside the
// collective, where XGBoost sums the quantile sketches, gradient histograms and evaluation metrics.
// Every process ends with the same trees. The other processes wait for jobs meanwhile.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "host/distributed/process_group.hpp"
#include "host/model/boosting.hpp"
#include "journeymap/context.hpp"

namespace jm {

/// Runs `train` on process 0 with the other processes of `group` as its boosting peers, while they
/// wait for its boosting jobs; returns on every process once `train` has returned or thrown
/// (rethrown on process 0 after the others are told to stop waiting). In a group of one, or when
/// any process is on the GPU backend (XGBoost's collective would need NCCL there),
/// `train(nullptr)` on process 0. A failure inside a job, on any process, ends the run (FailureInsideExchange):
/// the others are inside XGBoost's collective with it.
/// Returns how many boosting jobs this process ran inside XGBoost's collective.
int64_t with_boosting_peers(const Context& ctx, ProcessGroup& group,
                            const std::function<void(model_detail::BoostingPeers*)>& train);

/// The address the tracker listens on, which every process must reach: JM_XGBOOST_TRACKER_HOST
/// when set; 127.0.0.1 when every process runs on one host; else an address of process 0's host
/// other than loopback (its name's, else its first interface's that is up). Every process calls
/// it (a collective); process 0 gets the answer, the others an empty string.
std::string boosting_tracker_host(ProcessGroup& group);

}  // namespace jm
