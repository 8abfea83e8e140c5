// Parquet input: the same events as the CSV they were written from (and the same run results),
// and clear errors for files that are not Parquet, truncated, nested or wrongly typed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "journeymap/common.hpp"
#include "journeymap/export.hpp"
#include "journeymap/generate.hpp"
#include "journeymap/ingest.hpp"
#include "journeymap/pipeline.hpp"
#include "journeymap/run_config.hpp"
#include "test_helpers.hpp"

namespace {

// The events as a Parquet file: text columns, a timestamp column, a double value and a boolean flag.
std::string write_as_parquet(const jm::EventTable& events, const std::string& path) {
  jm::write_table_parquet(jm::event_table(events), path);
  return path;
}

// Generated events read from their CSV, for writing as Parquet in row groups of a chosen size.
jm::IngestResult generated_events(const std::filesystem::path& dir, int64_t journeys, uint64_t seed) {
  jm::GeneratorOptions options;
  options.journeys = journeys;
  options.seed = seed;
  options.num_threads = 2;
  const std::string csv = (dir / "events.csv").string();
  jm::generate_dataset(options, csv);
  return jm::read_events_csv(csv, jm::CsvOptions{});
}

// Event `e` as text (customer, time, touchpoint): the same whatever the ids.
std::string event_text(const jm::EventTable& events, size_t e) {
  return events.customers.name(static_cast<int32_t>(events.customer[e])) + " " + std::to_string(events.timestamp_ms[e]) +
         " " + events.touchpoints.name(events.touchpoint[e]);
}

class ParquetInput : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!jm::parquet_export_available()) GTEST_SKIP() << "this build has no Apache Arrow";
  }
};

TEST_F(ParquetInput, GivesTheEventsOfTheCsvItWasWrittenFrom) {
  const auto dir = jm::testing::scratch_dir();
  jm::GeneratorOptions options;
  options.journeys = 1500;
  options.seed = 3;
  options.num_threads = 2;
  const std::string csv = (dir / "events.csv").string();
  jm::generate_dataset(options, csv);
  const jm::IngestResult from_csv = jm::read_events_csv(csv, jm::CsvOptions{});
  const std::string parquet = write_as_parquet(from_csv.events, (dir / "events.parquet").string());
  const jm::IngestResult from_parquet = jm::read_events(parquet, jm::CsvOptions{});  // detected by content
  const jm::EventTable& a = from_csv.events;
  const jm::EventTable& b = from_parquet.events;
  EXPECT_EQ(b.customers.names(), a.customers.names());
  EXPECT_EQ(b.touchpoints.names(), a.touchpoints.names());
  EXPECT_EQ(b.channels.names(), a.channels.names());
  EXPECT_EQ(b.customer, a.customer);
  EXPECT_EQ(b.timestamp_ms, a.timestamp_ms);
  EXPECT_EQ(b.touchpoint, a.touchpoint);
  EXPECT_EQ(b.channel, a.channel);
  EXPECT_EQ(b.value, a.value);
  EXPECT_EQ(b.is_conversion, a.is_conversion);
  EXPECT_EQ(from_parquet.rows_read, from_csv.rows_read);

  // And the whole run says the same from either file.
  auto summaries = [&](const std::string& input, const std::string& output) {
    jm::RunConfig config;
    config.input_path = input;
    config.output_path = (dir / output).string();
    config.device = jm::DeviceChoice::Cpu;
    config.progress = false;
    config.journeys.session_gap_seconds = jm::kGeneratedJourneyGapSeconds;
    return jm::run_pipeline(config).stage_summaries;
  };
  EXPECT_EQ(summaries(parquet, "from_parquet.h5"), summaries(csv, "from_csv.h5"));
}

