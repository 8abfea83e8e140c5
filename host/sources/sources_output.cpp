// The /sources and /identity groups, the run summary's sources block and the identity warnings.
#include <algorithm>

#include <fmt/format.h>

#include "journeymap/result_file.hpp"
#include "journeymap/sources.hpp"
#include "journeymap/timestamp.hpp"

namespace jm {
namespace {

constexpr size_t kDroppedIdsNamed = 3;  // shared ids named in the warning (all are in /identity)

int64_t total_ids(const SourcesReport& report) {
  int64_t ids = 0;
  for (const int64_t count : report.ids_per_kind) ids += count;
  return ids;
}

}  // namespace

std::vector<std::string> input_files_of(const SourcesReport& report) {
  std::vector<std::string> files;
  for (const SourceStats& source : report.sources) files.insert(files.end(), source.files.begin(), source.files.end());
  files.insert(files.end(), report.identity_files.begin(), report.identity_files.end());
  return files;
}

void write_sources_results(ResultWriter& writer, const SourcesReport& report) {
  std::vector<std::string> names, file_paths;
  std::vector<int32_t> file_source;
  std::vector<int64_t> rows_read, rows_skipped, events, dropped, ids, links, first_ms, last_ms;
  for (size_t s = 0; s < report.sources.size(); ++s) {
    const SourceStats& source = report.sources[s];
    names.push_back(source.name);
    for (const std::string& file : source.files) {
      file_paths.push_back(file);
      file_source.push_back(static_cast<int32_t>(s));
    }
    rows_read.push_back(source.rows_read);
    rows_skipped.push_back(source.rows_skipped);
    events.push_back(source.events);
    dropped.push_back(source.events_dropped);
    ids.push_back(source.ids);
    links.push_back(source.links);
    first_ms.push_back(source.first_ms);
    last_ms.push_back(source.last_ms);
  }
  writer.write("/sources/name", names);
  writer.write("/sources/file_path", file_paths);
  writer.write("/sources/file_source", file_source);
  writer.write("/sources/rows_read", rows_read);
  writer.write("/sources/rows_skipped", rows_skipped);
  writer.write("/sources/events", events);
  writer.write("/sources/events_dropped", dropped);
  writer.write("/sources/ids", ids);
  writer.write("/sources/linking_events", links);
  writer.write("/sources/first_ms", first_ms);
  writer.write("/sources/last_ms", last_ms);

  const IdentityComponents& identity = report.identity;
  writer.write("/identity/kinds", report.id_kinds);
  writer.write("/identity/ids_per_kind", report.ids_per_kind);
  writer.write("/identity/ids_per_customer", report.customer_ids);
  writer.write("/identity/id_kind", report.id_kind);
  writer.write("/identity/id_value", report.id_value);
  writer.write("/identity/id_customer", report.id_customer);
  std::vector<std::string> dropped_kind, dropped_value;
  std::vector<int64_t> dropped_links;
  for (const DroppedId& id : identity.dropped) {
    dropped_kind.push_back(id.kind);
    dropped_value.push_back(id.value);
    dropped_links.push_back(id.links);
  }
  writer.write("/identity/dropped_kind", dropped_kind);
  writer.write("/identity/dropped_id", dropped_value);
  writer.write("/identity/dropped_links", dropped_links);
  writer.write_attribute("/identity", "n_ids", total_ids(report));
  writer.write_attribute("/identity", "n_links", identity.n_links);
  writer.write_attribute("/identity", "n_components", identity.n_components);
  writer.write_attribute("/identity", "largest_component", identity.largest_component);
  writer.write_attribute("/identity", "customers", report.customers);
  writer.write_attribute("/identity", "identity_file_pairs", report.identity_file_pairs);
  writer.write_attribute("/identity", "identity_file_ids", report.identity_file_ids);
  writer.write_attribute("/identity", "ids_not_in_sources", report.identity_ids_not_in_sources);
  writer.write_attribute("/identity", "events_dropped", report.events_dropped());
  writer.write_attribute("/identity", "backend", identity.backend);
}

std::string format_sources_summary(const SourcesReport& report) {
  std::string out = "sources\n";
  for (const SourceStats& source : report.sources) {
    out += fmt::format("  {:<20} {:>12} events from {} file{}, {} ids", source.name, source.events, source.files.size(),
                       source.files.size() == 1 ? "" : "s", source.ids);
    if (source.events > 0)
      out += fmt::format(", {} .. {}", format_iso8601(source.first_ms).substr(0, 10),
                         format_iso8601(source.last_ms).substr(0, 10));
    out += "\n";
  }
  std::string kinds;
  for (size_t k = 0; k < report.id_kinds.size(); ++k)
    kinds += fmt::format("{}{} {}", kinds.empty() ? "" : ", ", report.ids_per_kind[k], report.id_kinds[k]);
  const int64_t most_ids =
      report.customer_ids.empty() ? 0 : *std::max_element(report.customer_ids.begin(), report.customer_ids.end());
  out += fmt::format("  {} customers stitched from {} ids ({}); the most ids one customer has: {}\n", report.customers,
                     total_ids(report), kinds, most_ids);
  if (report.identity_file_pairs > 0)
    out += fmt::format("  identity files: {} pairs; {} of their ids appear in no source\n", report.identity_file_pairs,
                       report.identity_ids_not_in_sources);
  if (!report.identity.dropped.empty())
    out += fmt::format("  shared ids dropped: {} (their events left out: {})\n", report.identity.dropped.size(),
                       report.events_dropped());
  return out;
}

std::vector<std::string> sources_warnings(const SourcesReport& report, const IdentityOptions& options) {
  std::vector<std::string> warnings;
  const std::vector<DroppedId>& dropped = report.identity.dropped;
  if (!dropped.empty()) {
    std::string named;
    for (size_t i = 0; i < std::min(dropped.size(), kDroppedIdsNamed); ++i)
      named += fmt::format("{}{}:{} ({} links)", named.empty() ? "" : ", ", dropped[i].kind, dropped[i].value,
                           dropped[i].links);
    warnings.push_back(fmt::format(
        "identity: {} shared id{} linked to more than {} ids dropped from stitching ({}{}); {} events keyed by them "
        "left out (all in /identity/dropped_id)",
        dropped.size(), dropped.size() == 1 ? "" : "s", options.max_links_per_id, named,
        dropped.size() > kDroppedIdsNamed ? ", ..." : "", report.events_dropped()));
  }
  // An identity table usually covers more people than the sources saw; only one that matches
  // nothing at all (a wrong kind name, another id format) is worth a warning.
  const int64_t file_ids = report.identity_file_ids;
  if (file_ids > 0 && report.identity_ids_not_in_sources == file_ids)
    warnings.push_back(fmt::format("identity: none of the {} ids of the identity files appears in a source (are the "
                                   "kinds named as in the sources' id_kind and linked_ids?)",
                                   file_ids));
  return warnings;
}

}  // namespace jm
