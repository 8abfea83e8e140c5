// Libraries opened on first use (host/core/shared_library.hpp): clear errors, symbols resolved,
// and the promise behind them: a command that multiplies no matrix, trains no model and writes no
// Parquet loads none of cuBLAS, XGBoost, OpenBLAS or Arrow.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <string>

#include "host/core/build_info.hpp"
#include "host/core/openblas.hpp"
#include "host/core/shared_library.hpp"
#include "journeymap/common.hpp"
#include "journeymap/context.hpp"
#include "journeymap/patterns.hpp"
#include "patterns/pattern_test_support.hpp"

namespace jm {
namespace {

// The message of the jm::Error `call` throws; a test failure when it throws none.
template <typename Call>
std::string error_of(Call&& call) {
  try {
    call();
  } catch (const Error& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected a jm::Error";
  return "";
}

bool in_process(const char* soname) {
  void* handle = dlopen(soname, RTLD_NOW | RTLD_NOLOAD);
  if (handle != nullptr) dlclose(handle);  // drops only the reference RTLD_NOLOAD took
  return handle != nullptr;
}

// First in this file (gtest runs a file's tests in order; ctest runs each in its own process).
TEST(SharedLibrary, MiningAndTheBuildDescriptionLoadNoHeavyLibrary) {
  const Context ctx = make_context(Backend::Cpu, 2);
  const JourneySet journeys = testing::journeys_from({{0, 1, 2}, {0, 2}, {1, 2}}, 3, {1, 0, 0});
  PatternOptions options;
  options.min_support = MinSupport::count(2);
  const PatternResult result = mine_patterns(ctx, journeys, options);
  EXPECT_GT(result.size(), 0);
  EXPECT_FALSE(build_info().empty());
  for (const char* soname : {"libcublas.so.13", "libcublasLt.so.13", "libxgboost.so.3", "libopenblas.so.0"})
    EXPECT_FALSE(in_process(soname)) << soname << " was loaded by mining or --version";

  // A stage that multiplies matrices opens OpenBLAS then.
  const float a[1] = {2.0f}, b[1] = {3.0f};
  float c[1] = {0.0f};
  openblas().sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1, 1, 1, 1.0f, a, 1, b, 1, 0.0f, c, 1);
  EXPECT_EQ(c[0], 6.0f);
  EXPECT_TRUE(in_process("libopenblas.so.0"));
}

TEST(SharedLibrary, MissingLibraryNamesItsPurposeAndEveryPlaceTried) {
  SharedLibrary library("the frobnicator (test)", {"libjm-no-such-library.so.7", "/no/such/folder/libfrob.so"});
  EXPECT_FALSE(library.loaded());
  const std::string message = error_of([&] { library.symbol("frob"); });
  for (const char* part : {"the frobnicator (test)", "libjm-no-such-library.so.7", "/no/such/folder/libfrob.so"})
    EXPECT_NE(message.find(part), std::string::npos) << message;
  EXPECT_THROW(library.load(), Error);  // and again, not a crash, on the next call
  EXPECT_FALSE(library.loaded());
}

TEST(SharedLibrary, ResolvesSymbolsFromTheFirstCandidateThatLoads) {
  SharedLibrary zlib("zlib (test)", {"libjm-no-such-library.so.7", "libz.so.1"});
  using ZlibVersion = const char*();
  const std::string version = zlib.function<ZlibVersion>("zlibVersion")();
  EXPECT_FALSE(version.empty());
  EXPECT_TRUE(zlib.loaded());
  EXPECT_NE(zlib.path().find("libz.so"), std::string::npos) << zlib.path();
  const std::string message = error_of([&] { zlib.symbol("jm_no_such_symbol"); });
  for (const char* part : {"jm_no_such_symbol", "zlib (test)"})
    EXPECT_NE(message.find(part), std::string::npos) << message;
}

TEST(SharedLibrary, LibraryReportSaysWhereEachWasFound) {
  bool all_loaded = false;
  const std::string report = library_report(&all_loaded);
  EXPECT_NE(report.find("OpenBLAS: "), std::string::npos) << report;
  // Each line either names a file or says why it is not loaded; the flag agrees.
  EXPECT_EQ(all_loaded, report.find("NOT LOADED") == std::string::npos) << report;
}

}  // namespace
}  // namespace jm
