// `journeymap bench`: the whole `run` pipeline on generated journeys (or given files) at one or
// more sizes, on the chosen backend, with per-stage wall time, throughput and peak host memory
// written to JSON. Generation is timed apart: it is not part of what a user's run waits for.
//
//   journeymap bench --journeys 1000000 --journeys 10000000 --device gpu --out bench.json
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace jm {

CLI::App* add_bench_command(CLI::App& app, std::function<int()>& handler);

}  // namespace jm
