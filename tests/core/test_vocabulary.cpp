// Vocabulary: dense ids in first-insertion order, lookups without insertion, growth and copies.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

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

TEST(Vocabulary, AppendDistinctNumbersNamesInOrderAndFindsThemAll) {
  jm::Vocabulary vocab;
  vocab.encode("x");
  std::vector<std::string> names;
  for (int i = 1; i <= 300000; ++i) names.push_back(std::to_string(i));
  vocab.append_distinct(names);
  std::vector<std::string> more{"y", "z"};
  vocab.append_distinct(more);  // into a table with room to spare
  ASSERT_EQ(vocab.size(), 300003);
  EXPECT_EQ(vocab.find("x"), 0);
  for (int i = 1; i <= 300000; ++i) ASSERT_EQ(vocab.find(std::to_string(i)), i) << i;
  EXPECT_EQ(vocab.name(300001), "y");
  EXPECT_EQ(vocab.encode("z"), 300002);
  EXPECT_EQ(vocab.encode("new"), 300003);
  EXPECT_EQ(vocab.find("300001"), -1);
}

TEST(Vocabulary, AppendDistinctRefusesANameItAlreadyHolds) {
  jm::Vocabulary present;
  present.encode("a");
  EXPECT_THROW(present.append_distinct({"b", "a"}), std::logic_error);
  jm::Vocabulary twice;
  EXPECT_THROW(twice.append_distinct({"b", "c", "b"}), std::logic_error);
}

}  // namespace
