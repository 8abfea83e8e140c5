#include <sstream>

#include "journeymap/common.hpp"

namespace jm {
namespace {

std::string describe_input_error(const std::string& file, int64_t line, const std::string& column,
                                 const std::string& value, const std::string& reason) {
  std::ostringstream out;
  out << file;
  if (line > 0) out << ":" << line;
  out << ": ";
  if (!column.empty()) out << "column '" << column << "': ";
  out << reason;
  if (!value.empty()) {
    // Keep messages readable when the offending value is long or binary.
    std::string shown = value.substr(0, 80);
    for (char& c : shown)
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) == 0x7f) c = '?';
    out << " (value: '" << shown << (value.size() > 80 ? "...'" : "'") << ")";
  }
  return out.str();
}

}  // namespace

InputError::InputError(std::string file, int64_t line, std::string column, std::string value, std::string reason)
    : Error(describe_input_error(file, line, column, value, reason)),
      file_(std::move(file)),
      line_(line),
      column_(std::move(column)),
      value_(std::move(value)),
      reason_(std::move(reason)) {}

}  // namespace jm
