// Guards on the files a command reads and writes.
#pragma once

#include <cstdint>
#include <string>

namespace jm {

/// Throws ConfigError when `output` names the same file as `input` (also through links or a
/// relative path): writing the result would destroy the data it is computed from.
void require_distinct_files(const std::string& input, const std::string& output, const std::string& output_option);

/// The size of the file at `path` in bytes, or 0 when it cannot be read (for bookkeeping only).
uint64_t file_size_or_zero(const std::string& path);

}  // namespace jm
