// The HDF5 result file (layout: docs/hdf5-schema.md).
//
// Why temp + rename: HDF5 is not crash-safe. A process killed half-way through leaves a file that
// may not open at all, so ResultWriter writes `<final>.tmp.<pid>` in the target's folder (same file
// system, so rename is atomic), closes every handle, fsyncs, and only then renames over the target.
// Until commit() the target is never opened, so the previous good result survives a failed run.
//
// Why chunking only above 64 Ki elements: chunked datasets carry a B-tree and per-chunk filter
// overhead that dwarfs small arrays; large ones compress well (ids and sorted timestamps love
// shuffle + deflate). Chunks aim at ~1 MiB (the default chunk cache size), clamped to
// [64 Ki, 1 Mi] elements and never larger than the data.
//
// Errors: HDF5's automatic error printing is switched off (per thread: the Debian build is
// thread-safe, so the setting is thread-local) and failures become jm::Error carrying the file
// name, the object path and the most specific message from the HDF5 error stack.
#include "journeymap/result_file.hpp"

#include <fcntl.h>
#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "host/output/chunk_compression.hpp"
#include "host/core/temp_files.hpp"
#include "host/output/hdf5_handles.hpp"
#include "journeymap/common.hpp"

namespace jm {
namespace {

using h5::AttributeHandle;
using h5::DatasetHandle;
using h5::DataspaceHandle;
using h5::DatatypeHandle;
using h5::FileHandle;
using h5::GroupHandle;
using h5::ObjectHandle;
using h5::PropertyListHandle;

#ifdef JM_VERSION
constexpr const char* kJourneymapVersion = JM_VERSION;
#else
constexpr const char* kJourneymapVersion = "unknown";
#endif

constexpr const char* kFormatName = "journeymap-result";
// 2: journeys cut at their outcome (/journeys/outcome, /vocab/outcomes); conversion_touchpoint
// attributes and /model/prefix/journeys_cut gone.
constexpr int64_t kFormatVersion = 2;

constexpr hsize_t kChunkThreshold = 65536;        ///< datasets with more elements are chunked
constexpr hsize_t kMinChunkElements = 65536;
constexpr hsize_t kMaxChunkElements = 1u << 20;
constexpr size_t kChunkTargetBytes = size_t{1} << 20;
constexpr size_t kVlenElementBytes = 16;          ///< a variable-length string's slot in a chunk

// ------------------------------------------------------------------ HDF5 error stack -> text

// HDF5 closes every file it still knows of in an atexit handler; after a write failed (a full disk)
// that close dereferences a half-closed file and the process dies with SIGSEGV after reporting the
// error. Every file journeymap opens is closed (or discarded) explicitly, so the handler is switched
// off before the library is first used: a static object of this translation unit runs first.
struct DisableHdf5AtExit {
  DisableHdf5AtExit() { H5dont_atexit(); }
};
const DisableHdf5AtExit disable_hdf5_atexit;

void silence_hdf5_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

herr_t collect_error_description(unsigned /*n*/, const H5E_error2_t* error, void* client) {
  auto* messages = static_cast<std::vector<std::string>*>(client);
  if (error->desc != nullptr && error->desc[0] != '\0') messages->emplace_back(error->desc);
  return 0;
}

/// The current thread's HDF5 error stack as "api message (innermost cause)"; clears the stack.
std::string hdf5_error_detail() {
  std::vector<std::string> messages;  // innermost first
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect_error_description, &messages);
  H5Eclear2(H5E_DEFAULT);
  if (messages.empty()) return "HDF5 call failed";
  if (messages.size() == 1 || messages.front() == messages.back()) return messages.back();
  return messages.back() + " (" + messages.front() + ")";
}

// ------------------------------------------------------------------ paths and types

/// Splits an absolute object path "/a/b" into {"a", "b"}; "/" gives {}. Throws on relative paths,
/// empty components ("/a//b", "/a/") and "." / ".." (HDF5 would read them as links).
std::vector<std::string> split_object_path(const std::string& file, const std::string& path) {
  if (path.empty() || path.front() != '/')
    throw Error(file + ": object path '" + path + "' must be absolute (start with '/')");
  std::vector<std::string> parts;
  if (path == "/") return parts;
  size_t begin = 1;
  while (true) {
    const size_t end = path.find('/', begin);
    std::string part = path.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    if (part.empty() || part == "." || part == "..")
      throw Error(file + ": object path '" + path + "' has an empty, '.' or '..' component");
    parts.push_back(std::move(part));
    if (end == std::string::npos) break;
    begin = end + 1;
  }
  return parts;
}

/// A variable-length string type with the given character set (file and memory type alike).
DatatypeHandle vlen_string_type(H5T_cset_t cset) {
  DatatypeHandle type(H5Tcopy(H5T_C_S1));
  if (!type.valid() || H5Tset_size(type.get(), H5T_VARIABLE) < 0 || H5Tset_cset(type.get(), cset) < 0)
    return DatatypeHandle();
  return type;
}

herr_t reclaim_vlen(hid_t type, hid_t space, void* buffer) {
#if H5_VERSION_GE(1, 12, 0)
  return H5Treclaim(type, space, H5P_DEFAULT, buffer);
#else
  return H5Dvlen_reclaim(type, space, H5P_DEFAULT, buffer);
#endif
}

/// What a caller asks a dataset or attribute to be read as.
enum class Want { Int64, Int32, UInt32, UInt8, Float32, Float64 };

const char* want_name(Want want) {
  switch (want) {
    case Want::Int64: return "int64";
    case Want::Int32: return "int32";
    case Want::UInt32: return "uint32";
    case Want::UInt8: return "uint8";
    case Want::Float32: return "float32";
    case Want::Float64: return "float64";
  }
  return "?";
}

hid_t native_type(Want want) {
  switch (want) {
    case Want::Int64: return H5T_NATIVE_INT64;
    case Want::Int32: return H5T_NATIVE_INT32;
    case Want::UInt32: return H5T_NATIVE_UINT32;
    case Want::UInt8: return H5T_NATIVE_UINT8;
    case Want::Float32: return H5T_NATIVE_FLOAT;
    case Want::Float64: return H5T_NATIVE_DOUBLE;
  }
  return H5I_INVALID_HID;
}

/// Readable name of a stored type, for error messages ("int16", "uint64", "float32", "string").
std::string describe_type(hid_t type) {
  const size_t bytes = H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
      return std::string(H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(8 * bytes);
    case H5T_FLOAT: return "float" + std::to_string(8 * bytes);
    case H5T_STRING: return "string";
    case H5T_COMPOUND: return "compound";
    case H5T_ENUM: return "enum";
    case H5T_ARRAY: return "array";
    case H5T_VLEN: return "variable-length sequence";
    case H5T_OPAQUE: return "opaque";
    case H5T_REFERENCE: return "reference";
    case H5T_BITFIELD: return "bitfield";
    case H5T_TIME: return "time";
    default: return "unknown type";
  }
}

/// True when every value of the stored type converts to `want` without loss, so HDF5's own
/// conversion on read is safe (int16 -> int64 yes; uint64 -> int64 or float64 -> float32 no).
bool converts_losslessly(hid_t type, Want want) {
  const H5T_class_t cls = H5Tget_class(type);
  const size_t bytes = H5Tget_size(type);
  const bool is_signed = cls == H5T_INTEGER && H5Tget_sign(type) != H5T_SGN_NONE;
  switch (want) {
    case Want::Int64: return cls == H5T_INTEGER && (is_signed ? bytes <= 8 : bytes < 8);
    case Want::Int32: return cls == H5T_INTEGER && (is_signed ? bytes <= 4 : bytes < 4);
    case Want::UInt32: return cls == H5T_INTEGER && !is_signed && bytes <= 4;
    case Want::UInt8: return cls == H5T_INTEGER && !is_signed && bytes == 1;
    case Want::Float32: return cls == H5T_FLOAT && bytes <= 4;
    case Want::Float64: return (cls == H5T_FLOAT && bytes <= 8) || (cls == H5T_INTEGER && bytes <= 4);
  }
  return false;
}

template <typename T>
struct NumericTraits;
template <>
struct NumericTraits<int64_t> {
  static hid_t memory() { return H5T_NATIVE_INT64; }
  static hid_t file() { return H5T_STD_I64LE; }
};
template <>
struct NumericTraits<int32_t> {
  static hid_t memory() { return H5T_NATIVE_INT32; }
  static hid_t file() { return H5T_STD_I32LE; }
};
template <>
struct NumericTraits<uint32_t> {
  static hid_t memory() { return H5T_NATIVE_UINT32; }
  static hid_t file() { return H5T_STD_U32LE; }
};
template <>
struct NumericTraits<uint8_t> {
  static hid_t memory() { return H5T_NATIVE_UINT8; }
  static hid_t file() { return H5T_STD_U8LE; }
};
template <>
struct NumericTraits<float> {
  static hid_t memory() { return H5T_NATIVE_FLOAT; }
  static hid_t file() { return H5T_IEEE_F32LE; }
};
template <>
struct NumericTraits<double> {
  static hid_t memory() { return H5T_NATIVE_DOUBLE; }
  static hid_t file() { return H5T_IEEE_F64LE; }
};

/// Chunk shape for `dims`: ~1 MiB, within [64 Ki, 1 Mi] elements, the trailing dimensions kept
/// whole where they fit (a matrix is chunked in blocks of full rows), never larger than the data.
std::vector<hsize_t> chunk_shape(const std::vector<hsize_t>& dims, size_t element_bytes) {
  const hsize_t target =
      std::clamp<hsize_t>(kChunkTargetBytes / std::max<size_t>(element_bytes, 1), kMinChunkElements, kMaxChunkElements);
  std::vector<hsize_t> chunk(dims.size(), 1);
  hsize_t budget = target;
  for (size_t d = dims.size(); d-- > 0;) {
    chunk[d] = std::max<hsize_t>(1, std::min(dims[d], budget));
    budget = std::max<hsize_t>(1, budget / chunk[d]);
  }
  return chunk;
}

std::string utc_now_iso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

/// File access properties shared by writer and reader: no file locking (it fails on NFS and some
/// container file systems; the temp-file protocol already keeps writers apart), and "semi" close
/// degree so H5Fclose fails loudly instead of silently deferring when an object is still open.
PropertyListHandle file_access_plist() {
  PropertyListHandle fapl(H5Pcreate(H5P_FILE_ACCESS));
  if (!fapl.valid()) return fapl;
#if H5_VERSION_GE(1, 10, 7)
  H5Pset_file_locking(fapl.get(), false, true);
#else
  setenv("HDF5_USE_FILE_LOCKING", "FALSE", 0);
#endif
  H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_SEMI);
  return fapl;
}

