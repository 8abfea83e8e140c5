// `mpirun -np N journeymap mine` on loopback: the same result file as one process, for 1, 2 and 4
// processes; a process that cannot read its input, or runs with other settings, stops every
// process with its message and leaves no result. Skips when this build has no MPI or mpirun is
// not on the PATH.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "journeymap/export.hpp"
#include "journeymap/ingest.hpp"
#include "journeymap/result_file.hpp"
#include "pipeline/same_datasets.hpp"
#include "test_helpers.hpp"

namespace {

namespace fs = std::filesystem;

using jm::testing::CommandResult;
using jm::testing::mpirun;
using jm::testing::run_shell;

std::string cli() { return jm::testing::cli_path(); }

class MineAcrossProcesses : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const std::string why = jm::testing::why_no_mpi_runs(); !why.empty()) GTEST_SKIP() << why;
    dir_ = jm::testing::scratch_dir();
    events_ = (dir_ / "events.csv").string();
    ASSERT_EQ(run_shell(cli() + " generate --journeys 2500 --seed 14 --threads 2 --out " + events_).exit_code, 0);
  }
  fs::path dir_;
  std::string events_;
  const std::string options_ = " --min-support 0.03 --max-length 5 --session-gap 172800 --device cpu --threads 1 --quiet";
};

TEST_F(MineAcrossProcesses, OneTwoAndFourProcessesWriteTheResultOfOne) {
  const std::string single = (dir_ / "single.h5").string();
  const CommandResult alone = run_shell(cli() + " mine --input " + events_ + options_ + " --out " + single);
  ASSERT_EQ(alone.exit_code, 0) << alone.output;
  for (const int processes : {1, 2, 4}) {
    const std::string out = (dir_ / ("across_" + std::to_string(processes) + ".h5")).string();
    const CommandResult across = run_shell(mpirun() + " -np " + std::to_string(processes) + " " + cli() +
                                           " mine --input " + events_ + options_ + " --out " + out);
    ASSERT_EQ(across.exit_code, 0) << across.output;
    // Process 0 alone reports, naming the processes.
    EXPECT_NE(across.output.find(processes == 1 ? "across 1 process," : "across " + std::to_string(processes) +
                                                                           " processes,"),
              std::string::npos)
        << across.output;
    EXPECT_EQ(across.output.find("mined "), across.output.rfind("mined ")) << across.output;
    const jm::ResultReader a(single), b(out);
    EXPECT_GT(a.read_int64("/patterns/support").size(), 100u);
    jm::testing::expect_same_datasets(a, b, "", /*attributes=*/true);
    jm::testing::expect_same_meta(a, b);
    EXPECT_EQ(b.read_int_attribute("/meta", "processes"), processes);
  }
}

TEST_F(MineAcrossProcesses, BatchesOnEveryProcessGiveTheResultOfOne) {
  const std::string single = (dir_ / "single.h5").string();
  ASSERT_EQ(run_shell(cli() + " mine --input " + events_ + options_ + " --out " + single).exit_code, 0);
  for (const int processes : {2, 3}) {
    const std::string out = (dir_ / ("batched_" + std::to_string(processes) + ".h5")).string();
    const CommandResult across = run_shell(mpirun() + " -np " + std::to_string(processes) + " " + cli() + " mine --input " +
                                           events_ + options_ + " --batch-events 3000 --out " + out);
    ASSERT_EQ(across.exit_code, 0) << across.output;
    EXPECT_NE(across.output.find("in batches of at most 3000 events"), std::string::npos) << across.output;
    const jm::ResultReader a(single), b(out);
    jm::testing::expect_same_datasets(a, b, "", /*attributes=*/true);
    jm::testing::expect_same_meta(a, b);
  }
  // What batches cannot apply is refused before any process reads.
  const CommandResult refused = run_shell(mpirun() + " -np 2 " + cli() + " mine --input " + events_ + options_ +
                                          " --window-days 30 --batch-events 3000 --out " +
                                          (dir_ / "never.h5").string());
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("process 0 of 2: configuration error: batches: an outcome window rule"), std::string::npos)
      << refused.output;
  EXPECT_FALSE(fs::exists(dir_ / "never.h5"));
}

