// libFuzzer target: the timestamp parser in every format. A parsed time must format back to text
// that parses to the same instant (ISO-8601 round trip).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "journeymap/timestamp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const jm::TimestampFormat format : {jm::TimestampFormat::Auto, jm::TimestampFormat::Iso8601,
                                           jm::TimestampFormat::EpochSeconds, jm::TimestampFormat::EpochMillis}) {
    const std::optional<int64_t> ms = jm::parse_timestamp(text, format);
    // Only times within years 0..9999 have a four-digit ISO form to round-trip through.
    if (!ms || *ms < -62167219200000LL || *ms >= 253402300800000LL) continue;
    const std::optional<int64_t> again = jm::parse_timestamp(jm::format_iso8601(*ms), jm::TimestampFormat::Iso8601);
    if (!again || *again != *ms) __builtin_trap();
  }
  return 0;
}
