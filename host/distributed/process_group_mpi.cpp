// MPI's world as the process group (process_group.hpp). Only the thread that called
// process_group() talks to MPI (MPI_THREAD_FUNNELED); the stages' worker threads never do.
#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <numeric>

#include <fmt/format.h>

#include "host/distributed/process_group.hpp"

namespace jm {
namespace {

void check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw Error(fmt::format("{} failed: {}", call, std::string(text, static_cast<size_t>(length))));
}

class MpiProcessGroup final : public ProcessGroup {
 public:
  MpiProcessGroup() {
    int provided = 0;
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    if (provided < MPI_THREAD_FUNNELED)
      throw Error("the MPI library does not let a threaded process call it from its main thread (MPI_THREAD_FUNNELED)");
    // Errors come back as codes (check() turns them into exceptions) instead of ending the job.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    // JM_EXCHANGE_ROUND_BYTES (tests): smaller rounds, so that small data exercises many of them.
    if (const char* text = std::getenv("JM_EXCHANGE_ROUND_BYTES"); text != nullptr && *text != '\0') {
      char* end = nullptr;
      const long long bytes = std::strtoll(text, &end, 10);
      if (*end == '\0' && bytes >= kLeastRoundBytes && bytes <= kMostRoundBytes)
        round_bytes_ = bytes;
      else
        std::fprintf(stderr, "journeymap: ignoring JM_EXCHANGE_ROUND_BYTES=%s (a number of bytes from %lld to %lld)\n",
                     text, static_cast<long long>(kLeastRoundBytes), static_cast<long long>(kMostRoundBytes));
    }
    // Every process must cut its exchanges into the same rounds.
    check(MPI_Allreduce(MPI_IN_PLACE, &round_bytes_, 1, MPI_INT64_T, MPI_MIN, MPI_COMM_WORLD), "MPI_Allreduce");
  }
  ~MpiProcessGroup() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void sum(std::vector<int64_t>& values) override {
    // MPI counts are int: large vectors go in slices.
    constexpr size_t kSlice = size_t{1} << 28;
    for (size_t begin = 0; begin < values.size(); begin += kSlice) {
      const int count = static_cast<int>(std::min(kSlice, values.size() - begin));
      check(MPI_Allreduce(MPI_IN_PLACE, values.data() + begin, count, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD),
            "MPI_Allreduce");
    }
  }

  std::vector<std::string> all_gather(const std::string& bytes) override {
    // Lengths first, then the bytes in rounds: MPI counts and displacements are int, so each round
    // gathers at most round_bytes_ in all (every process knows every length, so all agree on the
    // rounds).
    const int64_t length = static_cast<int64_t>(bytes.size());
    std::vector<int64_t> lengths(static_cast<size_t>(size_));
    check(MPI_Allgather(&length, 1, MPI_INT64_T, lengths.data(), 1, MPI_INT64_T, MPI_COMM_WORLD), "MPI_Allgather");
    std::vector<std::string> out(static_cast<size_t>(size_));
    for (int r = 0; r < size_; ++r) out[r].reserve(static_cast<size_t>(lengths[r]));
    const int64_t per_process = std::max<int64_t>(1, round_bytes_ / size_);
    const int64_t rounds = (*std::max_element(lengths.begin(), lengths.end()) + per_process - 1) / per_process;
    std::vector<int> counts(static_cast<size_t>(size_)), displacements(static_cast<size_t>(size_));
    std::string round_bytes;
    for (int64_t round = 0; round < rounds; ++round) {
      const int64_t from = round * per_process;
      int total = 0;
      for (int r = 0; r < size_; ++r) {
        counts[r] = static_cast<int>(std::clamp<int64_t>(lengths[r] - from, 0, per_process));
        displacements[r] = total;
        total += counts[r];
      }
      round_bytes.resize(static_cast<size_t>(total));
      const char* own = counts[rank_] > 0 ? bytes.data() + from : bytes.data();
      check(MPI_Allgatherv(own, counts[rank_], MPI_BYTE, round_bytes.data(), counts.data(), displacements.data(),
                           MPI_BYTE, MPI_COMM_WORLD),
            "MPI_Allgatherv");
      for (int r = 0; r < size_; ++r) out[r].append(round_bytes, static_cast<size_t>(displacements[r]), static_cast<size_t>(counts[r]));
    }
    return out;
  }

