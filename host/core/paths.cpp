#include "host/core/paths.hpp"

#include <filesystem>
#include <system_error>

#include "journeymap/common.hpp"

namespace jm {

void require_distinct_files(const std::string& input, const std::string& output, const std::string& output_option) {
  if (input.empty() || output.empty()) return;
  namespace fs = std::filesystem;
  std::error_code error;
  const bool same = fs::exists(output, error) ? fs::equivalent(input, output, error)
                                              : fs::weakly_canonical(input, error) == fs::weakly_canonical(output, error);
  if (same && !error)
    throw ConfigError(output_option + " '" + output + "' is the input file '" + input +
                      "': writing there would destroy the input; choose another output");
}

uint64_t file_size_or_zero(const std::string& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  return error ? 0 : static_cast<uint64_t>(size);
}

}  // namespace jm
