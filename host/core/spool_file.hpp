// A scratch file for data that does not fit in memory: created under a fresh name (mkstemp, mode
// 0600) and unlinked at once, so no other process can open it and nothing is left behind however
// the process ends. Bytes are appended and read back by offset.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace jm {

class SpoolFile {
 public:
  /// Creates the file in `directory`; Error naming the folder when it cannot.
  SpoolFile(const std::string& directory, const std::string& name_prefix);
  ~SpoolFile();
  SpoolFile(const SpoolFile&) = delete;
  SpoolFile& operator=(const SpoolFile&) = delete;

  /// Appends `bytes` bytes and returns the offset they start at; Error (disk full) when it cannot.
  int64_t append(const void* data, size_t bytes);
  /// Reads `bytes` bytes at `offset` (short reads and interruptions retried); Error when they are not there.
  void read(int64_t offset, void* out, size_t bytes) const;
  int64_t size() const { return size_; }

 private:
  std::string name_;  ///< the name it had, for messages
  std::FILE* file_ = nullptr;
  int64_t size_ = 0;
};

}  // namespace jm
