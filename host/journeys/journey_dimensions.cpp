// Custom dimensions follow the events into their journeys through JourneySet::event_row; each
// journey's value is its first event's that has one (first touch).
#include <stdexcept>

#include "journeymap/journeys.hpp"

namespace jm {

const std::string& JourneyDimension::journey_value(int64_t j) const {
  static const std::string kNone = "(none)";
  const int32_t code = journey_code[static_cast<size_t>(j)];
  return code < 0 ? kNone : values[static_cast<size_t>(code)];
}

void attach_dimensions(JourneySet& journeys, const EventTable& events) {
  journeys.dimensions.clear();
  if (events.dimensions.empty()) return;
  if (static_cast<int64_t>(journeys.event_row.size()) != journeys.num_events())
    throw std::logic_error("attach_dimensions: the journeys were built without keep_event_rows");
  const int64_t n_journeys = journeys.size();
  for (const CodedColumn& column : events.dimensions) {
    JourneyDimension& dimension = journeys.dimensions.emplace_back();
    dimension.name = column.name;
    dimension.values = column.values.names();
    dimension.event_code.resize(static_cast<size_t>(journeys.num_events()));
    dimension.journey_code.assign(static_cast<size_t>(n_journeys), -1);
    for (int64_t j = 0; j < n_journeys; ++j)
      for (int64_t e = journeys.offsets[j]; e < journeys.offsets[j + 1]; ++e) {
        const int32_t code = column.codes[static_cast<size_t>(journeys.event_row[e])];
        dimension.event_code[static_cast<size_t>(e)] = code;
        if (dimension.journey_code[static_cast<size_t>(j)] < 0) dimension.journey_code[static_cast<size_t>(j)] = code;
      }
  }
}

const JourneyDimension* find_dimension(const JourneySet& journeys, const std::string& name) {
  for (const JourneyDimension& dimension : journeys.dimensions)
    if (dimension.name == name) return &dimension;
  return nullptr;
}

}  // namespace jm
