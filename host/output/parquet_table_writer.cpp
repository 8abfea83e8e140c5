// Parquet tables through Apache Arrow C++ (the pyarrow wheel's libarrow and libparquet), built as
// its own module, libjourneymap_parquet.so, which `journeymap export --format parquet` opens on first
// use (host/output/parquet_export.cpp): Arrow costs every process ~14 MB and milliseconds to load.
// Arrow's headers need C++20, so this file alone is C++20; it uses only header-defined journeymap
// types and returns errors as text, so the module links nothing of journeymap's.
#include <arrow/api.h>
#include <arrow/io/file.h>
#include <arrow/util/config.h>
#include <parquet/arrow/writer.h>
#include <parquet/properties.h>

#include <stdexcept>
#include <string>

#include "journeymap/export.hpp"

namespace jm {
namespace {

void check(const arrow::Status& status, const std::string& what) {
  if (!status.ok()) throw std::runtime_error(what + ": " + status.ToString());
}

template <typename Builder, typename Append>
std::shared_ptr<arrow::Array> build(Builder& builder, const TableColumn& column, Append&& append,
                                    const std::string& where) {
  const size_t rows = column.size();
  check(builder.Reserve(static_cast<int64_t>(rows)), where);
  for (size_t r = 0; r < rows; ++r) {
    if (column.is_valid(r)) check(append(r), where);
    else check(builder.AppendNull(), where);
  }
  std::shared_ptr<arrow::Array> array;
  check(builder.Finish(&array), where);
  return array;
}

std::shared_ptr<arrow::Array> to_arrow(const TableColumn& column, const std::string& where) {
  using Type = TableColumn::Type;
  switch (column.type) {
    case Type::Int64: {
      arrow::Int64Builder b;
      return build(b, column, [&](size_t r) { return b.Append(column.ints[r]); }, where);
    }
    case Type::TimestampMs: {
      arrow::TimestampBuilder b(arrow::timestamp(arrow::TimeUnit::MILLI, "UTC"), arrow::default_memory_pool());
      return build(b, column, [&](size_t r) { return b.Append(column.ints[r]); }, where);
    }
    case Type::Float32: {
      arrow::FloatBuilder b;
      return build(b, column, [&](size_t r) { return b.Append(static_cast<float>(column.floats[r])); }, where);
    }
    case Type::Float64: {
      arrow::DoubleBuilder b;
      return build(b, column, [&](size_t r) { return b.Append(column.floats[r]); }, where);
    }
    case Type::Bool: {
      arrow::BooleanBuilder b;
      return build(b, column, [&](size_t r) { return b.Append(column.bools[r] != 0); }, where);
    }
    case Type::String: {
      arrow::StringBuilder b;
      return build(b, column, [&](size_t r) { return b.Append(column.strings[r]); }, where);
    }
  }
  throw std::runtime_error(where + ": unknown column type");
}

void write_table(const Table& table, const std::string& path, int64_t rows_per_group) {
  std::vector<std::shared_ptr<arrow::Field>> fields;
  std::vector<std::shared_ptr<arrow::Array>> arrays;
  for (const TableColumn& column : table.columns) {
    arrays.push_back(to_arrow(column, path + ": column " + column.name));
    fields.push_back(arrow::field(column.name, arrays.back()->type(), !column.valid.empty()));
  }
  const auto arrow_table = arrow::Table::Make(arrow::schema(fields), arrays, table.rows());
  auto opened = arrow::io::FileOutputStream::Open(path);
  check(opened.status(), path + ": cannot create");
  const std::shared_ptr<arrow::io::FileOutputStream> out = *opened;
  const auto properties = parquet::WriterProperties::Builder().compression(parquet::Compression::ZSTD)->build();
  check(parquet::arrow::WriteTable(*arrow_table, arrow::default_memory_pool(), out, rows_per_group, properties),
        path + ": cannot write the Parquet table");
  check(out->Close(), path + ": cannot close (disk full?)");
}

}  // namespace
}  // namespace jm

// The module's entry points (C linkage: looked up by name with dlsym).
extern "C" __attribute__((visibility("default"))) const char* jm_parquet_arrow_version() {
  return ARROW_VERSION_STRING;
}

/// Writes `table` to `path`; returns true, or false with the reason in `error`.
extern "C" __attribute__((visibility("default"))) bool jm_parquet_write_table(const jm::Table* table,
                                                                             const char* path, int64_t rows_per_group,
                                                                             std::string* error) {
  try {
    jm::write_table(*table, path, rows_per_group);
    return true;
  } catch (const std::exception& failure) {
    *error = failure.what();
    return false;
  }
}
