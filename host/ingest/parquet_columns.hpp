// What the Parquet module (libjourneymap_parquet.so, opened on first use) hands back when it reads an
// events file: the requested columns, each converted from its Arrow type to one of a few plain
// kinds. Shared by host/ingest/parquet_reader.cpp and the module's host/ingest/parquet_column_reader.cpp,
// which are built by the same compiler against the same standard library.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace jm::parquet_input {

enum class Kind { Absent, Text, Int, Float, Bool, TimestampMs };

/// One column over the whole file (or over one row group when they are handed over), row i of every
/// column being the same event.
struct Column {
  Kind kind = Kind::Absent;
  std::string arrow_type;              ///< the file's type, for messages ("string", "timestamp[us]")
  std::vector<std::string> dictionary;  ///< Text: distinct values in order of first appearance
  std::vector<int32_t> codes;          ///< Text: index into `dictionary` per row
  std::vector<int64_t> ints;           ///< Int, Bool (0/1), TimestampMs (ms since the epoch, UTC)
  std::vector<double> floats;          ///< Float
  std::vector<uint8_t> valid;          ///< 0 where the value is null
};

struct Result;

struct Request {
  std::vector<std::string> names;  ///< columns to read; "" = not wanted (the result keeps the slot, Absent)
  std::vector<uint8_t> required;   ///< per name: 1 when a missing column is an error
  int num_threads = 0;
  /// When set, called after each row group with the columns holding that group's rows only (their
  /// dictionaries keep every value seen so far, so a code means the same in every group); the rows
  /// are dropped afterwards. Returning false stops the reading.
  std::function<bool(const Result& group)> on_row_group;
  /// A share of the file for one of several processes: its row groups [G*index/count,
  /// G*(index+1)/count) of the file's G. Rows keep their file numbers (Result::first_row).
  int share_index = 0;
  int share_count = 1;
};

struct Result {
  std::vector<Column> columns;  ///< one per requested name
  int64_t rows = 0;             ///< rows held (handed over: the group's)
  int64_t first_row = 0;        ///< file row number (from 0) of the first row held
  int64_t row_groups = 0;
  std::string error;         ///< set when the read failed
  std::string error_column;  ///< the column the error is about, if any
};

}  // namespace jm::parquet_input
