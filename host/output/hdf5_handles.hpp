// Move-only owners of HDF5 C API identifiers (hid_t), one alias per kind so each closes with the
// right H5*close. Private to host/output: nothing outside the result file sees HDF5 types.
//
//   DatasetHandle dataset(H5Dopen2(file.get(), "/journeys/offsets", H5P_DEFAULT));
//   if (!dataset.valid()) throw ...;
//   // H5Dclose runs when `dataset` goes out of scope, also during stack unwinding
#pragma once

#include <hdf5.h>

#include <utility>

namespace jm::h5 {

/// Owns one hid_t and closes it with `Close` (H5Fclose, H5Dclose, ...). An id below 0 (a failed
/// create/open) is held as "invalid" and never closed. Predefined ids (H5T_NATIVE_*, H5P_DEFAULT)
/// must not be wrapped: closing them fails.
template <herr_t (*Close)(hid_t)>
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  ~Handle() { close(); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      close();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
    }
    return *this;
  }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

  /// Closes now and returns the H5*close status (0 when nothing was held). The handle is empty
  /// afterwards even when closing failed, so a destructor never closes twice.
  herr_t close() noexcept {
    herr_t status = 0;
    if (id_ >= 0) status = Close(id_);
    id_ = H5I_INVALID_HID;
    return status;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

using FileHandle = Handle<H5Fclose>;
using GroupHandle = Handle<H5Gclose>;
using ObjectHandle = Handle<H5Oclose>;  ///< a group or dataset opened with H5Oopen
using DatasetHandle = Handle<H5Dclose>;
using DataspaceHandle = Handle<H5Sclose>;
using DatatypeHandle = Handle<H5Tclose>;  ///< only for types from H5Tcopy/H5Dget_type/H5Aget_type
using PropertyListHandle = Handle<H5Pclose>;
using AttributeHandle = Handle<H5Aclose>;

}  // namespace jm::h5
