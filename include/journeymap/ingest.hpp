// Reading event logs: CSV with a header (columns mapped by name) and SPMF sequence databases.
//
//   jm::CsvOptions options;                 // defaults match `journeymap generate`
//   options.columns.touchpoint = "page";    // map a differently named column
//   jm::IngestResult result = jm::read_events_csv("events.csv", options);
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "journeymap/events.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/timestamp.hpp"

namespace jm {

/// How an input file is written: `Auto` tells Parquet by its magic bytes and CSV from SPMF by the
/// first data line.
enum class InputFormat { Auto, Csv, Spmf, Parquet };
/// Parses "auto", "csv", "spmf" or "parquet" (throws ConfigError otherwise).
InputFormat parse_input_format(const std::string& text);

struct SourcesReport;   // sources.hpp
struct TaxonomyReport;  // taxonomy.hpp

/// What to do with a row that cannot be parsed.
enum class OnError { Fail, Skip };
/// Parses "fail" or "skip" (throws ConfigError otherwise).
OnError parse_on_error(const std::string& text);

/// A custom dimension of the events and the column it is read from.
struct DimensionColumn {
  std::string name;
  std::string column;
};

/// "name" (read from the column of that name) or "name=column"; throws ConfigError on an empty part.
DimensionColumn parse_dimension_column(const std::string& text);

/// Which CSV header names hold which field. An empty name means the column is absent.
struct CsvColumns {
  std::string customer = "customer_id";   ///< required
  std::string timestamp = "timestamp";    ///< required
  std::string touchpoint = "touchpoint";  ///< required
  std::string channel = "channel";        ///< optional: absent -> every event on channel "unknown"
  std::string value = "value";            ///< optional: absent -> 0
  std::string conversion = "conversion";  ///< optional flag column: 1/0, true/false, yes/no
  /// More text columns read as they are, dictionary-encoded into IngestResult::extra_columns (the
  /// second ids of a source that links identities, for example). Each must be in the header.
  std::vector<std::string> extra;
  /// Custom dimensions: read like `extra`, they become EventTable::dimensions (see
  /// read_configured_input in pipeline.hpp).
  std::vector<DimensionColumn> dimensions;
};

struct CsvOptions {
  CsvColumns columns;
  char delimiter = ',';
  TimestampFormat timestamp_format = TimestampFormat::Auto;
  /// Accepted event times [min, max): rows outside are bad rows (a stray year-0000 or year-9999 row
  /// would otherwise stretch every time series over millennia). Default 1900-01-01 .. 2200-01-01.
  int64_t min_timestamp_ms = -2208988800000LL;
  int64_t max_timestamp_ms = 7258118400000LL;
  /// When set, events with this touchpoint are conversions (in addition to a flag column).
  std::string conversion_touchpoint;
  OnError on_error = OnError::Fail;
  int num_threads = 0;                    ///< 0 = all hardware threads
  size_t block_bytes = size_t{32} << 20;  ///< text read and parsed per step (bounds memory)
  /// Time zone of ISO-8601 timestamps written without an offset: "" or "UTC", an IANA name
  /// ("Europe/Paris", daylight saving applied) or a fixed offset ("+05:30"). Epoch times and
  /// timestamps with their own offset are not affected.
  std::string time_zone;
  /// Called after each block with (bytes read so far, file size); empty = no progress reports.
  std::function<void(uint64_t, uint64_t)> progress;
  /// A share of a CSV file for one of several processes: only the lines that begin at byte offsets
  /// in [share_begin, share_end) are read, so consecutive shares hold every line once. The header
  /// is read from the file's start whatever the share; line numbers in errors and bad rows count
  /// from the share's first line (line 1); a share without rows is no error. Default: the whole file.
  uint64_t share_begin = 0;
  uint64_t share_end = UINT64_MAX;
  /// A share of a Parquet file for one of several processes: its row groups [G*index/count,
  /// G*(index+1)/count) of the file's G. Bad rows keep their row number in the file; a share
  /// without rows is no error. Default: the whole file.
  int parquet_share_index = 0;
  int parquet_share_count = 1;
  /// When set, the events are handed over block by block instead of kept: called after each block
  /// with the block's rows (ids global across blocks, vocabularies growing in first-appearance
  /// order); the reader then drops the rows, so memory holds one block of events. The result's
  /// table keeps the vocabularies and no rows. CSV, SPMF and Parquet (a block is a row group;
  /// read_events passes it on); not with extra columns or dimensions.
  std::function<void(const EventTable&)> on_events;
};

/// A row that was skipped under OnError::Skip.
struct BadRow {
  int64_t line = 0;  ///< 1-based line in the file
  std::string column;
  std::string value;
  std::string reason;
  std::string file;  ///< set when a run reads several files (sources)
};

/// A text column read besides the event fields (CsvColumns::extra), named by its header.
using ExtraColumn = CodedColumn;

struct IngestResult {
  EventTable events;
  std::vector<ExtraColumn> extra_columns;  ///< in the order of CsvColumns::extra
  std::string file;
  uint64_t file_bytes = 0;
  int64_t rows_read = 0;     ///< data rows seen (excluding the header and blank lines)
  int64_t rows_skipped = 0;  ///< bad rows skipped under OnError::Skip
  int64_t line_ends = 0;     ///< '\n' characters read (CSV, SPMF): what numbers the lines of the share after this one
  std::vector<BadRow> first_bad_rows;  ///< the first few skipped rows (at most kMaxReportedBadRows)
  /// Set when the events came from several sources: what each gave and how identities were stitched.
  std::shared_ptr<const SourcesReport> sources;
  /// Set when a taxonomy renamed the touchpoints: the level used and what was not mapped.
  std::shared_ptr<const TaxonomyReport> taxonomy;
  static constexpr size_t kMaxReportedBadRows = 20;
};

/// The byte offset just past a CSV file's header line (after a byte order mark and the blank lines
/// before it): where its data rows begin, for cutting it into shares. The file's size when it
/// holds no line end after the header. Throws InputError when it cannot be read.
uint64_t csv_data_begin(const std::string& path);

/// Reads a CSV event log. The first line is the header. Fields may be quoted with `"` (a doubled
/// `""` inside is a quote); a quoted field may not span lines. Throws InputError naming the file,
/// line, column and value on bad input unless `on_error` is Skip (then bad rows are counted);
/// an empty file, a missing required column or a file with no valid row is always an error.
IngestResult read_events_csv(const std::string& path, const CsvOptions& options);

/// Reads an SPMF sequence database (`item -1 item -1 -2` per line; one item per event). Every line
/// is one customer (named by its 1-based sequence number) with one journey; event k (0-based) gets
/// timestamp k seconds, channel "none", value 0 and no conversion. Lines starting with `#`, `%` or
/// `@` are comments. Throws InputError on malformed lines or itemsets with more than one item.
IngestResult read_events_spmf(const std::string& path, int num_threads = 0);
/// The same, handing the events over block by block as CsvOptions::on_events does (none kept).
IngestResult read_events_spmf(const std::string& path, int num_threads,
                              const std::function<void(const EventTable&)>& on_events);

/// An SPMF sequence database read straight into its touch sequences, for pattern mining: journey j
/// is the file's j-th non-empty sequence, the journey build_journeys and cut_at_outcomes make of
/// read_events_spmf's events whenever nothing can cut it (no outcome events, no session gap below
/// the 1 s between events, no length cap). Only what mining reads is filled: `offsets`,
/// `touchpoint`, `converted` (all 0: the format marks no outcome) and the touchpoint and channel
/// dictionaries; no event times, values or customer names, so it takes a fraction of the time and
/// memory of the event table and the journey build. `read` holds the counts (lines, sequences,
/// bytes) and no events. Errors as read_events_spmf.
struct SpmfSequences {
  IngestResult read;
  JourneySet sequences;
};
SpmfSequences read_spmf_sequences(const std::string& path, int num_threads = 0);

/// A share of an SPMF file for one of several processes: the lines that begin at byte offsets in
/// [share_begin, share_end). Sequences are numbered from the share's first (customer "1" is its
/// first non-comment line: add the sequences of the shares before it for the file's numbering),
/// as are the lines in errors; a share without sequences is no error. `file_bytes` is left 0.
IngestResult read_events_spmf_share(const std::string& path, int num_threads, uint64_t share_begin,
                                    uint64_t share_end);
/// Reads a Parquet event log with the same column mapping, timestamp settings, conversion rules and
/// error handling as CSV (a bad row's `line` is its 1-based row number). Text columns are read as
/// dictionaries; a timestamp column may be a Parquet timestamp or date, epoch numbers or text;
/// nested, binary and other unsupported column types are refused by name, as is a file that is
/// not Parquet or is truncated. Needs the build's Apache Arrow (the module is opened on first use).
IngestResult read_events_parquet(const std::string& path, const CsvOptions& options);

/// The format `read_events` would read `path` as (Parquet, SPMF or CSV), from its first bytes.
InputFormat detect_input_format(const std::string& path);

/// Picks the reader by content: Parquet when the file starts with its magic bytes, SPMF when the
/// first data line is integers ending in `-2`, else CSV.
IngestResult read_events(const std::string& path, const CsvOptions& options);

}  // namespace jm