/// Flushes a closed file's data to stable storage, so a crash right after rename cannot expose an
/// empty or partial target. Returns false with errno set on failure.
bool fsync_path(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return ok;
}

}  // namespace

// =================================================================== writer

struct ResultWriter::Impl {
  std::string name;  ///< the final path, used in every message
  int deflate_level = ResultWriter::kDefaultDeflateLevel;  ///< 0: large datasets chunked, uncompressed
  FileHandle file;
  PropertyListHandle link_create;  ///< creates missing parent groups, UTF-8 link names

  [[noreturn]] void fail(const std::string& path, const std::string& what) const {
    throw Error(name + ": cannot write " + path + ": " + what);
  }
  [[noreturn]] void fail_hdf5(const std::string& path) const { fail(path, hdf5_error_detail()); }

  void require_open() const {
    if (!file.valid()) throw Error(name + ": result file is already committed or closed");
  }

  bool link_exists(const std::string& path) const {
    const auto parts = split_object_path(name, path);
    std::string prefix;
    for (const auto& part : parts) {
      prefix += "/" + part;
      if (H5Lexists(file.get(), prefix.c_str(), H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return false;
      }
    }
    return true;
  }

  /// Fails unless every existing ancestor of `path` is a group (missing ones get created).
  void require_group_ancestors(const std::string& path) const {
    const auto parts = split_object_path(name, path);
    std::string prefix;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      prefix += "/" + parts[i];
      if (H5Lexists(file.get(), prefix.c_str(), H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return;
      }
      ObjectHandle ancestor(H5Oopen(file.get(), prefix.c_str(), H5P_DEFAULT));
      if (!ancestor.valid()) fail_hdf5(path);
      if (H5Iget_type(ancestor.get()) != H5I_GROUP) fail(path, prefix + " is a dataset, not a group");
    }
  }

  void require_new(const std::string& path) const {
    require_open();
    if (split_object_path(name, path).empty()) fail(path, "the root group is not a dataset");
    require_group_ancestors(path);
    if (link_exists(path)) fail(path, "the object already exists");
  }

  /// Chunks of `chunk` with shuffle and deflate (when compressing) on a dataset-creation list.
  void set_chunk_filters(hid_t create, const std::vector<hsize_t>& chunk, const std::string& path) const {
    if (H5Pset_chunk(create, static_cast<int>(chunk.size()), chunk.data()) < 0) fail_hdf5(path);
    if (deflate_level > 0 &&
        (H5Pset_shuffle(create) < 0 || H5Pset_deflate(create, static_cast<unsigned>(deflate_level)) < 0))
      fail_hdf5(path);
  }

  /// A dataset just created by create_array, and how its data goes in.
  struct NewArray {
    DatasetHandle dataset;
    std::vector<hsize_t> chunk;     ///< empty when not chunked
    bool compress_in_parallel = false;
  };

  /// Creates a dataset of `dims`: chunked and compressed above kChunkThreshold elements.
  NewArray create_array(const std::string& path, const std::vector<hsize_t>& dims, hid_t memory_type, hid_t file_type,
                        size_t element_bytes) {
    silence_hdf5_errors();
    require_new(path);
    hsize_t n_elements = 1;
    for (hsize_t d : dims) n_elements *= d;

    // A zero-size simple dataspace with contiguous layout: reads back as shape (0,) in h5py and
    // as an empty vector here, and costs no storage.
    DataspaceHandle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
    PropertyListHandle create(H5Pcreate(H5P_DATASET_CREATE));
    if (!space.valid() || !create.valid()) fail_hdf5(path);
    NewArray array;
    const bool chunked = n_elements > kChunkThreshold;
    if (chunked) array.chunk = chunk_shape(dims, element_bytes);
    // Numbers whose memory layout is the file's (little-endian here) are compressed chunk by chunk
    // on all cores (chunk_compression.hpp); strings go through HDF5's own pipeline.
    const H5T_class_t type_class = H5Tget_class(file_type);
    array.compress_in_parallel = chunked && deflate_level > 0 && dims.size() <= 2 &&
                                 (type_class == H5T_INTEGER || type_class == H5T_FLOAT) &&
                                 H5Tequal(memory_type, file_type) > 0 && H5Tget_size(file_type) == element_bytes;
    if (chunked) set_chunk_filters(create.get(), array.chunk, path);
    array.dataset = DatasetHandle(
        H5Dcreate2(file.get(), path.c_str(), file_type, space.get(), link_create.get(), create.get(), H5P_DEFAULT));
    if (!array.dataset.valid()) fail_hdf5(path);
    return array;
  }

  /// Creates a dataset of `dims` and writes `data` (row-major) into it.
  void write_array(const std::string& path, const void* data, const std::vector<hsize_t>& dims, hid_t memory_type,
                   hid_t file_type, size_t element_bytes) {
    NewArray array = create_array(path, dims, memory_type, file_type, element_bytes);
    hsize_t n_elements = 1;
    for (hsize_t d : dims) n_elements *= d;
    if (n_elements > 0 && array.compress_in_parallel) {
      if (!output_detail::write_chunks_compressed(array.dataset.get(), data, dims, array.chunk, element_bytes, deflate_level))
        fail_hdf5(path);
    } else if (n_elements > 0 && H5Dwrite(array.dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
      fail_hdf5(path);
    }
    if (array.dataset.close() < 0) fail_hdf5(path);
  }

  /// Writes rows [first_row, first_row + count[0]) of `dataset` from `data` (count's shape, row-major):
  /// compressed chunk by chunk on all cores when `compress` (first_row then on a chunk boundary),
  /// otherwise through a hyperslab and HDF5's own pipeline.
  void write_rows(const std::string& path, hid_t dataset, const void* data, const std::vector<hsize_t>& count,
                  hsize_t first_row, const std::vector<hsize_t>& chunk, hid_t memory_type, size_t element_bytes,
                  bool compress) const {
    if (compress) {
      if (!output_detail::write_chunks_compressed(dataset, data, count, chunk, element_bytes, deflate_level, first_row))
        fail_hdf5(path);
      return;
    }
    std::vector<hsize_t> start(count.size(), 0);
    start[0] = first_row;
    DataspaceHandle file_space(H5Dget_space(dataset));
    DataspaceHandle memory_space(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr));
    if (!file_space.valid() || !memory_space.valid() ||
        H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr) < 0 ||
        H5Dwrite(dataset, memory_type, memory_space.get(), file_space.get(), H5P_DEFAULT, data) < 0)
      fail_hdf5(path);
  }

