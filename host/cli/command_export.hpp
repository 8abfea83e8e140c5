// `journeymap export RESULT.h5 --format parquet|csv --out DIR`: every result table for BI tools.
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace jm {

/// Registers the `export` subcommand (docs/export.md).
CLI::App* add_export_command(CLI::App& app, std::function<int()>& handler);

}  // namespace jm
