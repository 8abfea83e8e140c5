// Vocabulary: dense ids in first-insertion order, lookups without insertion, growth and copies.
#include <gtest/gtest.h>

#include <string>
#include <unordered_map>

#include "journeymap/vocabulary.hpp"

namespace {

TEST(Vocabulary, IdsFollowFirstInsertionOrder) {
  jm::Vocabulary vocab;
  EXPECT_EQ(vocab.find("home"), -1);
  EXPECT_EQ(vocab.encode("home"), 0);
  EXPECT_EQ(vocab.encode("search"), 1);
  EXPECT_EQ(vocab.encode("home"), 0);
  EXPECT_EQ(vocab.encode(""), 2);  // the empty name is a name like any other
  EXPECT_EQ(vocab.size(), 3);
  EXPECT_EQ(vocab.name(1), "search");
  EXPECT_EQ(vocab.find("search"), 1);
  EXPECT_EQ(vocab.find("checkout"), -1);
}

TEST(Vocabulary, AgreesWithAHashMapThroughManyGrowths) {
  jm::Vocabulary vocab;
  std::unordered_map<std::string, int32_t> reference;
  for (int i = 0; i < 200000; ++i) {
    const std::string name = "c" + std::to_string((i * 7919) % 150001);
    auto [it, inserted] = reference.emplace(name, static_cast<int32_t>(reference.size()));
    ASSERT_EQ(vocab.encode(name), it->second) << name;
  }
  EXPECT_EQ(vocab.size(), static_cast<int32_t>(reference.size()));
  const jm::Vocabulary copy = vocab;  // copies keep working lookups
  for (const auto& [name, id] : reference) ASSERT_EQ(copy.find(name), id);
}

TEST(Vocabulary, ReserveKeepsExistingIds) {
  jm::Vocabulary vocab;
  vocab.encode("a");
  vocab.encode("b");
  vocab.reserve(100000);
  EXPECT_EQ(vocab.find("a"), 0);
  EXPECT_EQ(vocab.find("b"), 1);
  EXPECT_EQ(vocab.encode("c"), 2);
}

}  // namespace
