// Parquet tables through Apache Arrow C++ (the pyarrow wheel's libarrow and libparquet). Arrow's
// headers need C++20, so this file alone is compiled as C++20 (CMakeLists.txt); its interface,
// export.hpp, is C++17. Without Arrow (JM_WITH_ARROW=0) writing Parquet is refused.
#include "journeymap/common.hpp"
#include "journeymap/export.hpp"

#if JM_WITH_ARROW
#include <arrow/api.h>
#include <arrow/util/config.h>
#include <arrow/io/file.h>
#include <parquet/arrow/writer.h>
#include <parquet/properties.h>
#endif

namespace jm {

#if JM_WITH_ARROW
namespace {

void check(const arrow::Status& status, const std::string& what) {
  if (!status.ok()) throw Error(what + ": " + status.ToString());
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
  throw Error(where + ": unknown column type");
}

}  // namespace

bool parquet_export_available() { return true; }

std::string parquet_library_description() { return std::string("Apache Arrow ") + ARROW_VERSION_STRING; }

void write_table_parquet(const Table& table, const std::string& path) {
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
  constexpr int64_t kRowsPerGroup = 1 << 20;
  check(parquet::arrow::WriteTable(*arrow_table, arrow::default_memory_pool(), out, kRowsPerGroup, properties),
        path + ": cannot write the Parquet table");
  check(out->Close(), path + ": cannot close (disk full?)");
}

#else

bool parquet_export_available() { return false; }

std::string parquet_library_description() { return "no (built without Apache Arrow)"; }

void write_table_parquet(const Table&, const std::string& path) {
  throw Error(path + ": this build has no Apache Arrow, so it cannot write Parquet");
}

#endif

}  // namespace jm
