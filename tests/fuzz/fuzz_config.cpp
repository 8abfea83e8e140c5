// libFuzzer target: the TOML run configuration. Any text gives a configuration or a jm::Error; an
// accepted configuration written back with to_toml() must be accepted again and write the same text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "journeymap/common.hpp"
#include "journeymap/run_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  jm::RunConfig config;
  try {
    jm::apply_config_text(text, "fuzz.toml", config);
  } catch (const jm::Error&) {
    return 0;
  }
  const std::string written = jm::to_toml(config);
  jm::RunConfig again;
  try {
    jm::apply_config_text(written, "written.toml", again);
  } catch (const jm::Error&) {
    __builtin_trap();  // the configuration we wrote is not accepted back
  }
  if (jm::to_toml(again) != written) __builtin_trap();
  return 0;
}