  /// Creates a 1-D dataset of `n` doubles and writes it slice by slice as `fill` computes them.
  void write_computed_array(const std::string& path, hsize_t n,
                            const std::function<void(int64_t, int64_t, double*)>& fill) {
    NewArray array = create_array(path, {n}, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, sizeof(double));
    // Whole chunks per slice (as the parallel compressor wants), 16 of them so all cores have work.
    const hsize_t slice_rows = array.chunk.empty() ? std::max<hsize_t>(n, 1) : array.chunk[0] * 16;
    std::vector<double> slice(static_cast<size_t>(std::min(slice_rows, std::max<hsize_t>(n, 1))));
    for (hsize_t begin = 0; begin < n; begin += slice_rows) {
      const hsize_t rows = std::min(slice_rows, n - begin);
      fill(static_cast<int64_t>(begin), static_cast<int64_t>(begin + rows), slice.data());
      write_rows(path, array.dataset.get(), slice.data(), {rows}, begin, array.chunk, H5T_NATIVE_DOUBLE, sizeof(double),
                 array.compress_in_parallel);
    }
    if (array.dataset.close() < 0) fail_hdf5(path);
  }

  template <typename T>
  void write_numeric(const std::string& path, const std::vector<T>& data) {
    write_array(path, data.data(), {static_cast<hsize_t>(data.size())}, NumericTraits<T>::memory(),
                NumericTraits<T>::file(), sizeof(T));
  }

  /// A dataset that grows by append(): whole chunks go to the file as they fill (compressed on all
  /// cores, as write_array does), the rest waits in `pending` until more comes or the file closes.
  /// A 1-D dataset grows by elements; a 2-D one by rows of `columns` elements.
  struct Appended {
    hsize_t in_file = 0;  ///< rows written to the file
    hsize_t columns = 0;  ///< 0: a 1-D dataset
    hid_t memory_type = H5I_INVALID_HID;
    size_t row_bytes = 0;
    size_t element_bytes = 0;
    std::vector<hsize_t> chunk;          ///< the dataset's chunk shape; chunk[0] rows
    std::vector<unsigned char> pending;  ///< rows not written yet (less than a chunk)
    hsize_t size() const { return in_file + pending.size() / row_bytes; }
    std::vector<hsize_t> dims(hsize_t rows) const {
      return columns == 0 ? std::vector<hsize_t>{rows} : std::vector<hsize_t>{rows, columns};
    }
  };
  std::map<std::string, Appended> appended;

  /// Appends `rows` rows (elements of a 1-D dataset when `columns` is 0) to the growing dataset at
  /// `path`, creating it on first use.
  void append_array(const std::string& path, const void* data, hsize_t rows, hsize_t columns, hid_t memory_type,
                    hid_t file_type, size_t element_bytes) {
    silence_hdf5_errors();
    require_open();
    auto known = appended.find(path);
    if (known == appended.end()) {
      require_new(path);
      if (H5Tequal(memory_type, file_type) <= 0) fail(path, "appends take numbers stored in their memory layout");
      Appended grown;
      grown.columns = columns;
      grown.memory_type = memory_type;
      grown.element_bytes = element_bytes;
      grown.row_bytes = element_bytes * std::max<hsize_t>(columns, 1);
      const std::vector<hsize_t> empty = grown.dims(0);
      std::vector<hsize_t> unlimited = empty;
      unlimited[0] = H5S_UNLIMITED;
      DataspaceHandle space(H5Screate_simple(static_cast<int>(empty.size()), empty.data(), unlimited.data()));
      PropertyListHandle create(H5Pcreate(H5P_DATASET_CREATE));
      if (!space.valid() || !create.valid()) fail_hdf5(path);
      grown.chunk =
          chunk_shape(columns == 0 ? std::vector<hsize_t>{kMaxChunkElements} : std::vector<hsize_t>{kMaxChunkElements, columns},
                      element_bytes);
      set_chunk_filters(create.get(), grown.chunk, path);
      DatasetHandle dataset(
          H5Dcreate2(file.get(), path.c_str(), file_type, space.get(), link_create.get(), create.get(), H5P_DEFAULT));
      if (!dataset.valid() || dataset.close() < 0) fail_hdf5(path);
      known = appended.emplace(path, std::move(grown)).first;
    } else if (H5Tequal(known->second.memory_type, memory_type) <= 0 || known->second.columns != columns) {
      fail(path, "appended with another element type or row width than before");
    }
    Appended& target = known->second;
    const auto* bytes = static_cast<const unsigned char*>(data);
    target.pending.insert(target.pending.end(), bytes, bytes + rows * target.row_bytes);
    const hsize_t whole = target.pending.size() / target.row_bytes / target.chunk[0] * target.chunk[0];
    if (whole > 0) write_appended(path, target, whole);
  }

  /// Writes the first `rows` pending rows of `target` (whole chunks, or the tail when closing).
  void write_appended(const std::string& path, Appended& target, hsize_t rows) {
    const std::vector<hsize_t> grown = target.dims(target.in_file + rows), count = target.dims(rows);
    DatasetHandle dataset(H5Dopen2(file.get(), path.c_str(), H5P_DEFAULT));
    if (!dataset.valid() || H5Dset_extent(dataset.get(), grown.data()) < 0) fail_hdf5(path);
    write_rows(path, dataset.get(), target.pending.data(), count, target.in_file, target.chunk, target.memory_type,
               target.element_bytes, deflate_level > 0);
    if (dataset.close() < 0) fail_hdf5(path);
    target.pending.erase(target.pending.begin(), target.pending.begin() + static_cast<std::ptrdiff_t>(rows * target.row_bytes));
    target.in_file += rows;
  }

  /// Writes what the appended datasets still hold back: before the file closes.
  void flush_appended() {
    for (auto& [path, target] : appended)
      if (!target.pending.empty()) write_appended(path, target, target.pending.size() / target.row_bytes);
  }

  template <typename T>
  void append_numeric(const std::string& path, const std::vector<T>& data) {
    append_array(path, data.data(), static_cast<hsize_t>(data.size()), 0, NumericTraits<T>::memory(),
                 NumericTraits<T>::file(), sizeof(T));
  }

  hsize_t appended_size(const std::string& path) const {
    const auto known = appended.find(path);
    return known == appended.end() ? 0 : known->second.size();
  }

