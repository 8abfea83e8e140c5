// Reading several sources into one event table: each file is read by the CSV or SPMF reader with the
// source's settings and appended; its ids go into one identity graph (the customer column's kind
// plus linked second ids); after the identity files, the graph's components become the customers.
#include "journeymap/sources.hpp"

#include <glob.h>

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "host/ingest/dimension_columns.hpp"
#include "journeymap/common.hpp"

namespace jm {
namespace {

bool has_wildcard(const std::string& path) { return path.find_first_of("*?[") != std::string::npos; }

// The files of a source, globs expanded (glob sorts its matches).
std::vector<std::string> expand_paths(const SourceSpec& source) {
  std::vector<std::string> files;
  for (const std::string& pattern : source.paths) {
    if (!has_wildcard(pattern)) {
      files.push_back(pattern);
      continue;
    }
    glob_t matches{};
    const int status = ::glob(pattern.c_str(), GLOB_ERR, nullptr, &matches);
    for (size_t i = 0; status == 0 && i < matches.gl_pathc; ++i) files.emplace_back(matches.gl_pathv[i]);
    globfree(&matches);
    if (status == GLOB_NOMATCH)
      throw ConfigError("source '" + source.name + "': no file matches '" + pattern + "'");
    if (status != 0) throw ConfigError("source '" + source.name + "': cannot list the files of '" + pattern + "'");
  }
  return files;
}

void validate(const std::vector<SourceSpec>& sources) {
  if (sources.empty()) throw ConfigError("no source given");
  if (sources.size() > 255) throw ConfigError("at most 255 sources per run");
  std::set<std::string> names;
  for (const SourceSpec& source : sources) {
    if (source.name.empty()) throw ConfigError("every [[source]] needs a name");
    if (!names.insert(source.name).second) throw ConfigError("two sources are named '" + source.name + "'");
    if (source.paths.empty()) throw ConfigError("source '" + source.name + "' has no path");
    if (source.format == InputFormat::Spmf && !source.linked_ids.empty())
      throw ConfigError("source '" + source.name + "': linked ids need named columns, which SPMF files do not have");
    for (const auto& [kind, column] : source.linked_ids)
      if (column.empty()) throw ConfigError("source '" + source.name + "': linked id '" + kind + "' names no column");
  }
}

IngestResult read_source_file(const SourceSpec& source, const std::string& path, int num_threads) {
  CsvOptions csv = source.csv;
  csv.num_threads = num_threads;
  for (const auto& linked : source.linked_ids) csv.columns.extra.push_back(linked.second);
  size_t first_dimension = 0;
  try {
    first_dimension = request_dimension_columns(csv);
  } catch (const ConfigError& error) {
    throw ConfigError("source '" + source.name + "': " + error.what());
  }
  IngestResult part;
  try {
    switch (source.format) {
      case InputFormat::Csv: part = read_events_csv(path, csv); break;
      case InputFormat::Spmf: part = read_events_spmf(path, num_threads); break;
      case InputFormat::Parquet: part = read_events_parquet(path, csv); break;
      case InputFormat::Auto: part = read_events(path, csv); break;
    }
  } catch (const InputError& error) {
    throw InputError(error.file(), error.line(), error.column(), error.value(),
                     "source '" + source.name + "': " + error.reason());
  }
  if (part.extra_columns.size() != csv.columns.extra.size())
    throw ConfigError("source '" + source.name + "': " + path +
                      " is an SPMF file, which has no columns for linked ids or dimensions");
  take_dimension_columns(part, csv.columns.dimensions, first_dimension);
  return part;
}

// The run's dimensions: those of every source, by name in order of first mention, then "source"
// (each event's source) when there are several sources and no dimension already has that name.
// `source_dimension` receives the index of that last one, -1 when there is none.
std::vector<CodedColumn> run_dimensions(const std::vector<SourceSpec>& sources, std::ptrdiff_t& source_dimension) {
  source_dimension = -1;
  std::vector<CodedColumn> dimensions;
  auto has = [&](const std::string& name) {
    return std::any_of(dimensions.begin(), dimensions.end(), [&](const CodedColumn& d) { return d.name == name; });
  };
  for (const SourceSpec& source : sources)
    for (const DimensionColumn& dimension : source.csv.columns.dimensions)
      if (!has(dimension.name)) dimensions.push_back(CodedColumn{dimension.name, {}, {}});
  if (sources.size() > 1 && !has(kSourceDimension)) {
    source_dimension = static_cast<std::ptrdiff_t>(dimensions.size());
    CodedColumn& by_source = dimensions.emplace_back();
    by_source.name = kSourceDimension;
    for (const SourceSpec& source : sources) by_source.values.encode(source.name);
  }
  return dimensions;
}

// Appends the dimension codes of `part`'s events to `out`'s, mapping values into the run's
// vocabularies; a dimension the source does not have is missing (-1) on its events.
void append_dimensions(const EventTable& part, uint8_t source_index, std::ptrdiff_t source_dimension, EventTable& out) {
  const size_t n = part.size();
  for (CodedColumn& dimension : out.dimensions) {
    const auto found = std::find_if(part.dimensions.begin(), part.dimensions.end(),
                                    [&](const CodedColumn& d) { return d.name == dimension.name; });
    std::vector<int32_t>& codes = dimension.codes;
    if (found != part.dimensions.end()) {
      std::vector<int32_t> value_of(static_cast<size_t>(found->values.size()));
      for (int32_t v = 0; v < found->values.size(); ++v) value_of[static_cast<size_t>(v)] = dimension.values.encode(found->values.name(v));
      for (const int32_t code : found->codes) codes.push_back(code < 0 ? -1 : value_of[static_cast<size_t>(code)]);
    } else if (&dimension - out.dimensions.data() == source_dimension) {
      codes.insert(codes.end(), n, static_cast<int32_t>(source_index));
    } else {
      codes.insert(codes.end(), n, -1);
    }
  }
}

// Appends `part`'s events: ids go into the graph (`event_id` gets each event's id number), names
// into the merged vocabularies.
void append_events(const SourceSpec& source, uint8_t source_index, std::ptrdiff_t source_dimension,
                   const IngestResult& part, IdentityGraph& graph,
                   std::vector<int32_t>& last_source_of_id, IngestResult& merged, std::vector<int32_t>& event_id,
                   SourcesReport& report, SourceStats& stats) {
  const EventTable& in = part.events;
  EventTable& out = merged.events;
  std::vector<int32_t> id_of(static_cast<size_t>(in.customers.size()));
  for (int32_t c = 0; c < in.customers.size(); ++c) {
    const int32_t id = graph.add_id(source.id_kind, in.customers.name(c));
    id_of[static_cast<size_t>(c)] = id;
    if (last_source_of_id.size() <= static_cast<size_t>(id)) last_source_of_id.resize(static_cast<size_t>(id) + 1, -1);
    if (last_source_of_id[static_cast<size_t>(id)] != source_index) {
      last_source_of_id[static_cast<size_t>(id)] = source_index;
      ++stats.ids;
    }
  }
  for (size_t k = 0; k < part.extra_columns.size(); ++k) {
    const ExtraColumn& column = part.extra_columns[k];
    std::vector<int32_t> linked_of(static_cast<size_t>(column.values.size()));
    for (int32_t v = 0; v < column.values.size(); ++v)
      linked_of[static_cast<size_t>(v)] = graph.add_id(source.linked_ids[k].first, column.values.name(v));
    for (size_t i = 0; i < column.codes.size(); ++i) {
      if (column.codes[i] < 0) continue;
      graph.add_link(id_of[in.customer[i]], linked_of[static_cast<size_t>(column.codes[i])]);
      ++stats.links;
    }
  }
  std::vector<int32_t> touchpoint_of(static_cast<size_t>(in.touchpoints.size()));
  for (int32_t t = 0; t < in.touchpoints.size(); ++t) touchpoint_of[static_cast<size_t>(t)] = out.touchpoints.encode(in.touchpoints.name(t));
  std::vector<int32_t> channel_of(static_cast<size_t>(in.channels.size()));
  for (int32_t c = 0; c < in.channels.size(); ++c)
    channel_of[static_cast<size_t>(c)] = out.channels.encode(source.channel.empty() ? in.channels.name(c) : source.channel);
  out.reserve(out.size() + in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    event_id.push_back(id_of[in.customer[i]]);
    out.customer.push_back(0);  // the unified customer, set once identities are stitched
    out.timestamp_ms.push_back(in.timestamp_ms[i]);
    out.touchpoint.push_back(touchpoint_of[static_cast<size_t>(in.touchpoint[i])]);
    out.channel.push_back(channel_of[static_cast<size_t>(in.channel[i])]);
    out.value.push_back(in.value[i]);
    out.is_conversion.push_back(in.is_conversion[i]);
    report.event_source.push_back(source_index);
  }
  append_dimensions(part.events, source_index, source_dimension, merged.events);
  merged.rows_read += part.rows_read;
  merged.rows_skipped += part.rows_skipped;
  merged.file_bytes += part.file_bytes;
  for (const BadRow& bad : part.first_bad_rows) {
    if (merged.first_bad_rows.size() >= IngestResult::kMaxReportedBadRows) break;
    merged.first_bad_rows.push_back(bad);
    merged.first_bad_rows.back().file = part.file;
  }
  stats.rows_read += part.rows_read;
  stats.rows_skipped += part.rows_skipped;
}

// Keeps the events whose id survived the guard, numbers the unified customers by first appearance
// and names each after its component's first id.
void assign_customers(const IdentityGraph& graph, const IdentityComponents& identity, const std::vector<int32_t>& event_id,
                      IngestResult& merged, SourcesReport& report) {
  EventTable& events = merged.events;
  const bool several_kinds = graph.kinds().size() > 1;
  std::vector<int32_t> customer_of_root(static_cast<size_t>(graph.n_ids()), -1);
  size_t kept = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const uint8_t source = report.event_source[i];
    const int32_t root = identity.component[static_cast<size_t>(event_id[i])];
    if (root < 0) {
      ++report.sources[source].events_dropped;
      continue;
    }
    int32_t& customer = customer_of_root[static_cast<size_t>(root)];
    if (customer < 0) customer = events.customers.encode(several_kinds ? graph.display(root) : graph.value(root));
    events.move_row(i, kept);
    events.customer[kept] = static_cast<uint32_t>(customer);
    report.event_source[kept] = source;
    SourceStats& stats = report.sources[source];
    const int64_t time = events.timestamp_ms[kept];
    if (stats.events++ == 0) stats.first_ms = stats.last_ms = time;
    stats.first_ms = std::min(stats.first_ms, time);
    stats.last_ms = std::max(stats.last_ms, time);
    ++kept;
  }
  events.truncate(kept);
  report.event_source.resize(kept);

