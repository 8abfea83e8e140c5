// Batches of journeys as records, for a process that does not write the result to send its
// journeys to the one that does: kept in a scratch file as they are built (so they are not built
// again), read back one batch at a time when process 0 asks for them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "host/core/spool_file.hpp"
#include "journeymap/journeys.hpp"

namespace jm {

/// A batch as ResultWriter::append_journeys writes it: its columns (no vocabularies), each
/// customer's last event time, and the id of its first customer on the process that built it.
struct JourneyBatchRecords {
  JourneySet journeys;
  std::vector<int64_t> customer_last_ms;
  int64_t first_customer = 0;
};

std::string save_journey_batch(const JourneySet& journeys, const std::vector<int64_t>& customer_last_ms,
                               int64_t first_customer);
/// Error when the bytes do not hold one whole batch.
JourneyBatchRecords read_journey_batch(const std::string& bytes);

class SpooledJourneyBatches {
 public:
  /// The scratch file goes to `directory` (unlinked at once, as every SpoolFile).
  explicit SpooledJourneyBatches(const std::string& directory);
  void add(const JourneySet& journeys, const std::vector<int64_t>& customer_last_ms, int64_t first_customer);
  int64_t size() const { return static_cast<int64_t>(batches_.size()); }
  /// Batch b's records, as save_journey_batch made them.
  std::string batch(int64_t b) const;

 private:
  SpoolFile file_;
  std::vector<std::pair<int64_t, int64_t>> batches_;  ///< (offset, bytes) in file_
};

}  // namespace jm
