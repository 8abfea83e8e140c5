// Curves behind the binary metrics, for /model/curves (the scalar metrics are public in model.hpp).
#pragma once

#include <cstddef>
#include <vector>

namespace jm::model_detail {

/// ROC or precision-recall curve, one point per distinct score threshold, thinned to at most
/// `max_points` (the first and last points are always kept).
struct Curve {
  std::vector<float> x, y;  ///< ROC: (false positive rate, true positive rate); PR: (recall, precision)
};
Curve roc_curve(const std::vector<float>& labels, const std::vector<float>& scores, size_t max_points = 201);
Curve precision_recall_curve(const std::vector<float>& labels, const std::vector<float>& scores, size_t max_points = 201);

}  // namespace jm::model_detail
