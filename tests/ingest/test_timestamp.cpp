// Timestamp parsing: reference epoch values were computed once with Python's datetime, e.g.
//   (datetime(2026,3,1,12,34,56,tzinfo=timezone.utc) - datetime(1970,1,1,tzinfo=timezone.utc))
//       // timedelta(milliseconds=1)
// and are hard-coded so the tests do not share code with the implementation.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>

#include "journeymap/common.hpp"
#include "journeymap/timestamp.hpp"

namespace jm {
namespace {

constexpr int64_t k20260301T123456Z = 1772368496000;  // 2026-03-01T12:34:56Z
constexpr int64_t k20260301 = 1772323200000;          // 2026-03-01T00:00:00Z

TEST(TimestampDaysFromCivil, KnownDates) {
  // Python: (date(y,m,d) - date(1970,1,1)).days
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
  EXPECT_EQ(days_from_civil(1, 1, 1), -719162);
  EXPECT_EQ(days_from_civil(9999, 12, 31), 2932896);
}

TEST(TimestampDaysFromCivil, ConsecutiveDaysAcrossLeapYears) {
  int64_t expected = days_from_civil(1899, 1, 1);
  const unsigned month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  for (int64_t year = 1899; year <= 2104; ++year) {
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    for (unsigned month = 1; month <= 12; ++month) {
      const unsigned days = month == 2 && leap ? 29 : month_days[month - 1];
      for (unsigned day = 1; day <= days; ++day) ASSERT_EQ(days_from_civil(year, month, day), expected++);
    }
  }
}

TEST(TimestampIso, UtcForms) {
  EXPECT_EQ(parse_timestamp("2026-03-01T12:34:56Z"), k20260301T123456Z);
  EXPECT_EQ(parse_timestamp("2026-03-01T12:34:56"), k20260301T123456Z);  // no offset: UTC
  EXPECT_EQ(parse_timestamp("2026-03-01 12:34:56"), k20260301T123456Z);
  EXPECT_EQ(parse_timestamp("2026-03-01t12:34:56z"), k20260301T123456Z);
  EXPECT_EQ(parse_timestamp("2026-03-01T12:34:56+00:00"), k20260301T123456Z);
  EXPECT_EQ(parse_timestamp("2026-03-01"), k20260301);
  EXPECT_EQ(parse_timestamp("2026-03-01T12:34"), k20260301T123456Z - 56000);
  EXPECT_EQ(parse_timestamp("2026-03-01T12:34Z"), k20260301T123456Z - 56000);
  EXPECT_EQ(parse_timestamp("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_timestamp("1969-12-31T23:59:59Z"), -1000);
  EXPECT_EQ(parse_timestamp("0001-01-01T00:00:00Z"), -62135596800000);
}

TEST(TimestampIso, Fractions) {
  EXPECT_EQ(parse_timestamp("2026-03-01T12:34:56.7Z"), k20260301T123456Z + 700);
  EXPECT_EQ(parse_timestamp("2026-03-01T12:34:56.25Z"), k20260301T123456Z + 250);
  EXPECT_EQ(parse_timestamp("2026-03-01T12:34:56.123Z"), k20260301T123456Z + 123);
  // Beyond milliseconds the digits are truncated, not rounded.
  EXPECT_EQ(parse_timestamp("2026-03-01T12:34:56.123999999Z"), k20260301T123456Z + 123);
  EXPECT_FALSE(parse_timestamp("2026-03-01T12:34:56.Z"));
}

TEST(TimestampIso, Offsets) {
  // BPIC 2012's first event; Python: datetime(2011,10,1,0,38,44,546000,tzinfo=timezone(timedelta(hours=2)))
  EXPECT_EQ(parse_timestamp("2011-10-01T00:38:44.546+02:00"), 1317422324546);
  EXPECT_EQ(parse_timestamp("2011-10-01T00:38:44.546+0200"), 1317422324546);
  EXPECT_EQ(parse_timestamp("2011-10-01T00:38:44.546+02"), 1317422324546);
  // A negative half-hour offset on a leap day; Python: tz=timezone(-timedelta(hours=5, minutes=30))
  EXPECT_EQ(parse_timestamp("2024-02-29T23:59:59-05:30"), 1709270999000);
  EXPECT_EQ(parse_timestamp("2024-02-29T23:59:59-0530"), 1709270999000);
  // The same instant written in two zones.
  EXPECT_EQ(parse_timestamp("2026-03-01T14:34:56+02:00"), k20260301T123456Z);
  EXPECT_EQ(parse_timestamp("2026-03-01T07:34:56-05:00"), k20260301T123456Z);
}

TEST(TimestampIso, InvalidDatesAndTimesRejected) {
  for (const char* text :
       {"2026-02-30", "2026-02-29", "2026-13-01", "2026-00-10", "2026-04-31", "2026-01-00", "2026-03-01T25:00",
        "2026-03-01T24:00:00", "2026-03-01T12:60:00", "2026-03-01T12:00:60", "2026-03-01T12:00:00+24:00",
        "2026-03-01T12:00:00+02:60", "2026-03-01T12:00:00+2", "2026-03-01T12:00:00+02:0", "2026-03-01T12:00:00ZZ",
        "2026-03-01X12:00:00", "2026-3-1", "26-03-01", "2026/03/01", "2026-03-01T12", "2026-03-01T12:00:00 ", "",
        "hello", "2026-03-01T12:00:00UTC"}) {
    EXPECT_FALSE(parse_timestamp(text, TimestampFormat::Iso8601)) << text;
    EXPECT_FALSE(parse_timestamp(text, TimestampFormat::Auto)) << text;
  }
  // Leap days exist in leap years only (2000 yes, 1900 no).
  EXPECT_TRUE(parse_timestamp("2024-02-29"));
  EXPECT_TRUE(parse_timestamp("2000-02-29"));
  EXPECT_FALSE(parse_timestamp("1900-02-29"));
}

TEST(TimestampEpoch, SecondsAndMillis) {
  EXPECT_EQ(parse_timestamp("1772368496", TimestampFormat::EpochSeconds), k20260301T123456Z);
  EXPECT_EQ(parse_timestamp("1772368496000", TimestampFormat::EpochMillis), k20260301T123456Z);
  EXPECT_EQ(parse_timestamp("-1", TimestampFormat::EpochSeconds), -1000);
  EXPECT_EQ(parse_timestamp("0", TimestampFormat::EpochMillis), 0);
  // An explicit epoch format takes the number as given, whatever its length.
  EXPECT_EQ(parse_timestamp("1772368496000", TimestampFormat::EpochSeconds), int64_t{1772368496000} * 1000);
  EXPECT_EQ(parse_timestamp("5", TimestampFormat::EpochMillis), 5);
  for (const char* text : {"", "-", "+5", "1.5", "12a", " 12", "1e9", "2026-03-01"}) {
    EXPECT_FALSE(parse_timestamp(text, TimestampFormat::EpochSeconds)) << text;
    EXPECT_FALSE(parse_timestamp(text, TimestampFormat::EpochMillis)) << text;
  }
  // Overflow of int64 milliseconds is rejected, not wrapped.
  EXPECT_FALSE(parse_timestamp("9223372036854775808", TimestampFormat::EpochMillis));
  EXPECT_EQ(parse_timestamp("9223372036854775807", TimestampFormat::EpochMillis), INT64_MAX);
  EXPECT_EQ(parse_timestamp("-9223372036854775808", TimestampFormat::EpochMillis), INT64_MIN);
  EXPECT_FALSE(parse_timestamp("9223372036854776", TimestampFormat::EpochSeconds));
}

TEST(TimestampAuto, DigitCountPicksSecondsOrMillis) {
  EXPECT_EQ(parse_timestamp("1772368496"), k20260301T123456Z);      // 10 digits: seconds
  EXPECT_EQ(parse_timestamp("1772368496000"), k20260301T123456Z);   // 13 digits: milliseconds
  EXPECT_EQ(parse_timestamp("99999999999"), int64_t{99999999999} * 1000);  // 11 digits: seconds
  EXPECT_EQ(parse_timestamp("100000000000"), 100000000000);         // 12 digits: milliseconds
  EXPECT_EQ(parse_timestamp("-86400"), -86400000);
  EXPECT_EQ(parse_timestamp("2026-03-01T12:34:56Z"), k20260301T123456Z);
  EXPECT_FALSE(parse_timestamp("-"));
}

TEST(TimestampFormatIso, RoundTrip) {
  EXPECT_EQ(format_iso8601(k20260301T123456Z), "2026-03-01T12:34:56Z");
  EXPECT_EQ(format_iso8601(k20260301T123456Z + 7), "2026-03-01T12:34:56.007Z");
  EXPECT_EQ(format_iso8601(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_iso8601(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_iso8601(-62135596800000), "0001-01-01T00:00:00Z");
  // Every formatted instant parses back to itself (days across 1600..2400, odd milliseconds).
  for (int64_t ms = -11676096000000; ms < 13574563200000; ms += 86400000LL * 97 + 3601 * 1000 + 123) {
    const std::optional<int64_t> back = parse_timestamp(format_iso8601(ms), TimestampFormat::Iso8601);
    ASSERT_TRUE(back) << format_iso8601(ms);
    ASSERT_EQ(*back, ms) << format_iso8601(ms);
  }
}

TEST(TimestampFormatName, ParsesKnownNames) {
  EXPECT_EQ(parse_timestamp_format("auto"), TimestampFormat::Auto);
  EXPECT_EQ(parse_timestamp_format("iso8601"), TimestampFormat::Iso8601);
  EXPECT_EQ(parse_timestamp_format("epoch_s"), TimestampFormat::EpochSeconds);
  EXPECT_EQ(parse_timestamp_format("epoch_ms"), TimestampFormat::EpochMillis);
  EXPECT_THROW(parse_timestamp_format("ISO"), ConfigError);
  EXPECT_THROW(parse_timestamp_format(""), ConfigError);
}

TEST(TimeZone, LocalTimesOfANamedZoneFollowDaylightSaving) {
  const TimeZone berlin = TimeZone::parse("Europe/Berlin");
  EXPECT_FALSE(berlin.is_utc());
  EXPECT_EQ(parse_timestamp("2026-01-10T12:00:00", TimestampFormat::Auto, berlin), 1768042800000);  // CET, +1
  EXPECT_EQ(parse_timestamp("2026-03-29T03:30:00", TimestampFormat::Iso8601, berlin), 1774747800000);  // CEST, +2
  // 02:30 never happened that night (clocks went 02:00 -> 03:00): the instant of the change.
  EXPECT_EQ(parse_timestamp("2026-03-29T02:30:00", TimestampFormat::Auto, berlin), 1774746000000);
  // 02:30 happened twice on 25 October: the earlier one (still CEST).
  EXPECT_EQ(parse_timestamp("2026-10-25T02:30:00", TimestampFormat::Auto, berlin), 1792888200000);
  // Text with its own offset, and epoch numbers, are instants already.
  EXPECT_EQ(parse_timestamp("2026-01-10T12:00:00Z", TimestampFormat::Auto, berlin), 1768046400000);
  EXPECT_EQ(parse_timestamp("1768046400000", TimestampFormat::Auto, berlin), 1768046400000);
  EXPECT_EQ(parse_timestamp("not a time", TimestampFormat::Auto, berlin), std::nullopt);
}

TEST(TimeZone, FixedOffsetsAndUtc) {
  EXPECT_EQ(parse_timestamp("2026-01-10T12:00", TimestampFormat::Auto, TimeZone::parse("+05:30")), 1768026600000);
  EXPECT_EQ(parse_timestamp("2026-01-10T12:00", TimestampFormat::Auto, TimeZone::parse("-01")), 1768050000000);
  EXPECT_TRUE(TimeZone::parse("").is_utc());
  EXPECT_TRUE(TimeZone::parse("UTC").is_utc());
  EXPECT_EQ(parse_timestamp("2026-01-10T12:00", TimestampFormat::Auto, TimeZone::parse("UTC")), 1768046400000);
  EXPECT_THROW(TimeZone::parse("Europe/Atlantis"), ConfigError);
  EXPECT_THROW(TimeZone::parse("+25:00"), ConfigError);
  EXPECT_THROW(TimeZone::parse("+1:00"), ConfigError);
}

}  // namespace
}  // namespace jm
