// `journeymap report`: renders the HTML report by running scripts/report.py (plotly + h5py) with the
// project's Python. The charting library lives in Python, so the engine stays free of it; the
// script is located in the source tree this binary was built from, or by JM_REPORT_SCRIPT.
#include "host/cli/command_report.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "journeymap/common.hpp"

#ifndef JM_SOURCE_DIR
#define JM_SOURCE_DIR ""
#endif

namespace jm {
namespace {

struct ReportCommand {
  std::string input, output = "report.html", title;
};

std::string from_env_or(const char* variable, const std::string& fallback) {
  const char* value = std::getenv(variable);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

int run_report_command(const ReportCommand& command) {
  namespace fs = std::filesystem;
  const fs::path source_dir(JM_SOURCE_DIR);
  const fs::path venv_python = source_dir / ".venv" / "bin" / "python";
  const std::string python = from_env_or("JM_PYTHON", fs::exists(venv_python) ? venv_python.string() : "python3");
  const std::string script = from_env_or("JM_REPORT_SCRIPT", (source_dir / "scripts" / "report.py").string());
  if (!fs::exists(script))
    throw Error("report script not found: " + script + " (set JM_REPORT_SCRIPT to scripts/report.py)");
  if (!fs::exists(command.input)) throw Error("no such result file: " + command.input);

  std::vector<std::string> args{python, script, command.input, "-o", command.output};
  if (!command.title.empty()) args.insert(args.end(), {"--title", command.title});
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  const pid_t child = ::fork();
  if (child < 0) throw Error(std::string("cannot start the report script: ") + std::strerror(errno));
  if (child == 0) {
    ::execvp(argv[0], argv.data());
    std::fprintf(stderr, "journeymap: cannot run %s: %s (set JM_PYTHON)\n", argv[0], std::strerror(errno));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0)
    if (errno != EINTR) throw Error(std::string("waiting for the report script: ") + std::strerror(errno));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw Error("the report script failed (" + python + " " + script + ")");
  return 0;
}

}  // namespace

CLI::App* add_report_command(CLI::App& app, std::function<int()>& handler) {
  auto command = std::make_shared<ReportCommand>();
  CLI::App* sub = app.add_subcommand("report", "Write a self-contained HTML report of a result file");
  sub->add_option("result", command->input, "HDF5 result file")->required();
  sub->add_option("-o,--out", command->output, "HTML file to write")->capture_default_str();
  sub->add_option("--title", command->title, "Report title");
  // The handler is set only when this subcommand is the one parsed, so one variable can serve many.
  sub->callback([&handler, command] { handler = [command] { return run_report_command(*command); }; });
  return sub;
}

}  // namespace jm