TEST_F(ParquetInput, BadFilesAndColumnsAreClearErrors) {
  const auto dir = jm::testing::scratch_dir();
  jm::EventTable events;
  events.push_back(events.customers.encode("c1"), 1767600000000, events.touchpoints.encode("home"),
                   events.channels.encode("web"), 0.0f, false);
  events.push_back(events.customers.encode(""), 1767600001000, events.touchpoints.encode("cart"),
                   events.channels.encode("web"), 2.5f, true);
  const std::string path = write_as_parquet(events, (dir / "two_rows.parquet").string());
  auto error_of = [](const std::string& file, const jm::CsvOptions& options) {
    try {
      jm::read_events_parquet(file, options);
    } catch (const jm::InputError& error) {
      return error;
    }
    ADD_FAILURE() << file << " was accepted";
    return jm::InputError("", 0, "", "", "");
  };
  const jm::InputError empty_customer = error_of(path, jm::CsvOptions{});
  EXPECT_EQ(empty_customer.line(), 2);  // the row
  EXPECT_EQ(empty_customer.column(), "customer_id");
  jm::CsvOptions skip;
  skip.on_error = jm::OnError::Skip;
  const jm::IngestResult skipped = jm::read_events_parquet(path, skip);
  EXPECT_EQ(skipped.events.size(), 1u);
  EXPECT_EQ(skipped.rows_skipped, 1);
  EXPECT_EQ(skipped.events.customers.names(), (std::vector<std::string>{"c1"}));  // no name left behind

  jm::CsvOptions renamed;
  renamed.columns.touchpoint = "page";
  EXPECT_EQ(error_of(path, renamed).column(), "page");
  jm::CsvOptions wrong_type;
  wrong_type.columns.channel = "value";
  EXPECT_NE(error_of(path, wrong_type).reason().find("type double"), std::string::npos);

  // Truncated, and not Parquet at all.
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string truncated = jm::testing::write_file(dir / "truncated.parquet", bytes.substr(0, bytes.size() / 2));
  EXPECT_NE(error_of(truncated, jm::CsvOptions{}).reason().find("not a readable Parquet file"), std::string::npos);
  const std::string text = jm::testing::write_file(dir / "text.parquet", "customer_id,timestamp\n");
  EXPECT_NE(error_of(text, jm::CsvOptions{}).reason().find("not a readable Parquet file"), std::string::npos);

  // A list column (written by pyarrow: {"touchpoint": [["a", "b"], ["c"]]}).
  const auto nested = std::filesystem::path(__FILE__).parent_path() / "data" / "nested_touchpoint.parquet";
  const jm::InputError nested_error = error_of(nested.string(), jm::CsvOptions{});
  EXPECT_EQ(nested_error.column(), "touchpoint");
  EXPECT_NE(nested_error.reason().find("nested"), std::string::npos);
}

