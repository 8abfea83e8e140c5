// Small helpers shared by the test suites: scratch folders and file writing.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace jm::testing {

/// A fresh folder under the test output directory, named after the running test.
inline std::filesystem::path scratch_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(info->test_suite_name()) + "." + info->name();
  for (char& c : name)
    if (c == '/') c = '_';
  auto dir = std::filesystem::path(JM_TEST_OUTPUT_DIR) / name;
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

/// Path of a public dataset file, or "" when ../shared/data is not present.
inline std::string shared_data(const std::string& relative) {
  auto path = std::filesystem::path(JM_SHARED_DATA_DIR) / relative;
  return std::filesystem::exists(path) ? path.string() : std::string();
}

}  // namespace jm::testing
