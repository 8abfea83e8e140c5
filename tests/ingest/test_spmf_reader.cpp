// SPMF reader: exact parse of a hand-written database, malformed lines, thread invariance, and the
// real BMS1 / MSNBC databases against the counts in their stats.json. The direct reader of touch
// sequences (read_spmf_sequences) against the events reader followed by the journey build and
// outcome cut: the same journeys, counts and errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "journeymap/common.hpp"
#include "journeymap/context.hpp"
#include "journeymap/ingest.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/outcome.hpp"
#include "journeymap/patterns.hpp"
#include "test_helpers.hpp"

namespace jm {
namespace {

using jm::testing::scratch_dir;
using jm::testing::shared_data;
using jm::testing::write_file;

InputError spmf_error(const std::string& text) {
  const std::string path = write_file(scratch_dir() / "bad.txt", text);
  try {
    read_events_spmf(path, 2);
  } catch (const InputError& error) {
    EXPECT_EQ(error.file(), path);
    return error;
  }
  ADD_FAILURE() << "expected an InputError for:\n" << text;
  return InputError("", 0, "", "", "");
}

TEST(SpmfReader, ParsesSmallDatabaseExactly) {
  const std::string text =
      "@CONVERTED_FROM_TEXT\n"
      "# a comment\n"
      "10 -1 20 -1 10 -1 -2\n"
      "\n"
      "% another comment\n"
      "30 -1 -2\r\n"
      "-2\n"  // sequence 3 is empty: no events, no customer
      "  20\t-1   007 -1 -2  \n"
      "30 -1 -2";  // last line without '\n'
  const IngestResult result = read_events_spmf(write_file(scratch_dir() / "db.txt", text));
  const EventTable& events = result.events;
  EXPECT_EQ(result.rows_read, 5);  // sequence lines, the empty one included
  EXPECT_EQ(result.file_bytes, text.size());
  ASSERT_EQ(events.size(), 7u);
  EXPECT_NO_THROW(events.check_consistent());
  EXPECT_EQ(events.customers.names(), (std::vector<std::string>{"1", "2", "4", "5"}));
  EXPECT_EQ(events.touchpoints.names(), (std::vector<std::string>{"10", "20", "30", "007"}));
  EXPECT_EQ(events.channels.names(), (std::vector<std::string>{"none"}));
  EXPECT_EQ(events.customer, (std::vector<uint32_t>{0, 0, 0, 1, 2, 2, 3}));
  EXPECT_EQ(events.touchpoint, (std::vector<int32_t>{0, 1, 0, 2, 1, 3, 2}));
  EXPECT_EQ(events.timestamp_ms, (std::vector<int64_t>{0, 1000, 2000, 0, 0, 1000, 0}));
  EXPECT_EQ(events.channel, (std::vector<int32_t>(7, 0)));
  EXPECT_EQ(events.value, (std::vector<float>(7, 0.0f)));
  EXPECT_EQ(events.is_conversion, (std::vector<uint8_t>(7, 0)));
}

TEST(SpmfReader, ItemsAreTheirSpellingSmallOrLarge) {
  // Small numbers are looked up by value, others by name: either way an item is its text, so "7",
  // "07", "0" and "-0" are four items, and a number past the small range is one item, not a wrap.
  const std::string text =
      "7 -1 07 -1 0 -1 -0 -1 -2\n"
      "65535 -1 65536 -1 131079 -1 7 -1 0 -1 -2\n"
      "-0 -1 65536 -1 07 -1 -2\n";
  const IngestResult result = read_events_spmf(write_file(scratch_dir() / "spellings.txt", text), 2);
  const EventTable& events = result.events;
  EXPECT_EQ(events.touchpoints.names(),
            (std::vector<std::string>{"7", "07", "0", "-0", "65535", "65536", "131079"}));
  EXPECT_EQ(events.touchpoint, (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 6, 0, 2, 3, 5, 1}));
}

TEST(SpmfReader, IdenticalForAnyThreadCount) {
  std::string text;
  for (int s = 0; s < 3000; ++s) {
    if (s % 100 == 0) text += "# block " + std::to_string(s) + "\n";
    for (int e = 0; e <= s % 7; ++e) text += std::to_string((s * 31 + e * 17) % 211) + " -1 ";
    text += "-2\n";
  }
  const std::string path = write_file(scratch_dir() / "db.txt", text);
  const IngestResult reference = read_events_spmf(path, 1);
  EXPECT_EQ(reference.events.customers.size(), 3000);
  for (int threads : {2, 3, 8}) {
    const IngestResult other = read_events_spmf(path, threads);
    EXPECT_EQ(other.events.customer, reference.events.customer);
    EXPECT_EQ(other.events.touchpoint, reference.events.touchpoint);
    EXPECT_EQ(other.events.timestamp_ms, reference.events.timestamp_ms);
    EXPECT_EQ(other.events.customers.names(), reference.events.customers.names());
    EXPECT_EQ(other.events.touchpoints.names(), reference.events.touchpoints.names());
  }
}

TEST(SpmfReaderErrors, MalformedLinesNameLineAndToken) {
  struct Case {
    const char* name;
    std::string line;
    std::string column;
    std::string value;
    std::string reason_part;
  };
  const std::vector<Case> cases = {
      {"itemset", "1 -1 2 3 -1 -2", "item", "3", "more than one item"},
      {"no_end", "1 -1 2 -1", "", "1 -1 2 -1", "does not end with -2"},
      {"word", "1 -1 abc -1 -2", "item", "abc", "not an integer"},
      {"decimal", "1 -1 2.5 -1 -2", "item", "2.5", "not an integer"},
      {"after_end", "1 -1 -2 5 -1 -2", "", "5", "after the end-of-sequence"},
      {"empty_itemset", "1 -1 -1 -2", "item", "-1", "empty itemset"},
      {"unclosed_itemset", "1 -1 2 -2", "item", "2", "not closed by -1"},
      {"negative", "1 -1 -7 -1 -2", "item", "-7", "negative item"},
      {"binary", std::string("1 -1 \0\x01 -1 -2", 13), "item", std::string("\0\x01", 2), "not an integer"},
      {"timestamps", "<0> 1 -1 -2", "item", "<0>", "not an integer"},
  };
  for (const Case& bad : cases) {
    SCOPED_TRACE(bad.name);
    const InputError error = spmf_error("# header\n1 -1 -2\n\n" + bad.line + "\n2 -1 -2\n");
    EXPECT_EQ(error.line(), 4);
    EXPECT_EQ(error.column(), bad.column);
    EXPECT_EQ(error.value(), bad.value);
    EXPECT_NE(error.reason().find(bad.reason_part), std::string::npos) << error.reason();
  }
}

TEST(SpmfReaderErrors, FileLevelProblems) {
  const InputError missing = [&] {
    try {
      read_events_spmf((scratch_dir() / "missing.txt").string());
    } catch (const InputError& error) {
      return error;
    }
    return InputError("", -1, "", "", "no error");
  }();
  EXPECT_EQ(missing.line(), 0);
  EXPECT_NE(missing.reason().find("cannot open"), std::string::npos);
  EXPECT_EQ(spmf_error("").line(), 0);
  EXPECT_NE(spmf_error("# only comments\n-2\n").reason().find("no events"), std::string::npos);
}

TEST(SpmfReaderErrors, FirstErrorInFileOrderWhateverTheThreads) {
  std::string text;
  for (int s = 0; s < 5000; ++s) text += s == 3000 || s == 4000 ? "1 2 -1 -2\n" : "1 -1 2 -1 -2\n";
  const std::string path = write_file(scratch_dir() / "db.txt", text);
  for (int threads : {1, 2, 4}) {
    try {
      read_events_spmf(path, threads);
      ADD_FAILURE() << "no error";
    } catch (const InputError& error) {
      EXPECT_EQ(error.line(), 3001) << threads;
    }
  }
}

void expect_matches_stats(const std::string& folder, const std::string& file) {
  const std::string path = shared_data(folder + "/" + file);
  const std::string stats_path = shared_data(folder + "/stats.json");
  if (path.empty() || stats_path.empty()) GTEST_SKIP() << "shared data not present";
  std::ifstream stats_file(stats_path);
  const nlohmann::json stats = nlohmann::json::parse(stats_file);
  ASSERT_EQ(stats["empty_sequences"].get<int64_t>(), 0);  // so customers == sequences
  ASSERT_EQ(stats["multi_item_itemsets"].get<int64_t>(), 0);

  const IngestResult result = read_events_spmf(path);
  const EventTable& events = result.events;
  EXPECT_EQ(result.file_bytes, stats["bytes"].get<uint64_t>());
  EXPECT_EQ(result.rows_read, stats["sequences"].get<int64_t>());
  EXPECT_EQ(static_cast<int64_t>(events.customers.size()), stats["sequences"].get<int64_t>());
  EXPECT_EQ(static_cast<int64_t>(events.size()), stats["itemsets"].get<int64_t>());
  EXPECT_EQ(static_cast<int64_t>(events.touchpoints.size()), stats["distinct_items"].get<int64_t>());
  // Longest sequence = most events of one customer.
  std::vector<int64_t> per_customer(static_cast<size_t>(events.customers.size()), 0);
  for (uint32_t customer : events.customer) ++per_customer[customer];
  EXPECT_EQ(*std::max_element(per_customer.begin(), per_customer.end()), stats["max_itemsets"].get<int64_t>());
  int64_t min_item = INT64_MAX, max_item = INT64_MIN;
  for (const std::string& name : events.touchpoints.names()) {
    min_item = std::min<int64_t>(min_item, std::stoll(name));
    max_item = std::max<int64_t>(max_item, std::stoll(name));
  }
  EXPECT_EQ(min_item, stats["min_item"].get<int64_t>());
  EXPECT_EQ(max_item, stats["max_item"].get<int64_t>());
  EXPECT_EQ(events.customers.name(0), "1");
  EXPECT_EQ(events.customers.names().back(), std::to_string(stats["sequences"].get<int64_t>()));
  EXPECT_NO_THROW(events.check_consistent());
}

TEST(SpmfReaderRealData, Bms1MatchesStats) { expect_matches_stats("bms1", "BMS1_spmf.txt"); }

TEST(SpmfReaderRealData, MsnbcMatchesStats) { expect_matches_stats("msnbc", "MSNBC.txt"); }

TEST(SpmfReaderRealData, Bms1FirstSequence) {
  const std::string path = shared_data("bms1/BMS1_spmf.txt");
  if (path.empty()) GTEST_SKIP() << "shared data not present";
  // The file starts "10307 -1 10311 -1 12487 -1 -2".
  const IngestResult result = read_events(path, CsvOptions{});  // auto-detected as SPMF
  const EventTable& events = result.events;
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events.touchpoints.name(events.touchpoint[0]), "10307");
  EXPECT_EQ(events.touchpoints.name(events.touchpoint[1]), "10311");
  EXPECT_EQ(events.touchpoints.name(events.touchpoint[2]), "12487");
  EXPECT_EQ(events.customer[2], 0u);
  EXPECT_EQ(events.customer[3], 1u);
  EXPECT_EQ(events.timestamp_ms[2], 2000);
}

