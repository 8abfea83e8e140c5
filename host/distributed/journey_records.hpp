// Batches of journeys as records, for a process that does not write the result to send its
// journeys to the one that does (records_to_first.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

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

}  // namespace jm
