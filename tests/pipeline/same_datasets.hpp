// Compares two result files dataset by dataset, for tests of runs that must give the same result
// another way (appended, in batches).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "journeymap/common.hpp"
#include "journeymap/result_file.hpp"

namespace jm::testing {

// The attributes of the object at `path` equal in both files: same names, same values (strings,
// integers or floating point; NaN equals NaN). Timings (names ending in "seconds") differ by nature.
inline void expect_same_attributes(const jm::ResultReader& a, const jm::ResultReader& b, const std::string& path) {
  const std::string object = path.empty() ? "/" : path;
  const std::vector<std::string> names = a.attribute_names(object);
  EXPECT_EQ(names, b.attribute_names(object)) << object;
  for (const std::string& name : names) {
    if (name.size() >= 7 && name.compare(name.size() - 7, 7, "seconds") == 0) continue;
    try {
      EXPECT_EQ(a.read_string_attribute(object, name), b.read_string_attribute(object, name)) << object << "@" << name;
      continue;
    } catch (const jm::Error&) {
    }
    try {
      EXPECT_EQ(a.read_int_attribute(object, name), b.read_int_attribute(object, name)) << object << "@" << name;
      continue;
    } catch (const jm::Error&) {
    }
    const double x = a.read_double_attribute(object, name), y = b.read_double_attribute(object, name);
    EXPECT_TRUE(x == y || (std::isnan(x) && std::isnan(y))) << object << "@" << name << ": " << x << " vs " << y;
  }
}

// Every dataset under `path` (outside /meta and the paths in `skip`) equal in both files: same
// names, same values; with `attributes`, every group's and dataset's attributes too. Floating-point
// values may differ by `relative_tolerance` x max(1, |value|) (sums added in another grouping).
inline void expect_same_datasets(const jm::ResultReader& a, const jm::ResultReader& b, const std::string& path,
                                 bool attributes = false, double relative_tolerance = 0.0,
                                 const std::vector<std::string>& skip = {}) {
  if (attributes) expect_same_attributes(a, b, path);
  std::vector<std::string> members;
  bool group = true;
  try {
    members = a.list(path.empty() ? "/" : path);
  } catch (const jm::Error&) {
    group = false;
  }
  if (group) {
    EXPECT_EQ(members, b.list(path.empty() ? "/" : path)) << path;
    for (const std::string& member : members) {
      const std::string child = path + "/" + member;
      if (child != "/meta" && std::find(skip.begin(), skip.end(), child) == skip.end())
        expect_same_datasets(a, b, child, attributes, relative_tolerance, skip);
    }
    return;
  }
  const std::string type = a.element_type(path);
  ASSERT_EQ(type, b.element_type(path)) << path;
  if (type == "string") {
    EXPECT_EQ(a.read_strings(path), b.read_strings(path)) << path;
  } else if (type == "float32" || type == "float64") {
    const std::vector<double> x = a.read_double(path), y = b.read_double(path);
    ASSERT_EQ(x.size(), y.size()) << path;
    size_t differing = 0, first = x.size();
    for (size_t i = 0; i < x.size(); ++i) {
      const bool same = x[i] == y[i] || (std::isnan(x[i]) && std::isnan(y[i])) ||
                        std::abs(x[i] - y[i]) <= relative_tolerance * std::max(1.0, std::abs(x[i]));
      if (!same && differing++ == 0) first = i;
    }
    EXPECT_EQ(differing, 0u) << path << (differing > 0 ? "; first at [" + std::to_string(first) + "]: " +
                                                             std::to_string(x[first]) + " vs " + std::to_string(y[first])
                                                       : std::string());
  } else {
    EXPECT_EQ(a.read_int64(path), b.read_int64(path)) << path;
  }
}

// /meta's account of the input equal in both files: rows read and skipped, bad rows (named by
// their line in the whole file), warnings (what the outcome cut removed), input files and sizes.
inline void expect_same_meta(const jm::ResultReader& a, const jm::ResultReader& b) {
  for (const std::string name : {"warnings", "bad_rows", "input_files"})
    EXPECT_EQ(a.read_strings("/meta/" + name), b.read_strings("/meta/" + name)) << name;
  EXPECT_EQ(a.read_int64("/meta/input_bytes"), b.read_int64("/meta/input_bytes"));
  for (const std::string name : {"rows_read", "rows_skipped"})
    EXPECT_EQ(a.read_int_attribute("/meta", name), b.read_int_attribute("/meta", name)) << name;
}

}  // namespace jm::testing
