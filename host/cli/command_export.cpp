#include "host/cli/command_export.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <string>

#include "journeymap/export.hpp"

namespace jm {
namespace {

struct ExportCommand {
  std::string input, format = "parquet", out = "out/tables";
};

int run_export_command(const ExportCommand& command) {
  const ExportFormat format = parse_export_format(command.format);
  const ExportSummary summary = export_result(command.input, format, command.out);
  std::cout << fmt::format("exported {} tables ({}) to {}\n", summary.tables.size(), command.format, command.out);
  for (const auto& [name, rows] : summary.tables) std::cout << fmt::format("  {:<24} {:>12} rows\n", name, rows);
  return 0;
}

}  // namespace

CLI::App* add_export_command(CLI::App& app, std::function<int()>& handler) {
  auto command = std::make_shared<ExportCommand>();
  CLI::App* sub = app.add_subcommand("export", "Write every result table as Parquet or CSV files for BI tools");
  sub->add_option("result", command->input, "HDF5 result file written by journeymap")->required();
  sub->add_option("--format", command->format, "parquet (default) or csv")->capture_default_str();
  sub->add_option("--out", command->out, "Folder for the table files (created if missing)")->capture_default_str();
  handler = [command] { return run_export_command(*command); };
  return sub;
}

}  // namespace jm
