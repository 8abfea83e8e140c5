// Static per-customer (or per-case) attributes read from a CSV keyed by customer id, e.g. the
// requested loan amount of a loan application. They become model inputs named case:<column>.
//
//   journeys.case_attributes = jm::read_case_attributes("cases.csv", journeys.customers);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "journeymap/journeys.hpp"
#include "journeymap/vocabulary.hpp"

namespace jm {

struct CaseAttributeStats {
  int64_t rows = 0;
  int64_t unmatched = 0;  ///< ids not among the customers
};

/// Reads `id,<attr>,...` (a header line first; RFC 4180 quotes). A column whose non-empty values
/// all parse as finite numbers is numeric, any other is categorical (codes by frequency, ties by
/// name). Empty fields are missing (NaN). Rows are matched to `customers` by id; customers without
/// a row get NaN. Throws InputError naming the file and line on a duplicate id, a row with the
/// wrong number of fields, a header with an empty or repeated name, or more than 256 columns.
CaseAttributes read_case_attributes(const std::string& path, const Vocabulary& customers,
                                    CaseAttributeStats* stats = nullptr);

/// read_case_attributes into `journeys` (nothing when `path` is empty); a warning names the ids
/// that are not among the customers.
void attach_case_attributes(JourneySet& journeys, const std::string& path, std::vector<std::string>* warnings);

}  // namespace jm
