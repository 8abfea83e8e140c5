// libFuzzer target: the SPMF sequence reader on arbitrary bytes: events or a jm::Error, nothing else.
#include <cstddef>
#include <cstdint>

#include "journeymap/common.hpp"
#include "journeymap/ingest.hpp"
#include "tests/fuzz/fuzz_input_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const jm::fuzz::MemoryFile file(data, size);
  try {
    const jm::IngestResult result = jm::read_events_spmf(file.path(), 2);
    if (result.events.size() > static_cast<int64_t>(size)) __builtin_trap();
  } catch (const jm::Error&) {
  }
  return 0;
}