  std::vector<std::string> all_to_all(std::vector<std::string> outgoing) override {
    if (outgoing.size() != static_cast<size_t>(size_)) throw Error("all_to_all: one buffer per process");
    // Sizes first, then the bytes in rounds: MPI counts and displacements are int, so each round
    // sends at most kRoundBytes in all from one process.
    std::vector<int64_t> send_sizes(static_cast<size_t>(size_)), receive_sizes(static_cast<size_t>(size_));
    for (int d = 0; d < size_; ++d) send_sizes[d] = static_cast<int64_t>(outgoing[d].size());
    check(MPI_Alltoall(send_sizes.data(), 1, MPI_INT64_T, receive_sizes.data(), 1, MPI_INT64_T, MPI_COMM_WORLD),
          "MPI_Alltoall");
    std::vector<std::string> incoming(static_cast<size_t>(size_));
    for (int s = 0; s < size_; ++s) incoming[s].resize(static_cast<size_t>(receive_sizes[s]));
    const int64_t per_pair = std::max<int64_t>(1, round_bytes_ / size_);
    int64_t most = 0;
    for (int r = 0; r < size_; ++r) most = std::max({most, send_sizes[r], receive_sizes[r]});
    int64_t rounds = (most + per_pair - 1) / per_pair;
    check(MPI_Allreduce(MPI_IN_PLACE, &rounds, 1, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
    std::vector<int> send_counts(static_cast<size_t>(size_)), send_displacements(static_cast<size_t>(size_)),
        receive_counts(static_cast<size_t>(size_)), receive_displacements(static_cast<size_t>(size_));
    std::string send_round, receive_round;
    for (int64_t round = 0; round < rounds; ++round) {
      const int64_t from = round * per_pair;
      send_round.clear();
      int receive_total = 0;
      for (int r = 0; r < size_; ++r) {
        const int64_t send_part = std::clamp<int64_t>(send_sizes[r] - from, 0, per_pair);
        send_displacements[r] = static_cast<int>(send_round.size());
        send_counts[r] = static_cast<int>(send_part);
        if (send_part > 0) send_round.append(outgoing[r], static_cast<size_t>(from), static_cast<size_t>(send_part));
        receive_displacements[r] = receive_total;
        receive_counts[r] = static_cast<int>(std::clamp<int64_t>(receive_sizes[r] - from, 0, per_pair));
        receive_total += receive_counts[r];
      }
      receive_round.resize(static_cast<size_t>(receive_total));
      check(MPI_Alltoallv(send_round.data(), send_counts.data(), send_displacements.data(), MPI_BYTE,
                          receive_round.data(), receive_counts.data(), receive_displacements.data(), MPI_BYTE,
                          MPI_COMM_WORLD),
            "MPI_Alltoallv");
      for (int r = 0; r < size_; ++r)
        if (receive_counts[r] > 0)
          incoming[r].replace(static_cast<size_t>(from), static_cast<size_t>(receive_counts[r]), receive_round,
                              static_cast<size_t>(receive_displacements[r]), static_cast<size_t>(receive_counts[r]));
      for (int r = 0; r < size_; ++r) {  // what is sent is freed as it goes
        if (send_sizes[r] <= from + per_pair) std::string().swap(outgoing[r]);
      }
    }
    return incoming;
  }


  [[noreturn]] void abort(int exit_code) override {
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    std::_Exit(exit_code);  // MPI_Abort does not return; this satisfies [[noreturn]]
  }

 private:
  /// At most this many bytes leave one process per round of all_to_all, and at most this many are
  /// gathered per round of all_gather (below MPI's int counts).
  static constexpr int64_t kMostRoundBytes = int64_t{1} << 30;
  static constexpr int64_t kLeastRoundBytes = 1024;
  int64_t round_bytes_ = kMostRoundBytes;
  int rank_ = 0, size_ = 1;
};

}  // namespace

bool built_with_mpi() { return true; }

std::string mpi_description() {
#ifdef OMPI_MAJOR_VERSION
  return fmt::format("MPI: Open MPI {}.{}.{} (MPI {}.{}); runs across processes under mpirun", OMPI_MAJOR_VERSION,
                     OMPI_MINOR_VERSION, OMPI_RELEASE_VERSION, MPI_VERSION, MPI_SUBVERSION);
#else
  return fmt::format("MPI: MPI {}.{}; runs across processes under an MPI launcher", MPI_VERSION, MPI_SUBVERSION);
#endif
}

namespace process_group_detail {
std::unique_ptr<ProcessGroup> make_mpi_group() { return std::make_unique<MpiProcessGroup>(); }
}  // namespace process_group_detail

}  // namespace jm
