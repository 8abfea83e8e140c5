// Shared basics of the public API: the host/device annotation macro and the typed errors.
// Compiles with g++ alone; nvcc sees the same definitions.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

// JM_HD marks a function that runs on both the CPU and the GPU backends. Math written once with it
// is what the CPU tests exercise and what the GPU kernels run.
#if defined(__CUDACC__)
#define JM_HD __host__ __device__
#else
#define JM_HD
#endif

namespace jm {

/// Base of every error journeymap reports to the user.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

/// Bad input data: names the file, the 1-based line, the column and the offending value.
class InputError : public Error {
 public:
  InputError(std::string file, int64_t line, std::string column, std::string value, std::string reason);

  const std::string& file() const { return file_; }
  int64_t line() const { return line_; }  ///< 1-based; 0 when the error is not tied to a line
  const std::string& column() const { return column_; }
  const std::string& value() const { return value_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string file_;
  int64_t line_;
  std::string column_;
  std::string value_;
  std::string reason_;
};

/// Bad configuration (flags, TOML file, option values).
class ConfigError : public Error {
 public:
  explicit ConfigError(const std::string& message) : Error("configuration error: " + message) {}
};

/// Data too few or too one-sided for a stage (a model whose test set holds one outcome only): a
/// run skips the stage with reason() instead of failing; a single command that needs it fails as
/// for bad configuration.
class InsufficientDataError : public ConfigError {
 public:
  explicit InsufficientDataError(const std::string& reason) : ConfigError(reason), reason_(reason) {}
  const std::string& reason() const { return reason_; }

 private:
  std::string reason_;
};

/// A GPU entry point was called in a build without CUDA or on a machine without a usable device.
class GpuUnavailableError : public Error {
 public:
  explicit GpuUnavailableError(const std::string& message) : Error(message) {}
};

}  // namespace jm
