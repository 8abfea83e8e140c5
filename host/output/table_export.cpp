// `journeymap export`: every table of a result file as CSV or Parquet files in one folder. Each
// file is written as `<file>.tmp.<pid>` beside its target and renamed when complete, so a failed
// export never leaves a partial table and an earlier export of the same table stays whole.
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "host/core/temp_files.hpp"
#include "journeymap/common.hpp"
#include "journeymap/export.hpp"

namespace jm {
namespace {

// ISO 8601 UTC with milliseconds, e.g. 2026-03-06T14:05:09.250Z.
std::string iso_timestamp(int64_t ms) {
  const int64_t seconds = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  const auto millis = static_cast<int>(ms - seconds * 1000);
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm parts{};
  if (gmtime_r(&t, &parts) == nullptr) return std::to_string(ms);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z", parts.tm_year + 1900, parts.tm_mon + 1,
                     parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec, millis);
}

// RFC 4180: a field holding a comma, quote, CR or LF is quoted, its quotes doubled.
void write_csv_field(std::ostream& out, const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) {
    out << text;
    return;
  }
  out << '"';
  for (char c : text) {
    if (c == '"') out << '"';
    out << c;
  }
  out << '"';
}

void write_csv_value(std::ostream& out, const TableColumn& column, size_t row) {
  if (!column.is_valid(row)) return;
  switch (column.type) {
    case TableColumn::Type::Int64: out << column.ints[row]; break;
    case TableColumn::Type::TimestampMs: out << iso_timestamp(column.ints[row]); break;
    case TableColumn::Type::Float32:
    case TableColumn::Type::Float64: {
      const double value = column.floats[row];
      // Shortest text that reads back to the same value (float32 values through float).
      if (std::isfinite(value))
        out << (column.type == TableColumn::Type::Float32 ? fmt::format("{}", static_cast<float>(value))
                                                          : fmt::format("{}", value));
      else if (std::isinf(value))
        out << (value > 0 ? "inf" : "-inf");
      break;  // NaN: empty
    }
    case TableColumn::Type::Bool: out << (column.bools[row] ? "true" : "false"); break;
    case TableColumn::Type::String: write_csv_field(out, column.strings[row]); break;
  }
}

// Writes `write(temp)` to a temporary name beside `path`, then renames it over `path`.
template <typename Write>
void write_atomically(const std::string& path, Write&& write) {
  const std::string temp = path + ".tmp." + std::to_string(static_cast<long long>(::getpid()));
  TempFileRegistration registration(temp);
  try {
    write(temp);
    if (std::rename(temp.c_str(), path.c_str()) != 0)
      throw Error(path + ": cannot rename '" + temp + "' over it: " + std::strerror(errno));
  } catch (...) {
    std::remove(temp.c_str());
    throw;
  }
}

}  // namespace

Table event_table(const EventTable& events) {
  auto text = [](const char* name, const Vocabulary& vocabulary, auto&& id_at, size_t rows) {
    TableColumn column;
    column.name = name;
    column.type = TableColumn::Type::String;
    column.strings.reserve(rows);
    for (size_t row = 0; row < rows; ++row) column.strings.push_back(vocabulary.name(static_cast<int32_t>(id_at(row))));
    return column;
  };
  const size_t rows = events.size();
  Table table;
  table.name = "events";
  table.columns.push_back(text("customer_id", events.customers, [&](size_t r) { return events.customer[r]; }, rows));
  TableColumn time;
  time.name = "timestamp";
  time.type = TableColumn::Type::TimestampMs;
  time.ints = events.timestamp_ms;
  table.columns.push_back(std::move(time));
  table.columns.push_back(text("touchpoint", events.touchpoints, [&](size_t r) { return events.touchpoint[r]; }, rows));
  table.columns.push_back(text("channel", events.channels, [&](size_t r) { return events.channel[r]; }, rows));
  TableColumn value;
  value.name = "value";
  value.type = TableColumn::Type::Float64;
  value.floats.assign(events.value.begin(), events.value.end());
  table.columns.push_back(std::move(value));
  TableColumn conversion;
  conversion.name = "conversion";
  conversion.type = TableColumn::Type::Bool;
  conversion.bools.reserve(rows);
  for (const uint8_t flag : events.is_conversion) conversion.bools.push_back(flag != 0 ? 1 : 0);
  table.columns.push_back(std::move(conversion));
  return table;
}

ExportFormat parse_export_format(const std::string& text) {
  if (text == "csv") return ExportFormat::Csv;
  if (text == "parquet") {
    if (!parquet_export_available())
      throw ConfigError("--format parquet: this build has no Apache Arrow (reconfigure after scripts/setup.sh); "
                        "use --format csv");
    return ExportFormat::Parquet;
  }
  throw ConfigError("--format must be parquet or csv (got '" + text + "')");
}

void write_table_csv(const Table& table, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw Error(path + ": cannot create: " + std::strerror(errno));
  for (size_t c = 0; c < table.columns.size(); ++c) {
    if (c > 0) out << ',';
    write_csv_field(out, table.columns[c].name);
  }
  out << "\r\n";
  const auto rows = static_cast<size_t>(table.rows());
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < table.columns.size(); ++c) {
      if (c > 0) out << ',';
      write_csv_value(out, table.columns[c], r);
    }
    out << "\r\n";
  }
  out.flush();
  if (!out) throw Error(path + ": write failed (disk full?)");
}

ExportSummary export_result(const std::string& result_path, ExportFormat format, const std::string& out_dir) {
  namespace fs = std::filesystem;
  const std::vector<Table> tables = result_tables(result_path);
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw Error(out_dir + ": cannot create the export folder: " + ec.message());
  ExportSummary summary;
  for (const Table& table : tables) {
    const std::string path =
        (fs::path(out_dir) / (table.name + (format == ExportFormat::Parquet ? ".parquet" : ".csv"))).string();
    write_atomically(path, [&](const std::string& temp) {
      if (format == ExportFormat::Parquet) write_table_parquet(table, temp);
      else write_table_csv(table, temp);
    });
    summary.tables.emplace_back(table.name, table.rows());
    summary.files.push_back(path);
  }
  return summary;
}

}  // namespace jm
