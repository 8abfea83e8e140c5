// `mpirun -np N journeymap mine` on loopback: the same result file as one process, for 1, 2 and 4
// processes; a process that cannot read its input, or runs with other settings, stops every
// process with its message and leaves no result. Skips when this build has no MPI or mpirun is
// not on the PATH.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "journeymap/result_file.hpp"
#include "pipeline/same_datasets.hpp"
#include "test_helpers.hpp"

namespace {

namespace fs = std::filesystem;

struct CommandResult {
  int exit_code;
  std::string output;  // stdout and stderr together
};

CommandResult run_shell(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return {-1, "popen failed"};
  std::string output;
  std::array<char, 4096> buffer{};
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) output.append(buffer.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

std::string cli() {
  const char* from_environment = std::getenv("JM_CLI");
  return from_environment != nullptr && *from_environment != '\0' ? from_environment : JM_CLI_PATH;
}

// mpirun with the loopback settings of a small machine: more processes than cores, and root
// allowed (containers).
std::string mpirun() {
  return std::string("mpirun --oversubscribe") + (geteuid() == 0 ? " --allow-run-as-root" : "");
}

class MineAcrossProcesses : public ::testing::Test {
 protected:
  void SetUp() override {
    if (run_shell(cli() + " --version").output.find("MPI: not built in") != std::string::npos)
      GTEST_SKIP() << "built without MPI";
    if (run_shell("command -v mpirun").exit_code != 0) GTEST_SKIP() << "mpirun is not on the PATH";
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
  }
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
  EXPECT_NE(result.output.find("only `journeymap mine` runs across processes so far"), std::string::npos)
      << result.output;
  EXPECT_FALSE(fs::exists(dir_ / "s.h5"));
}

}  // namespace
