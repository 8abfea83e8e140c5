// The events table: one row per customer event, stored column by column.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "journeymap/vocabulary.hpp"

namespace jm {

/// A text column of events, dictionary-encoded: a custom dimension (campaign, device, country,
/// experiment variant, the source of the event) or a second id read beside the event fields.
struct CodedColumn {
  std::string name;
  Vocabulary values;           ///< distinct non-empty values, in order of first appearance
  std::vector<int32_t> codes;  ///< [n_events] id in `values`; -1 where the event has no value
};

/// Columnar event log as read from a file. Row i of every column describes the same event;
/// rows keep the order of the input file (the journey builder sorts them).
struct EventTable {
  std::vector<uint32_t> customer;       ///< [n_events] dense customer id (see `customers`)
  std::vector<int64_t> timestamp_ms;    ///< [n_events] milliseconds since 1970-01-01T00:00:00Z
  std::vector<int32_t> touchpoint;      ///< [n_events] dense touchpoint id (see `touchpoints`)
  std::vector<int32_t> channel;         ///< [n_events] dense channel id (see `channels`)
  std::vector<float> value;             ///< [n_events] monetary value of the event (0 if none)
  std::vector<uint8_t> is_conversion;   ///< [n_events] 1 when the event is a conversion

  Vocabulary customers;    ///< customer id text <-> dense id
  Vocabulary touchpoints;  ///< touchpoint name <-> dense id
  Vocabulary channels;     ///< channel name <-> dense id
  /// Custom dimensions ([input] dimensions), one code per row like the columns above. push_back
  /// leaves them alone: code that appends rows appends their codes too.
  std::vector<CodedColumn> dimensions;

  size_t size() const { return customer.size(); }
  void reserve(size_t n);
  void push_back(uint32_t customer_id, int64_t time_ms, int32_t touchpoint_id, int32_t channel_id,
                 float event_value, bool conversion);
  /// Copies row `from` over row `to` (to <= from): the step of compacting the table in place.
  void move_row(size_t from, size_t to);
  /// Keeps the first `n` rows.
  void truncate(size_t n);
  /// Throws std::logic_error when the columns disagree in length or an id is out of range.
  void check_consistent() const;
};

}  // namespace jm
