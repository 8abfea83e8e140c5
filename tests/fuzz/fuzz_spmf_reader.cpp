// libFuzzer target: the SPMF readers on arbitrary bytes. The events reader gives events or a
// jm::Error, nothing else; the direct reader of touch sequences gives the same error, or the same
// sequences: journey j holds the events of the events reader's j-th customer, in order.
#include <cstddef>
#include <cstdint>
#include <string>

#include "journeymap/common.hpp"
#include "journeymap/ingest.hpp"
#include "tests/fuzz/fuzz_input_file.hpp"

namespace {

// The events reader's outcome as text: its error, or nothing.
std::string error_of(const std::string& path, jm::IngestResult* events) {
  try {
    *events = jm::read_events_spmf(path, 2);
  } catch (const jm::Error& error) {
    return std::string("error: ") + error.what();
  }
  return "";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const jm::fuzz::MemoryFile file(data, size);
  jm::IngestResult read;
  const std::string events_error = error_of(file.path(), &read);
  if (events_error.empty() && read.events.size() > static_cast<int64_t>(size)) __builtin_trap();
  std::string sequences_error;
  jm::SpmfSequences direct;
  try {
    direct = jm::read_spmf_sequences(file.path(), 2);
  } catch (const jm::Error& error) {
    sequences_error = std::string("error: ") + error.what();
  }
  if (sequences_error != events_error) __builtin_trap();
  if (!events_error.empty()) return 0;
  // Events come customer by customer in file order: the sequences must be those runs.
  const jm::EventTable& events = read.events;
  const jm::JourneySet& sequences = direct.sequences;
  if (sequences.num_events() != static_cast<int64_t>(events.size())) __builtin_trap();
  if (sequences.size() != static_cast<int64_t>(events.customers.size())) __builtin_trap();
  for (int64_t j = 0; j < sequences.size(); ++j)
    for (int64_t e = sequences.offsets[j]; e < sequences.offsets[j + 1]; ++e)
      if (events.customer[e] != static_cast<uint32_t>(j) || events.touchpoint[e] != sequences.touchpoint[e])
        __builtin_trap();
  if (sequences.touchpoints.names() != events.touchpoints.names()) __builtin_trap();
  return 0;
}
