// Host-side preparation shared by both feature twins: the lookup tables a FeatureSpec needs on one
// journey set (share slots, name hashes, per-customer journey counts, repeat links) and the column layout.
#pragma once

#include <cstdint>
#include <vector>

#include "journeymap/feature_rules.hpp"
#include "journeymap/features.hpp"

namespace jm::feature_detail {

struct FeatureTables {
  std::vector<int32_t> touchpoint_slot;   ///< [n_touchpoints] share slot of each touchpoint id
  std::vector<int32_t> channel_slot;      ///< [n_channels]
  std::vector<uint32_t> touchpoint_hash;  ///< [n_touchpoints] FNV-1a hash of the name
  std::vector<float> customer_journey_number;  ///< [n_journeys] 1-based rank among its customer's journeys
  std::vector<int32_t> next_same_touchpoint;   ///< [n_events] see FeatureLayout
  std::vector<int32_t> next_same_channel;      ///< [n_events]
  std::vector<uint8_t> first_occurrence;       ///< [n_events]
  feature_rules::FeatureLayout layout;    ///< pointers left null; each twin points them at its copies
};

/// Tables of `spec` on `journeys`; the repeat links are built on `num_threads` threads.
FeatureTables make_tables(const JourneySet& journeys, const FeatureSpec& spec, int num_threads);

}  // namespace jm::feature_detail
