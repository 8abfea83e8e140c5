// An output file written under a temporary name and renamed into place by commit(): the
// generator's files never exist half-written under their final names.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "journeymap/common.hpp"

namespace jm {

// Output file under a temporary name; removed on destruction unless commit() renamed it.
class PendingFile {
 public:
  explicit PendingFile(std::string final_path)
      : final_path_(std::move(final_path)), temp_path_(final_path_ + ".tmp." + std::to_string(::getpid())) {
    file_ = std::fopen(temp_path_.c_str(), "wb");
    if (!file_) throw Error("cannot open '" + temp_path_ + "' for writing: " + std::strerror(errno));
  }
  PendingFile(const PendingFile&) = delete;
  PendingFile& operator=(const PendingFile&) = delete;
  ~PendingFile() {
    if (file_) std::fclose(file_);
    if (!committed_) std::remove(temp_path_.c_str());
  }

  void write(const char* data, size_t size) {
    if (size > 0 && std::fwrite(data, 1, size, file_) != size)
      throw Error("cannot write '" + temp_path_ + "': " + std::strerror(errno));
  }
  void write(std::string_view text) { write(text.data(), text.size()); }

  void close() {
    std::FILE* file = file_;
    file_ = nullptr;
    if (std::fclose(file) != 0) throw Error("cannot write '" + temp_path_ + "': " + std::strerror(errno));
  }
  void commit() {
    if (std::rename(temp_path_.c_str(), final_path_.c_str()) != 0)
      throw Error("cannot rename '" + temp_path_ + "' to '" + final_path_ + "': " + std::strerror(errno));
    committed_ = true;
  }

 private:
  std::string final_path_;
  std::string temp_path_;
  std::FILE* file_ = nullptr;
  bool committed_ = false;
};

}  // namespace jm
