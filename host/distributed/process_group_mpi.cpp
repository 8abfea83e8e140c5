// MPI's world as the process group (process_group.hpp). Only the thread that called
// process_group() talks to MPI (MPI_THREAD_FUNNELED); the stages' worker threads never do.
#include <mpi.h>

#include <cstdio>
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
    // Errors come back as codes (check() turns them into exceptions) instead of ending the job.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
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
    if (bytes.size() > static_cast<size_t>(INT32_MAX)) throw Error("all_gather: more than 2 GiB from one process");
    const int length = static_cast<int>(bytes.size());
    std::vector<int> lengths(static_cast<size_t>(size_)), displacements(static_cast<size_t>(size_), 0);
    check(MPI_Allgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, MPI_COMM_WORLD), "MPI_Allgather");
    int64_t total = 0;
    for (int r = 0; r < size_; ++r) {
      displacements[r] = static_cast<int>(total);
      total += lengths[r];
    }
    if (total > INT32_MAX) throw Error("all_gather: more than 2 GiB in all");
    std::string gathered(static_cast<size_t>(total), '\0');
    check(MPI_Allgatherv(bytes.data(), length, MPI_BYTE, gathered.data(), lengths.data(), displacements.data(),
                         MPI_BYTE, MPI_COMM_WORLD),
          "MPI_Allgatherv");
    std::vector<std::string> out(static_cast<size_t>(size_));
    for (int r = 0; r < size_; ++r) out[r] = gathered.substr(static_cast<size_t>(displacements[r]), lengths[r]);
    return out;
  }

  [[noreturn]] void abort(int exit_code) override {
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    std::_Exit(exit_code);  // MPI_Abort does not return; this satisfies [[noreturn]]
  }

 private:
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
