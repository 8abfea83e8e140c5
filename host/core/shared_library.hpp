// A shared library opened on first use. journeymap's heavy dependencies (cuBLAS with cuBLASLt,
// XGBoost, OpenBLAS) are not linked: each is opened by the stage that needs it, so `mine` or
// `flows` on the CPU start in milliseconds and a few MB instead of loading ~250 MB of libraries
// they never call.
//
//   SharedLibrary xgboost("XGBoost (conversion prediction)", {"libxgboost.so.3", "/opt/xgb/lib/libxgboost.so"});
//   auto* create = xgboost.function<decltype(XGBoosterCreate)>("XGBoosterCreate");
//
// Candidates are tried in order. The callers give a bare soname first, which the dynamic loader
// looks up as for a linked library (LD_LIBRARY_PATH, journeymap's RUNPATH, the system's paths), then
// the file the build found, so a relocated install and the build tree both work.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

namespace jm {

class SharedLibrary {
 public:
  /// `purpose` names the library and what needs it, for error messages.
  SharedLibrary(std::string purpose, std::vector<std::string> candidates);
  ~SharedLibrary() = default;  // never closed: its functions may be called until the process exits
  SharedLibrary(const SharedLibrary&) = delete;
  SharedLibrary& operator=(const SharedLibrary&) = delete;

  /// The address of `name`; opens the library on the first call. Throws jm::Error naming the
  /// library, its purpose and each place tried, or the missing symbol. Thread-safe.
  void* symbol(const char* name);

  template <typename Function>
  Function* function(const char* name) {
    return reinterpret_cast<Function*>(symbol(name));
  }

  /// Opens the library now (if not yet); throws as symbol() does.
  void load();

  /// Whether the library has been opened in this process (no attempt is made).
  bool loaded() const;

  /// The file the library was opened from (the candidate that worked), or "" before load().
  std::string path() const;

  const std::string& purpose() const { return purpose_; }

 private:
  std::string purpose_;
  std::vector<std::string> candidates_;
  std::once_flag once_;
  std::atomic<void*> handle_{nullptr};
  std::string opened_from_;
  std::string failure_;  // why opening failed (every attempt), empty on success
};

}  // namespace jm
