// `journeymap monitor`: new events against the training profile stored in a model: drift of every
// feature and of the score per time bucket, ROC-AUC and calibration once outcomes have matured, and a
// recommendation (docs/model.md, "Monitoring").
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace jm {

/// Registers the subcommand; `handler` is set to run it when it is parsed.
CLI::App* add_monitor_command(CLI::App& app, std::function<int()>& handler);

}  // namespace jm
