// Small order statistics shared by the stages.
#pragma once

#include <algorithm>
#include <limits>
#include <vector>

namespace jm {

/// Median of `values` (taken by value: reordered in place), the mean of the two middle values for
/// an even count; NaN when empty.
template <typename T>
double median_of(std::vector<T> values) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + mid, values.end());
  const double upper = static_cast<double>(values[mid]);
  if (values.size() % 2 == 1) return upper;
  const double lower = static_cast<double>(*std::max_element(values.begin(), values.begin() + mid));
  return 0.5 * (lower + upper);
}

}  // namespace jm
