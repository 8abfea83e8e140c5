// CSV reader: field syntax, column mapping, determinism across threads and block sizes, and the
// file/line/column/value of every kind of bad input.
#include <gtest/gtest.h>

#include <limits>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "journeymap/common.hpp"
#include "journeymap/ingest.hpp"
#include "host/core/utf8.hpp"
#include "test_helpers.hpp"

namespace jm {
namespace {

using jm::testing::scratch_dir;
using jm::testing::shared_data;
using jm::testing::write_file;

constexpr const char* kHeader = "customer_id,timestamp,touchpoint,channel,value,conversion\n";
constexpr int64_t k20260301T000000Z = 1772323200000;  // Python: datetime(2026,3,1,tzinfo=utc) epoch ms

IngestResult read_text(const std::string& text, const CsvOptions& options = {}) {
  return read_events_csv(write_file(scratch_dir() / "events.csv", text), options);
}

/// Reads `text` expecting an InputError and returns it.
InputError read_error(const std::string& text, const CsvOptions& options = {}) {
  const std::string path = write_file(scratch_dir() / "bad.csv", text);
  try {
    read_events_csv(path, options);
  } catch (const InputError& error) {
    EXPECT_EQ(error.file(), path);
    return error;
  }
  ADD_FAILURE() << "expected an InputError for:\n" << text;
  return InputError("", 0, "", "", "");
}

std::vector<std::string> names_of(const std::vector<uint32_t>& ids, const Vocabulary& vocabulary) {
  std::vector<std::string> names;
  for (uint32_t id : ids) names.push_back(vocabulary.name(static_cast<int32_t>(id)));
  return names;
}
std::vector<std::string> names_of(const std::vector<int32_t>& ids, const Vocabulary& vocabulary) {
  std::vector<std::string> names;
  for (int32_t id : ids) names.push_back(vocabulary.name(id));
  return names;
}

void expect_same_result(const IngestResult& a, const IngestResult& b) {
  EXPECT_EQ(a.rows_read, b.rows_read);
  EXPECT_EQ(a.rows_skipped, b.rows_skipped);
  EXPECT_EQ(a.file_bytes, b.file_bytes);
  ASSERT_EQ(a.first_bad_rows.size(), b.first_bad_rows.size());
  for (size_t i = 0; i < a.first_bad_rows.size(); ++i) {
    EXPECT_EQ(a.first_bad_rows[i].line, b.first_bad_rows[i].line);
    EXPECT_EQ(a.first_bad_rows[i].column, b.first_bad_rows[i].column);
    EXPECT_EQ(a.first_bad_rows[i].value, b.first_bad_rows[i].value);
    EXPECT_EQ(a.first_bad_rows[i].reason, b.first_bad_rows[i].reason);
  }
  const EventTable& x = a.events;
  const EventTable& y = b.events;
  EXPECT_EQ(x.customer, y.customer);
  EXPECT_EQ(x.timestamp_ms, y.timestamp_ms);
  EXPECT_EQ(x.touchpoint, y.touchpoint);
  EXPECT_EQ(x.channel, y.channel);
  EXPECT_EQ(x.value, y.value);  // same text parsed the same way: bit-identical floats
  EXPECT_EQ(x.is_conversion, y.is_conversion);
  EXPECT_EQ(x.customers.names(), y.customers.names());
  EXPECT_EQ(x.touchpoints.names(), y.touchpoints.names());
  EXPECT_EQ(x.channels.names(), y.channels.names());
}

TEST(CsvReader, OutlierTimestampsAreBadRowsNamingTheLine) {
  // One stray year would stretch every daily series over millennia: it is a bad row, named.
  for (const char* stray : {"9999-12-31T23:00:00Z", "0000-01-01T00:00:00Z"}) {
    const InputError error = read_error(std::string(kHeader) + "a,2026-03-01T10:00:00Z,home,web,0,0\n" + "b," + stray +
                                        ",home,web,0,0\n");
    EXPECT_EQ(error.line(), 3) << stray;
    EXPECT_EQ(error.column(), "timestamp");
    EXPECT_NE(std::string(error.what()).find("outside the accepted range"), std::string::npos) << error.what();
  }
  CsvOptions wide;
  wide.max_timestamp_ms = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(read_text(std::string(kHeader) + "b,9999-12-31T23:00:00Z,home,web,0,0\n", wide).events.size(), 1u);
  CsvOptions skip;
  skip.on_error = OnError::Skip;
  const IngestResult skipped =
      read_text(std::string(kHeader) + "a,2026-03-01T10:00:00Z,home,web,0,0\nb,9999-12-31T23:00:00Z,home,web,0,0\n", skip);
  EXPECT_EQ(skipped.rows_skipped, 1);
}

TEST(CsvReader, NamesMustBeValidUtf8) {
  // Latin-1 "café": stored as a UTF-8 string it would break every reader of the result.
  const InputError error = read_error(std::string(kHeader) + "a,2026-03-01T10:00:00Z,caf\xe9,web,0,0\n");
  EXPECT_EQ(error.line(), 2);
  EXPECT_EQ(error.column(), "touchpoint");
  EXPECT_NE(std::string(error.what()).find("UTF-8"), std::string::npos) << error.what();
  // Valid multi-byte names pass unchanged.
  const IngestResult ok = read_text(std::string(kHeader) + "a,2026-03-01T10:00:00Z,caf\xc3\xa9,\xe6\x97\xa5\xe6\x9c\xac,0,0\n");
  EXPECT_EQ(ok.events.touchpoints.name(0), "caf\xc3\xa9");
  for (const char* bad : {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe6\x97"})  // overlong, surrogate, > U+10FFFF, cut
    EXPECT_FALSE(is_valid_utf8(bad)) << bad;
  EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x98\x80 plain ascii"));
}

TEST(CsvReader, DuplicateHeaderNamesAreAnError) {
  const InputError error = read_error("customer_id,timestamp,touchpoint,timestamp\na,2026-03-01T10:00:00Z,home,x\n");
  EXPECT_EQ(error.line(), 1);
  EXPECT_NE(std::string(error.what()).find("twice"), std::string::npos) << error.what();
}

TEST(CsvReader, ReadsTypicalFile) {
  const std::string text = std::string(kHeader) +
                           "c0001234,2026-03-01T00:00:00Z,product_view,web,0,0\n"
                           "c0001234,2026-03-01T00:00:05Z,add_to_cart,web,19.5,0\n"
                           "c0009999,1772323200,email_open,email,,\n"
                           "c0001234,2026-03-01T00:01:00Z,purchase,app,42.25,1\n";
  const IngestResult result = read_text(text);
  const EventTable& events = result.events;
  EXPECT_EQ(result.rows_read, 4);
  EXPECT_EQ(result.rows_skipped, 0);
  EXPECT_EQ(result.file_bytes, text.size());
  EXPECT_TRUE(result.first_bad_rows.empty());
  ASSERT_EQ(events.size(), 4u);
  EXPECT_NO_THROW(events.check_consistent());
  // Ids follow first appearance in the file.
  EXPECT_EQ(events.customers.names(), (std::vector<std::string>{"c0001234", "c0009999"}));
  EXPECT_EQ(events.touchpoints.names(),
            (std::vector<std::string>{"product_view", "add_to_cart", "email_open", "purchase"}));
  EXPECT_EQ(events.channels.names(), (std::vector<std::string>{"web", "email", "app"}));
  EXPECT_EQ(events.customer, (std::vector<uint32_t>{0, 0, 1, 0}));
  EXPECT_EQ(events.touchpoint, (std::vector<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(events.channel, (std::vector<int32_t>{0, 0, 1, 2}));
  EXPECT_EQ(events.timestamp_ms, (std::vector<int64_t>{k20260301T000000Z, k20260301T000000Z + 5000,
                                                       k20260301T000000Z, k20260301T000000Z + 60000}));
  EXPECT_EQ(events.value, (std::vector<float>{0.0f, 19.5f, 0.0f, 42.25f}));  // exact in binary
  EXPECT_EQ(events.is_conversion, (std::vector<uint8_t>{0, 0, 0, 1}));
}

TEST(CsvReader, QuotedFieldsWithDelimitersAndDoubledQuotes) {
  const std::string text = std::string(kHeader) +
                           "\"c,1\",2026-03-01,\"say \"\"hi\"\"\",\"web\",\"1.5\",\"1\"\n"
                           "  \"c,1\"  , 2026-03-01 ,  plain page  ,\"\",\"\",\n"
                           "c2,2026-03-01,\"\"\"\",web,0,0\n"
                           "c3,2026-03-01,5'10\" tall,web,0,0\n";
  const EventTable events = read_text(text).events;
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(names_of(events.customer, events.customers), (std::vector<std::string>{"c,1", "c,1", "c2", "c3"}));
  EXPECT_EQ(names_of(events.touchpoint, events.touchpoints),
            (std::vector<std::string>{"say \"hi\"", "plain page", "\"", "5'10\" tall"}));
  // An empty quoted channel is an empty channel: "unknown".
  EXPECT_EQ(names_of(events.channel, events.channels), (std::vector<std::string>{"web", "unknown", "web", "web"}));
  EXPECT_EQ(events.value, (std::vector<float>{1.5f, 0.0f, 0.0f, 0.0f}));
  EXPECT_EQ(events.is_conversion, (std::vector<uint8_t>{1, 0, 0, 0}));
}

TEST(CsvReader, CrlfLineEndingsAndByteOrderMark) {
  const std::string unix_text = std::string(kHeader) + "a,2026-03-01,p,web,1,0\nb,2026-03-02,q,app,2,1\n";
  std::string windows_text = "\xEF\xBB\xBF";
  for (char c : unix_text) windows_text += c == '\n' ? std::string("\r\n") : std::string(1, c);
  IngestResult unix_result = read_text(unix_text);
  IngestResult windows_result = read_text(windows_text);
  windows_result.file_bytes = unix_result.file_bytes;  // the only expected difference
  expect_same_result(unix_result, windows_result);
  EXPECT_EQ(windows_result.events.channels.names(), (std::vector<std::string>{"web", "app"}));
}

TEST(CsvReader, MapsColumnsByNameInAnyOrder) {
  CsvOptions options;
  options.columns.customer = "user";
  options.columns.touchpoint = "page";
  options.columns.timestamp = "when";
  options.columns.channel = "source";
  options.columns.value = "revenue";
  options.columns.conversion = "bought";
  const std::string text =
      "extra, bought ,revenue,\"page\",source,when,user\n"
      "x,yes,3.5,home,seo,2026-03-01T00:00:00Z,u1\n"
      "y,no,0,cart,ads,2026-03-01T00:00:01Z,u2\n";
  const EventTable events = read_text(text, options).events;
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events.customers.names(), (std::vector<std::string>{"u1", "u2"}));
  EXPECT_EQ(events.touchpoints.names(), (std::vector<std::string>{"home", "cart"}));
  EXPECT_EQ(events.channels.names(), (std::vector<std::string>{"seo", "ads"}));
  EXPECT_EQ(events.timestamp_ms, (std::vector<int64_t>{k20260301T000000Z, k20260301T000000Z + 1000}));
  EXPECT_EQ(events.value, (std::vector<float>{3.5f, 0.0f}));
  EXPECT_EQ(events.is_conversion, (std::vector<uint8_t>{1, 0}));
}

TEST(CsvReader, AbsentOptionalColumns) {
  const IngestResult result = read_text("timestamp,touchpoint,customer_id\n2026-03-01,a,c1\n2026-03-01,b,c2\n");
  const EventTable& events = result.events;
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events.channels.names(), (std::vector<std::string>{"unknown"}));
  EXPECT_EQ(events.channel, (std::vector<int32_t>{0, 0}));
  EXPECT_EQ(events.value, (std::vector<float>{0.0f, 0.0f}));
  EXPECT_EQ(events.is_conversion, (std::vector<uint8_t>{0, 0}));

  // An empty configured name ignores a column even when the header has it.
  CsvOptions options;
  options.columns.channel = "";
  options.columns.value = "";
  const EventTable ignored = read_text(std::string(kHeader) + "c,2026-03-01,p,web,not-a-number,0\n", options).events;
  EXPECT_EQ(ignored.channels.names(), (std::vector<std::string>{"unknown"}));
  EXPECT_EQ(ignored.value, (std::vector<float>{0.0f}));
}

TEST(CsvReader, ConversionFlagSpellings) {
  std::string text = "customer_id,timestamp,touchpoint,conversion\n";
  const std::vector<std::pair<std::string, uint8_t>> flags = {{"1", 1},   {"0", 0},     {"true", 1}, {"FALSE", 0},
                                                              {"Yes", 1}, {"no", 0},    {"", 0},     {"TRUE", 1},
                                                              {"yES", 1}, {"\"1\"", 1}, {" 1 ", 1}};
  std::vector<uint8_t> expected;
  for (const auto& [flag, value] : flags) {
    text += "c,2026-03-01,p," + flag + "\n";
    expected.push_back(value);
  }
  EXPECT_EQ(read_text(text).events.is_conversion, expected);
}

TEST(CsvReader, ConversionFromTouchpointAndFlag) {
  CsvOptions options;
  options.conversion_touchpoint = "purchase";
  const std::string text = std::string(kHeader) +
                           "c,2026-03-01,view,web,0,0\n"
                           "c,2026-03-01,purchase,web,10,0\n"
                           "c,2026-03-01,signup,web,0,1\n"
                           "d,2026-03-01,purchase,web,10,1\n"
                           "d,2026-03-01,purchases,web,10,0\n";
  EXPECT_EQ(read_text(text, options).events.is_conversion, (std::vector<uint8_t>{0, 1, 1, 1, 0}));
}

TEST(CsvReader, ValueSpellings) {
  std::string text = "customer_id,timestamp,touchpoint,value\n";
  for (const char* value : {"1", "-2.5", "+0.25", "3e2", " 7 ", "\"8\"", ""}) text += std::string("c,0,p,") + value + "\n";
  EXPECT_EQ(read_text(text).events.value, (std::vector<float>{1.0f, -2.5f, 0.25f, 300.0f, 7.0f, 8.0f, 0.0f}));
}

TEST(CsvReader, OtherDelimiters) {
  CsvOptions options;
  options.delimiter = '\t';
  const EventTable tabs = read_text("customer_id\ttimestamp\ttouchpoint\nc 1\t0\tmy page\n", options).events;
  EXPECT_EQ(tabs.customers.names(), (std::vector<std::string>{"c 1"}));
  EXPECT_EQ(tabs.touchpoints.names(), (std::vector<std::string>{"my page"}));
  options.delimiter = ';';
  const EventTable semicolons = read_text("customer_id;timestamp;touchpoint\nc,1;0;p,q\n", options).events;
  EXPECT_EQ(semicolons.customers.names(), (std::vector<std::string>{"c,1"}));
  EXPECT_EQ(semicolons.touchpoints.names(), (std::vector<std::string>{"p,q"}));
}

TEST(CsvReader, BlankLinesAreSkippedButCounted) {
  const std::string text = "\n" + std::string(kHeader) + "\n\r\nc,2026-03-01,p,web,0,0\n\n\nc,2026-03-01,p,web,x,0";
  const InputError error = read_error(text);
  EXPECT_EQ(error.line(), 8);  // the last line, without its '\n'
  EXPECT_EQ(error.column(), "value");
  EXPECT_EQ(error.value(), "x");

  const IngestResult result = read_text("\n" + std::string(kHeader) + "\n\nc,2026-03-01,p,web,0,0\n\n");
  EXPECT_EQ(result.rows_read, 1);
  EXPECT_EQ(result.events.size(), 1u);
}

TEST(CsvReader, LinesLongerThanABlock) {
  CsvOptions options;
  options.block_bytes = 16;
  const std::string long_name(1000, 'x');
  const EventTable events =
      read_text(std::string(kHeader) + "c," + "2026-03-01," + long_name + ",web,0,0\nd,0,p,web,0,0", options).events;
  EXPECT_EQ(events.touchpoints.names(), (std::vector<std::string>{long_name, "p"}));
  EXPECT_EQ(events.customers.names(), (std::vector<std::string>{"c", "d"}));
}

/// A few thousand rows with the syntax variations the reader handles, blank lines and CRLF mixed in,
/// and (when `bad_every` > 0) a bad row of a rotating kind every `bad_every` rows.
std::string random_log(int rows, int bad_every, uint32_t seed) {
  std::mt19937 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
  const char* touchpoints[] = {"home", "search", "\"quoted, page\"", "product_view", "cart", "purchase", "\"a \"\"b\"\"\""};
  const char* channels[] = {"web", "app", "", "email", "\"sms\""};
  std::string text = "\xEF\xBB\xBF" + std::string(kHeader);
  for (int i = 1; i <= rows; ++i) {
    if (pick(50) == 0) text += pick(2) ? "\n" : "\r\n";
    const std::string customer = "c" + std::to_string(pick(rows / 3 + 1));
    const std::string timestamp = pick(3) == 0 ? std::to_string(1772323200 + pick(100000))
                                               : "2026-03-0" + std::to_string(1 + pick(9)) + "T12:" +
                                                     std::to_string(10 + pick(50)) + ":00Z";
    std::string row = customer + "," + timestamp + "," + touchpoints[pick(7)] + "," + channels[pick(5)] + "," +
                      std::to_string(pick(1000)) + "." + std::to_string(pick(100)) + "," + (pick(10) ? "0" : "1");
    if (bad_every > 0 && i % bad_every == 0) {
      switch ((i / bad_every) % 5) {
        case 0: row = customer + ",2026-02-30,home,web,0,0"; break;
        case 1: row = customer + ",0,home,web,0"; break;
        case 2: row = customer + ",0,\"open,web,0,0"; break;
        case 3: row = customer + ",0,home,web,abc,0"; break;
        default: row = customer + ",0,ho" + std::string(1, '\0') + "me,web,0,0"; break;
      }
    }
    text += row + (pick(4) == 0 ? "\r\n" : "\n");
  }
  return text;
}

TEST(CsvReader, IdenticalForAnyThreadCountAndBlockSize) {
  const std::string path = write_file(scratch_dir() / "events.csv", random_log(5000, 0, 7));
  CsvOptions options;
  options.num_threads = 1;
  const IngestResult reference = read_events_csv(path, options);
  ASSERT_EQ(reference.events.size(), 5000u);
  for (int threads : {2, 4, 7}) {
    for (size_t block_bytes : {size_t{64}, size_t{1000}, size_t{32} << 20}) {
      SCOPED_TRACE("threads " + std::to_string(threads) + ", block_bytes " + std::to_string(block_bytes));
      options.num_threads = threads;
      options.block_bytes = block_bytes;
      expect_same_result(reference, read_events_csv(path, options));
    }
  }
}

TEST(CsvReader, SkipModeIdenticalForAnyThreadCountAndBlockSize) {
  const std::string path = write_file(scratch_dir() / "events.csv", random_log(3000, 37, 11));
  CsvOptions options;
  options.on_error = OnError::Skip;
  options.num_threads = 1;
  const IngestResult reference = read_events_csv(path, options);
  EXPECT_EQ(reference.rows_read, 3000);
  EXPECT_EQ(reference.rows_skipped, 3000 / 37);
  EXPECT_EQ(reference.events.size(), 3000u - 3000 / 37);
  EXPECT_EQ(reference.first_bad_rows.size(), IngestResult::kMaxReportedBadRows);
  for (int threads : {3, 4}) {
    for (size_t block_bytes : {size_t{64}, size_t{4096}}) {
      options.num_threads = threads;
      options.block_bytes = block_bytes;
      expect_same_result(reference, read_events_csv(path, options));
    }
  }
}

TEST(CsvReader, FailModeReportsFirstBadLineWhateverTheThreads) {
  // Bad rows at data rows 700, 1400, ...: the first is file line 701 plus the blank lines before it.
  std::string text = std::string(kHeader);
  int64_t line = 1;
  int64_t first_bad_line = 0;
  for (int i = 1; i <= 4000; ++i) {
    if (i % 97 == 0) {
      text += "\n";
      ++line;
    }
    ++line;
    if (i % 700 == 0) {
      text += "c,2026-03-01,p,web,0,maybe\n";
      if (first_bad_line == 0) first_bad_line = line;
    } else {
      text += "c,2026-03-01,p,web,0,0\n";
    }
  }
  const std::string path = write_file(scratch_dir() / "events.csv", text);
  for (int threads : {1, 2, 4}) {
    for (size_t block_bytes : {size_t{64}, size_t{5000}, size_t{1} << 20}) {
      CsvOptions options;
      options.num_threads = threads;
      options.block_bytes = block_bytes;
      try {
        read_events_csv(path, options);
        ADD_FAILURE() << "no error";
      } catch (const InputError& error) {
        EXPECT_EQ(error.line(), first_bad_line) << threads << " threads, block " << block_bytes;
        EXPECT_EQ(error.column(), "conversion");
        EXPECT_EQ(error.value(), "maybe");
      }
    }
  }
}

TEST(CsvReaderErrors, NonexistentFile) {
  const std::string path = (scratch_dir() / "missing.csv").string();
  try {
    read_events_csv(path, {});
    FAIL() << "no error";
  } catch (const InputError& error) {
    EXPECT_EQ(error.file(), path);
    EXPECT_EQ(error.line(), 0);
    EXPECT_NE(std::string(error.what()).find("cannot open"), std::string::npos);
  }
}

TEST(CsvReaderErrors, EmptyFileOrNoHeader) {
  for (const char* text : {"", "\n\n", "\r\n", "\xEF\xBB\xBF"}) {
    const InputError error = read_error(text);
    EXPECT_EQ(error.line(), 0);
    EXPECT_NE(error.reason().find("empty file"), std::string::npos) << error.what();
  }
}

TEST(CsvReaderErrors, NoValidDataRows) {
  const InputError header_only = read_error(kHeader);
  EXPECT_NE(header_only.reason().find("no valid data rows"), std::string::npos);
  CsvOptions skip;
  skip.on_error = OnError::Skip;
  const InputError all_bad = read_error(std::string(kHeader) + "c,nope,p,web,0,0\nc,0,,web,0,0\n", skip);
  EXPECT_NE(all_bad.reason().find("no valid data rows"), std::string::npos);
  EXPECT_NE(all_bad.reason().find("2 skipped"), std::string::npos) << all_bad.reason();
}

TEST(CsvReaderErrors, MissingRequiredColumn) {
  const std::string header = "customer_id,timestamp,page,channel";
  for (OnError mode : {OnError::Fail, OnError::Skip}) {
    CsvOptions options;
    options.on_error = mode;
    const InputError error = read_error(header + "\nc,0,p,web\n", options);
    EXPECT_EQ(error.line(), 1);
    EXPECT_EQ(error.column(), "touchpoint");
    EXPECT_EQ(error.value(), header);
    EXPECT_NE(error.reason().find("missing required column"), std::string::npos);
    EXPECT_NE(error.reason().find("customer_id, timestamp, page, channel"), std::string::npos) << error.reason();
  }
}

struct BadRowCase {
  const char* name;
  std::string row;  // data row placed on file line 3, after one good row
  std::string column;
  std::string value;
  std::string reason_part;
};

std::vector<BadRowCase> bad_row_cases() {
  return {
      {"ragged_short", "c,2026-03-01,p,web,0", "", "c,2026-03-01,p,web,0", "expected 6 fields, found 5"},
      {"ragged_long", "c,2026-03-01,p,web,0,0,", "", "c,2026-03-01,p,web,0,0,", "expected 6 fields, found 7"},
      {"bad_timestamp", "c,yesterday,p,web,0,0", "timestamp", "yesterday", "not a valid timestamp"},
      {"impossible_date", "c,2026-02-30T10:00:00Z,p,web,0,0", "timestamp", "2026-02-30T10:00:00Z",
       "not a valid timestamp"},
      {"bad_hour", "c,2026-03-01T25:00,p,web,0,0", "timestamp", "2026-03-01T25:00", "not a valid timestamp"},
      {"bad_value", "c,0,p,web,12abc,0", "value", "12abc", "not a finite number"},
      {"infinite_value", "c,0,p,web,inf,0", "value", "inf", "not a finite number"},
      {"nan_value", "c,0,p,web,nan,0", "value", "nan", "not a finite number"},
      {"bad_flag", "c,0,p,web,0,2", "conversion", "2", "not a conversion flag"},
      {"empty_customer", ",0,p,web,0,0", "customer_id", "", "empty customer id"},
      {"empty_touchpoint", "c,0,\"\",web,0,0", "touchpoint", "", "empty touchpoint"},
      {"unterminated_quote", "c,0,\"open page,web,0,0", "touchpoint", "\"open page,web,0,0",
       "unterminated quoted field (quoted fields may not span lines)"},
      {"text_after_quote", "c,0,\"page\"x,web,0,0", "touchpoint", "\"page\"x", "unexpected text after a closing quote"},
      {"nul_byte", std::string("c,0,pa\0ge,web,0,0", 17), "touchpoint", std::string("pa\0ge", 5), "NUL byte"},
      {"control_char", "c,0,p,w\x01" "eb,0,0", "channel", "w\x01" "eb", "control character"},
      {"carriage_return_inside", "c\rd,0,p,web,0,0", "customer_id", "c\rd", "control character"},
  };
}

TEST(CsvReaderErrors, EveryBadRowKindNamesLineColumnAndValue) {
  for (const BadRowCase& bad : bad_row_cases()) {
    SCOPED_TRACE(bad.name);
    const std::string text = std::string(kHeader) + "good,0,p,web,0,0\n" + bad.row + "\ngood,0,p,web,0,0\n";
    const InputError error = read_error(text);
    EXPECT_EQ(error.line(), 3);
    EXPECT_EQ(error.column(), bad.column);
    EXPECT_EQ(error.value(), bad.value);
    EXPECT_NE(error.reason().find(bad.reason_part), std::string::npos) << error.reason();
    // The message a user sees names the file and line.
    EXPECT_NE(std::string(error.what()).find("bad.csv:3: "), std::string::npos) << error.what();
  }
}

TEST(CsvReaderErrors, SkipModeCountsReportsAndKeepsGoodRows) {
  std::string text = std::string(kHeader);
  const std::vector<BadRowCase> cases = bad_row_cases();
  std::vector<int64_t> bad_lines;
  int64_t line = 1;
  for (const BadRowCase& bad : cases) {
    text += "good,2026-03-01,p,web,1,0\n";
    text += bad.row + "\n";
    line += 2;
    bad_lines.push_back(line);
  }
  CsvOptions options;
  options.on_error = OnError::Skip;
  options.num_threads = 3;
  const IngestResult result = read_text(text, options);
  EXPECT_EQ(result.rows_read, static_cast<int64_t>(2 * cases.size()));
  EXPECT_EQ(result.rows_skipped, static_cast<int64_t>(cases.size()));
  ASSERT_EQ(result.first_bad_rows.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].name);
    EXPECT_EQ(result.first_bad_rows[i].line, bad_lines[i]);
    EXPECT_EQ(result.first_bad_rows[i].column, cases[i].column);
    EXPECT_EQ(result.first_bad_rows[i].value, cases[i].value);
  }
  const EventTable& events = result.events;
  ASSERT_EQ(events.size(), cases.size());
  // Skipped rows leave no names behind: only the good rows' vocabulary exists.
  EXPECT_EQ(events.customers.names(), (std::vector<std::string>{"good"}));
  EXPECT_EQ(events.touchpoints.names(), (std::vector<std::string>{"p"}));
  EXPECT_EQ(events.channels.names(), (std::vector<std::string>{"web"}));
  for (float value : events.value) EXPECT_EQ(value, 1.0f);
}

TEST(CsvReaderErrors, SkipModeReportsOnlyTheFirstBadRows) {
  std::string text = std::string(kHeader) + "c,0,p,web,0,0\n";
  for (int i = 0; i < 50; ++i) text += "c,0,p,web,bad" + std::to_string(i) + ",0\n";
  CsvOptions options;
  options.on_error = OnError::Skip;
  options.block_bytes = 100;
  options.num_threads = 4;
  const IngestResult result = read_text(text, options);
  EXPECT_EQ(result.rows_skipped, 50);
  ASSERT_EQ(result.first_bad_rows.size(), IngestResult::kMaxReportedBadRows);
  for (size_t i = 0; i < result.first_bad_rows.size(); ++i) {
    EXPECT_EQ(result.first_bad_rows[i].line, static_cast<int64_t>(3 + i));
    EXPECT_EQ(result.first_bad_rows[i].value, "bad" + std::to_string(i));
  }
}

TEST(CsvReaderErrors, TimestampFormatIsEnforced) {
  CsvOptions options;
  options.timestamp_format = TimestampFormat::EpochSeconds;
  const InputError error = read_error(std::string(kHeader) + "c,2026-03-01,p,web,0,0\n", options);
  EXPECT_EQ(error.column(), "timestamp");
  EXPECT_NE(error.reason().find("epoch_s"), std::string::npos);
  options.timestamp_format = TimestampFormat::EpochMillis;
  EXPECT_EQ(read_text(std::string(kHeader) + "c,1772323200000,p,web,0,0\n", options).events.timestamp_ms,
            (std::vector<int64_t>{k20260301T000000Z}));
}

TEST(CsvReaderErrors, BadOptionsAreConfigErrors) {
  const std::string path = write_file(scratch_dir() / "events.csv", std::string(kHeader) + "c,0,p,web,0,0\n");
  CsvOptions options;
  options.columns.customer = "";
  EXPECT_THROW(read_events_csv(path, options), ConfigError);
  options = CsvOptions{};
  options.delimiter = '"';
  EXPECT_THROW(read_events_csv(path, options), ConfigError);
  options = CsvOptions{};
  options.block_bytes = 0;
  EXPECT_THROW(read_events_csv(path, options), ConfigError);
  EXPECT_EQ(parse_on_error("fail"), OnError::Fail);
  EXPECT_EQ(parse_on_error("skip"), OnError::Skip);
  EXPECT_THROW(parse_on_error("ignore"), ConfigError);
}

TEST(CsvReaderRealData, Bpic2012EventLog) {
  const std::string path = shared_data("bpic2012/events.csv");
  if (path.empty()) GTEST_SKIP() << "shared data not present";
  CsvOptions options;
  options.columns.customer = "case_id";
  options.columns.touchpoint = "activity";
  options.columns.channel = "resource";
  options.conversion_touchpoint = "A_APPROVED";
  const IngestResult result = read_events_csv(path, options);
  // Counts from bpic2012/PROVENANCE.md: 13,087 cases, 262,200 events, 24 activities; 2,246 approved.
  EXPECT_EQ(result.rows_read, 262200);
  EXPECT_EQ(result.events.size(), 262200u);
  EXPECT_EQ(result.events.customers.size(), 13087);
  EXPECT_EQ(result.events.touchpoints.size(), 24);
  int64_t conversions = 0;
  for (uint8_t flag : result.events.is_conversion) conversions += flag;
  EXPECT_EQ(conversions, 2246);  // A_APPROVED happens at most once per case
  // 68 named resources plus empty ones, read as "unknown" (python csv: 69 distinct resource values).
  EXPECT_EQ(result.events.channels.size(), 69);
  // First row: 173688,2011-10-01T00:38:44.546+02:00 (Python datetime, as in test_timestamp).
  EXPECT_EQ(result.events.timestamp_ms.front(), 1317422324546);
  EXPECT_EQ(result.events.customers.name(0), "173688");
  EXPECT_NO_THROW(result.events.check_consistent());
}

TEST(CsvReaderRealData, HelpdeskAndSepsis) {
  struct Log {
    const char* file;
    size_t events;
    int32_t cases, activities;
  };
  // Counts from each folder's PROVENANCE.md.
  for (const Log& log : {Log{"helpdesk/events.csv", 21348, 4580, 14}, Log{"sepsis/events.csv", 15214, 1050, 16}}) {
    const std::string path = shared_data(log.file);
    if (path.empty()) GTEST_SKIP() << "shared data not present";
    CsvOptions options;
    options.columns.customer = "case_id";
    options.columns.touchpoint = "activity";
    const IngestResult result = read_events(path, options);  // auto-detected as CSV
    EXPECT_EQ(result.events.size(), log.events) << log.file;
    EXPECT_EQ(result.events.customers.size(), log.cases) << log.file;
    EXPECT_EQ(result.events.touchpoints.size(), log.activities) << log.file;
  }
}

TEST(ReadEvents, DetectsCsvAndSpmf) {
  const auto dir = scratch_dir();
  const std::string csv = write_file(dir / "events.csv", std::string(kHeader) + "c,0,p,web,0,0\n");
  const std::string spmf = write_file(dir / "events.txt", "# comment\n\n@CONVERTED\n3 -1 4 -1 -2\n5 -1 -2\n");
  EXPECT_EQ(read_events(csv, {}).events.channels.names(), (std::vector<std::string>{"web"}));
  const IngestResult sequences = read_events(spmf, {});
  EXPECT_EQ(sequences.events.size(), 3u);
  EXPECT_EQ(sequences.events.channels.names(), (std::vector<std::string>{"none"}));
  // A numeric CSV row that does not end in -2 is not SPMF: read as CSV (and fails on its header).
  const std::string numeric = write_file(dir / "numbers.csv", "1,2,3\n4,5,6\n");
  EXPECT_THROW(read_events(numeric, {}), InputError);
  EXPECT_THROW(read_events((dir / "missing").string(), {}), InputError);
}

TEST(CsvReader, ExtraColumnsAreDictionaryEncodedWithEmptyFieldsAbsent) {
  CsvOptions options;
  options.columns.extra = {"email", "device"};
  const IngestResult result = read_text(std::string("device,") + "customer_id,timestamp,touchpoint,email\n"
                                        "d1,c1,2026-03-01T00:00:00Z,home,a@x\n"
                                        "d2,c2,2026-03-01T00:00:00Z,home,\n"
                                        "d1,c1,2026-03-01T00:00:01Z,cart,a@x\n",
                                        options);
  ASSERT_EQ(result.extra_columns.size(), 2u);
  EXPECT_EQ(result.extra_columns[0].name, "email");
  EXPECT_EQ(result.extra_columns[0].values.names(), (std::vector<std::string>{"a@x"}));
  EXPECT_EQ(result.extra_columns[0].codes, (std::vector<int32_t>{0, -1, 0}));
  EXPECT_EQ(result.extra_columns[1].codes, (std::vector<int32_t>{0, 1, 0}));
  // The same ids whatever the block size and thread count.
  options.block_bytes = 4096;
  options.num_threads = 3;
  EXPECT_EQ(read_text(std::string("device,") + "customer_id,timestamp,touchpoint,email\nd1,c1,2026-03-01,home,a@x\n",
                      options).extra_columns[1].codes,
            (std::vector<int32_t>{0}));
  options.columns.extra = {"phone"};
  const InputError missing = read_error(std::string(kHeader) + "c1,2026-03-01,home,web,0,0\n", options);
  EXPECT_EQ(missing.column(), "phone");
}

TEST(CsvReader, TimeZoneAppliesToLocalTimesOnly) {
  CsvOptions options;
  options.time_zone = "+02:00";
  const IngestResult result = read_text(std::string(kHeader) + "c1,2026-03-01T02:00:00,home,web,0,0\n"
                                        "c1,2026-03-01T02:00:00Z,home,web,0,0\n",
                                        options);
  EXPECT_EQ(result.events.timestamp_ms, (std::vector<int64_t>{k20260301T000000Z, k20260301T000000Z + 7200000}));
  options.time_zone = "Moon/Base";
  EXPECT_THROW(read_text(std::string(kHeader) + "c1,2026-03-01,home,web,0,0\n", options), ConfigError);
}


// The rows of `read` as text, in order: what a share of the file must reproduce, ids aside.
std::vector<std::string> rows_as_text(const IngestResult& read) {
  std::vector<std::string> rows;
  const jm::EventTable& e = read.events;
  for (size_t i = 0; i < e.size(); ++i)
    rows.push_back(e.customers.name(static_cast<int32_t>(e.customer[i])) + "|" + std::to_string(e.timestamp_ms[i]) + "|" +
                   e.touchpoints.name(e.touchpoint[i]) + "|" + e.channels.name(e.channel[i]) + "|" +
                   std::to_string(e.value[i]) + "|" + std::to_string(e.is_conversion[i]));
  return rows;
}

// Shares of a file (the lines that begin in consecutive byte ranges) hold every row once, in file
// order; numbered from each share's first line, a bad row's line plus the line ends of the shares
// before it is its line in the file.
void expect_shares_make_the_whole(const std::string& path, const std::vector<int>& share_counts) {
  CsvOptions options;
  options.on_error = OnError::Skip;
  options.num_threads = 2;
  const IngestResult whole = read_events_csv(path, options);
  const uint64_t size = std::filesystem::file_size(path);
  for (const int shares : share_counts) {
    for (const size_t block_bytes : {size_t{64}, size_t{1} << 20}) {
      SCOPED_TRACE(std::to_string(shares) + " shares, block_bytes " + std::to_string(block_bytes));
      options.block_bytes = block_bytes;
      std::vector<std::string> rows;
      std::vector<int64_t> bad_lines;
      int64_t rows_read = 0, rows_skipped = 0, lines_before = 0;
      for (int r = 0; r < shares; ++r) {
        options.share_begin = size / shares * r;
        options.share_end = r + 1 == shares ? UINT64_MAX : size / shares * (r + 1);
        const IngestResult share = read_events_csv(path, options);
        const std::vector<std::string> share_rows = rows_as_text(share);
        rows.insert(rows.end(), share_rows.begin(), share_rows.end());
        for (const jm::BadRow& bad : share.first_bad_rows) bad_lines.push_back(lines_before + bad.line);
        rows_read += share.rows_read;
        rows_skipped += share.rows_skipped;
        lines_before += share.line_ends;
      }
      EXPECT_EQ(rows, rows_as_text(whole));
      EXPECT_EQ(rows_read, whole.rows_read);
      EXPECT_EQ(rows_skipped, whole.rows_skipped);
      EXPECT_EQ(lines_before, whole.line_ends);
      bad_lines.resize(std::min(bad_lines.size(), whole.first_bad_rows.size()));
      std::vector<int64_t> whole_bad_lines;
      for (const jm::BadRow& bad : whole.first_bad_rows) whole_bad_lines.push_back(bad.line);
      EXPECT_EQ(bad_lines, whole_bad_lines);
    }
  }
}

TEST(CsvReader, SharesOfAFileHoldEveryRowOnceInFileOrder) {
  // Byte order mark, blank lines, CRLF, quoted fields and a bad row every 13: shares as many as
  // 97 (most hold a line or two, some none).
  const std::string path = write_file(scratch_dir() / "shares.csv", random_log(1500, 13, 23));
  expect_shares_make_the_whole(path, {1, 2, 3, 8, 97});
}

TEST(CsvReader, ALineLongerThanABlockAcrossAShareBoundary) {
  std::string text = std::string(kHeader);
  for (int i = 0; i < 40; ++i) text += "c" + std::to_string(i) + ",2026-03-01T12:00:00Z,home,web,1,0\n";
  text += "long,2026-03-01T12:00:00Z," + std::string(20000, 'x') + ",web,1,0\n";
  for (int i = 0; i < 40; ++i) text += "d" + std::to_string(i) + ",2026-03-01T12:00:00Z,cart,web,1,0\n";
  const std::string path = write_file(scratch_dir() / "long.csv", text);
  expect_shares_make_the_whole(path, {2, 3, 5});
}

TEST(CsvReader, DataBeginsPastTheHeaderAndWhatPrecedesIt) {
  const std::string row = "a,2026-03-01T12:00:00Z,home,web,1,0\n";
  EXPECT_EQ(jm::csv_data_begin(write_file(scratch_dir() / "plain.csv", std::string(kHeader) + row)),
            std::string(kHeader).size());
  const std::string preamble = "\xEF\xBB\xBF\n\r\n\n";
  EXPECT_EQ(jm::csv_data_begin(write_file(scratch_dir() / "blank.csv", preamble + kHeader + row)),
            preamble.size() + std::string(kHeader).size());
  const std::string header_only = "customer_id,timestamp,touchpoint";
  EXPECT_EQ(jm::csv_data_begin(write_file(scratch_dir() / "header.csv", header_only)), header_only.size());
}

TEST(CsvReader, AShareWithoutRowsIsNoError) {
  const std::string path = write_file(scratch_dir() / "one.csv", std::string(kHeader) + "a,2026-03-01T12:00:00Z,home,web,1,0\n");
  CsvOptions options;
  const uint64_t row_begins = std::string(kHeader).size();
  options.share_begin = 10;  // inside the header line: the share starts at the next line, the row
  options.share_end = row_begins + 1;
  EXPECT_EQ(read_events_csv(path, options).events.size(), 1u);
  options.share_end = row_begins;  // the row begins at the share's end: not in it
  EXPECT_EQ(read_events_csv(path, options).events.size(), 0u);
  options.share_begin = std::filesystem::file_size(path) - 3;  // inside the last line: no line begins here
  options.share_end = UINT64_MAX;
  const IngestResult none = read_events_csv(path, options);
  EXPECT_EQ(none.events.size(), 0u);
  EXPECT_EQ(none.rows_read, 0);
  EXPECT_EQ(none.line_ends, 0);
}

}  // namespace
}  // namespace jm
