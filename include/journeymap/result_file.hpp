// The HDF5 result file: crash-safe writer (temp file + rename) and a reader for `info` and tests.
// Layout is documented in docs/hdf5-schema.md.
//
//   jm::ResultWriter out("out/journeymap.h5");      // writes out/journeymap.h5.tmp.<pid>
//   out.write_journeys(journeys);
//   out.write_meta(meta);
//   out.commit();                                   // closes, then renames over the target
//   // an exception before commit() removes the temp file; the old target stays untouched
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "journeymap/journeys.hpp"

namespace jm {

/// Everything /meta records about a run.
struct RunMetadata {
  std::string command;                 ///< e.g. "run"
  std::string backend;                 ///< "cpu" or "gpu"
  std::string build_info;              ///< `journeymap --version` text of the binary that ran
  std::string config_toml;             ///< the full effective configuration
  std::vector<std::string> input_files;
  std::vector<uint64_t> input_bytes;
  int64_t rows_read = 0;
  int64_t rows_skipped = 0;
  std::vector<std::string> bad_row_messages;  ///< the first few skipped rows, readable
  std::vector<std::pair<std::string, double>> stage_seconds;  ///< (stage name, wall seconds)
  std::string journey_rule;            ///< the journey rule and outcome definition in one sentence
  std::vector<std::string> warnings;   ///< leakage and data warnings, readable
  int64_t processes = 1;               ///< the processes of a run across processes (mpirun -np N), else 1
};

class ResultWriter {
 public:
  /// Deflate level of large datasets when none is given: 1 compresses the journey arrays about as
  /// well as 4 (8 MB against 7 MB for 2.2M events) in 60% of the time; 0 stores them raw.
  static constexpr int kDefaultDeflateLevel = 1;

  /// Creates `<final_path>.tmp.<pid>` in the same folder. Throws Error if it cannot, and
  /// ConfigError when deflate_level is outside 0..9.
  explicit ResultWriter(std::string final_path, int deflate_level = kDefaultDeflateLevel);
  ~ResultWriter();  ///< removes the temp file unless commit() succeeded
  ResultWriter(const ResultWriter&) = delete;
  ResultWriter& operator=(const ResultWriter&) = delete;

  void write_meta(const RunMetadata& meta);        ///< /meta (attributes + small datasets)
  void write_vocab(const JourneySet& journeys);    ///< /vocab/touchpoints, /vocab/channels, /vocab/customers
  /// /vocab/touchpoints and /vocab/channels only: for results without per-journey data (`mine`),
  /// where a million customer names would cost more to write than the patterns.
  void write_event_vocab(const JourneySet& journeys);
  void write_journeys(const JourneySet& journeys); ///< /journeys (CSR, chunked + deflate)

