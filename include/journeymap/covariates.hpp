// External factors per time bucket: campaigns on or off and their spend, holidays, price changes,
// competitor events. The metric alerts explain what these factors explain instead of alerting on it.
//
//   jm::CovariateTable table = jm::read_covariates("calendar.csv", 86400);
//   double on = table.value_at(table.column("campaign"), journey_start_ms);
//
// File: CSV with a header `date,<factor>,...`; one row per bucket, the first field the bucket's start
// (YYYY-MM-DD for daily buckets, or any timestamp journeymap reads, UTC), the others finite numbers.
// A bucket without a row has every factor 0 (no campaign, no holiday).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace jm {

/// Limits that keep a hostile covariates file bounded.
inline constexpr size_t kMaxCovariates = 64;
inline constexpr int64_t kMaxCovariateRows = 1000000;
inline constexpr double kMaxCovariateMagnitude = 1e15;  ///< larger values overflow the effects' regression
/// Longest time bucket of the alerts and covariates (ten years): bucket arithmetic stays in int64.
inline constexpr int64_t kMaxBucketSeconds = 10LL * 366 * 86400;

struct CovariateTable {
  std::string file;
  int64_t bucket_seconds = 86400;
  std::vector<std::string> names;        ///< [c] factor names, in file order
  std::vector<int64_t> bucket_start_ms;  ///< [rows] ascending, distinct, each a multiple of the bucket
  std::vector<double> values;            ///< [rows x c], row-major

  bool empty() const { return names.empty(); }
  int32_t size() const { return static_cast<int32_t>(names.size()); }
  /// Index of a factor by name, -1 when the table has none of that name.
  int32_t column(const std::string& name) const;
  /// Value of factor `column` in the bucket holding `time_ms`; 0 when no row covers that bucket.
  double value_at(int32_t column, int64_t time_ms) const;
};

/// Reads a covariates file for buckets of `bucket_seconds`. Throws InputError naming the file, line
/// and field on a missing or malformed header, a date that is not a bucket start, a date listed
/// twice (naming the first line), a value that is not a finite number (or beyond +-1e15), or more
/// than the limits above; ConfigError when bucket_seconds is outside 1 .. kMaxBucketSeconds.
CovariateTable read_covariates(const std::string& path, int64_t bucket_seconds);

/// read_covariates shared for the journeys (JourneySet::covariates); null when `path` is empty.
std::shared_ptr<const CovariateTable> load_covariates(const std::string& path, int64_t bucket_seconds);

/// How the rows of a table line up with the buckets [first_bucket_ms, last_bucket_ms].
struct CovariateCoverage {
  int64_t rows_before = 0;       ///< rows for buckets before the data's first bucket
  int64_t rows_after = 0;        ///< rows after its last bucket
  int64_t buckets_without = 0;   ///< buckets of the data with no row (every factor read as 0)
};
CovariateCoverage covariate_coverage(const CovariateTable& table, int64_t first_bucket_ms, int64_t last_bucket_ms);

/// One line for the run summary when the table does not match the data's period (empty otherwise).
std::string describe_covariate_coverage(const CovariateTable& table, const CovariateCoverage& coverage);

}  // namespace jm
