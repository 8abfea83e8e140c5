// Temporary files that a signal must not leave behind. ResultWriter and the other atomic writers
// register their `<target>.tmp.<pid>` while it exists; on SIGINT, SIGTERM or SIGHUP the handler
// unlinks every registered file and then dies of the same signal (so the exit status still says
// which signal it was). The handler only calls async-signal-safe functions (unlink, signal, raise).
#pragma once

#include <string>

namespace jm {

/// Installs the handler for SIGINT, SIGTERM and SIGHUP (once per process; `journeymap` main does).
void install_temp_file_cleanup();

/// Registers `path` for removal on a signal; returns a slot for unregister_temp_file, or -1 when
/// all slots are taken (the file is then only removed by its owner).
int register_temp_file(const std::string& path);

/// Forgets the slot (after the file was renamed or removed by its owner).
void unregister_temp_file(int slot);

/// RAII form: registered for its lifetime.
class TempFileRegistration {
 public:
  explicit TempFileRegistration(const std::string& path) : slot_(register_temp_file(path)) {}
  ~TempFileRegistration() { unregister_temp_file(slot_); }
  TempFileRegistration(const TempFileRegistration&) = delete;
  TempFileRegistration& operator=(const TempFileRegistration&) = delete;

 private:
  int slot_;
};

}  // namespace jm
