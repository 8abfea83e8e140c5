#include "journeymap/events.hpp"

#include <stdexcept>
#include <string>

namespace jm {

void EventTable::reserve(size_t n) {
  customer.reserve(n);
  timestamp_ms.reserve(n);
  touchpoint.reserve(n);
  channel.reserve(n);
  value.reserve(n);
  is_conversion.reserve(n);
}

void EventTable::push_back(uint32_t customer_id, int64_t time_ms, int32_t touchpoint_id, int32_t channel_id,
                           float event_value, bool conversion) {
  customer.push_back(customer_id);
  timestamp_ms.push_back(time_ms);
  touchpoint.push_back(touchpoint_id);
  channel.push_back(channel_id);
  value.push_back(event_value);
  is_conversion.push_back(conversion ? 1 : 0);
}

void EventTable::move_row(size_t from, size_t to) {
  customer[to] = customer[from];
  timestamp_ms[to] = timestamp_ms[from];
  touchpoint[to] = touchpoint[from];
  channel[to] = channel[from];
  value[to] = value[from];
  is_conversion[to] = is_conversion[from];
  for (CodedColumn& dimension : dimensions) dimension.codes[to] = dimension.codes[from];
}

void EventTable::truncate(size_t n) {
  customer.resize(n);
  timestamp_ms.resize(n);
  touchpoint.resize(n);
  channel.resize(n);
  value.resize(n);
  is_conversion.resize(n);
  for (CodedColumn& dimension : dimensions) dimension.codes.resize(n);
}

void EventTable::check_consistent() const {
  const size_t n = customer.size();
  if (timestamp_ms.size() != n || touchpoint.size() != n || channel.size() != n || value.size() != n ||
      is_conversion.size() != n)
    throw std::logic_error("EventTable: columns differ in length");
  for (size_t i = 0; i < n; ++i) {
    if (customer[i] >= static_cast<uint32_t>(customers.size()) || touchpoint[i] < 0 ||
        touchpoint[i] >= touchpoints.size() || channel[i] < 0 || channel[i] >= channels.size())
      throw std::logic_error("EventTable: id out of vocabulary range at row " + std::to_string(i));
  }
  for (const CodedColumn& dimension : dimensions) {
    if (dimension.codes.size() != n) throw std::logic_error("EventTable: dimension '" + dimension.name + "' differs in length");
    for (const int32_t code : dimension.codes)
      if (code < -1 || code >= dimension.values.size())
        throw std::logic_error("EventTable: dimension '" + dimension.name + "' code out of range");
  }
}

}  // namespace jm
