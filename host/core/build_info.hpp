// What this binary is: version, build type, GPU support and library versions (`--version`).
#pragma once

#include <string>

namespace jm {

std::string version();
/// Multi-line description of the build for `journeymap --version` and /meta.
std::string build_info();

/// Where each library journeymap opens on first use (OpenBLAS, XGBoost, cuBLAS) was found, or why it
/// could not be loaded (`journeymap --version --libraries`). `all_loaded` says whether every library
/// this build uses loaded.
std::string library_report(bool* all_loaded);

}  // namespace jm
