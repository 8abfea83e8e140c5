#include "host/model/boosting_across.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
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
// the tracker, which would wait for processes that never leave. (A failure of one of XGBoost's
// own collective operations is met by XGBoost first: its tracker ends the other workers.)
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
    if (tracker) tracker->abandon();
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
    // Everything that can fail before the others are sent their shares fails here, while they
    // still wait for a job: the tracker is dropped without waiting for workers, and release()
    // tells them to stop.
    auto tracker = std::make_unique<Tracker>(processes, tracker_host_, kTrackerTimeoutSeconds);
    std::vector<std::string> outgoing(static_cast<size_t>(processes));
    BoostingJob own;
    std::string own_config;
    try {
      const std::string arguments = tracker->worker_arguments();
      for (int p = 1; p < processes; ++p) {
        RecordWriter out;
        out.value(Message::Job);
        out.text(arguments);
        job.share(p, processes).save(out);
        outgoing[static_cast<size_t>(p)] = out.take();
      }
      own = job.share(0, processes);
      own_config = member_config(arguments, 0);
    } catch (...) {
      tracker->abandon();
      throw;
    }
    group_.all_to_all(std::move(outgoing));
    ++jobs_;
    return boost_as_member(ctx, own, own_config, std::move(tracker), history);
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

  int64_t jobs() const { return jobs_; }

 private:
  ProcessGroup& group_;
  std::string tracker_host_;
  int64_t jobs_ = 0;
};

// The other processes' side: boosts each job process 0 sends, until it says there are no more;
// returns how many it boosted. Once a job has arrived, process 0 is joining XGBoost's collective
// with this process: any failure ends the run.
int64_t serve_boosting_jobs(const Context& ctx, ProcessGroup& group) {
  for (int64_t jobs = 0;; ++jobs) {
    const std::vector<std::string> incoming = group.all_to_all(std::vector<std::string>(static_cast<size_t>(group.size())));
    RecordReader in(incoming.front());
    if (in.value<Message>() == Message::Done) return jobs;
    std::string config;
    BoostingJob job;
    try {
      config = member_config(in.text(), group.rank());
      job = BoostingJob::load(in);
    } catch (const std::exception& error) {
      throw FailureInsideExchange(fmt::format("reading a boosting job from process 0: {}", error.what()));
    }
    TrainingHistory ignored;  // process 0 keeps the history (the same losses)
    boost_as_member(ctx, job, config, nullptr, ignored);
  }
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) throw Error("cannot read this host's name (gethostname)");
  return name;
}

// An IPv4 address of this host that other hosts can reach: the host name's, unless it resolves to
// loopback (Debian names itself 127.0.1.1 in /etc/hosts), else the first interface that is up and
// not loopback.
std::string reachable_address(const std::string& name) {
  auto is_loopback = [](const in_addr& address) { return (ntohl(address.s_addr) >> 24) == 127; };
  auto text_of = [](const in_addr& address) {
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &address, text, sizeof(text));
    return std::string(text);
  };
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(name.c_str(), nullptr, &hints, &found) == 0) {
    std::string chosen;
    for (const addrinfo* a = found; a != nullptr && chosen.empty(); a = a->ai_next) {
      const in_addr address = reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_addr;
      if (!is_loopback(address)) chosen = text_of(address);
    }
    ::freeaddrinfo(found);
    if (!chosen.empty()) return chosen;
  }
  ifaddrs* interfaces = nullptr;
  std::string chosen;
  if (::getifaddrs(&interfaces) == 0) {
    for (const ifaddrs* i = interfaces; i != nullptr && chosen.empty(); i = i->ifa_next) {
      if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP)) continue;
      const in_addr address = reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr;
      if (!is_loopback(address)) chosen = text_of(address);
    }
    ::freeifaddrs(interfaces);
  }
  if (chosen.empty())
    throw ConfigError(fmt::format("process 0's host '{}' has no address but loopback for XGBoost's tracker, which the "
                                  "other hosts must reach; set JM_XGBOOST_TRACKER_HOST to one",
                                  name));
  return chosen;
}

}  // namespace

std::string boosting_tracker_host(ProcessGroup& group) {
  const std::vector<std::string> hosts = group.all_gather(host_name());
  if (group.rank() != 0) return "";
  if (const char* chosen = std::getenv("JM_XGBOOST_TRACKER_HOST"); chosen != nullptr && *chosen != '\0') return chosen;
  bool one_host = true;
  for (const std::string& host : hosts) one_host = one_host && host == hosts.front();
  return one_host ? "127.0.0.1" : reachable_address(hosts.front());
}

int64_t with_boosting_peers(const Context& ctx, ProcessGroup& group,
                            const std::function<void(model_detail::BoostingPeers*)>& train) {
  if (group.size() == 1) {
    train(nullptr);
    return 0;
  }
  // On the GPU XGBoost's collective needs NCCL, which this build does not ship (and NCCL refuses
  // two processes on one device): the boosting stays on process 0 when any process is on the GPU
  // (every process must take the same path; `--device auto` may choose differently per node).
  std::vector<int64_t> on_gpu{ctx.backend == Backend::Gpu ? 1 : 0};
  group.sum(on_gpu);
  if (on_gpu[0] > 0) {
    if (group.rank() == 0) train(nullptr);
    return 0;
  }
  std::string tracker_host;
  StepFailure failure = failure_of([&] { tracker_host = boosting_tracker_host(group); });
  group.agree(failure.message, failure.exit_code);
  if (group.rank() != 0) return serve_boosting_jobs(ctx, group);
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
  return peers.jobs();
}

}  // namespace jm