// The direct reader's sequences equal the journeys built from read_events_spmf's events with the
// default journey options and outcome (what `mine` would otherwise build), and its counts agree.
void expect_sequences_are_built_journeys(const std::string& path, int threads) {
  SCOPED_TRACE(path + ", " + std::to_string(threads) + " threads");
  const Context ctx = make_context(Backend::Cpu, threads);
  IngestResult read = read_events_spmf(path, threads);
  const OutcomeJourneys built = build_outcome_journeys(ctx, read.events, JourneyOptions{}, OutcomeDefinition{});
  const SpmfSequences direct = read_spmf_sequences(path, threads);
  EXPECT_EQ(direct.read.file, read.file);
  EXPECT_EQ(direct.read.file_bytes, read.file_bytes);
  EXPECT_EQ(direct.read.rows_read, read.rows_read);
  EXPECT_EQ(direct.read.line_ends, read.line_ends);
  EXPECT_EQ(direct.read.events.size(), 0u);
  const JourneySet& journeys = built.journeys;
  ASSERT_EQ(direct.sequences.size(), journeys.size());
  EXPECT_EQ(direct.sequences.offsets.host(), journeys.offsets.host());
  EXPECT_EQ(direct.sequences.touchpoint.host(), journeys.touchpoint.host());
  EXPECT_EQ(direct.sequences.converted.host(), journeys.converted.host());
  EXPECT_EQ(direct.sequences.touchpoints.names(), journeys.touchpoints.names());
  EXPECT_EQ(direct.sequences.channels.names(), journeys.channels.names());
}

