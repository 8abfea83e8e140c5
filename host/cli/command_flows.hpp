// `journeymap flows RESULT.h5 [-o OUT.h5]`: adds /flows and /attribution to an existing result file.
#pragma once

#include <functional>
#include <string>

namespace CLI {
class App;
}

namespace jm {

/// Registers the `flows` subcommand on `app`; when it is parsed, `handler` runs it and returns the
/// exit code (0 success, 1 bad input or runtime failure, 2 bad configuration).
CLI::App* add_flows_command(CLI::App& app, std::function<int()>& handler);

}  // namespace jm