// A log with what the whole-file reading must get right in shares: a conversion touchpoint whose
// events have others logged at the same instant (cut, and listed in a warning, with ties), bad
// rows spread over the file, and customers whose events are far apart in the file.
std::string write_awkward_log(const fs::path& dir) {
  const fs::path path = dir / "awkward.csv";
  std::ofstream out(path);
  out << "customer_id,timestamp,touchpoint,channel,value,conversion\n";
  const char* cut_with[] = {"zeta", "alpha", "mid", "beta", "omega", "gamma"};
  for (int round = 0; round < 3; ++round)
    for (int c = 0; c < 400; ++c) {
      const std::string customer = "u" + std::to_string(c);
      const std::string day = "2026-03-" + std::to_string(10 + round);
      out << customer << "," << day << "T09:00:0" << (c % 10) << "Z,home,web,0,0\n";
      out << customer << "," << day << "T09:10:00Z," << (c % 3 == 0 ? "search" : "product") << ",app,0,0\n";
      if (c % 50 == 7) out << customer << ",not-a-time,home,web,0,0\n";  // a bad row
      if (c % 4 == 0) {
        out << customer << "," << day << "T09:20:00Z,purchase,web,25,0\n";
        // Logged with the purchase: cut. Two touchpoints cut equally often (a tie) among six.
        if (c % 40 == 0) out << customer << "," << day << "T09:20:00Z," << cut_with[(c / 40) % 6] << ",web,0,0\n";
      }
    }
  return path.string();
}

TEST_F(MineAcrossProcesses, SharesOfAnAwkwardLogGiveTheResultOfOne) {
  const std::string log = write_awkward_log(dir_);
  const std::string options =
      " --conversion-touchpoint purchase --on-error skip --min-support 0.02 --device cpu --threads 1 --quiet";
  const std::string single = (dir_ / "awkward_single.h5").string();
  const CommandResult alone = run_shell(cli() + " mine --input " + log + options + " --out " + single);
  ASSERT_EQ(alone.exit_code, 0) << alone.output;
  const jm::ResultReader a(single);
  ASSERT_FALSE(a.read_strings("/meta/warnings").empty()) << "the log must make the outcome cut warn";
  ASSERT_GE(a.read_strings("/meta/bad_rows").size(), 10u);
  for (const int processes : {2, 3, 7}) {
    const std::string out = (dir_ / ("awkward_" + std::to_string(processes) + ".h5")).string();
    const CommandResult across = run_shell(mpirun() + " -np " + std::to_string(processes) + " " + cli() +
                                           " mine --input " + log + options + " --out " + out);
    ASSERT_EQ(across.exit_code, 0) << across.output;
    const jm::ResultReader b(out);
    jm::testing::expect_same_datasets(a, b, "", /*attributes=*/true);
    jm::testing::expect_same_meta(a, b);
  }
}

