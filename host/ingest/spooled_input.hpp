// Input that is not a regular file (a pipe, a FIFO, /dev/stdin): the readers need to look at the
// start of the file twice (format detection, then parsing) and to split it into blocks, so such
// input is first copied to a temporary regular file, removed again when the reading is done (and
// on SIGINT/SIGTERM/SIGHUP).
#pragma once

#include <string>

#include "host/core/temp_files.hpp"

namespace jm {

class SpooledInput {
 public:
  /// A regular file (or a path that does not exist: the reader reports it) is used in place.
  explicit SpooledInput(const std::string& path);
  ~SpooledInput();
  SpooledInput(const SpooledInput&) = delete;
  SpooledInput& operator=(const SpooledInput&) = delete;

  /// The path to read: the input itself or its temporary copy.
  const std::string& path() const { return path_; }
  bool spooled() const { return !temp_.empty(); }

 private:
  std::string path_;
  std::string temp_;
  int slot_ = -1;
};

}  // namespace jm
