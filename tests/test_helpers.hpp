// Small helpers shared by the test suites: scratch folders, file writing, running the command line.
#pragma once

#include <sys/wait.h>

#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace jm::testing {

/// Where tests write: JM_TEST_OUTPUT_DIR from the environment when set (a build run on another
/// machine, see scripts/gpu_check.sh), else the build folder's tests/output.
inline std::filesystem::path test_output_dir() {
  const char* from_environment = std::getenv("JM_TEST_OUTPUT_DIR");
  return from_environment != nullptr && *from_environment != '\0' ? from_environment : JM_TEST_OUTPUT_DIR;
}

/// A fresh folder under the test output directory, named after the running test.
inline std::filesystem::path scratch_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(info->test_suite_name()) + "." + info->name();
  for (char& c : name)
    if (c == '/') c = '_';
  auto dir = test_output_dir() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

/// Writes `content` to `path` verbatim (binary mode) and returns the path as a string.
inline std::string write_file(const std::filesystem::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  return path.string();
}

/// Path of a public dataset file, or "" when ../shared/data is not present. The environment
/// variable JM_SHARED_DATA_DIR names another copy (a GPU machine gets them inside the bundle).
inline std::string shared_data(const std::string& relative) {
  const char* moved = std::getenv("JM_SHARED_DATA_DIR");
  auto path = std::filesystem::path(moved != nullptr && *moved != '\0' ? moved : JM_SHARED_DATA_DIR) / relative;
  return std::filesystem::exists(path) ? path.string() : std::string();
}

/// What a shell command line printed (stdout and stderr together) and its exit status.
struct CommandResult {
  int exit_code;
  std::string output;
};

/// Runs `command` with /bin/sh; stdout and stderr together.
inline CommandResult run_shell(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return {-1, "popen failed"};
  std::string output;
  std::array<char, 4096> buffer{};
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) output.append(buffer.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

/// The binary under test: JM_CLI when set (a build carried to another machine, where the
/// compiled-in path does not exist), else the one built beside the tests.
inline std::string cli_path() {
  const char* from_environment = std::getenv("JM_CLI");
  return from_environment != nullptr && *from_environment != '\0' ? from_environment : JM_CLI_PATH;
}

/// Why runs across processes cannot be tested here (a build without MPI, no mpirun on the PATH),
/// or empty when they can.
inline std::string why_no_mpi_runs() {
  if (run_shell(cli_path() + " --version").output.find("MPI: not built in") != std::string::npos)
    return "built without MPI";
  if (run_shell("command -v mpirun").exit_code != 0) return "mpirun is not on the PATH";
  return "";
}

/// mpirun with the loopback settings of a small machine: more processes than cores, and root
/// allowed (containers).
/// Pearson's correlation of two equally long series (models compared by their scores).
inline double correlation(const std::vector<float>& a, const std::vector<float>& b) {
  double ma = 0, mb = 0;
  for (size_t i = 0; i < a.size(); ++i) ma += a[i], mb += b[i];
  ma /= static_cast<double>(a.size()), mb /= static_cast<double>(b.size());
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) * (a[i] - ma);
    bb += (b[i] - mb) * (b[i] - mb);
  }
  return ab / std::sqrt(aa * bb);
}

inline std::string mpirun() {
  return std::string("mpirun --oversubscribe") + (geteuid() == 0 ? " --allow-run-as-root" : "");
}

}  // namespace jm::testing
