// Scratch files (spool_file.hpp).
#include "host/core/spool_file.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "journeymap/common.hpp"

namespace jm {

SpoolFile::SpoolFile(const std::string& directory, const std::string& name_prefix) {
  name_ = directory + "/" + name_prefix + ".XXXXXX";
  const int fd = ::mkstemp(name_.data());
  if (fd < 0) throw Error("cannot create a scratch file in " + directory + ": " + std::strerror(errno));
  ::unlink(name_.c_str());
  file_ = ::fdopen(fd, "w+b");
  if (file_ == nullptr) {
    ::close(fd);
    throw Error("cannot open the scratch file " + name_ + ": " + std::strerror(errno));
  }
}

SpoolFile::~SpoolFile() {
  if (file_ != nullptr) std::fclose(file_);
}

int64_t SpoolFile::append(const void* data, size_t bytes) {
  const int64_t offset = size_;
  if (bytes == 0) return offset;
  if (std::fwrite(data, 1, bytes, file_) != bytes || std::fflush(file_) != 0)
    throw Error("cannot write the scratch file " + name_ + " (disk full?): " + std::strerror(errno));
  size_ += static_cast<int64_t>(bytes);
  return offset;
}

void SpoolFile::read(int64_t offset, void* out, size_t bytes) const {
  if (offset < 0 || offset + static_cast<int64_t>(bytes) > size_)
    throw Error("scratch file " + name_ + ": a read beyond what was written");
  size_t done = 0;
  while (done < bytes) {  // pread may return less than asked, or be interrupted
    const ssize_t got = ::pread(::fileno(file_), static_cast<char*>(out) + done, bytes - done,
                                static_cast<off_t>(offset + static_cast<int64_t>(done)));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0)
      throw Error("cannot read back the scratch file " + name_ + ": " +
                  (got < 0 ? std::strerror(errno) : "shorter than what was written"));
    done += static_cast<size_t>(got);
  }
}

}  // namespace jm
