// `journeymap mine`: ingest -> journeys -> PrefixSpan + contrast -> HDF5 (/vocab, /patterns, /meta).
//
//   std::function<int()> handler;
//   CLI::App* mine = jm::add_patterns_command(app, handler);   // registers `mine` and its options
//   app.parse(argc, argv);
//   if (mine->parsed()) return handler();                       // throws jm::ConfigError / jm::Error
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace jm {

/// Registers the `mine` subcommand on `app`; `handler` is set to run it (returns the exit code 0;
/// bad options or input throw ConfigError / InputError for the caller to map to exit codes 2 / 1).
CLI::App* add_patterns_command(CLI::App& app, std::function<int()>& handler);

}  // namespace jm
