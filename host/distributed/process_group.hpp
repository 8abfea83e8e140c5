// The processes of one run. A run started by an MPI launcher (mpirun, Slurm's srun, a Kubernetes MPI
// operator) is one process per rank of MPI's world, each holding a share of the customers; a run
// started any other way is a group of one. The group offers the few collective steps the stages
// merge their partial results with, and a way for every process to learn that one of them failed.
//
// Failures: a process that fails between two agreement points (agree()) passes its message to the
// next one instead of throwing, so that every process stops there with the same message and exit
// status (AgreedFailure). A failure the others cannot learn of that way (inside a collective step)
// ends every process at once (abort(), MPI_Abort).
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "journeymap/common.hpp"

namespace jm {

/// A failure every process of the group stopped on; what() names the rank that failed first.
class AgreedFailure : public Error {
 public:
  AgreedFailure(const std::string& message, int exit_code) : Error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }  ///< the failing process's: 2 for bad configuration, else 1

 private:
  int exit_code_;
};

/// A failure in the middle of an exchange, which the other processes, waiting in it, cannot be
/// told of: it ends the run on every process (abort()) rather than at the next agreement.
class FailureInsideExchange : public Error {
 public:
  using Error::Error;
};

/// What agree() is told of a step: its failure's message (empty when it did not fail) and the exit
/// status that failure calls for (2 for a ConfigError, else 1).
struct StepFailure {
  std::string message;
  int exit_code = 1;
};

/// Runs `step` and returns what it threw as a StepFailure; AgreedFailure (every process stopped on
/// it already) and FailureInsideExchange (the run ends) pass through.
StepFailure failure_of(const std::function<void()>& step);

class ProcessGroup {
 public:
  virtual ~ProcessGroup() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// Element-wise sums of `values` over every process, in place (each passes the same count).
  virtual void sum(std::vector<int64_t>& values) = 0;
  /// Every process's `bytes`, in rank order.
  virtual std::vector<std::string> all_gather(const std::string& bytes) = 0;
  /// Sends `outgoing[d]` to process d (one entry per process); returns what each process sent
  /// this one, in rank order.
  virtual std::vector<std::string> all_to_all(std::vector<std::string> outgoing) = 0;
  /// Ends every process of the group now with `exit_code`. Never returns.
  [[noreturn]] virtual void abort(int exit_code) = 0;

  /// Every process's `value`, in rank order.
  std::vector<int64_t> each(int64_t value);
  /// For every process, the sum of `value` over the processes before it (its offset when the
  /// processes' items are numbered in rank order).
  std::vector<int64_t> sums_before(int64_t value);
  /// Every process's `bytes`, in rank order, on process 0 alone (the others get an empty list):
  /// what only the process that writes the result needs.
  std::vector<std::string> gather_to_first(const std::string& bytes);

  /// Every process calls this at the same step with its failure (empty when it has none) and the
  /// exit status that failure calls for. When any failed, throws AgreedFailure on every process,
  /// with the failure of the lowest failing rank, prefixed "process R of N: " in a group of more
  /// than one.
  void agree(const std::string& failure, int exit_code = 1);
  /// Runs `step`, then agree()s on its outcome: an exception thrown by `step` on any process ends
  /// the step on every process with that failure.
  void run_agreed(const std::function<void()>& step);
  /// Every process passes its own `value` of something that must be the same everywhere (the
  /// binary, the effective configuration); a ConfigError naming `what` and the first process that
  /// differs from process 0, on every process, when one differs.
  void require_same(const std::string& what, const std::string& value);
};

/// Ends every process of `group` once `error` escaped a step the others may be waiting in (inside
/// a collective): prints it as this process's and aborts with status 2 for a ConfigError, else 1.
[[noreturn]] void abort_every_process(ProcessGroup& group, const std::exception& error);

/// Whether this build can run across processes (built with MPI, JM_WITH_MPI).
bool built_with_mpi();
/// "MPI: <library and version>" or "MPI: not built in", for `journeymap --version`.
std::string mpi_description();

/// The group of this process, joined on the first call: MPI's world when an MPI launcher started
/// the process (and the build has MPI), else a group of one. A process started by a launcher for
/// more than one process in a build without MPI is a ConfigError (it would run alone, as if it were
/// the whole run).
ProcessGroup& process_group();

/// Whether an MPI launcher started this process (its environment says so), even as the only one.
bool started_by_mpi_launcher();

/// The CUDA device of this process: its rank among the processes on its node, modulo the node's
/// devices (one GPU per process; several processes share one when there are fewer GPUs).
int process_group_device(const ProcessGroup& group);

/// Identifies the running binary (a hash of its file), for require_same.
std::string binary_fingerprint();

/// Identifies an input file cheaply, for require_same: its size and a hash of its first and last
/// MiB (a copy that differs only in between is not told apart).
std::string file_fingerprint(const std::string& path);

/// Which of `processes` processes owns a customer: by a hash of its (unified) id, so that every
/// event of a customer lands on the same process, whatever file or block it came from.
int owner_of_customer(const std::string& customer_id, int processes);

namespace process_group_detail {
/// The launcher's world size from its environment (Open MPI, PMIx, PMI), or 0 when none started us.
int launcher_world_size();
std::unique_ptr<ProcessGroup> make_single_process_group();
/// MPI's world (MPI_Init_thread on creation, MPI_Finalize on destruction); throws without MPI.
std::unique_ptr<ProcessGroup> make_mpi_group();
}  // namespace process_group_detail

}  // namespace jm
