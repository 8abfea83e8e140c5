// libFuzzer target: the HDF5 read path of `info` (describe_result_file), which also opens every
// group the report reads. Any bytes give a description or a jm::Error.
#include <cstddef>
#include <cstdint>

#include "journeymap/common.hpp"
#include "journeymap/pipeline.hpp"
#include "tests/fuzz/fuzz_input_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const jm::fuzz::MemoryFile file(data, size);
  try {
    (void)jm::describe_result_file(file.path());
  } catch (const jm::Error&) {
  }
  return 0;
}