TEST_F(MineAcrossProcesses, ABadRowStopsEveryProcessNamingItsLineInTheWholeFile) {
  const std::string log = write_awkward_log(dir_);
  const std::string out = (dir_ / "never.h5").string();
  const std::string options = " --conversion-touchpoint purchase --min-support 0.02 --device cpu --threads 1 --quiet";
  const CommandResult alone = run_shell(cli() + " mine --input " + log + options + " --out " + out);
  ASSERT_NE(alone.exit_code, 0);
  // "<file>:<line>: column 'timestamp': ..."
  const size_t at = alone.output.find(log + ":");
  ASSERT_NE(at, std::string::npos) << alone.output;
  const std::string where = alone.output.substr(at, alone.output.find(": ", at + log.size() + 1) - at);
  const CommandResult across = run_shell(mpirun() + " -np 3 " + cli() + " mine --input " + log + options + " --out " + out);
  EXPECT_NE(across.exit_code, 0) << across.output;
  // The first bad row is in the first share: named by the same line, by every process.
  const std::string message = "journeymap: process 0 of 3: " + where + ": column 'timestamp'";
  const size_t first = across.output.find(message);
  ASSERT_NE(first, std::string::npos) << across.output << "\nexpected: " << message;
  EXPECT_NE(across.output.find(message, first + 1), std::string::npos) << across.output;
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(MineAcrossProcesses, SharesOfAnSpmfFileGiveTheResultOfOne) {
  // Comments, blank lines, items that differ only in spelling ("07" and "7"), sequences of one item.
  std::ofstream spmf(dir_ / "sequences.txt");
  spmf << "# a comment\n@CONVERTED_FROM_TEXT\n";
  for (int s = 0; s < 900; ++s) {
    if (s % 97 == 0) spmf << "\n";
    for (int e = 0; e <= s % 7; ++e) spmf << ((s * 7 + e * 3) % 11 == 0 ? "07" : std::to_string((s + e) % 9)) << " -1 ";
    spmf << "-2\n";
  }
  spmf.close();
  const std::string input = (dir_ / "sequences.txt").string();
  const std::string options = " --min-support 20 --max-length 4 --device cpu --threads 1 --quiet";
  const std::string single = (dir_ / "spmf_single.h5").string();
  ASSERT_EQ(run_shell(cli() + " mine --input " + input + options + " --out " + single).exit_code, 0);
  for (const int processes : {2, 3, 5}) {
    const std::string out = (dir_ / ("spmf_" + std::to_string(processes) + ".h5")).string();
    const CommandResult across = run_shell(mpirun() + " -np " + std::to_string(processes) + " " + cli() +
                                           " mine --input " + input + options + " --out " + out);
    ASSERT_EQ(across.exit_code, 0) << across.output;
    const jm::ResultReader a(single), b(out);
    EXPECT_GT(a.read_int64("/patterns/support").size(), 20u);
    jm::testing::expect_same_datasets(a, b, "", /*attributes=*/true);
    jm::testing::expect_same_meta(a, b);
  }
  // A malformed line near the end (in the last share) is named by its line in the whole file.
  std::ofstream(input, std::ios::app) << "3 -1 x -1 -2\n";
  const CommandResult alone = run_shell(cli() + " mine --input " + input + options + " --out " + single + ".bad");
  ASSERT_NE(alone.exit_code, 0);
  const size_t at = alone.output.find(input + ":");
  ASSERT_NE(at, std::string::npos) << alone.output;
  const std::string where = alone.output.substr(at, alone.output.find(": ", at + input.size() + 1) - at);
  const CommandResult across = run_shell(mpirun() + " -np 3 " + cli() + " mine --input " + input + options + " --out " +
                                         (dir_ / "never.h5").string());
  EXPECT_NE(across.exit_code, 0);
  EXPECT_NE(across.output.find("journeymap: process 2 of 3: " + where + ":"), std::string::npos)
      << across.output << "\nexpected: " << where;
}

TEST_F(MineAcrossProcesses, SharesOfAParquetFileGiveTheResultOfOne) {
  if (!jm::parquet_export_available()) GTEST_SKIP() << "this build has no Apache Arrow";
  const jm::IngestResult events = jm::read_events_csv(events_, jm::CsvOptions{});
  const std::string parquet = (dir_ / "events.parquet").string();
  jm::write_table_parquet(jm::event_table(events.events), parquet, 4000);  // about 7 row groups
  const std::string single = (dir_ / "parquet_single.h5").string();
  ASSERT_EQ(run_shell(cli() + " mine --input " + parquet + options_ + " --out " + single).exit_code, 0);
  for (const int processes : {2, 3, 9}) {  // 9 processes: some without a row group
    const std::string out = (dir_ / ("parquet_" + std::to_string(processes) + ".h5")).string();
    const CommandResult across = run_shell(mpirun() + " -np " + std::to_string(processes) + " " + cli() +
                                           " mine --input " + parquet + options_ + " --out " + out);
    ASSERT_EQ(across.exit_code, 0) << across.output;
    const jm::ResultReader a(single), b(out);
    jm::testing::expect_same_datasets(a, b, "", /*attributes=*/true);
    jm::testing::expect_same_meta(a, b);
  }
}

TEST_F(MineAcrossProcesses, ProcessesOwningNoCustomersOrNoOutcomesStillFinish) {
  // Two customers, one converting with an event logged at the same instant (cut): most of 5
  // processes own nothing, and only one cuts anything. The header comes after 200 blank lines,
  // more than the first share's bytes.
  const fs::path tiny = dir_ / "tiny.csv";
  std::ofstream(tiny) << std::string(200, '\n')
                      << "customer_id,timestamp,touchpoint,channel,value,conversion\n"
                         "a,2026-01-01T00:00:00Z,home,web,0,0\na,2026-01-01T00:01:00Z,cart,web,0,0\n"
                         "b,2026-01-01T00:00:00Z,home,web,0,0\nb,2026-01-01T00:02:00Z,buy,web,0,0\n"
                         "b,2026-01-01T00:02:00Z,email,web,0,0\n";
  const std::string options = " --conversion-touchpoint buy --min-support 1 --device cpu --threads 1 --quiet";
  ASSERT_EQ(run_shell(cli() + " mine --input " + tiny.string() + options + " --out " + (dir_ / "t1.h5").string()).exit_code, 0);
  const jm::ResultReader one((dir_ / "t1.h5").string());
  ASSERT_FALSE(one.read_strings("/meta/warnings").empty()) << "the cut must warn";
  for (const int processes : {2, 5}) {
    const std::string out = (dir_ / ("t" + std::to_string(processes) + "_across.h5")).string();
    const CommandResult across = run_shell("timeout 120 " + mpirun() + " -np " + std::to_string(processes) + " " + cli() +
                                           " mine --input " + tiny.string() + options + " --out " + out);
    ASSERT_EQ(across.exit_code, 0) << across.output;
    const jm::ResultReader many(out);
    jm::testing::expect_same_datasets(one, many, "", true);
    jm::testing::expect_same_meta(one, many);
  }
}

TEST_F(MineAcrossProcesses, AnInputThatDiffersBetweenNodesIsRefused) {
  // The same path in two working folders, same size, one byte different.
  fs::create_directories(dir_ / "a");
  fs::create_directories(dir_ / "b");
  fs::copy_file(events_, dir_ / "a" / "events.csv");
  std::string text;
  {
    std::ifstream in(events_, std::ios::binary);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  text[text.size() / 2] = text[text.size() / 2] == '0' ? '1' : '0';
  std::ofstream(dir_ / "b" / "events.csv", std::ios::binary) << text;
  const std::string out = (dir_ / "never.h5").string();
  const std::string command = cli() + " mine --input events.csv" + options_ + " --out " + out;
  const CommandResult result = run_shell(mpirun() + " -np 1 -wdir " + (dir_ / "a").string() + " " + command +
                                         " : -np 1 -wdir " + (dir_ / "b").string() + " " + command);
  EXPECT_NE(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("process 1 of 2 runs with a different input file"), std::string::npos) << result.output;
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(MineAcrossProcesses, AProcessThatCannotReadStopsEveryProcessAndNothingIsWritten) {
  // Two working folders, the input in one only: process 1 cannot open it.
  fs::create_directories(dir_ / "a");
  fs::create_directories(dir_ / "b");
  fs::copy_file(events_, dir_ / "a" / "events.csv");
  const std::string out = (dir_ / "never.h5").string();
  const std::string command = cli() + " mine --input events.csv" + options_ + " --out " + out;
  const CommandResult result = run_shell(mpirun() + " -np 1 -wdir " + (dir_ / "a").string() + " " + command +
                                         " : -np 1 -wdir " + (dir_ / "b").string() + " " + command);
  EXPECT_NE(result.exit_code, 0) << result.output;
  // Both processes stop with process 1's message.
  const std::string message = "journeymap: process 1 of 2: events.csv: cannot open file";
  const size_t first = result.output.find(message);
  ASSERT_NE(first, std::string::npos) << result.output;
  EXPECT_NE(result.output.find(message, first + 1), std::string::npos) << "one process only: " << result.output;
  EXPECT_FALSE(fs::exists(out));
  for (const auto& entry : fs::directory_iterator(dir_))
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << entry.path();
}

TEST_F(MineAcrossProcesses, ProcessesWithDifferentSettingsAreRefusedAtTheStart) {
  const std::string out = (dir_ / "never.h5").string();
  const std::string command = cli() + " mine --input " + events_ + options_ + " --out " + out;
  const CommandResult result =
      run_shell(mpirun() + " -np 1 " + command + " : -np 1 " + command + " --max-gap 2");
  EXPECT_NE(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("process 1 of 2 runs with a different configuration than process 0"), std::string::npos)
      << result.output;
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(MineAcrossProcesses, OtherCommandsRefuseToRunOncePerProcess) {
  const CommandResult result =
      run_shell(mpirun() + " -np 2 " + cli() + " segment --input " + events_ + " --out " + (dir_ / "s.h5").string());
  EXPECT_NE(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("only `journeymap run` and `journeymap mine` run across processes so far"), std::string::npos)
      << result.output;
  EXPECT_FALSE(fs::exists(dir_ / "s.h5"));
}

}  // namespace
