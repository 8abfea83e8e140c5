// Records a process that does not write the result keeps for the one that does (process 0): its
// journeys, its rows of the feature matrix. Kept in a scratch file as they are made (so nothing is
// computed twice), then sent to process 0 one record at a time, process by process in rank order,
// so process 0 holds no more than one record of another process's at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "host/core/spool_file.hpp"

namespace jm {

class ProcessGroup;

class SpooledRecords {
 public:
  /// The scratch file goes to `directory` (unlinked at once, as every SpoolFile), named with `suffix`.
  SpooledRecords(const std::string& directory, const std::string& suffix) : file_(directory, suffix) {}
  void add(const std::string& bytes);
  int64_t size() const { return static_cast<int64_t>(records_.size()); }
  /// Record r, as add() took it.
  std::string record(int64_t r) const;

 private:
  SpoolFile file_;
  std::vector<std::pair<int64_t, int64_t>> records_;  ///< (offset, bytes) in file_
};

/// Every process other than 0 sends its `records` (null: none) in rank order and record order;
/// process 0 calls `take(process, bytes)` for each. A process that fails (reading its scratch file,
/// `take`) keeps taking part with nothing more to send, and every process stops at the end with the
/// first failure (ProcessGroup::agree), as at any agreement.
void send_records_to_first(ProcessGroup& group, const SpooledRecords* records,
                           const std::function<void(int process, const std::string& bytes)>& take);

}  // namespace jm
