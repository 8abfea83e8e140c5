#include "journeymap/covariates.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <numeric>
#include <set>

#include <fmt/format.h>

#include "host/core/utf8.hpp"
#include "host/ingest/csv_fields.hpp"
#include "journeymap/common.hpp"
#include "journeymap/timestamp.hpp"

namespace jm {
namespace {

bool parse_finite(const std::string& text, double& out) {
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return !text.empty() && end == text.c_str() + text.size() && std::isfinite(out);
}

}  // namespace

int32_t CovariateTable::column(const std::string& name) const {
  const auto found = std::find(names.begin(), names.end(), name);
  return found == names.end() ? -1 : static_cast<int32_t>(found - names.begin());
}

double CovariateTable::value_at(int32_t column, int64_t time_ms) const {
  const int64_t bucket_ms = bucket_seconds * 1000;
  const int64_t start = time_ms - ((time_ms % bucket_ms) + bucket_ms) % bucket_ms;
  const auto row = std::lower_bound(bucket_start_ms.begin(), bucket_start_ms.end(), start);
  if (row == bucket_start_ms.end() || *row != start) return 0.0;
  return values[static_cast<size_t>(row - bucket_start_ms.begin()) * names.size() + static_cast<size_t>(column)];
}

CovariateTable read_covariates(const std::string& path, int64_t bucket_seconds) {
  if (bucket_seconds < 1 || bucket_seconds > kMaxBucketSeconds)
    throw ConfigError("covariates: bucket_seconds must be between 1 and " + std::to_string(kMaxBucketSeconds));
  std::ifstream in(path);
  if (!in) throw InputError(path, 0, "", "", "cannot open the covariates file");
  std::string line;
  if (!std::getline(in, line)) throw InputError(path, 1, "", "", "the covariates file is empty (expected a header date,<factor>,...)");
  if (!is_valid_utf8(line)) throw InputError(path, 1, "", "", "not valid UTF-8");
  const std::vector<std::string> header = split_csv_fields(line);
  if (header.size() < 2) throw InputError(path, 1, "", line, "expected a header date,<factor>,...");
  if (header.size() - 1 > kMaxCovariates)
    throw InputError(path, 1, "", "", fmt::format("more than {} covariate columns", kMaxCovariates));
  std::set<std::string> seen;
  for (size_t c = 1; c < header.size(); ++c)
    if (header[c].empty() || !seen.insert(header[c]).second)
      throw InputError(path, 1, header[c], header[c], "covariate names must be non-empty and distinct");

  CovariateTable table;
  table.file = path;
  table.bucket_seconds = bucket_seconds;
  table.names.assign(header.begin() + 1, header.end());
  const int64_t bucket_ms = bucket_seconds * 1000;
  std::map<int64_t, int64_t> line_of_bucket;
  std::vector<std::pair<int64_t, std::vector<double>>> rows;
  int64_t line_number = 1;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty() || line == "\r") continue;
    if (!is_valid_utf8(line)) throw InputError(path, line_number, "", "", "not valid UTF-8");
    if (static_cast<int64_t>(rows.size()) >= kMaxCovariateRows)
      throw InputError(path, line_number, "", "", fmt::format("more than {} rows", kMaxCovariateRows));
    const std::vector<std::string> fields = split_csv_fields(line);
    if (fields.size() != header.size())
      throw InputError(path, line_number, "", line, fmt::format("expected {} fields, found {}", header.size(), fields.size()));
    const std::optional<int64_t> time = parse_timestamp(fields[0]);
    if (!time) throw InputError(path, line_number, header[0], fields[0], "not a date or timestamp");
    if (((*time % bucket_ms) + bucket_ms) % bucket_ms != 0)
      throw InputError(path, line_number, header[0], fields[0],
                       fmt::format("not the start of a bucket of {} s (UTC)", bucket_seconds));
    const auto [first, inserted] = line_of_bucket.emplace(*time, line_number);
    if (!inserted)
      throw InputError(path, line_number, header[0], fields[0], fmt::format("date listed twice (first on line {})", first->second));
    std::vector<double> values(table.names.size());
    for (size_t c = 1; c < fields.size(); ++c)
      if (!parse_finite(fields[c], values[c - 1]))
        throw InputError(path, line_number, header[c], fields[c], "not a finite number");
      else if (std::fabs(values[c - 1]) > kMaxCovariateMagnitude)
        throw InputError(path, line_number, header[c], fields[c], "beyond +-1e15 (rescale the factor)");
    rows.emplace_back(*time, std::move(values));
  }
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [start, values] : rows) {
    table.bucket_start_ms.push_back(start);
    table.values.insert(table.values.end(), values.begin(), values.end());
  }
  return table;
}

std::shared_ptr<const CovariateTable> load_covariates(const std::string& path, int64_t bucket_seconds) {
  if (path.empty()) return nullptr;
  return std::make_shared<const CovariateTable>(read_covariates(path, bucket_seconds));
}

CovariateCoverage covariate_coverage(const CovariateTable& table, int64_t first_bucket_ms, int64_t last_bucket_ms) {
  CovariateCoverage coverage;
  int64_t inside = 0;
  for (const int64_t start : table.bucket_start_ms) {
    if (start < first_bucket_ms) ++coverage.rows_before;
    else if (start > last_bucket_ms) ++coverage.rows_after;
    else ++inside;
  }
  const int64_t bucket_ms = table.bucket_seconds * 1000;
  coverage.buckets_without = (last_bucket_ms - first_bucket_ms) / bucket_ms + 1 - inside;
  return coverage;
}

std::string describe_covariate_coverage(const CovariateTable& table, const CovariateCoverage& coverage) {
  if (coverage.rows_before == 0 && coverage.rows_after == 0 && coverage.buckets_without == 0) return "";
  std::vector<std::string> parts;
  if (coverage.rows_before + coverage.rows_after > 0)
    parts.push_back(fmt::format("{} rows lie outside the data's period ({} before, {} after) and are not used",
                                coverage.rows_before + coverage.rows_after, coverage.rows_before, coverage.rows_after));
  if (coverage.buckets_without > 0)
    parts.push_back(fmt::format("{} buckets of the data have no row (every factor read as 0)", coverage.buckets_without));
  std::string text = "covariates " + table.file + ": ";
  for (size_t i = 0; i < parts.size(); ++i) text += (i ? "; " : "") + parts[i];
  return text;
}

}  // namespace jm
