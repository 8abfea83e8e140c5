// Format detection for `read_events`: looks only at the first data line, so it costs one small
// read whatever the file size.
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "journeymap/common.hpp"
#include "journeymap/ingest.hpp"

namespace jm {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/// True when `line` is whitespace-separated integers ending in -2. When the line was cut by the
/// read window (`complete` false) its last, possibly partial, token is ignored and an all-integer
/// prefix counts as SPMF: no CSV header is all integers.
bool looks_like_spmf(std::string_view line, bool complete) {
  std::vector<std::string_view> tokens;
  size_t pos = 0;
  while (pos < line.size()) {
    while (pos < line.size() && is_space(line[pos])) ++pos;
    const size_t begin = pos;
    while (pos < line.size() && !is_space(line[pos])) ++pos;
    if (pos > begin) tokens.push_back(line.substr(begin, pos - begin));
  }
  if (!complete && !tokens.empty()) tokens.pop_back();
  if (tokens.empty()) return false;
  for (std::string_view token : tokens) {
    long long number = 0;
    const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), number);
    if (ec != std::errc() || end != token.data() + token.size()) return false;
  }
  return !complete || tokens.back() == "-2";
}

}  // namespace

InputFormat detect_input_format(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) throw InputError(path, 0, "", "", std::string("cannot open file: ") + std::strerror(errno));
  constexpr size_t kWindow = size_t{1} << 20;
  std::string window(kWindow, '\0');
  window.resize(std::fread(window.data(), 1, kWindow, file));
  const bool whole_file = std::feof(file) != 0;
  std::fclose(file);
  std::string_view text = window;
  if (text.substr(0, 4) == "PAR1") return InputFormat::Parquet;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    const bool complete = newline != std::string_view::npos || whole_file;
    const std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    size_t first = 0;
    while (first < line.size() && is_space(line[first])) ++first;
    if (first == line.size()) continue;
    const char lead = line[first];
    if (lead == '#' || lead == '%' || lead == '@') continue;
    if (looks_like_spmf(line, complete)) return InputFormat::Spmf;
    break;
  }
  // Empty files land here too: the CSV reader reports them.
  return InputFormat::Csv;
}

IngestResult read_events(const std::string& path, const CsvOptions& options) {
  switch (detect_input_format(path)) {
    case InputFormat::Parquet: return read_events_parquet(path, options);
    case InputFormat::Spmf:
      if (options.on_error == OnError::Skip)
        throw ConfigError(path + " is an SPMF sequence database: --on-error skip applies to CSV input only");
      return read_events_spmf(path, options.num_threads, options.on_events);
    default: return read_events_csv(path, options);
  }
}

}  // namespace jm
