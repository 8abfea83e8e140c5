// Reading a conversion flag field (1/0, true/false, yes/no in any case; empty is no), shared by the
// CSV and Parquet readers so that both accept the same spellings.
#pragma once

#include <optional>
#include <string_view>

namespace jm::ingest_detail {

inline bool equals_ignore_case(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

inline std::optional<bool> parse_flag(std::string_view text) {
  if (text.empty() || text == "0") return false;
  if (text == "1") return true;
  if (equals_ignore_case(text, "true") || equals_ignore_case(text, "yes")) return true;
  if (equals_ignore_case(text, "false") || equals_ignore_case(text, "no")) return false;
  return std::nullopt;
}

}  // namespace jm::ingest_detail
