// Exported tables: the CSV text of every column type, missing values and hostile strings, exactly;
// Parquet refused cleanly in a build without Arrow. tests/output/export_test.py reads whole exports
// back with pandas and DuckDB.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "journeymap/common.hpp"
#include "journeymap/export.hpp"
#include "test_helpers.hpp"

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

jm::Table sample_table() {
  jm::Table table;
  table.name = "sample";
  jm::TableColumn id{"id", jm::TableColumn::Type::Int64};
  id.ints = {1, -2, 3};
  jm::TableColumn at{"at", jm::TableColumn::Type::TimestampMs};
  at.ints = {1767225600000, -1, 1767225600250};  // 2026-01-01, just before the epoch, +250 ms
  at.valid = {1, 1, 0};
  jm::TableColumn rate{"rate", jm::TableColumn::Type::Float32};
  rate.floats = {0.1f, std::nan(""), 1e-8f};
  jm::TableColumn value{"value", jm::TableColumn::Type::Float64};
  value.floats = {0.1, -INFINITY, 123456789.125};
  jm::TableColumn flag{"flag", jm::TableColumn::Type::Bool};
  flag.bools = {1, 0, 1};
  jm::TableColumn name{"name, quoted", jm::TableColumn::Type::String};
  name.strings = {"plain", "a,b \"c\"", "line\nbreak é"};
  table.columns = {id, at, rate, value, flag, name};
  return table;
}

TEST(Export, CsvTextOfEveryColumnType) {
  const auto path = (jm::testing::scratch_dir() / "sample.csv").string();
  jm::write_table_csv(sample_table(), path);
  EXPECT_EQ(read_all(path),
            "id,at,rate,value,flag,\"name, quoted\"\r\n"
            "1,2026-01-01T00:00:00.000Z,0.1,0.1,true,plain\r\n"
            "-2,1969-12-31T23:59:59.999Z,,-inf,false,\"a,b \"\"c\"\"\"\r\n"
            "3,,1e-08,123456789.125,true,\"line\nbreak é\"\r\n");
}

TEST(Export, FormatsAndParquetAvailability) {
  EXPECT_EQ(jm::parse_export_format("csv"), jm::ExportFormat::Csv);
  EXPECT_THROW(jm::parse_export_format("xlsx"), jm::ConfigError);
  if (jm::parquet_export_available()) {
    EXPECT_EQ(jm::parse_export_format("parquet"), jm::ExportFormat::Parquet);
    const auto path = (jm::testing::scratch_dir() / "sample.parquet").string();
    jm::write_table_parquet(sample_table(), path);
    EXPECT_EQ(read_all(path).substr(0, 4), "PAR1");
  } else {
    EXPECT_THROW(jm::parse_export_format("parquet"), jm::ConfigError);
  }
}

TEST(Export, MissingOrDamagedResultIsAClearErrorAndWritesNothing) {
  const auto dir = jm::testing::scratch_dir();
  const auto damaged = jm::testing::write_file(dir / "damaged.h5", "not an HDF5 file");
  try {
    jm::export_result(damaged, jm::ExportFormat::Csv, (dir / "tables").string());
    FAIL() << "a damaged result was exported";
  } catch (const jm::Error& error) {
    EXPECT_NE(std::string(error.what()).find("damaged.h5"), std::string::npos) << error.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "tables"));
}

}  // namespace
