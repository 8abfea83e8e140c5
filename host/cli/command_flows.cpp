// `journeymap flows`: reads the journeys of a result file, computes flows and attribution, and
// writes a result file holding everything the input had plus /flows and /attribution.
//
// Why a staged rename: ResultWriter writes a fresh file, so the groups of other stages (/patterns,
// /segments, ...) are copied into it with H5Ocopy after it is complete, under a temporary name; only
// then is it renamed over the output. The output (even when it is the input) is never half-written.
#include "host/cli/command_flows.hpp"

#include <hdf5.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <set>

#include "host/output/hdf5_handles.hpp"
#include "journeymap/attribution.hpp"
#include "journeymap/common.hpp"
#include "journeymap/flows.hpp"
#include "journeymap/result_file.hpp"

namespace jm {
namespace {

struct FlowsCommand {
  std::string input, output, device = "auto";
  int threads = 0;
  FlowOptions flows;
  AttributionOptions attribution;
};

RunMetadata read_metadata(const ResultReader& reader) {
  RunMetadata meta;
  auto try_read = [](auto read) {
    try {
      read();
    } catch (const Error&) {  // an older or partial /meta: keep the defaults
    }
  };
  try_read([&] { meta.command = reader.read_string_attribute("/meta", "command"); });
  try_read([&] { meta.backend = reader.read_string_attribute("/meta", "backend"); });
  try_read([&] { meta.rows_read = reader.read_int_attribute("/meta", "rows_read"); });
  try_read([&] { meta.rows_skipped = reader.read_int_attribute("/meta", "rows_skipped"); });
  try_read([&] {
    const auto config = reader.read_strings("/meta/config_toml");
    if (!config.empty()) meta.config_toml = config.front();
  });
  try_read([&] { meta.input_files = reader.read_strings("/meta/input_files"); });
  try_read([&] {
    for (int64_t bytes : reader.read_int64("/meta/input_bytes")) meta.input_bytes.push_back(static_cast<uint64_t>(bytes));
  });
  try_read([&] { meta.bad_row_messages = reader.read_strings("/meta/bad_rows"); });
  try_read([&] { meta.journey_rule = reader.read_string_attribute("/meta", "journey_rule"); });
  try_read([&] { meta.warnings = reader.read_strings("/meta/warnings"); });
  try_read([&] {
    const auto names = reader.read_strings("/meta/stage_names");
    const auto seconds = reader.read_double("/meta/stage_seconds");
    for (size_t k = 0; k < names.size() && k < seconds.size(); ++k) meta.stage_seconds.push_back({names[k], seconds[k]});
  });
  if (meta.input_bytes.size() != meta.input_files.size()) meta.input_bytes.assign(meta.input_files.size(), 0);
  return meta;
}

// Per-journey segment labels when the segments stage wrote them (/segments/label, int32 [n_journeys]).
void read_segments(const ResultReader& reader, int64_t n_journeys, std::vector<int32_t>& labels, int32_t& n_segments) {
  const std::string path = reader.exists("/segments/label") ? "/segments/label" : "/segments/labels";
  if (!reader.exists(path)) return;
  try {
    std::vector<int32_t> read = reader.read_int32(path);
    if (static_cast<int64_t>(read.size()) != n_journeys) return;
    int32_t max_label = -1;
    for (int32_t s : read) {
      if (s < 0) return;  // unassigned journeys: no breakdown rather than a wrong one
      max_label = std::max(max_label, s);
    }
    labels = std::move(read);
    n_segments = max_label + 1;
  } catch (const Error&) {
    labels.clear();
  }
}

void copy_other_groups(const std::string& source_path, const std::string& target_path, const std::set<std::string>& skip,
                       const std::vector<std::string>& groups) {
  using h5::FileHandle;
  // No HDF5 file locking, as in ResultWriter: it fails on NFS and the staged name is private.
  h5::PropertyListHandle access(H5Pcreate(H5P_FILE_ACCESS));
  if (!access.valid() || H5Pset_file_locking(access.get(), false, true) < 0) throw Error("cannot set up HDF5 file access");
  FileHandle source(H5Fopen(source_path.c_str(), H5F_ACC_RDONLY, access.get()));
  FileHandle target(H5Fopen(target_path.c_str(), H5F_ACC_RDWR, access.get()));
  if (!source.valid() || !target.valid()) throw Error("cannot reopen " + source_path + " / " + target_path + " to copy groups");
  for (const auto& name : groups) {
    if (skip.count(name)) continue;
    if (H5Ocopy(source.get(), name.c_str(), target.get(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT) < 0)
      throw Error(target_path + ": cannot copy /" + name + " from " + source_path);
  }
  if (target.close() < 0 || source.close() < 0) throw Error("cannot close " + target_path);
}

int run_flows_command(const FlowsCommand& command) {
  const std::string output = command.output.empty() ? command.input : command.output;
  const Context ctx = make_context(parse_device_choice(command.device), command.threads);
  std::vector<std::string> groups;
  JourneySet journeys;
  RunMetadata meta;
  std::vector<int32_t> segment_labels;
  int32_t n_segments = 0;
  std::vector<int64_t> customer_last_ms;  // kept for a later `run --append` (absent in older files)
  {
    ResultReader reader(command.input);
    journeys = reader.read_journeys();
    if (reader.exists("/journeys/customer_last_ms")) customer_last_ms = reader.read_int64("/journeys/customer_last_ms");
    meta = read_metadata(reader);
    groups = reader.list("/");
    read_segments(reader, journeys.size(), segment_labels, n_segments);
  }
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  const FlowResult flows = compute_flows(ctx, journeys, command.flows, segment_labels, n_segments);
  const auto t1 = clock::now();
  const AttributionResult attribution = compute_attribution(ctx, journeys, command.attribution);
  const auto t2 = clock::now();
  meta.stage_seconds.erase(std::remove_if(meta.stage_seconds.begin(), meta.stage_seconds.end(),
                                          [](const auto& s) { return s.first == "flows" || s.first == "attribution"; }),
                           meta.stage_seconds.end());
  meta.stage_seconds.push_back({"flows", std::chrono::duration<double>(t1 - t0).count()});
  meta.stage_seconds.push_back({"attribution", std::chrono::duration<double>(t2 - t1).count()});

  const std::set<std::string> rewritten{"meta", "vocab", "journeys", "flows", "attribution"};
  bool has_other_groups = false;
  for (const auto& g : groups) has_other_groups |= rewritten.count(g) == 0;
  // Stage under a temporary name when other groups must be copied in before the final rename.
  const std::string staged = has_other_groups ? output + ".flows." + std::to_string(::getpid()) : output;
  try {
    ResultWriter writer(staged);
    writer.write_meta(meta);
    writer.write_vocab(journeys);
    writer.write_journeys(journeys);
    if (!customer_last_ms.empty()) writer.write("/journeys/customer_last_ms", customer_last_ms);
    write_flows_results(writer, flows, journeys);
    write_attribution_results(writer, attribution, journeys);
    writer.commit();
    if (has_other_groups) {
      // HDF5 1.10 crashes inside H5Ocopy when the disk fills mid-copy, so make sure the groups fit
      // first: they are at most the size of the input file.
      namespace fs = std::filesystem;
      std::error_code error;
      const auto input_bytes = fs::file_size(command.input, error);
      const fs::path folder = fs::absolute(staged).parent_path();
      const auto free_bytes = fs::space(folder, error).available;
      if (!error && free_bytes < input_bytes)
        throw Error(output + ": No space left on device to copy the other groups (needs up to " +
                    std::to_string(input_bytes >> 20) + " MiB, " + std::to_string(free_bytes >> 20) + " MiB free)");
      copy_other_groups(command.input, staged, rewritten, groups);
      std::filesystem::rename(staged, output);
    }
  } catch (...) {
    if (has_other_groups) std::remove(staged.c_str());
    throw;
  }
  std::cout << format_flows_summary(flows, journeys) << format_attribution_summary(attribution, journeys)
            << "written: " << output << "\n";
  return 0;
}

}  // namespace

CLI::App* add_flows_command(CLI::App& app, std::function<int()>& handler) {
  auto command = std::make_shared<FlowsCommand>();
  CLI::App* sub = app.add_subcommand("flows", "Add flows, funnels, friction heatmaps and attribution to a result file");
  sub->add_option("result", command->input, "HDF5 result file written by journeymap run")->required();
  sub->add_option("-o,--out", command->output, "Result file to write (default: update RESULT in place)");
  sub->add_option("--device", command->device, "auto | cpu | gpu")->capture_default_str();
  sub->add_option("--threads", command->threads, "CPU worker threads (0 = all)");
  sub->add_option("--max-steps", command->flows.max_steps, "Steps in the Sankey and step heatmap")->capture_default_str();
  sub->add_option("--other-threshold", command->flows.other_threshold,
                  "Fold Sankey nodes below this share of their step into 'other'")
      ->capture_default_str();
  sub->add_option("--top-variants", command->flows.top_variants, "Path variants kept per ranking")->capture_default_str();
  sub->add_option("--anchor", command->flows.anchor, "Follow every journey from its first event at this touchpoint");
  sub->add_flag("--anchor-at-end", command->flows.anchor_at_end,
                "With --anchor: look back from the anchor (step 1 is the anchor, then the events before it)");
  sub->add_flag("--collapse-repeats", command->flows.collapse_repeats, "Consecutive events at one touchpoint are one step");
  sub->add_option("--funnel", command->flows.funnel, "Funnel touchpoints in order (default: derived from the data)")
      ->delimiter(',');
  sub->add_option("--half-life-days", command->attribution.time_decay_half_life_days, "Time-decay half life")
      ->capture_default_str();
  sub->add_option("--markov-order", command->attribution.markov_order, "Markov order (1 always; 2-4 adds a column)")
      ->capture_default_str();
  // The handler is set only when this subcommand is the one parsed, so one variable can serve many.
  sub->callback([&handler, command] { handler = [command] { return run_flows_command(*command); }; });
  return sub;
}

}  // namespace jm
