// Timestamp parsing and formatting: ISO-8601 (with or without offset) and epoch seconds/millis.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace jm {

/// How a timestamp column is written. `Auto` accepts ISO-8601 text and plain integers, reading an
/// integer with 12 or more digits as milliseconds and a shorter one as seconds.
enum class TimestampFormat { Auto, Iso8601, EpochSeconds, EpochMillis };

/// Parses "auto", "iso8601", "epoch_s" or "epoch_ms" (throws ConfigError otherwise).
TimestampFormat parse_timestamp_format(const std::string& text);

/// Parses one timestamp into milliseconds since 1970-01-01T00:00:00Z, or nullopt when `text` is
/// not a valid timestamp of `format`. ISO-8601 forms accepted: `YYYY-MM-DD`,
/// `YYYY-MM-DD[T| ]hh:mm[:ss[.fff...]]` optionally followed by `Z`, `+hh:mm`, `+hhmm` or `+hh`
/// (a local time without offset is read as UTC). Fractions beyond milliseconds are truncated.
std::optional<int64_t> parse_timestamp(std::string_view text, TimestampFormat format = TimestampFormat::Auto);

/// Turns local wall-clock times (ISO-8601 text written without an offset) into UTC: UTC itself, a
/// fixed offset, or an IANA zone from the system's time zone database (daylight saving applied).
class TimeZone {
 public:
  TimeZone() = default;  ///< UTC
  /// Parses "" or "UTC", a fixed offset ("+05:30", "-0800", "+01") or an IANA name ("Europe/Paris");
  /// throws ConfigError naming the zone when it is none of these.
  static TimeZone parse(const std::string& text);
  bool is_utc() const { return zone_ == nullptr && fixed_offset_ms_ == 0; }
  /// The zone as configured ("UTC" for the default).
  const std::string& name() const { return name_; }
  /// UTC milliseconds of a local time given as milliseconds since 1970-01-01T00:00 local. A local
  /// time that happens twice (clocks turned back) gives the earlier instant; one that never happens
  /// (clocks turned forward) gives the instant of the change.
  int64_t to_utc_ms(int64_t local_ms) const;

 private:
  std::string name_ = "UTC";
  int64_t fixed_offset_ms_ = 0;  ///< east of UTC
  const void* zone_ = nullptr;   ///< the database's date::time_zone (it lives as long as the process)
};

/// As parse_timestamp, with ISO-8601 text that carries no offset read as a local time of `local_zone`.
std::optional<int64_t> parse_timestamp(std::string_view text, TimestampFormat format, const TimeZone& local_zone);

/// Formats milliseconds since the epoch as `YYYY-MM-DDThh:mm:ssZ` (with `.mmm` when not whole seconds).
std::string format_iso8601(int64_t epoch_ms);

/// Days since 1970-01-01 of a proleptic Gregorian date (exact for any year).
int64_t days_from_civil(int64_t year, unsigned month, unsigned day);

}  // namespace jm