TEST(SpmfSequences, HandWrittenDatabaseIsItsJourneys) {
  const std::string text =
      "@CONVERTED_FROM_TEXT\n# a comment\n10 -1 20 -1 10 -1 -2\n\n% another\n30 -1 -2\r\n-2\n"
      "  20\t-1   007 -1 -2  \n-2\n-2\n5 -1 5 -1 5 -1 -2\n30 -1 -2";
  const std::string path = write_file(scratch_dir() / "db.txt", text);
  const SpmfSequences direct = read_spmf_sequences(path, 2);
  EXPECT_EQ(direct.read.rows_read, 8);
  EXPECT_EQ(direct.sequences.offsets.host(), (std::vector<int64_t>{0, 3, 4, 6, 9, 10}));
  EXPECT_EQ(direct.sequences.touchpoint.host(), (std::vector<int32_t>{0, 1, 0, 2, 1, 3, 4, 4, 4, 2}));
  EXPECT_EQ(direct.sequences.touchpoints.names(), (std::vector<std::string>{"10", "20", "30", "007", "5"}));
  for (int threads : {1, 2, 3}) expect_sequences_are_built_journeys(path, threads);
}

TEST(SpmfSequences, ManyChunksAndBlocksAreTheirJourneys) {
  std::string text;  // comments and empty sequences scattered through ~40 MB: two blocks and more
  for (int s = 0; text.size() < (size_t{40} << 20); ++s) {
    if (s % 1000 == 0) text += "# part " + std::to_string(s) + "\n";
    if (s % 7 == 3) {
      text += "-2\n";
      continue;
    }
    for (int e = 0; e <= s % 41; ++e) text += std::to_string((s * 31 + e * 17) % 5003) + " -1 ";
    text += "-2\n";
  }
  const std::string path = write_file(scratch_dir() / "large.txt", text);
  for (int threads : {1, 3}) expect_sequences_are_built_journeys(path, threads);
}

