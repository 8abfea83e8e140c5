// Custom dimensions are read through the readers' extra columns: requested after any other extra
// column, then moved from IngestResult::extra_columns into EventTable::dimensions.
#pragma once

#include <vector>

#include "journeymap/ingest.hpp"

namespace jm {

/// Appends the columns of `options.columns.dimensions` to `options.columns.extra` and returns the
/// index of the first. Throws ConfigError on a dimension named twice or a column used twice.
size_t request_dimension_columns(CsvOptions& options);

/// Moves extra columns [first, ...) into `result.events.dimensions`, named after their dimension.
void take_dimension_columns(IngestResult& result, const std::vector<DimensionColumn>& dimensions, size_t first);

}  // namespace jm
