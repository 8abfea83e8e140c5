// Copying one journey, or its first events, to the end of another journey set: the rows of
// select_journeys and journey_prefixes, and the merge of `run --append` (host/pipeline/append_run.cpp).
#pragma once

#include <cstdint>

#include "journeymap/journeys.hpp"

namespace jm {

/// Appends the first `length` events (1 .. from.length(j)) of journey j of `from` to `out`, with its
/// journey columns: a prefix ends at its last kept event, and a custom dimension's journey value is
/// the first among the kept events. `out` holds `from`'s dimensions in the same order and its offsets
/// start with 0.
void append_journey(JourneySet& out, const JourneySet& from, int64_t j, int64_t length);

}  // namespace jm