TEST(SpmfSequences, SameErrorsAsTheEventsReader) {
  auto error_of = [](const std::function<void()>& read) {
    try {
      read();
    } catch (const InputError& error) {
      return error;
    }
    ADD_FAILURE() << "no error";
    return InputError("", -1, "", "", "no error");
  };
  const std::vector<std::string> bad_files = {
      "", "# only comments\n-2\n", "1 -1 -2\n\n1 -1 2 3 -1 -2\n", "1 -1 -2\n2 -1 x -1 -2\n", "1 -1 2 -1\n"};
  for (const std::string& text : bad_files) {
    SCOPED_TRACE(text);
    const std::string path = write_file(scratch_dir() / "bad.txt", text);
    const InputError expected = error_of([&] { read_events_spmf(path, 2); });
    const InputError actual = error_of([&] { read_spmf_sequences(path, 2); });
    EXPECT_EQ(actual.file(), expected.file());
    EXPECT_EQ(actual.line(), expected.line());
    EXPECT_EQ(actual.column(), expected.column());
    EXPECT_EQ(actual.value(), expected.value());
    EXPECT_EQ(actual.reason(), expected.reason());
  }
}

TEST(SpmfSequences, PublicDatabasesAreTheirJourneys) {
  for (const char* file : {"bms1/BMS1_spmf.txt", "msnbc/MSNBC.txt"}) {
    const std::string path = shared_data(file);
    if (path.empty()) GTEST_SKIP() << "shared data not present";
    expect_sequences_are_built_journeys(path, 2);
  }
}

TEST(SpmfSequences, MinedLikeTheBuiltJourneys) {
  const std::string path = shared_data("bms1/BMS1_spmf.txt");
  if (path.empty()) GTEST_SKIP() << "shared data not present";
  const Context ctx = make_context(Backend::Cpu, 2);
  IngestResult read = read_events_spmf(path, 2);
  const JourneySet built = build_outcome_journeys(ctx, read.events, JourneyOptions{}, OutcomeDefinition{}).journeys;
  const JourneySet direct = read_spmf_sequences(path, 2).sequences;
  PatternOptions options;
  options.min_support = MinSupport::count(42);
  const PatternResult expected = mine_patterns(ctx, built, options);
  const PatternResult actual = mine_patterns(ctx, direct, options);
  ASSERT_EQ(expected.size(), 27403) << "the pattern count SPMF finds on BMS1 at 42";
  EXPECT_EQ(actual.offsets, expected.offsets);
  EXPECT_EQ(actual.items, expected.items);
  EXPECT_EQ(actual.support, expected.support);
  EXPECT_EQ(actual.converted_support, expected.converted_support);
  EXPECT_EQ(actual.n_journeys, expected.n_journeys);
}

}  // namespace
}  // namespace jm
