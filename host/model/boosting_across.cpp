#include "host/model/boosting_across.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "host/core/records.hpp"
#include "journeymap/common.hpp"

namespace jm {
namespace {

using model_detail::Booster;
using model_detail::BoostingJob;
using model_detail::Communicator;
using model_detail::Tracker;

// What process 0 sends the others: a job to boost, or that there are no more.
enum class Message : uint8_t { Done = 0, Job = 1 };

// Seconds the tracker waits for every process to join, and then to leave.
constexpr int kTrackerTimeoutSeconds = 300;

// The tracker's worker arguments with this process's task id. The tracker ranks workers by their
// task ids as text: zero-padded, so that XGBoost's ranks are the processes' ranks.
std::string member_config(const std::string& worker_arguments, int rank) {
  nlohmann::json config = nlohmann::json::parse(worker_arguments);
  config["dmlc_task_id"] = fmt::format("{:06d}", rank);
  return config.dump();
}

// Runs the rounds of `job` inside XGBoost's collective. A failure there leaves the others waiting
// inside it: the run ends (FailureInsideExchange), without leaving the collective or waiting for
// the tracker, which would wait for processes that never leave.
Booster boost_as_member(const Context& ctx, const BoostingJob& job, const std::string& config,
                        std::unique_ptr<Tracker> tracker, TrainingHistory& history) {
  std::unique_ptr<Communicator> member;
  try {
    member = std::make_unique<Communicator>(config);
    Booster booster = model_detail::boost(ctx, job, history);
    member.reset();
    tracker.reset();
    return booster;
  } catch (const std::exception& error) {
    (void)member.release();
    (void)tracker.release();
    throw FailureInsideExchange(fmt::format("boosting inside XGBoost's collective: {}", error.what()));
  }
}

// Process 0's side: deals every boosting job out to the other processes, which wait in
// serve_boosting_jobs until release().
class BoostingAcrossProcesses final : public model_detail::BoostingPeers {
 public:
  BoostingAcrossProcesses(ProcessGroup& group, std::string tracker_host)
      : group_(group), tracker_host_(std::move(tracker_host)) {}

  Booster boost(const Context& ctx, const BoostingJob& job, TrainingHistory& history) override {
    const int processes = group_.size();
    // Every process needs rows of each set (XGBoost's matrices and metrics are collective).
    if (job.train_rows() < processes || (job.early_stopping && job.early_rows() < processes))
      return model_detail::boost(ctx, job, history);
    auto tracker = std::make_unique<Tracker>(processes, tracker_host_, kTrackerTimeoutSeconds);
    const std::string arguments = tracker->worker_arguments();
    std::vector<std::string> outgoing(static_cast<size_t>(processes));
    for (int p = 1; p < processes; ++p) {
      RecordWriter out;
      out.value(Message::Job);
      out.text(arguments);
      job.share(p, processes).save(out);
      outgoing[static_cast<size_t>(p)] = out.take();
    }
    group_.all_to_all(std::move(outgoing));
    return boost_as_member(ctx, job.share(0, processes), member_config(arguments, 0), std::move(tracker), history);
  }

  void release() {
    std::vector<std::string> outgoing(static_cast<size_t>(group_.size()));
    for (size_t p = 1; p < outgoing.size(); ++p) {
      RecordWriter out;
      out.value(Message::Done);
      outgoing[p] = out.take();
    }
    group_.all_to_all(std::move(outgoing));
  }

 private:
  ProcessGroup& group_;
  std::string tracker_host_;
};

// The other processes' side: boosts each job process 0 sends, until it says there are no more.
void serve_boosting_jobs(const Context& ctx, ProcessGroup& group) {
  for (;;) {
    const std::vector<std::string> incoming = group.all_to_all(std::vector<std::string>(static_cast<size_t>(group.size())));
    RecordReader in(incoming.front());
    if (in.value<Message>() == Message::Done) return;
    const std::string arguments = in.text();
    const BoostingJob job = BoostingJob::load(in);
    TrainingHistory ignored;  // process 0 keeps the history (the same losses)
    boost_as_member(ctx, job, member_config(arguments, group.rank()), nullptr, ignored);
  }
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) throw Error("cannot read this host's name (gethostname)");
  return name;
}

// `name`'s first IPv4 address, as text.
std::string address_of(const std::string& name) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(name.c_str(), nullptr, &hints, &found) != 0 || found == nullptr)
    throw ConfigError(fmt::format("cannot resolve process 0's host name '{}' to an address for XGBoost's tracker; "
                                  "set JM_XGBOOST_TRACKER_HOST to an address every process reaches",
                                  name));
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr, text, sizeof(text));
  ::freeaddrinfo(found);
  return text;
}

}  // namespace

std::string boosting_tracker_host(ProcessGroup& group) {
  const std::vector<std::string> hosts = group.all_gather(host_name());
  if (group.rank() != 0) return "";
  if (const char* chosen = std::getenv("JM_XGBOOST_TRACKER_HOST"); chosen != nullptr && *chosen != '\0') return chosen;
  bool one_host = true;
  for (const std::string& host : hosts) one_host = one_host && host == hosts.front();
  return one_host ? "127.0.0.1" : address_of(hosts.front());
}

void with_boosting_peers(const Context& ctx, ProcessGroup& group,
                         const std::function<void(model_detail::BoostingPeers*)>& train) {
  // On the GPU XGBoost's collective needs NCCL, which this build does not ship (and NCCL refuses two
  // processes on one device): the boosting stays on process 0 there.
  if (group.size() == 1 || ctx.backend == Backend::Gpu) {
    if (group.rank() == 0) train(nullptr);
    return;
  }
  std::string tracker_host;
  StepFailure failure = failure_of([&] { tracker_host = boosting_tracker_host(group); });
  group.agree(failure.message, failure.exit_code);
  if (group.rank() != 0) {
    serve_boosting_jobs(ctx, group);
    return;
  }
  BoostingAcrossProcesses peers(group, tracker_host);
  try {
    train(&peers);
  } catch (const FailureInsideExchange&) {
    throw;  // the others are inside a job, not waiting for the next one
  } catch (...) {
    peers.release();
    throw;
  }
  peers.release();
}

}  // namespace jm
