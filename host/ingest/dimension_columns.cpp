#include "host/ingest/dimension_columns.hpp"

#include <set>

#include "journeymap/common.hpp"

namespace jm {

DimensionColumn parse_dimension_column(const std::string& text) {
  const size_t eq = text.find('=');
  DimensionColumn out;
  out.name = text.substr(0, eq);
  out.column = eq == std::string::npos ? out.name : text.substr(eq + 1);
  if (out.name.empty() || out.column.empty())
    throw ConfigError("a dimension is \"name\" or \"name=column\", got \"" + text + "\"");
  return out;
}

size_t request_dimension_columns(CsvOptions& options) {
  CsvColumns& columns = options.columns;
  std::set<std::string> names;
  for (const DimensionColumn& dimension : columns.dimensions) {
    if (!names.insert(dimension.name).second) throw ConfigError("dimension '" + dimension.name + "' is listed twice");
    for (const std::string* role : {&columns.customer, &columns.timestamp, &columns.touchpoint, &columns.channel,
                                    &columns.value, &columns.conversion})
      if (*role == dimension.column)
        throw ConfigError("dimension '" + dimension.name + "': column '" + dimension.column +
                          "' is already an event field");
  }
  const size_t first = columns.extra.size();
  for (const DimensionColumn& dimension : columns.dimensions) columns.extra.push_back(dimension.column);
  return first;
}

void take_dimension_columns(IngestResult& result, const std::vector<DimensionColumn>& dimensions, size_t first) {
  if (dimensions.empty()) return;
  if (result.extra_columns.size() != first + dimensions.size())
    throw ConfigError("custom dimensions need named columns (CSV or Parquet input), which SPMF files do not have");
  for (size_t d = 0; d < dimensions.size(); ++d) {
    CodedColumn column = std::move(result.extra_columns[first + d]);
    column.name = dimensions[d].name;
    result.events.dimensions.push_back(std::move(column));
  }
  result.extra_columns.resize(first);
}

}  // namespace jm