  // Generic writers for the analysis stages. `path` is absolute ("/patterns/support"); missing
  // parent groups are created. Datasets over 64 Ki elements are chunked and compressed.
  void write(const std::string& path, const std::vector<int64_t>& data);
  void write(const std::string& path, const std::vector<int32_t>& data);
  void write(const std::string& path, const std::vector<uint32_t>& data);
  void write(const std::string& path, const std::vector<uint8_t>& data);
  void write(const std::string& path, const std::vector<float>& data);
  void write(const std::string& path, const std::vector<double>& data);
  void write(const std::string& path, const std::vector<std::string>& data);  ///< UTF-8 vlen strings
  /// A 1-D dataset of `n` doubles that `fill` computes slice by slice (elements [begin, end) into
  /// `out`), so a column derived from others is never held whole; stored as write() stores it.
  void write_computed(const std::string& path, int64_t n,
                      const std::function<void(int64_t begin, int64_t end, double* out)>& fill);
  /// Appends to a 1-D dataset that grows: created (chunked, compressed, no size limit) by the first
  /// call, extended by later ones, so per-journey columns are written batch after batch. A path
  /// once appended to takes appends of the same element type only.
  void append(const std::string& path, const std::vector<int64_t>& data);
  void append(const std::string& path, const std::vector<uint32_t>& data);
  void append(const std::string& path, const std::vector<int32_t>& data);
  void append(const std::string& path, const std::vector<uint8_t>& data);
  void append(const std::string& path, const std::vector<float>& data);
  void append(const std::string& path, const std::vector<double>& data);
  /// Appends rows to a 2-D float matrix [rows x cols] that grows the same way (write_matrix's layout).
  void append_rows(const std::string& path, const std::vector<float>& data, size_t cols);
  /// /journeys, one batch after another: `batch` holds the next journeys (its customer ids counted
  /// from `first_customer`); the offsets continue the previous batch's. finish_journeys() writes the
  /// attributes once every batch is in (the outcome labels from `labelled`, any batch that carried
  /// outcomes). Batches of consecutive customers give the same /journeys as write_journeys() of all
  /// of them (custom dimensions are not written this way).
  void append_journeys(const JourneySet& batch, uint32_t first_customer);
  void finish_journeys(const JourneySet& labelled, const JourneyBuildStats& stats);
  /// 2-D row-major float matrix [rows x cols].
  void write_matrix(const std::string& path, const std::vector<float>& data, size_t rows, size_t cols);
  void write_attribute(const std::string& object_path, const std::string& name, const std::string& value);
  void write_attribute(const std::string& object_path, const std::string& name, int64_t value);
  void write_attribute(const std::string& object_path, const std::string& name, double value);

  /// Closes every handle, then renames the temp file over the final path.
  void commit();
  const std::string& final_path() const { return final_path_; }

 private:
  struct Impl;
  std::string final_path_;
  std::string temp_path_;
  std::unique_ptr<Impl> impl_;
  bool committed_ = false;
  int temp_slot_ = -1;  ///< registration for removal on SIGINT/SIGTERM/SIGHUP (host/core/temp_files.hpp)
};

/// Read access to a result file (read-only; throws Error naming the file and object on failure).
class ResultReader {
 public:
  explicit ResultReader(const std::string& path);
  ~ResultReader();
  ResultReader(const ResultReader&) = delete;
  ResultReader& operator=(const ResultReader&) = delete;

  bool exists(const std::string& path) const;
  std::vector<int64_t> read_int64(const std::string& path) const;
  std::vector<int32_t> read_int32(const std::string& path) const;
  std::vector<uint32_t> read_uint32(const std::string& path) const;
  std::vector<uint8_t> read_uint8(const std::string& path) const;
  std::vector<float> read_float(const std::string& path) const;
  std::vector<double> read_double(const std::string& path) const;
  std::vector<std::string> read_strings(const std::string& path) const;
  /// Dimensions of a dataset.
  std::vector<uint64_t> shape(const std::string& path) const;
  /// Stored element type of a dataset: "int8".."int64", "uint8".."uint64", "float32", "float64",
  /// "string", or another HDF5 class name ("compound", ...).
  std::string element_type(const std::string& path) const;
  std::string read_string_attribute(const std::string& object_path, const std::string& name) const;
  int64_t read_int_attribute(const std::string& object_path, const std::string& name) const;
  double read_double_attribute(const std::string& object_path, const std::string& name) const;
  /// Names of the members of a group, sorted.
  std::vector<std::string> list(const std::string& group_path) const;
  /// Names of the attributes of a group or dataset, sorted.
  std::vector<std::string> attribute_names(const std::string& object_path) const;

  /// Rebuilds the JourneySet stored under /journeys and /vocab. With `summary_columns`, only what a
  /// summary of the set reads: no event times or values, no customer names (ids are still checked
  /// against /vocab/customers), no outcomes; most of a large result is left on disk.
  JourneySet read_journeys(bool summary_columns = false) const;

 private:
  struct Impl;
  std::string path_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace jm
