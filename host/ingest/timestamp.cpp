// Timestamp parsing is on the CSV hot path (one call per row), so it is a hand-written scanner over
// the string_view: no locale, no allocation, no std::get_time. Named time zones come from Howard
// Hinnant's date library over the system's time zone database (Debian's tzdata).
#include "journeymap/timestamp.hpp"

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <exception>
#include <limits>

#include <date/tz.h>

#include "journeymap/common.hpp"

namespace jm {
namespace {

constexpr int64_t kMsPerSecond = 1000;
constexpr int64_t kMsPerDay = 86400 * kMsPerSecond;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `count` digits at `pos`; false when any is missing.
bool read_digits(std::string_view text, size_t pos, size_t count, unsigned& out) {
  if (pos + count > text.size()) return false;
  unsigned value = 0;
  for (size_t i = 0; i < count; ++i) {
    const char c = text[pos + i];
    if (!is_digit(c)) return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  out = value;
  return true;
}

bool is_leap_year(unsigned year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

unsigned days_in_month(unsigned year, unsigned month) {
  static constexpr unsigned kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap_year(year) ? 29 : kDays[month - 1];
}

// Optional sign then digits only; nullopt on anything else or on int64 overflow of the result.
std::optional<int64_t> parse_epoch(std::string_view text, int64_t ms_per_unit) {
  size_t pos = 0;
  const bool negative = !text.empty() && text[0] == '-';
  if (negative) pos = 1;
  if (pos == text.size()) return std::nullopt;
  // Accumulate as a negative number so INT64_MIN itself is representable.
  int64_t value = 0;
  for (; pos < text.size(); ++pos) {
    const char c = text[pos];
    if (!is_digit(c)) return std::nullopt;
    const int digit = c - '0';
    if (value < (std::numeric_limits<int64_t>::min() + digit) / 10) return std::nullopt;
    value = value * 10 - digit;
  }
  if (!negative) {
    if (value == std::numeric_limits<int64_t>::min()) return std::nullopt;
    value = -value;
  }
  if (value > std::numeric_limits<int64_t>::max() / ms_per_unit ||
      value < std::numeric_limits<int64_t>::min() / ms_per_unit)
    return std::nullopt;
  return value * ms_per_unit;
}

// Parses `Z`, `±hh:mm`, `±hhmm` or `±hh` from `pos` to the end; the result is the offset in ms
// east of UTC.
bool parse_offset(std::string_view text, size_t pos, int64_t& offset_ms, bool* has_offset = nullptr) {
  if (has_offset != nullptr) *has_offset = pos != text.size();
  if (pos == text.size()) {
    offset_ms = 0;
    return true;
  }
  const char sign = text[pos];
  if (sign == 'Z' || sign == 'z') {
    offset_ms = 0;
    return pos + 1 == text.size();
  }
  if (sign != '+' && sign != '-') return false;
  unsigned hours = 0, minutes = 0;
  if (!read_digits(text, pos + 1, 2, hours)) return false;
  size_t rest = pos + 3;
  if (rest < text.size()) {
    if (text[rest] == ':') ++rest;
    if (!read_digits(text, rest, 2, minutes)) return false;
    rest += 2;
  }
  if (rest != text.size() || hours > 23 || minutes > 59) return false;
  const int64_t magnitude = (static_cast<int64_t>(hours) * 60 + minutes) * 60 * kMsPerSecond;
  offset_ms = sign == '-' ? -magnitude : magnitude;
  return true;
}

// `has_offset` (optional) tells whether the text named its offset; without one it is read as UTC.
std::optional<int64_t> parse_iso8601(std::string_view text, bool* has_offset = nullptr) {
  if (has_offset != nullptr) *has_offset = false;
  unsigned year = 0, month = 0, day = 0;
  if (!read_digits(text, 0, 4, year) || text.size() < 10 || text[4] != '-' || !read_digits(text, 5, 2, month) ||
      text[7] != '-' || !read_digits(text, 8, 2, day))
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return std::nullopt;
  const int64_t date_ms = days_from_civil(year, month, day) * kMsPerDay;
  if (text.size() == 10) return date_ms;

  const char separator = text[10];
  if (separator != 'T' && separator != 't' && separator != ' ') return std::nullopt;
  unsigned hour = 0, minute = 0, second = 0, millis = 0;
  if (!read_digits(text, 11, 2, hour) || text.size() < 14 || text[13] != ':' || !read_digits(text, 14, 2, minute))
    return std::nullopt;
  size_t pos = 16;
  if (pos < text.size() && text[pos] == ':') {
    if (!read_digits(text, pos + 1, 2, second)) return std::nullopt;
    pos += 3;
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      const size_t fraction_start = pos;
      unsigned scale = 100;
      for (; pos < text.size() && is_digit(text[pos]); ++pos) {
        millis += static_cast<unsigned>(text[pos] - '0') * scale;  // digits past the 3rd add 0: truncation
        scale /= 10;
      }
      if (pos == fraction_start) return std::nullopt;
    }
  }
  // Leap seconds (:60) are rejected: epoch time has no slot for them.
  if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
  int64_t offset_ms = 0;
  if (!parse_offset(text, pos, offset_ms, has_offset)) return std::nullopt;
  const int64_t time_ms = ((static_cast<int64_t>(hour) * 60 + minute) * 60 + second) * kMsPerSecond + millis;
  return date_ms + time_ms - offset_ms;
}

bool is_epoch_text(std::string_view text) {
  size_t pos = !text.empty() && text[0] == '-' ? 1 : 0;
  if (pos == text.size()) return false;
  for (; pos < text.size(); ++pos)
    if (!is_digit(text[pos])) return false;
  return true;
}

}  // namespace

TimestampFormat parse_timestamp_format(const std::string& text) {
  if (text == "auto") return TimestampFormat::Auto;
  if (text == "iso8601") return TimestampFormat::Iso8601;
  if (text == "epoch_s") return TimestampFormat::EpochSeconds;
  if (text == "epoch_ms") return TimestampFormat::EpochMillis;
  throw ConfigError("unknown timestamp format '" + text + "' (expected auto, iso8601, epoch_s or epoch_ms)");
}

std::optional<int64_t> parse_timestamp(std::string_view text, TimestampFormat format) {
  switch (format) {
    case TimestampFormat::Iso8601:
      return parse_iso8601(text);
    case TimestampFormat::EpochSeconds:
      return parse_epoch(text, kMsPerSecond);
    case TimestampFormat::EpochMillis:
      return parse_epoch(text, 1);
    case TimestampFormat::Auto:
      break;
  }
  if (!is_epoch_text(text)) return parse_iso8601(text);
  // 12 digits of seconds is year ~33658, 12 digits of ms is 1973: the length tells them apart.
  const size_t digits = text.size() - (text[0] == '-' ? 1 : 0);
  return parse_epoch(text, digits >= 12 ? 1 : kMsPerSecond);
}

std::optional<int64_t> parse_timestamp(std::string_view text, TimestampFormat format, const TimeZone& local_zone) {
  if (local_zone.is_utc()) return parse_timestamp(text, format);
  const bool iso = format == TimestampFormat::Iso8601 || (format == TimestampFormat::Auto && !is_epoch_text(text));
  if (!iso) return parse_timestamp(text, format);
  bool has_offset = false;
  const std::optional<int64_t> parsed = parse_iso8601(text, &has_offset);
  if (!parsed || has_offset) return parsed;
  return local_zone.to_utc_ms(*parsed);
}

TimeZone TimeZone::parse(const std::string& text) {
  TimeZone zone;
  if (text.empty() || text == "UTC" || text == "Z") return zone;
  zone.name_ = text;
  if (text[0] == '+' || text[0] == '-') {
    int64_t offset_ms = 0;
    if (!parse_offset(text, 0, offset_ms))
      throw ConfigError("time zone '" + text + "' is not an offset of the form +hh:mm, +hhmm or +hh");
    zone.fixed_offset_ms_ = offset_ms;
    return zone;
  }
  try {
    zone.zone_ = date::locate_zone(text);
  } catch (const std::exception&) {
    throw ConfigError("unknown time zone '" + text + "' (expected UTC, an offset such as +05:30, or a name from the "
                      "time zone database such as Europe/Paris)");
  }
  return zone;
}

int64_t TimeZone::to_utc_ms(int64_t local_ms) const {
  if (zone_ == nullptr) return local_ms - fixed_offset_ms_;
  const auto* zone = static_cast<const date::time_zone*>(zone_);
  const date::local_time<std::chrono::milliseconds> local{std::chrono::milliseconds(local_ms)};
  return zone->to_sys(local, date::choose::earliest).time_since_epoch().count();
}

// Howard Hinnant, "chrono-Compatible Low-Level Date Algorithms", days_from_civil.
int64_t days_from_civil(int64_t year, unsigned month, unsigned day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;                                           // [0, 399]
  const int64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;  // [0, 365]
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

std::string format_iso8601(int64_t epoch_ms) {
  // Floor division so instants before 1970 land on the right day and millisecond.
  int64_t days = epoch_ms / kMsPerDay;
  int64_t ms_of_day = epoch_ms % kMsPerDay;
  if (ms_of_day < 0) {
    ms_of_day += kMsPerDay;
    --days;
  }
  // Hinnant's civil_from_days, the inverse of days_from_civil.
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t day_of_era = days - era * 146097;
  const int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t month_index = (5 * day_of_year + 2) / 153;
  const int64_t day = day_of_year - (153 * month_index + 2) / 5 + 1;
  const int64_t month = month_index < 10 ? month_index + 3 : month_index - 9;
  const int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);

  const int64_t hour = ms_of_day / 3600000, minute = ms_of_day / 60000 % 60, second = ms_of_day / 1000 % 60,
                millis = ms_of_day % 1000;
  char buffer[64];
  if (millis == 0)
    std::snprintf(buffer, sizeof buffer, "%04" PRId64 "-%02" PRId64 "-%02" PRId64 "T%02" PRId64 ":%02" PRId64
                  ":%02" PRId64 "Z", year, month, day, hour, minute, second);
  else
    std::snprintf(buffer, sizeof buffer, "%04" PRId64 "-%02" PRId64 "-%02" PRId64 "T%02" PRId64 ":%02" PRId64
                  ":%02" PRId64 ".%03" PRId64 "Z", year, month, day, hour, minute, second, millis);
  return buffer;
}

}  // namespace jm
