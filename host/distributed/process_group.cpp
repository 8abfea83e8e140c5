#include "host/distributed/process_group.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>

#include <fmt/format.h>

#include "host/core/gpu_runtime.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace jm {
namespace {

// A failure travels as its exit status (one character) and its message.
std::string encode_failure(const std::string& failure, int exit_code) {
  return failure.empty() ? std::string() : std::string(1, static_cast<char>('0' + exit_code)) + failure;
}

class SingleProcessGroup final : public ProcessGroup {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void sum(std::vector<int64_t>&) override {}
  std::vector<std::string> all_gather(const std::string& bytes) override { return {bytes}; }
  std::vector<std::string> all_to_all(std::vector<std::string> outgoing) override {
    if (outgoing.size() != 1) throw Error("all_to_all: one buffer per process");
    return outgoing;
  }
  [[noreturn]] void abort(int exit_code) override { std::exit(exit_code); }
};

int environment_int(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return 0;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  return end != text && *end == '\0' && value > 0 && value < (1L << 30) ? static_cast<int>(value) : 0;
}

}  // namespace

std::vector<int64_t> ProcessGroup::each(int64_t value) {
  std::vector<int64_t> values(static_cast<size_t>(size()), 0);
  values[static_cast<size_t>(rank())] = value;
  sum(values);
  return values;
}

std::vector<int64_t> ProcessGroup::sums_before(int64_t value) {
  const std::vector<int64_t> values = each(value);
  std::vector<int64_t> before(values.size(), 0);
  for (size_t r = 1; r < values.size(); ++r) before[r] = before[r - 1] + values[r - 1];
  return before;
}

std::vector<std::string> ProcessGroup::gather_to_first(const std::string& bytes) {
  // An exchange where every process sends to process 0 alone (all_to_all cuts it into rounds
  // that MPI's int counts allow).
  std::vector<std::string> outgoing(static_cast<size_t>(size()));
  outgoing[0] = bytes;
  std::vector<std::string> incoming = all_to_all(std::move(outgoing));
  if (rank() != 0) incoming.clear();
  return incoming;
}

void ProcessGroup::agree(const std::string& failure, int exit_code) {
  const std::vector<std::string> reports = all_gather(encode_failure(failure, exit_code));
  for (int r = 0; r < static_cast<int>(reports.size()); ++r) {
    const std::string& report = reports[r];
    if (report.empty()) continue;
    const std::string message = report.substr(1);
    throw AgreedFailure(size() > 1 ? fmt::format("process {} of {}: {}", r, size(), message) : message,
                        report[0] - '0');
  }
}

StepFailure failure_of(const std::function<void()>& step) {
  StepFailure failure;
  try {
    step();
  } catch (const AgreedFailure&) {
    throw;
  } catch (const FailureInsideExchange&) {
    throw;
  } catch (const ConfigError& error) {
    failure.message = error.what();
    failure.exit_code = 2;
  } catch (const std::exception& error) {
    failure.message = error.what();
  }
  return failure;
}

void abort_every_process(ProcessGroup& group, const std::exception& error) {
  const bool configuration = dynamic_cast<const ConfigError*>(&error) != nullptr;
  std::fprintf(stderr, "journeymap: process %d of %d: %s%s\n", group.rank(), group.size(), configuration ? "" : "error: ",
               error.what());
  group.abort(configuration ? 2 : 1);
  std::abort();  // not reached: the compiler cannot see through the virtual call that abort() never returns
}

void ProcessGroup::run_agreed(const std::function<void()>& step) {
  const StepFailure failure = failure_of(step);
  if (failure.message.empty() && size() == 1) return;
  agree(failure.message, failure.exit_code);
}

void ProcessGroup::require_same(const std::string& what, const std::string& value) {
  if (size() == 1) return;
  const std::vector<std::string> values = all_gather(value);
  for (int r = 1; r < static_cast<int>(values.size()); ++r)
    if (values[r] != values[0])
      throw AgreedFailure(ConfigError(fmt::format("process {} of {} runs with a different {} than process 0: every "
                                                  "process of a run must run the same binary with the same settings",
                                                  r, size(), what))
                              .what(),
                          2);
}

std::string binary_fingerprint() {
  std::ifstream in("/proc/self/exe", std::ios::binary);
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  std::vector<char> buffer(size_t{1} << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    XXH3_64bits_update(state, buffer.data(), static_cast<size_t>(in.gcount()));
  }
  const uint64_t hash = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  return fmt::format("{:016x}", hash);
}

std::string file_fingerprint(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw InputError(path, 0, "", "", "cannot open file");
  const auto size = static_cast<uint64_t>(in.tellg());
  constexpr uint64_t kEdge = uint64_t{1} << 20;
  std::string edges(static_cast<size_t>(std::min(size, 2 * kEdge)), '\0');
  in.seekg(0);
  in.read(edges.data(), static_cast<std::streamsize>(std::min(size, kEdge)));
  if (size > kEdge) {
    const uint64_t tail = std::min(size - kEdge, kEdge);
    in.seekg(static_cast<std::streamoff>(size - tail));
    in.read(edges.data() + kEdge, static_cast<std::streamsize>(tail));
  }
  if (!in) throw InputError(path, 0, "", "", "read error");
  return fmt::format("{} {:016x}", size, XXH3_64bits(edges.data(), edges.size()));
}

int owner_of_customer(const std::string& customer_id, int processes) {
  if (processes <= 1) return 0;
  return static_cast<int>(XXH3_64bits(customer_id.data(), customer_id.size()) % static_cast<uint64_t>(processes));
}

bool started_by_mpi_launcher() { return process_group_detail::launcher_world_size() > 0; }

int process_group_device(const ProcessGroup& group) {
  int local_rank = group.rank();
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"})
    if (const char* text = std::getenv(name); text != nullptr && *text != '\0') {
      local_rank = std::atoi(text);
      break;
    }
  const int devices = cuda_impl::device_count();
  return devices > 0 ? local_rank % devices : 0;
}

namespace process_group_detail {

int launcher_world_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"})
    if (const int size = environment_int(name)) return size;
  return 0;
}

std::unique_ptr<ProcessGroup> make_single_process_group() { return std::make_unique<SingleProcessGroup>(); }

}  // namespace process_group_detail

ProcessGroup& process_group() {
  static std::unique_ptr<ProcessGroup> group;
  static std::once_flag joined;
  std::call_once(joined, [] {
    const int world = process_group_detail::launcher_world_size();
    if (world > 1 && !built_with_mpi())
      throw ConfigError(fmt::format("started by an MPI launcher as one of {} processes, but this journeymap was "
                                    "built without MPI (JM_WITH_MPI): each process would run alone",
                                    world));
    group = world >= 1 && built_with_mpi() ? process_group_detail::make_mpi_group()
                                           : process_group_detail::make_single_process_group();
    // A launcher whose processes did not meet (srun without an MPI plugin, mismatched PMI) leaves
    // each one alone in a world of its own: each would run the whole job.
    if (world >= 1 && group->size() != world)
      throw ConfigError(fmt::format("the launcher started {} processes but MPI joined {} of them: check the "
                                    "launcher's MPI support (for Slurm, srun --mpi=pmix)",
                                    world, group->size()));
  });
  return *group;
}

}  // namespace jm
