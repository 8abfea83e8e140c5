#include "host/ingest/spooled_input.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

#include "journeymap/common.hpp"

namespace jm {

SpooledInput::SpooledInput(const std::string& path) : path_(path) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (error || !fs::exists(status) || fs::is_regular_file(status)) return;
  if (fs::is_directory(status)) throw InputError(path, 0, "", "", "the input is a directory, not a file");

  temp_ = (fs::temp_directory_path() / ("journeymap-input." + std::to_string(::getpid()))).string();
  slot_ = register_temp_file(temp_);
  std::FILE* in = std::fopen(path.c_str(), "rb");
  if (in == nullptr) throw InputError(path, 0, "", "", std::string("cannot open input: ") + std::strerror(errno));
  std::FILE* out = std::fopen(temp_.c_str(), "wb");
  if (out == nullptr) {
    std::fclose(in);
    throw Error("cannot spool " + path + " to " + temp_ + ": " + std::strerror(errno));
  }
  std::vector<char> buffer(size_t{1} << 20);
  bool ok = true;
  for (size_t n; (n = std::fread(buffer.data(), 1, buffer.size(), in)) > 0;)
    if (std::fwrite(buffer.data(), 1, n, out) != n) ok = false;
  ok = ok && !std::ferror(in);
  std::fclose(in);
  ok = std::fclose(out) == 0 && ok;
  if (!ok) {
    std::remove(temp_.c_str());
    unregister_temp_file(slot_);
    throw Error("cannot spool " + path + " to " + temp_ + " (disk full?)");
  }
  path_ = temp_;
}

SpooledInput::~SpooledInput() {
  if (temp_.empty()) return;
  std::remove(temp_.c_str());
  unregister_temp_file(slot_);
}

}  // namespace jm
