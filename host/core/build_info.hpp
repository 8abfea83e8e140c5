// What this binary is: version, build type, GPU support and library versions (`--version`).
#pragma once

#include <string>

namespace jm {

std::string version();
/// Multi-line description of the build for `journeymap --version` and /meta.
std::string build_info();

}  // namespace jm
