// Helpers of the segmentation tests: planted Gaussian blobs and an independent adjusted Rand index.
#pragma once

#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <utility>
#include <vector>

namespace jm::testing {

struct Blobs {
  std::vector<float> points;  // [n x dims]
  std::vector<int32_t> truth; // [n]
  int64_t n = 0;
  int dims = 0;
};

/// `k` blobs with centres on a scaled simplex-like layout (distance >= `separation`), unit-ish noise.
inline Blobs make_blobs(int64_t n, int dims, int k, double separation, double noise, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> gauss(0.0, 1.0);
  std::vector<double> centres(static_cast<size_t>(k) * dims);
  for (int c = 0; c < k; ++c)
    for (int j = 0; j < dims; ++j) centres[c * dims + j] = (j == c % dims ? separation : 0.0) + (c / dims) * separation;
  Blobs b;
  b.n = n;
  b.dims = dims;
  for (int64_t i = 0; i < n; ++i) {
    const int c = static_cast<int>(i % k);
    b.truth.push_back(c);
    for (int j = 0; j < dims; ++j) b.points.push_back(static_cast<float>(centres[c * dims + j] + noise * gauss(rng)));
  }
  return b;
}

/// Adjusted Rand index (Hubert & Arabie), from the contingency table.
inline double adjusted_rand_index(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  std::map<std::pair<int32_t, int32_t>, int64_t> joint;
  std::map<int32_t, int64_t> rows, cols;
  for (size_t i = 0; i < a.size(); ++i) {
    ++joint[{a[i], b[i]}];
    ++rows[a[i]];
    ++cols[b[i]];
  }
  auto pairs = [](int64_t x) { return static_cast<double>(x) * (x - 1) / 2.0; };
  double index = 0, row_sum = 0, col_sum = 0;
  for (const auto& [key, count] : joint) index += pairs(count);
  for (const auto& [key, count] : rows) row_sum += pairs(count);
  for (const auto& [key, count] : cols) col_sum += pairs(count);
  const double expected = row_sum * col_sum / pairs(static_cast<int64_t>(a.size()));
  const double maximum = 0.5 * (row_sum + col_sum);
  return maximum == expected ? 1.0 : (index - expected) / (maximum - expected);
}

}  // namespace jm::testing
