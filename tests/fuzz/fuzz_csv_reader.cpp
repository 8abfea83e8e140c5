// libFuzzer target: the CSV event reader on arbitrary bytes, failing on bad rows and skipping them.
// Expected outcome for any input: events or a jm::Error; never a crash, a hang or another exception.
#include <cstddef>
#include <cstdint>

#include "journeymap/common.hpp"
#include "journeymap/ingest.hpp"
#include "tests/fuzz/fuzz_input_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const jm::fuzz::MemoryFile file(data, size);
  for (const jm::OnError on_error : {jm::OnError::Fail, jm::OnError::Skip}) {
    jm::CsvOptions options;
    options.num_threads = 2;
    options.block_bytes = 256;  // many blocks, so block boundaries inside rows are exercised
    options.on_error = on_error;
    options.conversion_touchpoint = "purchase";
    try {
      const jm::IngestResult result = jm::read_events_csv(file.path(), options);
      if (result.events.size() > static_cast<int64_t>(size)) __builtin_trap();  // more events than bytes
    } catch (const jm::Error&) {
    }
  }
  return 0;
}