  /// Variable-length UTF-8 strings; `scalar` stores exactly one string in a scalar dataspace.
  void write_strings(const std::string& path, const std::vector<std::string>& data, bool scalar) {
    for (size_t i = 0; i < data.size(); ++i)
      if (data[i].find('\0') != std::string::npos)
        fail(path, "string " + std::to_string(i) + " contains a NUL byte (HDF5 strings end at NUL)");
    std::vector<const char*> pointers(data.size());
    for (size_t i = 0; i < data.size(); ++i) pointers[i] = data[i].c_str();
    DatatypeHandle type = vlen_string_type(H5T_CSET_UTF8);
    if (!type.valid()) fail_hdf5(path);
    if (!scalar) {
      write_array(path, pointers.data(), {static_cast<hsize_t>(data.size())}, type.get(), type.get(),
                  kVlenElementBytes);
      return;
    }
    silence_hdf5_errors();
    require_new(path);
    DataspaceHandle space(H5Screate(H5S_SCALAR));
    DatasetHandle dataset(
        H5Dcreate2(file.get(), path.c_str(), type.get(), space.get(), link_create.get(), H5P_DEFAULT, H5P_DEFAULT));
    if (!space.valid() || !dataset.valid()) fail_hdf5(path);
    if (H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()) < 0) fail_hdf5(path);
    if (dataset.close() < 0) fail_hdf5(path);
  }

  /// Opens the group or dataset at `path`, creating it (and its parents) as a group when missing.
  ObjectHandle open_or_create_object(const std::string& path) {
    if (path == "/" || link_exists(path)) {
      ObjectHandle object(H5Oopen(file.get(), path.c_str(), H5P_DEFAULT));
      if (!object.valid()) fail_hdf5(path);
      return object;
    }
    require_group_ancestors(path);
    GroupHandle group(H5Gcreate2(file.get(), path.c_str(), link_create.get(), H5P_DEFAULT, H5P_DEFAULT));
    if (!group.valid()) fail_hdf5(path);
    group.close();
    ObjectHandle object(H5Oopen(file.get(), path.c_str(), H5P_DEFAULT));
    if (!object.valid()) fail_hdf5(path);
    return object;
  }

  /// Writes a scalar attribute, replacing an existing one of the same name.
  void write_scalar_attribute(const std::string& object_path, const std::string& attribute, hid_t file_type,
                              hid_t memory_type, const void* value) {
    silence_hdf5_errors();
    require_open();
    const std::string where = object_path + " attribute '" + attribute + "'";
    if (attribute.empty()) fail(where, "attribute names must not be empty");
    ObjectHandle object = open_or_create_object(object_path);
    const htri_t present = H5Aexists(object.get(), attribute.c_str());
    if (present < 0) fail_hdf5(where);
    if (present > 0 && H5Adelete(object.get(), attribute.c_str()) < 0) fail_hdf5(where);
    DataspaceHandle space(H5Screate(H5S_SCALAR));
    PropertyListHandle create(H5Pcreate(H5P_ATTRIBUTE_CREATE));
    if (!space.valid() || !create.valid() || H5Pset_char_encoding(create.get(), H5T_CSET_UTF8) < 0)
      fail_hdf5(where);
    AttributeHandle attr(
        H5Acreate2(object.get(), attribute.c_str(), file_type, space.get(), create.get(), H5P_DEFAULT));
    if (!attr.valid() || H5Awrite(attr.get(), memory_type, value) < 0) fail_hdf5(where);
    if (attr.close() < 0) fail_hdf5(where);
  }
};

ResultWriter::ResultWriter(std::string final_path, int deflate_level)
    : final_path_(std::move(final_path)), impl_(std::make_unique<Impl>()) {
  if (deflate_level < 0 || deflate_level > 9)
    throw ConfigError("output compression (deflate level) must be 0..9, got " + std::to_string(deflate_level));
  impl_->deflate_level = deflate_level;
  silence_hdf5_errors();
  impl_->name = final_path_;
  if (final_path_.empty()) throw Error("result file: the output path is empty");
  temp_path_ = final_path_ + ".tmp." + std::to_string(static_cast<long long>(::getpid()));

  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path parent = fs::path(final_path_).parent_path();
  if (!parent.empty() && !fs::is_directory(parent, ec))
    throw Error(final_path_ + ": cannot create result file: folder '" + parent.string() + "' does not exist");
  if (fs::is_directory(final_path_, ec))
    throw Error(final_path_ + ": cannot create result file: a folder of that name exists");

  PropertyListHandle access = file_access_plist();
  impl_->link_create = PropertyListHandle(H5Pcreate(H5P_LINK_CREATE));
  if (!access.valid() || !impl_->link_create.valid() ||
      H5Pset_create_intermediate_group(impl_->link_create.get(), 1) < 0 ||
      H5Pset_char_encoding(impl_->link_create.get(), H5T_CSET_UTF8) < 0)
    throw Error(final_path_ + ": cannot set up HDF5: " + hdf5_error_detail());

  temp_slot_ = register_temp_file(temp_path_);
  impl_->file = FileHandle(H5Fcreate(temp_path_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.get()));
  if (!impl_->file.valid()) {
    unregister_temp_file(temp_slot_);
    throw Error(final_path_ + ": cannot create temporary file '" + temp_path_ + "': " + hdf5_error_detail());
  }
}

ResultWriter::~ResultWriter() {
  if (committed_ || !impl_) return;
  impl_->file.close();  // status ignored: the file is discarded anyway
  std::remove(temp_path_.c_str());
  unregister_temp_file(temp_slot_);
}

void ResultWriter::write(const std::string& path, const std::vector<int64_t>& data) {
  impl_->write_numeric(path, data);
}
void ResultWriter::write(const std::string& path, const std::vector<int32_t>& data) {
  impl_->write_numeric(path, data);
}
void ResultWriter::write(const std::string& path, const std::vector<uint32_t>& data) {
  impl_->write_numeric(path, data);
}
void ResultWriter::write(const std::string& path, const std::vector<uint8_t>& data) {
  impl_->write_numeric(path, data);
}
void ResultWriter::write(const std::string& path, const std::vector<float>& data) {
  impl_->write_numeric(path, data);
}
void ResultWriter::write(const std::string& path, const std::vector<double>& data) {
  impl_->write_numeric(path, data);
}
void ResultWriter::write_computed(const std::string& path, int64_t n,
                                  const std::function<void(int64_t begin, int64_t end, double* out)>& fill) {
  if (n < 0) throw std::invalid_argument("write_computed: negative length for " + path);
  impl_->write_computed_array(path, static_cast<hsize_t>(n), fill);
}
void ResultWriter::write(const std::string& path, const std::vector<std::string>& data) {
  impl_->write_strings(path, data, /*scalar=*/false);
}

void ResultWriter::append(const std::string& path, const std::vector<int64_t>& data) {
  impl_->append_numeric(path, data);
}
void ResultWriter::append(const std::string& path, const std::vector<uint32_t>& data) {
  impl_->append_numeric(path, data);
}
void ResultWriter::append(const std::string& path, const std::vector<int32_t>& data) {
  impl_->append_numeric(path, data);
}
void ResultWriter::append(const std::string& path, const std::vector<uint8_t>& data) {
  impl_->append_numeric(path, data);
}
void ResultWriter::append(const std::string& path, const std::vector<float>& data) {
  impl_->append_numeric(path, data);
}
void ResultWriter::append(const std::string& path, const std::vector<double>& data) {
  impl_->append_numeric(path, data);
}

void ResultWriter::append_rows(const std::string& path, const std::vector<float>& data, size_t cols) {
  if (cols == 0 || data.size() % cols != 0)
    impl_->fail(path, std::to_string(data.size()) + " values are not rows of " + std::to_string(cols));
  impl_->append_array(path, data.data(), static_cast<hsize_t>(data.size() / cols), static_cast<hsize_t>(cols),
                      H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, sizeof(float));
}

void ResultWriter::write_matrix(const std::string& path, const std::vector<float>& data, size_t rows, size_t cols) {
  if (cols != 0 && rows > std::numeric_limits<size_t>::max() / cols)
    impl_->fail(path, "matrix shape overflows");
  if (data.size() != rows * cols)
    impl_->fail(path, "matrix holds " + std::to_string(data.size()) + " values, shape [" + std::to_string(rows) +
                          " x " + std::to_string(cols) + "] needs " + std::to_string(rows * cols));
  impl_->write_array(path, data.data(), {static_cast<hsize_t>(rows), static_cast<hsize_t>(cols)}, H5T_NATIVE_FLOAT,
                     H5T_IEEE_F32LE, sizeof(float));
}