// Handed over row group by row group (CsvOptions::on_events): the blocks one after the other are the
// events of reading the file at once (ids global, names first-appearance), none is kept, and a bad
// row in a later group is named by its row in the file.
TEST_F(ParquetInput, RowGroupsHandedOverOneAtATimeGiveTheEventsOfTheWholeFile) {
  const auto dir = jm::testing::scratch_dir();
  const jm::IngestResult from_csv = generated_events(dir, 400, 5);
  const std::string parquet = (dir / "events.parquet").string();
  jm::write_table_parquet(jm::event_table(from_csv.events), parquet, 97);
  const jm::IngestResult whole = jm::read_events_parquet(parquet, jm::CsvOptions{});

  jm::CsvOptions handed;
  jm::EventTable joined;
  int64_t blocks = 0;
  handed.on_events = [&](const jm::EventTable& block) {
    ++blocks;
    EXPECT_LE(block.size(), 97u);
    for (size_t e = 0; e < block.size(); ++e)
      joined.push_back(block.customer[e], block.timestamp_ms[e], block.touchpoint[e], block.channel[e], block.value[e],
                       block.is_conversion[e]);
  };
  const jm::IngestResult read = jm::read_events(parquet, handed);  // detected by content, handed over
  EXPECT_EQ(blocks, (static_cast<int64_t>(whole.events.size()) + 96) / 97);
  EXPECT_EQ(read.events.size(), 0u);
  EXPECT_EQ(read.rows_read, whole.rows_read);
  EXPECT_EQ(read.events.customers.names(), whole.events.customers.names());
  EXPECT_EQ(read.events.touchpoints.names(), whole.events.touchpoints.names());
  EXPECT_EQ(joined.customer, whole.events.customer);
  EXPECT_EQ(joined.timestamp_ms, whole.events.timestamp_ms);
  EXPECT_EQ(joined.touchpoint, whole.events.touchpoint);
  EXPECT_EQ(joined.channel, whole.events.channel);
  EXPECT_EQ(joined.is_conversion, whole.events.is_conversion);

  // A bad row in the third group: its row in the file, and nothing handed over after it.
  jm::EventTable bad = from_csv.events;
  bad.timestamp_ms[250] = 7258118400000LL + 1000;  // after 2200: outside the accepted range
  const std::string bad_path = (dir / "bad.parquet").string();
  jm::write_table_parquet(jm::event_table(bad), bad_path, 97);
  blocks = 0;
  try {
    jm::read_events_parquet(bad_path, handed);
    ADD_FAILURE() << "the bad row was accepted";
  } catch (const jm::InputError& error) {
    EXPECT_EQ(error.line(), 251);
    EXPECT_EQ(error.column(), "timestamp");
  }
  EXPECT_EQ(blocks, 2);
}

// Shares of row groups (CsvOptions::parquet_share_*): their rows one after the other are the rows of
// the whole file, a share may hold no group at all, and a bad row keeps its row number in the file.
TEST_F(ParquetInput, SharesOfRowGroupsHoldEveryRowOnce) {
  const auto dir = jm::testing::scratch_dir();
  const jm::IngestResult from_csv = generated_events(dir, 300, 9);
  const std::string parquet = (dir / "events.parquet").string();
  jm::write_table_parquet(jm::event_table(from_csv.events), parquet, 500);  // a few row groups
  const jm::IngestResult whole = jm::read_events_parquet(parquet, jm::CsvOptions{});
  const int64_t groups = (static_cast<int64_t>(whole.events.size()) + 499) / 500;
  for (const int count : {1, 2, 3, static_cast<int>(groups) + 2}) {
    std::vector<std::string> rows;
    int64_t rows_read = 0;
    for (int index = 0; index < count; ++index) {
      jm::CsvOptions share;
      share.parquet_share_index = index;
      share.parquet_share_count = count;
      const jm::IngestResult part = jm::read_events_parquet(parquet, share);
      rows_read += part.rows_read;
      for (size_t e = 0; e < part.events.size(); ++e) rows.push_back(event_text(part.events, e));
    }
    ASSERT_EQ(rows.size(), whole.events.size()) << count << " shares";
    for (size_t e = 0; e < rows.size(); ++e)
      ASSERT_EQ(rows[e], event_text(whole.events, e)) << count << " shares, row " << e;
    EXPECT_EQ(rows_read, whole.rows_read);
  }
  // A bad row in the last group: named by its row in the file from the last share.
  jm::EventTable bad = from_csv.events;
  const size_t last = bad.size() - 3;
  bad.timestamp_ms[last] = 7258118400000LL + 1000;
  const std::string bad_path = (dir / "bad.parquet").string();
  jm::write_table_parquet(jm::event_table(bad), bad_path, 500);
  jm::CsvOptions share;
  share.parquet_share_index = 1;
  share.parquet_share_count = 2;
  try {
    jm::read_events_parquet(bad_path, share);
    ADD_FAILURE() << "the bad row was accepted";
  } catch (const jm::InputError& error) {
    EXPECT_EQ(error.line(), static_cast<int64_t>(last) + 1);
  }
}

}  // namespace
