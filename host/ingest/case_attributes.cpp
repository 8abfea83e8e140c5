#include "journeymap/case_attributes.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <vector>

#include <fmt/format.h>

#include "host/core/utf8.hpp"
#include "host/ingest/csv_fields.hpp"
#include "journeymap/common.hpp"

namespace jm {
namespace {

constexpr size_t kMaxColumns = 256;


bool parse_number(const std::string& text, float& out) {
  char* end = nullptr;
  out = std::strtof(text.c_str(), &end);
  return end != text.c_str() && *end == '\0' && std::isfinite(out);
}

}  // namespace

CaseAttributes read_case_attributes(const std::string& path, const Vocabulary& customers, CaseAttributeStats* stats) {
  std::ifstream in(path);
  if (!in) throw InputError(path, 0, "", "", "cannot open the case attributes file");
  std::string line;
  if (!std::getline(in, line)) throw InputError(path, 1, "", "", "the case attributes file is empty (expected a header id,<attr>,...)");
  const std::vector<std::string> header = split_csv_fields(line);
  if (header.size() < 2) throw InputError(path, 1, "", line, "expected a header id,<attr>,...");
  if (header.size() - 1 > kMaxColumns) throw InputError(path, 1, "", "", fmt::format("more than {} attribute columns", kMaxColumns));
  std::set<std::string> seen;
  for (size_t c = 1; c < header.size(); ++c)
    if (header[c].empty() || !seen.insert(header[c]).second)
      throw InputError(path, 1, header[c], header[c], "attribute names must be non-empty and distinct");

  const size_t n_attributes = header.size() - 1;
  // Pass 1: raw text per customer; pass 2 decides each column's kind and encodes it.
  std::vector<std::vector<std::string>> text(static_cast<size_t>(customers.size()));
  std::vector<int64_t> line_of(static_cast<size_t>(customers.size()), 0);
  std::set<std::string> unmatched;
  CaseAttributeStats local;
  int64_t line_number = 1;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty() || line == "\r") continue;
    if (!is_valid_utf8(line)) throw InputError(path, line_number, "", "", "not valid UTF-8");
    std::vector<std::string> fields = split_csv_fields(line);
    if (fields.size() != header.size())
      throw InputError(path, line_number, "", line, fmt::format("expected {} fields, found {}", header.size(), fields.size()));
    ++local.rows;
    const int32_t customer = customers.find(fields[0]);
    if (customer < 0) {
      if (!unmatched.insert(fields[0]).second) throw InputError(path, line_number, header[0], fields[0], "id listed twice");
      continue;
    }
    if (line_of[customer] != 0)
      throw InputError(path, line_number, header[0], fields[0], fmt::format("id listed twice (first on line {})", line_of[customer]));
    line_of[customer] = line_number;
    fields.erase(fields.begin());
    text[customer] = std::move(fields);
  }
  local.unmatched = static_cast<int64_t>(unmatched.size());
  if (stats) *stats = local;

  CaseAttributes out;
  out.n_customers = customers.size();
  out.values.assign(static_cast<size_t>(out.n_customers) * n_attributes, std::numeric_limits<float>::quiet_NaN());
  for (size_t a = 0; a < n_attributes; ++a) {
    bool numeric = true;
    std::map<std::string, int64_t> frequency;
    float number = 0.0f;
    for (const auto& row : text) {
      if (row.empty() || row[a].empty()) continue;
      numeric = numeric && parse_number(row[a], number);
      ++frequency[row[a]];
    }
    out.names.push_back(header[a + 1]);
    out.categorical.push_back(numeric ? 0 : 1);
    std::vector<std::string> categories;
    std::map<std::string, float> code_of;
    if (!numeric) {
      std::vector<std::pair<std::string, int64_t>> ranked(frequency.begin(), frequency.end());
      std::stable_sort(ranked.begin(), ranked.end(), [](const auto& x, const auto& y) { return x.second > y.second; });
      for (const auto& [name, count] : ranked) {
        code_of[name] = static_cast<float>(categories.size());
        categories.push_back(name);
      }
    }
    out.categories.push_back(categories);
    for (size_t c = 0; c < text.size(); ++c) {
      if (text[c].empty() || text[c][a].empty()) continue;
      float& cell = out.values[c * n_attributes + a];
      if (numeric) parse_number(text[c][a], cell);
      else cell = code_of.at(text[c][a]);
    }
  }
  return out;
}

void attach_case_attributes(JourneySet& journeys, const std::string& path, std::vector<std::string>* warnings) {
  if (path.empty()) return;
  CaseAttributeStats stats;
  journeys.case_attributes = read_case_attributes(path, journeys.customers, &stats);
  if (stats.unmatched > 0 && warnings)
    warnings->push_back(fmt::format("{} of the {} ids in the case attributes file {} are not among the customers",
                                    stats.unmatched, stats.rows, path));
}

}  // namespace jm
