// Parquet as the rest of journeymap sees it. The Arrow-based writer
// (host/output/parquet_table_writer.cpp) and column reader (host/ingest/parquet_column_reader.cpp)
// are a module, libjourneymap_parquet.so, opened on first use, so no other command loads Apache Arrow.
#include <unistd.h>

#include <string>
#include <vector>

#include "host/core/shared_library.hpp"
#include "host/output/parquet_module.hpp"
#include "journeymap/common.hpp"
#include "journeymap/export.hpp"

#ifndef JM_WITH_ARROW
#define JM_WITH_ARROW 0
#endif

namespace jm {

#if JM_WITH_ARROW
namespace {

// The folder of the running program: journeymap finds the module beside it, in lib/ or in ../lib
// (the build tree, a bundle, an install), then where the build wrote it (the tests' binaries).
std::string program_folder() {
  std::vector<char> buffer(4096);
  const ssize_t length = readlink("/proc/self/exe", buffer.data(), buffer.size() - 1);
  if (length <= 0) return ".";
  const std::string path(buffer.data(), static_cast<size_t>(length));
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

SharedLibrary& parquet_module() {
  static SharedLibrary library(
      "the Parquet module (libjourneymap_parquet.so with Apache Arrow; Parquet input and export --format parquet)",
      {program_folder() + "/libjourneymap_parquet.so", program_folder() + "/lib/libjourneymap_parquet.so",
       program_folder() + "/../lib/libjourneymap_parquet.so", JM_PARQUET_MODULE_PATH});
  return library;
}

}  // namespace

bool parquet_export_available() { return true; }

std::string parquet_library_description() { return "Apache Arrow " JM_ARROW_VERSION " (opened on first use)"; }

void write_table_parquet(const Table& table, const std::string& path, int64_t rows_per_group) {
  if (rows_per_group < 1) throw ConfigError("Parquet: a row group holds at least one row");
  using WriteTable = bool(const Table*, const char*, int64_t, std::string*);
  static WriteTable* const write = parquet_module().function<WriteTable>("jm_parquet_write_table");
  std::string error;
  if (!write(&table, path.c_str(), rows_per_group, &error)) throw Error(error);
}

bool read_parquet_columns(const std::string& path, const parquet_input::Request& request,
                          parquet_input::Result& result) {
  using ReadColumns = bool(const char*, const parquet_input::Request*, parquet_input::Result*);
  static ReadColumns* const read = parquet_module().function<ReadColumns>("jm_parquet_read_columns");
  return read(path.c_str(), &request, &result);
}

std::string load_parquet_module() {
  using ArrowVersion = const char*();
  const std::string version = parquet_module().function<ArrowVersion>("jm_parquet_arrow_version")();
  return parquet_module().path() + " (Apache Arrow " + version + ")";
}

#else

bool parquet_export_available() { return false; }

std::string parquet_library_description() { return "no (built without Apache Arrow)"; }

void write_table_parquet(const Table&, const std::string& path, int64_t) {
  throw Error(path + ": this build has no Apache Arrow, so it cannot write Parquet");
}

std::string load_parquet_module() { throw Error("this build has no Apache Arrow, so it cannot write Parquet"); }

bool read_parquet_columns(const std::string& path, const parquet_input::Request&, parquet_input::Result&) {
  throw Error(path + ": this build has no Apache Arrow, so it cannot read Parquet");
}

#endif

}  // namespace jm
