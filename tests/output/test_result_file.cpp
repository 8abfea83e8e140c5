// ResultWriter / ResultReader: round trips of every type, the journeys layout, and crash safety
// (temp file + rename: a failed run leaves neither debris nor a damaged earlier result).
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "host/output/chunk_compression.hpp"
#include "journeymap/common.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/result_file.hpp"
#include "test_helpers.hpp"

namespace jm {
namespace {

namespace fs = std::filesystem;
using jm::testing::scratch_dir;

std::string temp_path_of(const fs::path& final_path) {
  return final_path.string() + ".tmp." + std::to_string(static_cast<long long>(::getpid()));
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Files in `dir`, by name (to see temp-file debris).
std::vector<std::string> folder_entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

/// Expects `body` to throw jm::Error whose message contains every one of `parts`.
template <typename Body>
void expect_error_mentioning(Body body, const std::vector<std::string>& parts) {
  try {
    body();
    ADD_FAILURE() << "expected jm::Error";
  } catch (const Error& e) {
    for (const auto& part : parts) EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

/// Three journeys of two customers; names include non-ASCII text.
JourneySet small_journey_set() {
  JourneySet journeys;
  for (const char* name : {"cust-a", "cüst-b"}) journeys.customers.encode(name);
  for (const char* name : {"home", "café → checkout", "cart"}) journeys.touchpoints.encode(name);
  for (const char* name : {"web", "email"}) journeys.channels.encode(name);
  journeys.offsets = {0, 2, 3, 6};
  journeys.touchpoint = {0, 1, 2, 0, 2, 1};
  journeys.channel = {0, 0, 1, 1, 0, 0};
  journeys.timestamp_ms = {1000, 2000, 5000, 7000, 7000, 9000};
  journeys.value = {0.0f, 12.5f, 0.0f, 0.0f, 1.0f, 99.25f};
  journeys.customer = {0, 0, 1};
  journeys.converted = {1, 0, 1};
  journeys.conversion_value = {12.5f, 0.0f, 99.25f};
  journeys.start_ms = {1000, 5000, 7000};
  journeys.end_ms = {2000, 5000, 9000};
  journeys.stats = {7, 1, 0};
  return journeys;
}

TEST(ResultFile, RoundTripsEveryDatasetType) {
  const auto file = scratch_dir() / "types.h5";
  std::vector<int64_t> big(1 << 20);  // 1 Mi elements: chunked and compressed
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<int64_t>(i) * 3 - 7;
  const std::vector<int64_t> i64 = {std::numeric_limits<int64_t>::min(), -1, 0, std::numeric_limits<int64_t>::max()};
  const std::vector<int32_t> i32 = {std::numeric_limits<int32_t>::min(), 0, 42};
  const std::vector<uint32_t> u32 = {0, 7, std::numeric_limits<uint32_t>::max()};
  const std::vector<uint8_t> u8 = {0, 1, 255};
  const std::vector<float> f32 = {-1.5f, 0.0f, 3.25e10f};
  const std::vector<double> f64 = {1e-300, -2.5, 1e300};
  const std::vector<std::string> strings = {"plain", "café → checkout", "", "日本語", "emoji 🚀"};
  std::vector<float> matrix(3 * 4);
  for (size_t i = 0; i < matrix.size(); ++i) matrix[i] = static_cast<float>(i) * 0.5f;
  {
    ResultWriter out(file.string());
    out.write("/t/i64", i64);
    out.write("/t/i32", i32);
    out.write("/t/u32", u32);
    out.write("/t/u8", u8);
    out.write("/t/f32", f32);
    out.write("/t/f64", f64);
    out.write("/t/strings", strings);
    out.write("/t/big", big);
    out.write("/t/deep/er/nested", std::vector<int32_t>{5});
    out.write_matrix("/t/matrix", matrix, 3, 4);
    out.write("/empty/i64", std::vector<int64_t>{});
    out.write("/empty/i32", std::vector<int32_t>{});
    out.write("/empty/u32", std::vector<uint32_t>{});
    out.write("/empty/u8", std::vector<uint8_t>{});
    out.write("/empty/f32", std::vector<float>{});
    out.write("/empty/f64", std::vector<double>{});
    out.write("/empty/strings", std::vector<std::string>{});
    out.write_matrix("/empty/matrix", {}, 0, 5);
    out.commit();
  }
  ResultReader in(file.string());
  EXPECT_EQ(in.read_int64("/t/i64"), i64);
  EXPECT_EQ(in.read_int32("/t/i32"), i32);
  EXPECT_EQ(in.read_uint32("/t/u32"), u32);
  EXPECT_EQ(in.read_uint8("/t/u8"), u8);
  EXPECT_EQ(in.read_float("/t/f32"), f32);  // stored as float32: bit-exact
  EXPECT_EQ(in.read_double("/t/f64"), f64);
  EXPECT_EQ(in.read_strings("/t/strings"), strings);
  EXPECT_EQ(in.read_int64("/t/big"), big);
  EXPECT_EQ(in.shape("/t/big"), std::vector<uint64_t>{big.size()});
  EXPECT_EQ(in.read_int32("/t/deep/er/nested"), std::vector<int32_t>{5});
  EXPECT_EQ(in.shape("/t/matrix"), (std::vector<uint64_t>{3, 4}));
  EXPECT_EQ(in.read_float("/t/matrix"), matrix);  // row-major

  EXPECT_TRUE(in.read_int64("/empty/i64").empty());
  EXPECT_TRUE(in.read_int32("/empty/i32").empty());
  EXPECT_TRUE(in.read_uint32("/empty/u32").empty());
  EXPECT_TRUE(in.read_uint8("/empty/u8").empty());
  EXPECT_TRUE(in.read_float("/empty/f32").empty());
  EXPECT_TRUE(in.read_double("/empty/f64").empty());
  EXPECT_TRUE(in.read_strings("/empty/strings").empty());
  EXPECT_EQ(in.shape("/empty/i64"), std::vector<uint64_t>{0});
  EXPECT_EQ(in.shape("/empty/matrix"), (std::vector<uint64_t>{0, 5}));
  EXPECT_TRUE(in.read_float("/empty/matrix").empty());

  // Lossless widening is allowed; narrowing is refused with the path in the message.
  EXPECT_EQ(in.read_int64("/t/i32"), (std::vector<int64_t>{std::numeric_limits<int32_t>::min(), 0, 42}));
  EXPECT_EQ(in.read_int64("/t/u32"), (std::vector<int64_t>{0, 7, std::numeric_limits<uint32_t>::max()}));
  EXPECT_EQ(in.read_double("/t/f32"), std::vector<double>(f32.begin(), f32.end()));  // float -> double is exact
  expect_error_mentioning([&] { in.read_int32("/t/i64"); }, {file.string(), "/t/i64", "int64"});
  expect_error_mentioning([&] { in.read_float("/t/f64"); }, {"/t/f64", "float64"});
  expect_error_mentioning([&] { in.read_uint32("/t/i32"); }, {"/t/i32"});
  expect_error_mentioning([&] { in.read_strings("/t/i64"); }, {"/t/i64", "not strings"});
  expect_error_mentioning([&] { in.read_int64("/t/strings"); }, {"/t/strings"});
  expect_error_mentioning([&] { in.read_int64("/nothing/here"); }, {file.string(), "no dataset /nothing/here"});
  expect_error_mentioning([&] { in.read_int64("/t"); }, {"/t is not a dataset"});
}

// [run] compression: every deflate level reads back the same data; level 0 stores it raw (larger
// for this compressible ramp), and a level outside 0..9 is refused before anything is written.
TEST(ResultFile, CompressionLevelsRoundTrip) {
  std::vector<int64_t> ramp(1 << 18);
  for (size_t i = 0; i < ramp.size(); ++i) ramp[i] = static_cast<int64_t>(i / 3);
  std::vector<uintmax_t> sizes;
  for (const int level : {0, 1, 9}) {
    const auto file = scratch_dir() / ("level" + std::to_string(level) + ".h5");
    {
      ResultWriter out(file.string(), level);
      out.write("/ramp", ramp);
      out.commit();
    }
    EXPECT_EQ(ResultReader(file.string()).read_int64("/ramp"), ramp) << "level " << level;
    sizes.push_back(std::filesystem::file_size(file));
  }
  EXPECT_GT(sizes[0], ramp.size() * sizeof(int64_t));
  EXPECT_LT(sizes[1], sizes[0] / 4);
  EXPECT_LE(sizes[2], sizes[1]);
  const auto refused = scratch_dir() / "level10.h5";
  EXPECT_THROW(ResultWriter(refused.string(), 10), jm::ConfigError);
  EXPECT_THROW(ResultWriter(refused.string(), -1), jm::ConfigError);
  EXPECT_FALSE(std::filesystem::exists(refused));
}

// Chunks compressed on all cores (chunk_compression.hpp) read back through HDF5's own filters:
// sizes that leave partial edge chunks, every element width, a matrix chunked by rows, and the
// shuffle filter's byte order checked against its definition.
TEST(ResultFile, ParallelChunkCompressionReadsBack) {
  const auto file = scratch_dir() / "parallel_chunks.h5";
  const size_t n = 3 * 131072 + 4321;  // several chunks and a partial one
  std::vector<int64_t> i64(n);
  std::vector<int32_t> i32(n);
  std::vector<uint8_t> u8(n);
  std::vector<float> f32(n);
  std::vector<double> f64(n);
  for (size_t i = 0; i < n; ++i) {
    i64[i] = static_cast<int64_t>(i * i) - 5;
    i32[i] = static_cast<int32_t>(i % 977) - 400;
    u8[i] = static_cast<uint8_t>(i * 7);
    f32[i] = static_cast<float>(std::sin(static_cast<double>(i)));
    f64[i] = std::exp(static_cast<double>(i % 50));
  }
  const size_t rows = 70001, cols = 13;  // row-chunked matrix with a partial last block
  std::vector<float> matrix(rows * cols);
  for (size_t k = 0; k < matrix.size(); ++k) matrix[k] = static_cast<float>(k % 1013) * 0.25f;
  {
    ResultWriter out(file.string(), 6);
    out.write("/c/i64", i64);
    out.write("/c/i32", i32);
    out.write("/c/u8", u8);
    out.write("/c/f32", f32);
    out.write("/c/f64", f64);
    out.write_matrix("/c/matrix", matrix, rows, cols);
    out.commit();
  }
  ResultReader in(file.string());
  EXPECT_EQ(in.read_int64("/c/i64"), i64);
  EXPECT_EQ(in.read_int32("/c/i32"), i32);
  EXPECT_EQ(in.read_uint8("/c/u8"), u8);
  EXPECT_EQ(in.read_float("/c/f32"), f32);
  EXPECT_EQ(in.read_double("/c/f64"), f64);
  EXPECT_EQ(in.read_float("/c/matrix"), matrix);
  EXPECT_LT(std::filesystem::file_size(file), n * (8 + 4 + 1 + 4 + 8));  // it did compress

  const unsigned char bytes[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};  // three 4-byte elements
  EXPECT_EQ(jm::output_detail::shuffle_bytes(bytes, 3, 4),
            (std::vector<unsigned char>{1, 5, 9, 2, 6, 10, 3, 7, 11, 4, 8, 12}));
}

// A computed column reads back as the same column written whole, compressed or not, at sizes
// around the chunking threshold, one slice (16 chunks of 131,072) and past it; `fill` is asked
// for consecutive slices covering it once, none of them the whole of a large column.
TEST(ResultFile, ComputedColumnsEqualColumnsWrittenWhole) {
  for (const int level : {0, 6}) {
    const auto file = scratch_dir() / ("computed" + std::to_string(level) + ".h5");
    const std::vector<int64_t> sizes = {0, 1, 65536, 65537, 16 * 131072, 16 * 131072 + 4321, 35 * 131072 + 7};
    std::vector<std::vector<double>> columns;
    {
      ResultWriter out(file.string(), level);
      for (const int64_t n : sizes) {
        std::vector<double> column(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) column[static_cast<size_t>(i)] = std::sqrt(static_cast<double>(i)) / 3.0;
        out.write("/whole/n" + std::to_string(n), column);
        int64_t next = 0, widest = 0;
        out.write_computed("/computed/n" + std::to_string(n), n, [&](int64_t begin, int64_t end, double* slice) {
          EXPECT_EQ(begin, next);
          EXPECT_LE(end, n);
          EXPECT_LT(begin, end);
          for (int64_t i = begin; i < end; ++i) slice[i - begin] = column[static_cast<size_t>(i)];
          next = end;
          widest = std::max(widest, end - begin);
        });
        EXPECT_EQ(next, n);
        if (n > 16 * 131072) EXPECT_LE(widest, 16 * 131072) << n;
        columns.push_back(std::move(column));
      }
      EXPECT_THROW(out.write_computed("/computed/negative", -1, [](int64_t, int64_t, double*) {}), std::invalid_argument);
      out.commit();
    }
    ResultReader in(file.string());
    for (size_t k = 0; k < sizes.size(); ++k) {
      const std::string name = "n" + std::to_string(sizes[k]);
      EXPECT_EQ(in.read_double("/computed/" + name), columns[k]) << name << " level " << level;
      EXPECT_EQ(in.read_double("/whole/" + name), columns[k]) << name << " level " << level;
    }
  }
}

TEST(ResultFile, AttributesOfEveryKind) {
  const auto file = scratch_dir() / "attributes.h5";
  {
    ResultWriter out(file.string());
    out.write("/data/values", std::vector<double>{1.0});
    out.write_attribute("/data/values", "unit", std::string("café → checkout"));
    out.write_attribute("/data/values", "count", int64_t{-12345678901234});
    out.write_attribute("/data/values", "ratio", 0.125);
    out.write_attribute("/data", "note", std::string(""));
    out.write_attribute("/", "root_attr", int64_t{1});
    out.write_attribute("/new/group", "created", int64_t{2});  // a missing object becomes a group
    out.write_attribute("/data", "replaced", int64_t{1});
    out.write_attribute("/data", "replaced", int64_t{2});  // rewriting an attribute replaces it
    out.commit();
  }
  ResultReader in(file.string());
  EXPECT_EQ(in.read_string_attribute("/data/values", "unit"), "café → checkout");
  EXPECT_EQ(in.read_int_attribute("/data/values", "count"), -12345678901234);
  EXPECT_EQ(in.read_double_attribute("/data/values", "ratio"), 0.125);
  EXPECT_EQ(in.read_string_attribute("/data", "note"), "");
  EXPECT_EQ(in.read_int_attribute("/", "root_attr"), 1);
  EXPECT_EQ(in.read_int_attribute("/new/group", "created"), 2);
  EXPECT_EQ(in.read_int_attribute("/data", "replaced"), 2);
  EXPECT_EQ(in.list("/new"), std::vector<std::string>{"group"});
  EXPECT_TRUE(in.list("/new/group").empty());
  EXPECT_EQ(in.attribute_names("/data/values"), (std::vector<std::string>{"count", "ratio", "unit"}));
  EXPECT_EQ(in.attribute_names("/data"), (std::vector<std::string>{"note", "replaced"}));
  EXPECT_EQ(in.attribute_names("/new"), std::vector<std::string>{});
  expect_error_mentioning([&] { in.attribute_names("/nowhere"); }, {"no object /nowhere"});

  expect_error_mentioning([&] { in.read_int_attribute("/data/values", "missing"); },
                          {file.string(), "/data/values", "no attribute 'missing'"});
  expect_error_mentioning([&] { in.read_int_attribute("/nowhere", "x"); }, {"no object /nowhere"});
  expect_error_mentioning([&] { in.read_int_attribute("/data/values", "ratio"); }, {"ratio", "float64"});
  expect_error_mentioning([&] { in.read_string_attribute("/data/values", "count"); }, {"count", "not strings"});
  expect_error_mentioning([&] { in.read_double_attribute("/data/values", "count"); }, {"count", "int64"});
}

TEST(ResultFile, DamagedSuperblocksAreRefusedBeforeHdf5Trusts) {
  // Found by fuzz_result_file: 54 bytes whose version-1 superblock claims a B-tree K of 65,284 made
  // HDF5 ask for 4 GB. Such files, and truncated results, are refused with a message instead.
  const fs::path dir = jm::testing::scratch_dir();
  const unsigned char fuzzed[] = {
      0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0x01, 0x00, 0x00, 0x00, 0x00, 0x08, 0x08, 0x00, 0x04, 0xff,
      0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0x8c, 0xea, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0a, 0x00};
  const auto small = jm::testing::write_file(dir / "fuzzed.h5", std::string(reinterpret_cast<const char*>(fuzzed), sizeof fuzzed));
  EXPECT_THROW(jm::ResultReader{small}, jm::Error);

  const auto whole = (dir / "whole.h5").string();
  {
    jm::ResultWriter writer(whole);
    writer.write("/numbers", std::vector<int64_t>(100000, 7));
    writer.commit();
  }
  EXPECT_EQ(jm::ResultReader(whole).read_int64("/numbers").size(), 100000u);
  std::string bytes;
  {
    std::ifstream in(whole, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const auto cut = jm::testing::write_file(dir / "cut.h5", bytes.substr(0, bytes.size() / 2));
  try {
    jm::ResultReader reader(cut);
    FAIL() << "a truncated file was opened";
  } catch (const jm::Error& error) {
    EXPECT_NE(std::string(error.what()).find("truncated"), std::string::npos) << error.what();
  }
  std::string big_k = bytes;
  big_k[16] = static_cast<char>(0xff);
  big_k[17] = static_cast<char>(0xff);
  EXPECT_THROW(jm::ResultReader{jm::testing::write_file(dir / "big_k.h5", big_k)}, jm::Error);

  // Found by fuzz_result_file: a version-0 superblock pointing at a driver info block inside itself
  // made HDF5 ask for 4 GB. journeymap writes no driver block, user block or free-space info.
  const auto refused_naming = [&](std::string changed, const char* name, const char* expected) {
    try {
      jm::ResultReader reader(jm::testing::write_file(dir / name, changed));
      ADD_FAILURE() << name << " was opened";
    } catch (const jm::Error& error) {
      EXPECT_NE(std::string(error.what()).find(expected), std::string::npos) << error.what();
    }
  };
  constexpr size_t kBase = 24, kFreeSpace = 32, kEndOfFile = 40, kDriverBlock = 48;  // version-0 offsets
  std::string driver_block = bytes;
  driver_block.replace(kDriverBlock, 8, std::string("\x19\0\0\0\0\0\0\0", 8));
  refused_naming(driver_block, "driver_block.h5", "driver block address 0x19");
  std::string user_block = bytes;
  user_block[kBase] = 1;
  refused_naming(user_block, "user_block.h5", "base address 1");
  std::string free_space = bytes;
  free_space[kFreeSpace + 7] = 0;
  refused_naming(free_space, "free_space.h5", "free-space address");
  std::string ends_early = bytes;
  ends_early.replace(kEndOfFile, 8, std::string(8, '\0'));
  refused_naming(ends_early, "ends_early.h5", "inside the superblock");
}

TEST(ResultFile, ListAndExists) {
  const auto file = scratch_dir() / "list.h5";
  {
    ResultWriter out(file.string());
    out.write("/b/zeta", std::vector<int32_t>{1});
    out.write("/b/alpha", std::vector<int32_t>{2});
    out.write("/b/Mid", std::vector<int32_t>{3});
    out.write("/b/sub/leaf", std::vector<uint8_t>{4});
    out.write("/a", std::vector<float>{5.0f});
    out.commit();
  }
  ResultReader in(file.string());
  EXPECT_EQ(in.list("/"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(in.list("/b"), (std::vector<std::string>{"Mid", "alpha", "sub", "zeta"}));  // byte order
  EXPECT_TRUE(in.exists("/"));
  EXPECT_TRUE(in.exists("/b"));
  EXPECT_TRUE(in.exists("/b/sub/leaf"));
  EXPECT_TRUE(in.exists("/a"));
  EXPECT_FALSE(in.exists("/c"));
  EXPECT_FALSE(in.exists("/c/d/e"));
  EXPECT_FALSE(in.exists("/b/sub/leaf/deeper"));  // below a dataset
  EXPECT_FALSE(in.exists("/a/x"));
  expect_error_mentioning([&] { in.list("/a"); }, {"/a is not a group"});
  expect_error_mentioning([&] { in.list("/zz"); }, {"no group /zz"});
  expect_error_mentioning([&] { in.exists("relative/path"); }, {"must be absolute"});
}

TEST(ResultFile, WriterRefusesBadInput) {
  const auto dir = scratch_dir();
  ResultWriter out((dir / "bad.h5").string());
  out.write("/x", std::vector<int32_t>{1});
  expect_error_mentioning([&] { out.write("/x", std::vector<int32_t>{2}); }, {"/x", "already exists"});
  expect_error_mentioning([&] { out.write("x", std::vector<int32_t>{2}); }, {"must be absolute"});
  expect_error_mentioning([&] { out.write("/a//b", std::vector<int32_t>{2}); }, {"empty"});
  expect_error_mentioning([&] { out.write("/x/below", std::vector<int32_t>{2}); }, {"/x/below", "/x is a dataset"});
  expect_error_mentioning([&] { out.write_attribute("/x/child", "a", int64_t{1}); }, {"/x/child", "/x is a dataset"});
  expect_error_mentioning([&] { out.write_matrix("/m", std::vector<float>(5), 2, 3); }, {"/m", "[2 x 3]"});
  expect_error_mentioning([&] { out.write("/s", std::vector<std::string>{std::string("a\0b", 3)}); }, {"NUL"});
  // The writer is still usable after refused writes.
  out.write("/y", std::vector<int32_t>{3});
  out.commit();
  ResultReader in((dir / "bad.h5").string());
  EXPECT_EQ(in.list("/"), (std::vector<std::string>{"x", "y"}));
  expect_error_mentioning([&] { out.write("/z", std::vector<int32_t>{1}); }, {"committed"});
}

TEST(ResultFile, JourneysAndVocabRoundTrip) {
  const auto file = scratch_dir() / "journeys.h5";
  const JourneySet original = small_journey_set();
  check_journey_set(original);
  {
    ResultWriter out(file.string());
    out.write_vocab(original);
    out.write_journeys(original);
    out.commit();
  }
  ResultReader in(file.string());
  const JourneySet back = in.read_journeys();
  EXPECT_EQ(back.offsets, original.offsets);
  EXPECT_EQ(back.touchpoint, original.touchpoint);
  EXPECT_EQ(back.channel, original.channel);
  EXPECT_EQ(back.timestamp_ms, original.timestamp_ms);
  EXPECT_EQ(back.value, original.value);
  EXPECT_EQ(back.customer, original.customer);
  EXPECT_EQ(back.converted, original.converted);
  EXPECT_EQ(back.conversion_value, original.conversion_value);
  EXPECT_EQ(back.start_ms, original.start_ms);
  EXPECT_EQ(back.end_ms, original.end_ms);
  EXPECT_EQ(back.customers.names(), original.customers.names());
  EXPECT_EQ(back.touchpoints.names(), original.touchpoints.names());
  EXPECT_EQ(back.channels.names(), original.channels.names());
  EXPECT_EQ(back.touchpoints.find("café → checkout"), 1);
  EXPECT_EQ(back.stats.input_events, 7);
  EXPECT_EQ(back.stats.duplicates_dropped, 1);
  EXPECT_EQ(back.stats.events_truncated, 0);
  EXPECT_EQ(in.read_int_attribute("/journeys", "n_journeys"), 3);
  EXPECT_EQ(in.read_int_attribute("/journeys", "n_events"), 6);
  EXPECT_EQ(in.list("/vocab"), (std::vector<std::string>{"channels", "customers", "touchpoints"}));
}

TEST(ResultFile, EmptyJourneySetRoundTrips) {
  const auto file = scratch_dir() / "empty.h5";
  JourneySet empty;  // no journeys, offsets not even {0}
  {
    ResultWriter out(file.string());
    out.write_vocab(empty);
    out.write_journeys(empty);
    out.commit();
  }
  ResultReader in(file.string());
  const JourneySet back = in.read_journeys();
  EXPECT_EQ(back.offsets, std::vector<int64_t>{0});  // the stored form always has n_journeys + 1 entries
  EXPECT_EQ(back.size(), 0);
  EXPECT_EQ(back.num_events(), 0);
  EXPECT_TRUE(back.touchpoints.empty());
}

TEST(ResultFile, RaggedJourneySetIsRefused) {
  const auto dir = scratch_dir();
  JourneySet ragged = small_journey_set();
  ragged.value.pop_back();
  ResultWriter out((dir / "ragged.h5").string());
  expect_error_mentioning([&] { out.write_journeys(ragged); }, {"/journeys", "differ in length"});
}

TEST(ResultFile, MetaRoundTrip) {
  const auto file = scratch_dir() / "meta.h5";
  RunMetadata meta;
  meta.command = "run";
  meta.backend = "cpu";
  meta.config_toml = std::string("[journeys]\nsplit_at_conversion = true\n") + std::string(100000, '#');
  meta.input_files = {"events.csv", "more/événements.csv"};
  meta.input_bytes = {123, uint64_t{1} << 40};
  meta.rows_read = 1000;
  meta.rows_skipped = 2;
  meta.stage_seconds = {{"ingest", 0.5}, {"journeys", 1.25}};
  {
    ResultWriter out(file.string());
    out.write_meta(meta);
    out.commit();
  }
  ResultReader in(file.string());
  EXPECT_EQ(in.read_string_attribute("/meta", "format"), "journeymap-result");
  EXPECT_EQ(in.read_int_attribute("/meta", "format_version"), 2);
  EXPECT_FALSE(in.read_string_attribute("/meta", "journeymap_version").empty());
  EXPECT_EQ(in.read_string_attribute("/meta", "command"), "run");
  EXPECT_EQ(in.read_string_attribute("/meta", "backend"), "cpu");
  const std::string created = in.read_string_attribute("/meta", "created_utc");
  ASSERT_EQ(created.size(), 20u) << created;  // 2024-05-01T12:34:56Z
  EXPECT_EQ(created[10], 'T');
  EXPECT_EQ(created.back(), 'Z');
  EXPECT_EQ(in.read_int_attribute("/meta", "rows_read"), 1000);
  EXPECT_EQ(in.read_int_attribute("/meta", "rows_skipped"), 2);
  EXPECT_EQ(in.read_strings("/meta/config_toml"), std::vector<std::string>{meta.config_toml});
  EXPECT_TRUE(in.shape("/meta/config_toml").empty());  // scalar
  EXPECT_EQ(in.read_strings("/meta/input_files"), meta.input_files);
  EXPECT_EQ(in.read_int64("/meta/input_bytes"), (std::vector<int64_t>{123, int64_t{1} << 40}));
  EXPECT_TRUE(in.read_strings("/meta/bad_rows").empty());
  EXPECT_EQ(in.read_strings("/meta/stage_names"), (std::vector<std::string>{"ingest", "journeys"}));
  EXPECT_EQ(in.read_double("/meta/stage_seconds"), (std::vector<double>{0.5, 1.25}));

  RunMetadata mismatched = meta;
  mismatched.input_bytes.pop_back();
  ResultWriter out((file.parent_path() / "mismatch.h5").string());
  expect_error_mentioning([&] { out.write_meta(mismatched); }, {"input_files", "input_bytes"});
}

TEST(ResultFile, UncommittedWriterLeavesNothing) {
  const auto dir = scratch_dir();
  const auto file = dir / "result.h5";
  {
    ResultWriter out(file.string());
    out.write("/x", std::vector<int64_t>(200000, 1));
    EXPECT_TRUE(fs::exists(temp_path_of(file)));
    EXPECT_FALSE(fs::exists(file));  // the target is not touched before commit
  }
  EXPECT_TRUE(folder_entries(dir).empty());
}

TEST(ResultFile, FailedRunKeepsEarlierResultByteIdentical) {
  const auto dir = scratch_dir();
  const auto file = dir / "result.h5";
  {
    ResultWriter out(file.string());
    out.write("/x", std::vector<int32_t>{1, 2, 3});
    out.commit();
  }
  const std::string good = read_bytes(file);
  ASSERT_FALSE(good.empty());
  try {
    ResultWriter out(file.string());
    out.write("/x", std::vector<int32_t>{9, 9, 9, 9});
    out.write("/x", std::vector<int32_t>{1});  // throws: a run failing half-way
    FAIL() << "expected jm::Error";
  } catch (const Error&) {
  }
  EXPECT_EQ(read_bytes(file), good);
  EXPECT_EQ(folder_entries(dir), std::vector<std::string>{"result.h5"});
  EXPECT_EQ(ResultReader(file.string()).read_int32("/x"), (std::vector<int32_t>{1, 2, 3}));
}

TEST(ResultFile, SecondCommitIsRefusedAndTargetIsReplaced) {
  const auto dir = scratch_dir();
  const auto file = dir / "result.h5";
  jm::testing::write_file(file, "an older result");
  ResultWriter out(file.string());
  out.write("/x", std::vector<double>{2.5});
  out.commit();
  expect_error_mentioning([&] { out.commit(); }, {file.string(), "committed"});
  EXPECT_EQ(folder_entries(dir), std::vector<std::string>{"result.h5"});
  EXPECT_FALSE(fs::exists(temp_path_of(file)));
  EXPECT_EQ(ResultReader(file.string()).read_double("/x"), std::vector<double>{2.5});
}

TEST(ResultFile, NonexistentFolderIsReported) {
  const auto missing = scratch_dir() / "no" / "such" / "folder" / "result.h5";
  expect_error_mentioning([&] { ResultWriter out(missing.string()); }, {missing.string(), "does not exist"});
}

TEST(ResultFile, ReadingNonHdf5OrMissingFileIsReported) {
  const auto dir = scratch_dir();
  const std::string text = jm::testing::write_file(dir / "fake.h5", "customer_id,timestamp\nA,1\n");
  expect_error_mentioning([&] { ResultReader in(text); }, {text, "not an HDF5 file"});
  const std::string missing = (dir / "missing.h5").string();
  expect_error_mentioning([&] { ResultReader in(missing); }, {missing, "no such file"});
  const std::string empty = jm::testing::write_file(dir / "empty.h5", "");
  expect_error_mentioning([&] { ResultReader in(empty); }, {empty});
}

}  // namespace
}  // namespace jm
