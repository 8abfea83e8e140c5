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

/// Reads the config's input (CSV or SPMF) and builds its journeys cut at their outcomes, timing
/// both stages.
/// `require_outcome_touchpoints`: false for scoring, whose journeys may hold no outcome yet.
CommandJourneys ingest_journeys(const Context& ctx, const RunConfig& config, StageTimer& timer,
                                bool require_outcome_touchpoints = true);

/// The second half of ingest_journeys, for input read another way (read_own_customers): the
/// journeys of `read`'s events cut at their outcomes, timed as the "journeys" stage.
CommandJourneys journeys_of(const Context& ctx, const RunConfig& config, StageTimer& timer, IngestResult read,
                            bool require_outcome_touchpoints = true);

/// Creates the folder that will hold `output_path`, so that a bad path fails before the long stages.
void create_parent_folder(const std::string& output_path);

/// /meta of a command's result: command, backend, build, input and its row counts, stage timings.
/// A CSV field as written: quoted (quotes doubled) when it holds a comma, quote or line break. Names
/// from the input (customer ids) must stay one field.
std::string csv_field(const std::string& text);

RunMetadata command_metadata(const std::string& command, const Context& ctx, const RunConfig& config,
                             const CommandJourneys& input, const StageTimer& timer);

}  // namespace jm