void ResultWriter::write_attribute(const std::string& object_path, const std::string& name, const std::string& value) {
  if (value.find('\0') != std::string::npos)
    impl_->fail(object_path + " attribute '" + name + "'", "the value contains a NUL byte");
  DatatypeHandle type = vlen_string_type(H5T_CSET_UTF8);
  if (!type.valid()) impl_->fail_hdf5(object_path);
  const char* text = value.c_str();
  impl_->write_scalar_attribute(object_path, name, type.get(), type.get(), &text);
}

void ResultWriter::write_attribute(const std::string& object_path, const std::string& name, int64_t value) {
  impl_->write_scalar_attribute(object_path, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

void ResultWriter::write_attribute(const std::string& object_path, const std::string& name, double value) {
  impl_->write_scalar_attribute(object_path, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

void ResultWriter::write_vocab(const JourneySet& journeys) {
  write_event_vocab(journeys);
  write("/vocab/customers", journeys.customers.names());
}

void ResultWriter::write_event_vocab(const JourneySet& journeys) {
  write("/vocab/touchpoints", journeys.touchpoints.names());
  write("/vocab/channels", journeys.channels.names());
}

namespace {

// Validates a journey set's shape at the boundary (a ragged set would produce a file nobody can
// read back) and returns its offsets ({0} for a set without any).
const std::vector<int64_t>& checked_journey_offsets(const JourneySet& journeys,
                                                    const std::function<void(const std::string&)>& fail) {
  static const std::vector<int64_t> no_journeys_offsets{0};
  const std::vector<int64_t>& offsets = journeys.offsets.empty() ? no_journeys_offsets : journeys.offsets.host();
  const auto n_journeys = offsets.size() - 1;
  const auto n_events = journeys.touchpoint.size();
  auto require = [&](bool ok, const std::string& what) {
    if (!ok) fail(what);
  };
  require(offsets.front() == 0 && offsets.back() == static_cast<int64_t>(n_events),
          "offsets must start at 0 and end at the number of events");
  require(journeys.channel.size() == n_events && journeys.timestamp_ms.size() == n_events &&
              journeys.value.size() == n_events,
          "event columns (touchpoint, channel, timestamp_ms, value) differ in length");
  require(journeys.customer.size() == n_journeys && journeys.converted.size() == n_journeys &&
              journeys.conversion_value.size() == n_journeys && journeys.start_ms.size() == n_journeys &&
              journeys.end_ms.size() == n_journeys,
          "journey columns (customer, converted, conversion_value, start_ms, end_ms) differ in length");
  if (journeys.has_outcomes())
    require(journeys.outcome.size() == n_journeys && journeys.outcome_ms.size() == n_journeys,
            "outcome columns (outcome, outcome_ms) differ in length");
  return offsets;
}

}  // namespace

void ResultWriter::append_journeys(const JourneySet& batch, uint32_t first_customer) {
  impl_->require_open();
  const std::vector<int64_t>& offsets =
      checked_journey_offsets(batch, [&](const std::string& what) { impl_->fail("/journeys", what); });
  if (!batch.dimensions.empty()) impl_->fail("/journeys", "custom dimensions are not written batch by batch");
  // The offsets continue the previous batch's: this batch's own leading 0 is the last one written.
  const auto events_before = static_cast<int64_t>(impl_->appended_size("/journeys/touchpoint"));
  std::vector<int64_t> continued(offsets.begin() + (impl_->appended_size("/journeys/offsets") > 0 ? 1 : 0), offsets.end());
  for (int64_t& offset : continued) offset += events_before;
  std::vector<uint32_t> customer(batch.customer.host());
  for (uint32_t& id : customer) id += first_customer;
  append("/journeys/offsets", continued);
  append("/journeys/touchpoint", batch.touchpoint.host());
  append("/journeys/channel", batch.channel.host());
  append("/journeys/timestamp_ms", batch.timestamp_ms.host());
  append("/journeys/value", batch.value.host());
  append("/journeys/customer", customer);
  append("/journeys/converted", batch.converted.host());
  append("/journeys/conversion_value", batch.conversion_value.host());
  append("/journeys/start_ms", batch.start_ms.host());
  append("/journeys/end_ms", batch.end_ms.host());
  if (batch.has_outcomes()) {
    append("/journeys/outcome", batch.outcome.host());
    append("/journeys/outcome_ms", batch.outcome_ms.host());
  }
}

void ResultWriter::finish_journeys(const JourneySet& labelled, const JourneyBuildStats& stats) {
  if (impl_->appended_size("/journeys/offsets") == 0) append_journeys(JourneySet{}, 0);
  write_attribute("/journeys", "n_journeys", static_cast<int64_t>(impl_->appended_size("/journeys/offsets") - 1));
  write_attribute("/journeys", "n_events", static_cast<int64_t>(impl_->appended_size("/journeys/touchpoint")));
  write_attribute("/journeys", "input_events", stats.input_events);
  write_attribute("/journeys", "duplicates_dropped", stats.duplicates_dropped);
  write_attribute("/journeys", "events_truncated", stats.events_truncated);
  if (impl_->appended_size("/journeys/outcome") > 0) {
    if (labelled.outcome_labels.size() == 0) impl_->fail("/vocab/outcomes", "outcome labels were not given");
    write("/vocab/outcomes", labelled.outcome_labels.names());
    write_attribute("/journeys", "positive_outcome", labelled.outcome_labels.name(labelled.positive_outcome));
  }
}

void ResultWriter::write_journeys(const JourneySet& journeys) {
  impl_->require_open();
  const std::vector<int64_t>& offsets =
      checked_journey_offsets(journeys, [&](const std::string& what) { impl_->fail("/journeys", what); });
  const auto n_journeys = offsets.size() - 1;
  const auto n_events = journeys.touchpoint.size();
  auto require = [&](bool ok, const std::string& what) {
    if (!ok) impl_->fail("/journeys", what);
  };

  write("/journeys/offsets", offsets);
  write("/journeys/touchpoint", journeys.touchpoint);
  write("/journeys/channel", journeys.channel);
  write("/journeys/timestamp_ms", journeys.timestamp_ms);
  write("/journeys/value", journeys.value);
  write("/journeys/customer", journeys.customer);
  write("/journeys/converted", journeys.converted);
  write("/journeys/conversion_value", journeys.conversion_value);
  write("/journeys/start_ms", journeys.start_ms);
  write("/journeys/end_ms", journeys.end_ms);
  write_attribute("/journeys", "n_journeys", static_cast<int64_t>(n_journeys));
  write_attribute("/journeys", "n_events", static_cast<int64_t>(n_events));
  write_attribute("/journeys", "input_events", journeys.stats.input_events);
  write_attribute("/journeys", "duplicates_dropped", journeys.stats.duplicates_dropped);
  write_attribute("/journeys", "events_truncated", journeys.stats.events_truncated);
  if (journeys.has_outcomes()) {
    write("/journeys/outcome", journeys.outcome);
    write("/journeys/outcome_ms", journeys.outcome_ms);
    write("/vocab/outcomes", journeys.outcome_labels.names());
    write_attribute("/journeys", "positive_outcome", journeys.outcome_labels.name(journeys.positive_outcome));
  }
  // Dimension names come from the input: groups are numbered, the names are data.
  if (!journeys.dimensions.empty()) {
    std::vector<std::string> names;
    for (size_t d = 0; d < journeys.dimensions.size(); ++d) {
      const JourneyDimension& dimension = journeys.dimensions[d];
      require(dimension.event_code.size() == n_events && dimension.journey_code.size() == n_journeys,
              "dimension '" + dimension.name + "' differs in length from the events or journeys");
      const std::string group = "/dimensions/" + std::to_string(d);
      names.push_back(dimension.name);
      write(group + "/values", dimension.values);
      write(group + "/event_code", dimension.event_code);
      write(group + "/journey_code", dimension.journey_code);
    }
    write("/dimensions/names", names);
  }
}

void ResultWriter::write_meta(const RunMetadata& meta) {
  impl_->require_open();
  if (meta.input_files.size() != meta.input_bytes.size())
    impl_->fail("/meta", "input_files and input_bytes differ in length");
  std::vector<int64_t> input_bytes(meta.input_bytes.size());
  for (size_t i = 0; i < input_bytes.size(); ++i) {
    if (meta.input_bytes[i] > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      impl_->fail("/meta/input_bytes", "size of '" + meta.input_files[i] + "' does not fit int64");
    input_bytes[i] = static_cast<int64_t>(meta.input_bytes[i]);
  }
  std::vector<std::string> stage_names;
  std::vector<double> stage_seconds;
  for (const auto& [stage, seconds] : meta.stage_seconds) {
    stage_names.push_back(stage);
    stage_seconds.push_back(seconds);
  }
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);

  write_attribute("/meta", "format", std::string(kFormatName));
  write_attribute("/meta", "format_version", kFormatVersion);
  write_attribute("/meta", "journeymap_version", std::string(kJourneymapVersion));
  write_attribute("/meta", "hdf5_version",
                  std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release));
  write_attribute("/meta", "command", meta.command);
  write_attribute("/meta", "backend", meta.backend);
  write_attribute("/meta", "build_info", meta.build_info);
  write_attribute("/meta", "created_utc", utc_now_iso8601());
  write_attribute("/meta", "rows_read", meta.rows_read);
  write_attribute("/meta", "rows_skipped", meta.rows_skipped);
  write_attribute("/meta", "processes", meta.processes);
  impl_->write_strings("/meta/config_toml", {meta.config_toml}, /*scalar=*/true);
  if (!meta.journey_rule.empty()) write_attribute("/meta", "journey_rule", meta.journey_rule);
  write("/meta/warnings", meta.warnings);
  write("/meta/input_files", meta.input_files);
  write("/meta/input_bytes", input_bytes);
  write("/meta/bad_rows", meta.bad_row_messages);
  write("/meta/stage_names", stage_names);
  write("/meta/stage_seconds", stage_seconds);
}

void ResultWriter::commit() {
  silence_hdf5_errors();
  impl_->require_open();
  impl_->flush_appended();
  // Every object handle is an RAII local, so none should be open here; an open one would keep
  // H5Fclose (close degree "semi") from flushing, so check and say so explicitly.
  const ssize_t open_objects = H5Fget_obj_count(
      impl_->file.get(), H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE | H5F_OBJ_ATTR | H5F_OBJ_LOCAL);
  if (open_objects != 0)
    throw Error(final_path_ + ": cannot commit: " + std::to_string(open_objects) + " HDF5 objects are still open");
  if (impl_->file.close() < 0)
    throw Error(final_path_ + ": cannot close temporary file '" + temp_path_ + "': " + hdf5_error_detail());
  if (!fsync_path(temp_path_, /*directory=*/false))
    throw Error(final_path_ + ": cannot flush temporary file '" + temp_path_ + "': " + std::strerror(errno));
  if (std::rename(temp_path_.c_str(), final_path_.c_str()) != 0)
    throw Error(final_path_ + ": cannot rename '" + temp_path_ + "' over it: " + std::strerror(errno));
  committed_ = true;
  unregister_temp_file(temp_slot_);
  // Make the rename itself durable. Best effort: the result is complete either way.
  const std::filesystem::path parent = std::filesystem::path(final_path_).parent_path();
  fsync_path(parent.empty() ? std::string(".") : parent.string(), /*directory=*/true);
}

// =================================================================== reader

struct ResultReader::Impl {
  std::string name;
  FileHandle file;

  [[noreturn]] void fail_read(const std::string& path, const std::string& what) const {
    throw Error(name + ": cannot read " + path + ": " + what);
  }

  bool exists(const std::string& path) const {
    silence_hdf5_errors();
    const auto parts = split_object_path(name, path);
    std::string prefix;
    for (const auto& part : parts) {
      prefix += "/" + part;
      // A negative result (a component that is a dataset, not a group) also means "no".
      if (H5Lexists(file.get(), prefix.c_str(), H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return false;
      }
    }
    // The last link may be a dangling soft link.
    const htri_t present = H5Oexists_by_name(file.get(), path.c_str(), H5P_DEFAULT);
    H5Eclear2(H5E_DEFAULT);
    return present > 0;
  }

  /// Opens the group or dataset at `path` and checks its kind; `kind` is "dataset" or "group".
  ObjectHandle open_object(const std::string& path, H5I_type_t expected, const char* kind) const {
    if (!exists(path)) throw Error(name + ": no " + std::string(kind) + " " + path);
    ObjectHandle object(H5Oopen(file.get(), path.c_str(), H5P_DEFAULT));
    if (!object.valid()) fail_read(path, hdf5_error_detail());
    if (H5Iget_type(object.get()) != expected) throw Error(name + ": " + path + " is not a " + kind);
    return object;
  }

  DatasetHandle open_dataset(const std::string& path) const {
    open_object(path, H5I_DATASET, "dataset");  // existence and kind, with readable errors
    DatasetHandle dataset(H5Dopen2(file.get(), path.c_str(), H5P_DEFAULT));
    if (!dataset.valid()) fail_read(path, hdf5_error_detail());
    return dataset;
  }

  template <typename T>
  std::vector<T> read_numeric(const std::string& path, Want want) const {
    DatasetHandle dataset = open_dataset(path);
    DatatypeHandle type(H5Dget_type(dataset.get()));
    DataspaceHandle space(H5Dget_space(dataset.get()));
    if (!type.valid() || !space.valid()) fail_read(path, hdf5_error_detail());
    if (!converts_losslessly(type.get(), want))
      fail_read(path, "it holds " + describe_type(type.get()) + ", which does not convert to " + want_name(want) +
                          " without loss");
    const hssize_t n_elements = H5Sget_simple_extent_npoints(space.get());
    if (n_elements < 0) fail_read(path, hdf5_error_detail());
    std::vector<T> values(static_cast<size_t>(n_elements));
    if (n_elements > 0 &&
        H5Dread(dataset.get(), native_type(want), H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)
      fail_read(path, hdf5_error_detail());
    return values;
  }

  /// Reads the strings of a dataset or attribute (`read` does the H5Dread/H5Aread into a buffer
  /// of the given memory type). Handles variable-length and fixed-length strings.
  template <typename ReadFn>
  std::vector<std::string> read_string_values(const std::string& where, hid_t type, hid_t space, ReadFn read) const {
    if (H5Tget_class(type) != H5T_STRING) fail_read(where, "it holds " + describe_type(type) + ", not strings");
    const hssize_t n_elements = H5Sget_simple_extent_npoints(space);
    if (n_elements < 0) fail_read(where, hdf5_error_detail());
    std::vector<std::string> values(static_cast<size_t>(n_elements));
    if (n_elements == 0) return values;
    const H5T_cset_t cset = H5Tget_cset(type);
    if (H5Tis_variable_str(type) > 0) {
      DatatypeHandle memory = vlen_string_type(cset);
      std::vector<char*> pointers(values.size(), nullptr);
      if (!memory.valid() || read(memory.get(), pointers.data()) < 0) fail_read(where, hdf5_error_detail());
      for (size_t i = 0; i < values.size(); ++i)
        if (pointers[i] != nullptr) values[i] = pointers[i];
      reclaim_vlen(memory.get(), space, pointers.data());
      return values;
    }
    // Fixed-length strings (written by other tools): NUL- or space-padded slots.
    const size_t width = H5Tget_size(type);
    DatatypeHandle memory(H5Tcopy(type));
    std::vector<char> buffer(values.size() * width);
    if (!memory.valid() || read(memory.get(), buffer.data()) < 0) fail_read(where, hdf5_error_detail());
    const bool space_padded = H5Tget_strpad(type) == H5T_STR_SPACEPAD;
    for (size_t i = 0; i < values.size(); ++i) {
      std::string value(buffer.data() + i * width, width);
      value.resize(std::min(value.find('\0'), value.size()));
      if (space_padded) value.erase(value.find_last_not_of(' ') + 1);
      values[i] = std::move(value);
    }
    return values;
  }

  AttributeHandle open_attribute(const std::string& object_path, const std::string& attribute) const {
    ObjectHandle object = [&] {
      if (!exists(object_path)) throw Error(name + ": no object " + object_path);
      ObjectHandle handle(H5Oopen(file.get(), object_path.c_str(), H5P_DEFAULT));
      if (!handle.valid()) fail_read(object_path, hdf5_error_detail());
      return handle;
    }();
    const htri_t present = H5Aexists(object.get(), attribute.c_str());
    if (present < 0) fail_read(object_path, hdf5_error_detail());
    if (present == 0) throw Error(name + ": " + object_path + " has no attribute '" + attribute + "'");
    AttributeHandle attr(H5Aopen(object.get(), attribute.c_str(), H5P_DEFAULT));
    if (!attr.valid()) fail_read(object_path + " attribute '" + attribute + "'", hdf5_error_detail());
    return attr;
  }

  /// Reads a one-element numeric attribute as `want`.
  template <typename T>
  T read_scalar_attribute(const std::string& object_path, const std::string& attribute, Want want) const {
    silence_hdf5_errors();
    const std::string where = object_path + " attribute '" + attribute + "'";
    AttributeHandle attr = open_attribute(object_path, attribute);
    DatatypeHandle type(H5Aget_type(attr.get()));
    DataspaceHandle space(H5Aget_space(attr.get()));
    if (!type.valid() || !space.valid()) fail_read(where, hdf5_error_detail());
    if (!converts_losslessly(type.get(), want))
      fail_read(where, "it holds " + describe_type(type.get()) + ", which does not convert to " + want_name(want) +
                           " without loss");
    if (H5Sget_simple_extent_npoints(space.get()) != 1) fail_read(where, "it is not a single value");
    T value{};
    if (H5Aread(attr.get(), native_type(want), &value) < 0) fail_read(where, hdf5_error_detail());
    return value;
  }
};

namespace {

// Refuses HDF5 files whose version 0/1 superblock (the kind journeymap writes; it has no checksum)
// carries values no ordinary writer produces. HDF5 1.10 trusts them: a 54-byte file with a B-tree K
// of 65,284 made H5Fopen ask for 4 GB (found by fuzz_result_file). Version 2/3 superblocks are
// checksummed, and HDF5 checks them itself. Throws Error naming the file and the field.
void check_superblock(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char head[64] = {};
  in.read(reinterpret_cast<char*>(head), sizeof head);
  const auto got = static_cast<size_t>(in.gcount());
  static constexpr unsigned char kSignature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  const auto damaged = [&](const std::string& what) {
    return Error(path + ": not a readable journeymap result file: " + what);
  };
  if (got < 8 || std::memcmp(head, kSignature, 8) != 0)
    throw damaged("the HDF5 signature is not at the start of the file");
  if (got < 9) throw damaged("the HDF5 superblock is truncated");
  const int version = head[8];
  if (version > 1) return;  // checksummed superblock
  const size_t fixed = version == 0 ? 24 : 28;  // bytes before the addresses
  if (got < fixed + 32) throw damaged("the HDF5 superblock is truncated");
  const int offset_size = head[13], length_size = head[14];
  if (offset_size != 8 || length_size != 8)
    throw damaged(fmt::format("HDF5 superblock with {}-byte offsets and {}-byte lengths (journeymap writes 8 and 8)",
                              offset_size, length_size));
  const auto read_u16 = [&](size_t at) { return static_cast<unsigned>(head[at] | (head[at + 1] << 8)); };
  constexpr unsigned kMaxBtreeK = 1024;  // HDF5's defaults are 4, 16 and 32
  const unsigned leaf_k = read_u16(16), internal_k = read_u16(18), chunk_k = version == 1 ? read_u16(24) : 16;
  if (leaf_k == 0 || leaf_k > kMaxBtreeK || internal_k == 0 || internal_k > kMaxBtreeK || chunk_k == 0 ||
      chunk_k > kMaxBtreeK)
    throw damaged(fmt::format("HDF5 superblock B-tree sizes {}/{}/{} outside 1..{}", leaf_k, internal_k, chunk_k,
                              kMaxBtreeK));
  const auto read_address = [&](size_t at) {
    uint64_t value = 0;
    for (int b = 7; b >= 0; --b) value = (value << 8) | head[at + static_cast<size_t>(b)];
    return value;
  };
  constexpr uint64_t kUndefined = ~uint64_t{0};
  const uint64_t base_address = read_address(fixed), free_space_address = read_address(fixed + 8),
                 end_of_file = read_address(fixed + 16), driver_info_address = read_address(fixed + 24);
  // journeymap writes no user block, no free-space info and no driver info block (sec2 driver); a file
  // that claims them is not ours, and libhdf5 trusts the sizes it finds there (4 GB allocations).
  if (base_address != 0 || free_space_address != kUndefined || driver_info_address != kUndefined)
    throw damaged(fmt::format("HDF5 superblock with base address {}, free-space address {:#x} and driver block "
                              "address {:#x} (journeymap writes 0 and undefined ones)",
                              base_address, free_space_address, driver_info_address));
  constexpr uint64_t kRootEntryBytes = 40;
  if (end_of_file < fixed + 32 + kRootEntryBytes)
    throw damaged(fmt::format("the HDF5 superblock says the file ends at byte {}, inside the superblock", end_of_file));
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (!ec && end_of_file > size)
    throw damaged(fmt::format("the HDF5 superblock says the file ends at byte {} but it has {} bytes (truncated?)",
                              end_of_file, size));
}

}  // namespace

ResultReader::ResultReader(const std::string& path) : path_(path), impl_(std::make_unique<Impl>()) {
  silence_hdf5_errors();
  impl_->name = path;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw Error(path + ": cannot open result file: no such file");
  if (std::filesystem::is_directory(path, ec)) throw Error(path + ": cannot open result file: it is a folder");
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 == 0) throw Error(path + ": not an HDF5 file (expected a journeymap result file)");
  if (is_hdf5 < 0) throw Error(path + ": cannot open result file: " + hdf5_error_detail());
  check_superblock(path);
  PropertyListHandle access = file_access_plist();
  if (!access.valid()) throw Error(path + ": cannot set up HDF5: " + hdf5_error_detail());
  impl_->file = FileHandle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, access.get()));
  if (!impl_->file.valid()) throw Error(path + ": cannot open result file: " + hdf5_error_detail());
}

ResultReader::~ResultReader() = default;

bool ResultReader::exists(const std::string& path) const { return impl_->exists(path); }

std::vector<int64_t> ResultReader::read_int64(const std::string& path) const {
  return impl_->read_numeric<int64_t>(path, Want::Int64);
}
std::vector<int32_t> ResultReader::read_int32(const std::string& path) const {
  return impl_->read_numeric<int32_t>(path, Want::Int32);
}
std::vector<uint32_t> ResultReader::read_uint32(const std::string& path) const {
  return impl_->read_numeric<uint32_t>(path, Want::UInt32);
}
std::vector<uint8_t> ResultReader::read_uint8(const std::string& path) const {
  return impl_->read_numeric<uint8_t>(path, Want::UInt8);
}
std::vector<float> ResultReader::read_float(const std::string& path) const {
  return impl_->read_numeric<float>(path, Want::Float32);
}
std::vector<double> ResultReader::read_double(const std::string& path) const {
  return impl_->read_numeric<double>(path, Want::Float64);
}

std::vector<std::string> ResultReader::read_strings(const std::string& path) const {
  DatasetHandle dataset = impl_->open_dataset(path);
  DatatypeHandle type(H5Dget_type(dataset.get()));
  DataspaceHandle space(H5Dget_space(dataset.get()));
  if (!type.valid() || !space.valid()) impl_->fail_read(path, hdf5_error_detail());
  return impl_->read_string_values(path, type.get(), space.get(), [&](hid_t memory, void* buffer) {
    return H5Dread(dataset.get(), memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer);
  });
}

std::vector<uint64_t> ResultReader::shape(const std::string& path) const {
  DatasetHandle dataset = impl_->open_dataset(path);
  DataspaceHandle space(H5Dget_space(dataset.get()));
  const int rank = space.valid() ? H5Sget_simple_extent_ndims(space.get()) : -1;
  if (rank < 0) impl_->fail_read(path, hdf5_error_detail());
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  if (rank > 0 && H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0)
    impl_->fail_read(path, hdf5_error_detail());
  return std::vector<uint64_t>(dims.begin(), dims.end());
}

std::string ResultReader::element_type(const std::string& path) const {
  DatasetHandle dataset = impl_->open_dataset(path);
  DatatypeHandle type(H5Dget_type(dataset.get()));
  if (!type.valid()) impl_->fail_read(path, hdf5_error_detail());
  return describe_type(type.get());
}

std::string ResultReader::read_string_attribute(const std::string& object_path, const std::string& name) const {
  silence_hdf5_errors();
  const std::string where = object_path + " attribute '" + name + "'";
  AttributeHandle attr = impl_->open_attribute(object_path, name);
  DatatypeHandle type(H5Aget_type(attr.get()));
  DataspaceHandle space(H5Aget_space(attr.get()));
  if (!type.valid() || !space.valid()) impl_->fail_read(where, hdf5_error_detail());
  auto values = impl_->read_string_values(
      where, type.get(), space.get(), [&](hid_t memory, void* buffer) { return H5Aread(attr.get(), memory, buffer); });
  if (values.size() != 1) impl_->fail_read(where, "it is not a single string");
  return values.front();
}

int64_t ResultReader::read_int_attribute(const std::string& object_path, const std::string& name) const {
  return impl_->read_scalar_attribute<int64_t>(object_path, name, Want::Int64);
}

double ResultReader::read_double_attribute(const std::string& object_path, const std::string& name) const {
  return impl_->read_scalar_attribute<double>(object_path, name, Want::Float64);
}

std::vector<std::string> ResultReader::attribute_names(const std::string& object_path) const {
  silence_hdf5_errors();
  if (!exists(object_path)) throw Error(path_ + ": no object " + object_path);
  ObjectHandle object(H5Oopen(impl_->file.get(), object_path.c_str(), H5P_DEFAULT));
  if (!object.valid()) impl_->fail_read(object_path, hdf5_error_detail());
  std::vector<std::string> names;
  // H5Aiterate2 has the same signature in 1.10 .. 1.14.
  hsize_t index = 0;
  const herr_t status = H5Aiterate2(
      object.get(), H5_INDEX_NAME, H5_ITER_INC, &index,
      [](hid_t, const char* name, const H5A_info_t*, void* out) -> herr_t {
        static_cast<std::vector<std::string>*>(out)->emplace_back(name);
        return 0;
      },
      &names);
  if (status < 0) impl_->fail_read(object_path, hdf5_error_detail());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> ResultReader::list(const std::string& group_path) const {
  silence_hdf5_errors();
  ObjectHandle group = impl_->open_object(group_path, H5I_GROUP, "group");
  // H5Gget_info + H5Lget_name_by_idx keep to calls whose signatures are the same in 1.10 .. 1.14.
  H5G_info_t info;
  if (H5Gget_info(group.get(), &info) < 0) impl_->fail_read(group_path, hdf5_error_detail());
  std::vector<std::string> names;
  names.reserve(info.nlinks);
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t length =
        H5Lget_name_by_idx(group.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (length < 0) impl_->fail_read(group_path, hdf5_error_detail());
    std::string member(static_cast<size_t>(length) + 1, '\0');
    if (H5Lget_name_by_idx(group.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, member.data(), member.size(),
                           H5P_DEFAULT) < 0)
      impl_->fail_read(group_path, hdf5_error_detail());
    member.resize(static_cast<size_t>(length));
    names.push_back(std::move(member));
  }
  std::sort(names.begin(), names.end());
  return names;
}

JourneySet ResultReader::read_journeys(bool summary_columns) const {
  JourneySet journeys;
  journeys.offsets = read_int64("/journeys/offsets");
  journeys.touchpoint = read_int32("/journeys/touchpoint");
  journeys.channel = read_int32("/journeys/channel");
  if (!summary_columns) {
    journeys.timestamp_ms = read_int64("/journeys/timestamp_ms");
    journeys.value = read_float("/journeys/value");
  }
  journeys.customer = read_uint32("/journeys/customer");
  journeys.converted = read_uint8("/journeys/converted");
  journeys.conversion_value = read_float("/journeys/conversion_value");
  journeys.start_ms = read_int64("/journeys/start_ms");
  journeys.end_ms = read_int64("/journeys/end_ms");
  journeys.stats.input_events = read_int_attribute("/journeys", "input_events");
  journeys.stats.duplicates_dropped = read_int_attribute("/journeys", "duplicates_dropped");
  journeys.stats.events_truncated = read_int_attribute("/journeys", "events_truncated");

  auto load_vocabulary = [&](const std::string& path, Vocabulary& vocabulary) {
    const auto names = read_strings(path);
    vocabulary.reserve(names.size());
    for (size_t i = 0; i < names.size(); ++i)
      if (vocabulary.encode(names[i]) != static_cast<int32_t>(i))
        throw Error(path_ + ": " + path + " lists '" + names[i] + "' twice");
  };
  load_vocabulary("/vocab/touchpoints", journeys.touchpoints);
  load_vocabulary("/vocab/channels", journeys.channels);
  int64_t n_customers = 0;
  if (summary_columns) {
    const std::vector<uint64_t> shape = this->shape("/vocab/customers");
    if (shape.size() != 1) throw Error(path_ + ": /vocab/customers is not a list");
    n_customers = static_cast<int64_t>(shape[0]);
  } else {
    load_vocabulary("/vocab/customers", journeys.customers);
    n_customers = journeys.customers.size();
  }
  if (!summary_columns && exists("/journeys/outcome")) {
    journeys.outcome = read_uint8("/journeys/outcome");
    journeys.outcome_ms = read_int64("/journeys/outcome_ms");
    load_vocabulary("/vocab/outcomes", journeys.outcome_labels);
    journeys.positive_outcome = journeys.outcome_labels.find(read_string_attribute("/journeys", "positive_outcome"));
    if (journeys.positive_outcome < 0) throw Error(path_ + ": /journeys positive_outcome is not in /vocab/outcomes");
  }

  // The file came from outside: check what every consumer relies on before handing it out.
  auto require = [&](bool ok, const std::string& what) {
    if (!ok) throw Error(path_ + ": /journeys is inconsistent: " + what);
  };
  require(read_int_attribute("/journeys", "n_journeys") == journeys.size(), "n_journeys disagrees with offsets");
  require(read_int_attribute("/journeys", "n_events") == journeys.num_events(), "n_events disagrees with the events");
  try {
    check_journey_set(journeys, /*event_times=*/!summary_columns);
  } catch (const std::logic_error& e) {
    require(false, e.what());
  }
  auto ids_in_range = [](const auto& ids, int64_t size) {
    return std::all_of(ids.begin(), ids.end(), [&](auto id) {
      return static_cast<int64_t>(id) >= 0 && static_cast<int64_t>(id) < size;
    });
  };
  require(ids_in_range(journeys.touchpoint, journeys.touchpoints.size()),
          "a touchpoint id is outside /vocab/touchpoints");
  require(ids_in_range(journeys.channel, journeys.channels.size()), "a channel id is outside /vocab/channels");
  require(ids_in_range(journeys.customer, n_customers), "a customer id is outside /vocab/customers");
  require(ids_in_range(journeys.outcome, journeys.outcome_labels.size()), "an outcome id is outside /vocab/outcomes");
  return journeys;
}

}  // namespace jm
