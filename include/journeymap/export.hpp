// Result tables for BI tools: every table of a result file as a tidy table (one row per entity,
// typed columns, UTF-8 strings), written as Parquet (Apache Arrow) or CSV. See docs/export.md.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "journeymap/events.hpp"

namespace jm {

/// One typed column of an exported table.
struct TableColumn {
  enum class Type { Int64, Float32, Float64, Bool, String, TimestampMs };
  std::string name;
  Type type = Type::Int64;
  std::vector<int64_t> ints;         ///< Int64; TimestampMs (ms since the epoch, UTC)
  std::vector<double> floats;        ///< Float32, Float64 (NaN: no value)
  std::vector<uint8_t> bools;        ///< Bool
  std::vector<std::string> strings;  ///< String (UTF-8)
  std::vector<uint8_t> valid;        ///< empty: every value present; else 0 marks a missing value

  size_t size() const {
    switch (type) {
      case Type::Int64:
      case Type::TimestampMs: return ints.size();
      case Type::Float32:
      case Type::Float64: return floats.size();
      case Type::Bool: return bools.size();
      case Type::String: return strings.size();
    }
    return 0;
  }
  bool is_valid(size_t row) const { return valid.empty() || valid[row] != 0; }
};

struct Table {
  std::string name;
  std::vector<TableColumn> columns;
  int64_t rows() const { return columns.empty() ? 0 : static_cast<int64_t>(columns.front().size()); }
};

/// The tables of a result file: `journeys` (one row per journey with its customer, times, outcome,
/// path, segment, anomaly score and held-out prediction) and one table per result group
/// (patterns, segments, paths, funnel, attribution, alerts, model, ...). Groups a stage did not
/// write give no table.
std::vector<Table> result_tables(const std::string& result_path);

/// An event table as a Table with the default input column names (customer_id, timestamp,
/// touchpoint, channel, value, conversion): written as Parquet or CSV, it reads back as the same
/// events (converting a CSV log to Parquet, for example).
Table event_table(const EventTable& events);

enum class ExportFormat { Parquet, Csv };

/// "parquet" or "csv" (throws ConfigError otherwise, and for parquet in a build without Arrow).
ExportFormat parse_export_format(const std::string& text);

/// True when this build can write Parquet (Apache Arrow C++ was found at configure time).
bool parquet_export_available();

/// "Apache Arrow 26.0.1 (opened on first use)", or why there is none ("no (built without Apache Arrow)").
std::string parquet_library_description();

/// Opens the Parquet writer module now (it is opened on first use otherwise); returns where it was
/// found. Throws jm::Error when it cannot be loaded or the build has no Arrow.
std::string load_parquet_module();

struct ExportSummary {
  std::vector<std::pair<std::string, int64_t>> tables;  ///< name, rows
  std::vector<std::string> files;
};

/// Writes every table of `result_path` into `out_dir` as <table>.parquet or <table>.csv. Each file
/// is written under a temporary name in the same folder and renamed when complete.
ExportSummary export_result(const std::string& result_path, ExportFormat format, const std::string& out_dir);

/// RFC 4180 CSV with a header: fields quoted when they hold a comma, quote or line break; missing
/// values and NaN empty; timestamps as ISO 8601 UTC with milliseconds; booleans true/false.
void write_table_csv(const Table& table, const std::string& path);

/// Parquet through Apache Arrow: int64, float, double, bool, string (UTF-8) and timestamp[ms, UTC]
/// columns, missing values as nulls, in row groups of `rows_per_group` rows (readers hold a row group
/// at a time). Throws Error in a build without Arrow.
void write_table_parquet(const Table& table, const std::string& path, int64_t rows_per_group = int64_t{1} << 20);

}  // namespace jm
