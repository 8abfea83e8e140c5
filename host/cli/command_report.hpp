// `journeymap report RESULT.h5 -o report.html`: the self-contained HTML journey report.
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace jm {

/// Registers the `report` subcommand. It runs scripts/report.py with the project's Python
/// (.venv/bin/python of the source tree; JM_PYTHON and JM_REPORT_SCRIPT override both).
CLI::App* add_report_command(CLI::App& app, std::function<int()>& handler);

}  // namespace jm
