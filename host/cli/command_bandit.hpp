// `journeymap bandit simulate | evaluate | recommend`: contextual bandits for the next touchpoint
// (docs/experiments.md, "Bandits").
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace jm {

/// Registers the subcommand and its three actions; `handler` is set to run the one parsed.
CLI::App* add_bandit_command(CLI::App& app, std::function<int()>& handler);

}  // namespace jm
