// Public SPMF datasets at two minimum supports each: every backend returns exactly the patterns and
// supports of the `prefixspan` PyPI package (an independent implementation), so CPU and GPU agree.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>

#include "journeymap/ingest.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/patterns.hpp"
#include "patterns/pattern_test_support.hpp"
#include "test_helpers.hpp"

namespace jm {
namespace {

using NamedPatterns = std::map<std::string, int64_t>;  // "item item ..." -> support

// Runs the reference script and parses "<support>\t<items>" lines.
NamedPatterns reference_patterns(const std::string& file, int64_t min_count) {
  const std::string command = std::string("\"") + JM_PYTHON + "\" \"" + JM_REFERENCE_SCRIPT + "\" \"" + file + "\" " +
                              std::to_string(min_count);
  NamedPatterns out;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return out;
  char line[65536];
  while (std::fgets(line, sizeof line, pipe)) {
    std::string text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    const auto tab = text.find('\t');
    if (tab == std::string::npos) continue;
    out[text.substr(tab + 1)] = std::stoll(text.substr(0, tab));
  }
  EXPECT_EQ(pclose(pipe), 0) << command;
  return out;
}

NamedPatterns named(const PatternResult& result, const JourneySet& journeys) {
  NamedPatterns out;
  for (int64_t p = 0; p < result.size(); ++p) {
    std::string key;
    for (int32_t item : result.items_of(p)) key += (key.empty() ? "" : " ") + journeys.touchpoints.name(item);
    EXPECT_TRUE(out.emplace(key, result.support[p]).second) << "pattern reported twice: " << key;
  }
  return out;
}

struct DatasetCase {
  const char* file;
  double min_support;
};

class PrefixSpanDatasetTest : public ::testing::TestWithParam<Backend> {};

TEST_P(PrefixSpanDatasetTest, EqualsTheReferenceImplementation) {
  Context ctx;
  if (!testing::context_for(GetParam(), ctx)) GTEST_SKIP() << "no usable GPU: " << gpu_description();
  if (!std::filesystem::exists(JM_PYTHON)) GTEST_SKIP() << "reference python missing: " << JM_PYTHON;

  const DatasetCase cases[] = {{"sign/SIGN.txt", 0.5},          {"sign/SIGN.txt", 0.4},
                               {"kosarak10k/KOSARAK10K.txt", 0.01}, {"kosarak10k/KOSARAK10K.txt", 0.005},
                               {"bms1/BMS1_spmf.txt", 0.005},   {"bms1/BMS1_spmf.txt", 0.002}};
  int compared = 0;
  for (const DatasetCase& c : cases) {
    const std::string path = testing::shared_data(c.file);
    if (path.empty()) continue;
    SCOPED_TRACE(std::string(c.file) + " at " + std::to_string(c.min_support));
    const IngestResult ingest = read_events_spmf(path, 2);
    const JourneySet journeys = build_journeys(Context{}, ingest.events, JourneyOptions{});
    PatternOptions options;
    options.min_support = MinSupport::fraction(c.min_support);
    const PatternResult result = mine_patterns(ctx, journeys, options);
    const NamedPatterns expected = reference_patterns(path, result.min_support_count);
    ASSERT_FALSE(expected.empty()) << "the reference produced nothing";
    EXPECT_EQ(named(result, journeys), expected);
    EXPECT_FALSE(result.truncated);
    ++compared;
  }
  if (compared == 0) GTEST_SKIP() << "public datasets not present";
}

INSTANTIATE_TEST_SUITE_P(Backends, PrefixSpanDatasetTest, ::testing::Values(Backend::Cpu, Backend::Gpu),
                         testing::backend_name);

}  // namespace
}  // namespace jm