  report.customers = events.customers.size();
  report.customer_ids.assign(static_cast<size_t>(report.customers), 0);
  report.ids_per_kind.assign(graph.kinds().size(), 0);
  report.id_kind.resize(static_cast<size_t>(graph.n_ids()));
  report.id_value.resize(static_cast<size_t>(graph.n_ids()));
  report.id_customer.resize(static_cast<size_t>(graph.n_ids()));
  for (int32_t id = 0; id < graph.n_ids(); ++id) {
    const int32_t kind = graph.kind_index(id);
    ++report.ids_per_kind[static_cast<size_t>(kind)];
    const int32_t root = identity.component[static_cast<size_t>(id)];
    const int32_t customer = root >= 0 ? customer_of_root[static_cast<size_t>(root)] : -1;
    if (customer >= 0) ++report.customer_ids[static_cast<size_t>(customer)];
    report.id_kind[static_cast<size_t>(id)] = kind;
    report.id_value[static_cast<size_t>(id)] = graph.value(id);
    report.id_customer[static_cast<size_t>(id)] = customer;
  }
}

}  // namespace

IngestResult read_sources(const Context& ctx, const std::vector<SourceSpec>& sources, const IdentityOptions& identity,
                          int num_threads) {
  validate(sources);
  IngestResult merged;
  std::ptrdiff_t source_dimension = -1;
  merged.events.dimensions = run_dimensions(sources, source_dimension);
  auto report = std::make_shared<SourcesReport>();
  IdentityGraph graph;
  std::vector<int32_t> event_id;           // [n_events] id number of each event's customer column
  std::vector<int32_t> last_source_of_id;  // counts each source's distinct ids once
  for (size_t s = 0; s < sources.size(); ++s) {
    const SourceSpec& source = sources[s];
    SourceStats& stats = report->sources.emplace_back();
    stats.name = source.name;
    stats.files = expand_paths(source);
    for (const std::string& file : stats.files) {
      const IngestResult part = read_source_file(source, file, num_threads);
      append_events(source, static_cast<uint8_t>(s), source_dimension, part, graph, last_source_of_id, merged, event_id,
                    *report, stats);
    }
  }
  const int32_t ids_in_sources = graph.n_ids();
  const int64_t links_from_sources = graph.n_links();
  for (const std::string& file : identity.files) report->identity_file_pairs += read_identity_file(file, graph);
  report->identity_files = identity.files;
  report->identity_ids_not_in_sources = graph.n_ids() - ids_in_sources;
  std::vector<uint8_t> named(static_cast<size_t>(graph.n_ids()), 0);
  for (int64_t e = links_from_sources; e < graph.n_links(); ++e) {
    named[static_cast<size_t>(graph.link_a()[static_cast<size_t>(e)])] = 1;
    named[static_cast<size_t>(graph.link_b()[static_cast<size_t>(e)])] = 1;
  }
  report->identity_file_ids = std::count(named.begin(), named.end(), uint8_t{1});

  report->identity = stitch_identities(ctx, graph, identity);
  report->id_kinds = graph.kinds();
  assign_customers(graph, report->identity, event_id, merged, *report);
  report->identity.component.clear();
  report->identity.component.shrink_to_fit();
  if (merged.events.size() == 0)
    throw InputError(sources.front().paths.front(), 0, "", "",
                     fmt::format("the sources hold no events ({} rows read, {} skipped, {} of dropped ids)",
                                 merged.rows_read, merged.rows_skipped, report->events_dropped()));
  merged.file = sources.front().name;
  merged.sources = std::move(report);
  return merged;
}

}  // namespace jm
