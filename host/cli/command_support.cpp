#include "host/cli/command_support.hpp"

#include <filesystem>

#include "host/core/build_info.hpp"

namespace jm {

CommandJourneys ingest_journeys(const Context& ctx, const std::string& input, CsvOptions csv, int threads,
                                const JourneyOptions& journey_options, StageTimer& timer) {
  csv.num_threads = threads;
  CommandJourneys out;
  out.ingest = timer.run("ingest", [&] { return read_events(input, csv); });
  out.journeys = timer.run("journeys", [&] { return build_journeys(ctx, out.ingest.events, journey_options); });
  return out;
}

void create_parent_folder(const std::string& output_path) {
  const auto folder = std::filesystem::path(output_path).parent_path();
  if (!folder.empty()) std::filesystem::create_directories(folder);
}

RunMetadata command_metadata(const std::string& command, const Context& ctx, const std::string& input,
                             const IngestResult& ingest, const StageTimer& timer) {
  RunMetadata meta;
  meta.command = command;
  meta.backend = to_string(ctx.backend);
  meta.build_info = build_info();
  meta.input_files = {input};
  meta.input_bytes = {ingest.file_bytes};
  meta.rows_read = ingest.rows_read;
  meta.rows_skipped = ingest.rows_skipped;
  meta.stage_seconds = timer.seconds();
  return meta;
}

}  // namespace jm
