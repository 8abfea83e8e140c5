// Glue shared by the single-stage commands (mine, segment, train, detect): stage timing, the
// ingest -> journeys prelude, and the /meta record of the file they write.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "host/pipeline/stage_progress.hpp"
#include "journeymap/context.hpp"
#include "journeymap/ingest.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/outcome.hpp"
#include "journeymap/result_file.hpp"
#include "journeymap/run_config.hpp"

namespace jm {

/// Times named stages in order; optionally prints "[journeymap] stage ..." on stderr first.
class StageTimer {
 public:
  /// `progress`: a line when each stage starts. `listen`: the stages' own progress reports
  /// (Context::progress) are printed every few seconds while they run (host/pipeline/stage_progress.hpp).
  explicit StageTimer(bool progress = false, Context* listen = nullptr) : progress_(progress), listen_(listen) {}

  template <typename Work>
  auto run(const char* stage, Work&& work) {
    if (progress_) std::fprintf(stderr, "[journeymap] %-9s ...\n", stage);
    const auto start = std::chrono::steady_clock::now();
    const StageProgressListener listening(listen_, stage);
    auto value = work();
    seconds_.emplace_back(stage, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return value;
  }

  const std::vector<std::pair<std::string, double>>& seconds() const { return seconds_; }

 private:
  bool progress_;
  Context* listen_;
  std::vector<std::pair<std::string, double>> seconds_;
};

struct CommandJourneys {
  IngestResult ingest;
  JourneySet journeys;        ///< cut at their outcomes (outcome.hpp)
  OutcomeDefinition outcome;  ///< the effective definition
  OutcomeStats outcome_stats;
  std::vector<std::string> warnings;  ///< data warnings (case attributes)
};

/// Which customers a process builds journeys of: in a run over several processes, those it owns
/// (owner_of_customer, host/distributed/process_group.hpp); in one process, all.
struct CustomerShare {
  int process = 0;
  int processes = 1;
};

/// Reads the config's input (CSV or SPMF) and builds its journeys cut at their outcomes, timing
/// both stages.
/// `require_outcome_touchpoints`: false for scoring, whose journeys may hold no outcome yet.
/// `share`: the journeys of this process's customers only (the input is read whole, so that every
/// process numbers touchpoints, channels and customers alike).
CommandJourneys ingest_journeys(const Context& ctx, const RunConfig& config, StageTimer& timer,
                                bool require_outcome_touchpoints = true, const CustomerShare& share = {});

/// Creates the folder that will hold `output_path`, so that a bad path fails before the long stages.
void create_parent_folder(const std::string& output_path);

/// /meta of a command's result: command, backend, build, input and its row counts, stage timings.
/// A CSV field as written: quoted (quotes doubled) when it holds a comma, quote or line break. Names
/// from the input (customer ids) must stay one field.
std::string csv_field(const std::string& text);

RunMetadata command_metadata(const std::string& command, const Context& ctx, const RunConfig& config,
                             const CommandJourneys& input, const StageTimer& timer);

}  // namespace jm
