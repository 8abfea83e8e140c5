// Test-only host for the `flows` and `report` subcommands, wired exactly as host/cli/main.cpp wires
// them (one handler variable, exit codes 0/1/2), so the report test runs the real command code.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>

#include "host/cli/command_flows.hpp"
#include "host/cli/command_report.hpp"
#include "journeymap/common.hpp"

int main(int argc, char** argv) {
  CLI::App app{"journeymap flows/report (test host)"};
  app.require_subcommand(1);
  std::function<int()> handler;
  jm::add_flows_command(app, handler);
  jm::add_report_command(app, handler);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : 2;
  }
  try {
    return handler ? handler() : 2;
  } catch (const jm::ConfigError& error) {
    std::fprintf(stderr, "journeymap: %s\n", error.what());
    return 2;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "journeymap: error: %s\n", error.what());
    return 1;
  }
}
