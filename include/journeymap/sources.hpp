// Several sources in one run: each `[[source]]` (web analytics, app events, email, CRM, support,
// stores) has its own files, format, column names, time zone and id kind; their events are merged
// into one event table, and their ids are stitched into unified customers (identity.hpp).
//
//   jm::SourceSpec web;  web.name = "web";  web.paths = {"lake/web/*.csv"};  web.id_kind = "cookie";
//   web.csv.columns.customer = "cookie_id";  web.linked_ids = {{"email", "email_sha"}};
//   jm::SourceSpec crm;  crm.name = "crm";  crm.paths = {"lake/crm.csv"};  crm.id_kind = "crm";
//   jm::IngestResult merged = jm::read_sources(ctx, {web, crm}, identity_options, threads);
//   merged.sources->identity.n_components   // customers after stitching
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/identity.hpp"
#include "journeymap/ingest.hpp"

namespace jm {

/// The dimension every run over several sources gets: the source of each event (unless a source
/// names a dimension of its own so).
inline constexpr const char* kSourceDimension = "source";

struct SourceSpec {
  std::string name;                ///< unique; names the source in messages and in /sources
  std::vector<std::string> paths;  ///< files or glob patterns ("web/*.csv", matches sorted), read in order
  InputFormat format = InputFormat::Auto;
  CsvOptions csv;                  ///< column names, delimiter, timestamp format and zone, on_error
  std::string channel;             ///< when set, the channel of every event of the source
  std::string id_kind = "customer";  ///< kind of the ids in the customer column (sources of one kind share ids)
  /// Second ids carried by some events, as (kind, column): an event with both links the two ids
  /// (a login event carrying the cookie and the email hash). An empty field links nothing.
  std::vector<std::pair<std::string, std::string>> linked_ids;
};

/// What one source gave.
struct SourceStats {
  std::string name;
  std::vector<std::string> files;  ///< the files read (globs expanded)
  int64_t rows_read = 0;
  int64_t rows_skipped = 0;
  int64_t events = 0;          ///< events kept in the run
  int64_t events_dropped = 0;  ///< events whose id the shared-id guard dropped
  int64_t ids = 0;             ///< distinct ids in its customer column
  int64_t links = 0;           ///< events that carried a second id
  int64_t first_ms = 0, last_ms = 0;  ///< time range of its events (0 when none)
};

struct SourcesReport {
  std::vector<SourceStats> sources;
  std::vector<std::string> identity_files;
  std::vector<std::string> id_kinds;  ///< every kind seen
  std::vector<int64_t> ids_per_kind;  ///< [kinds] distinct ids of each kind
  int64_t identity_file_pairs = 0;    ///< pairs read from the identity files
  int64_t identity_file_ids = 0;            ///< distinct ids the identity files name
  int64_t identity_ids_not_in_sources = 0;  ///< of those, ids named only by the identity files
  int64_t customers = 0;              ///< unified customers with at least one event
  std::vector<int64_t> customer_ids;  ///< [customers] ids merged into each unified customer
  IdentityComponents identity;        ///< components over all ids (`component` itself is not kept)
  /// The stitched id map, one entry per id (sources and identity files): kind (index into
  /// `id_kinds`), value and unified customer (-1: dropped by the guard, or no events).
  std::vector<int32_t> id_kind;
  std::vector<std::string> id_value;
  std::vector<int32_t> id_customer;
  std::vector<uint8_t> event_source;  ///< [n_events] source index of each event

  /// Events of all sources left out because the guard dropped their id.
  int64_t events_dropped() const {
    int64_t dropped = 0;
    for (const SourceStats& source : sources) dropped += source.events_dropped;
    return dropped;
  }
};

/// Reads every source, stitches identities and merges the events: customers are the connected
/// components of the id graph (named by their first id; "kind:value" when there are several
/// kinds), numbered in order of first appearance (sources in order, files in order, rows in
/// order); touchpoints and channels likewise. Throws ConfigError for a bad spec (no name, a name
/// used twice, a glob matching nothing, linked ids on an SPMF source) and InputError, with the
/// source's name in the reason, for a bad file.
IngestResult read_sources(const Context& ctx, const std::vector<SourceSpec>& sources, const IdentityOptions& identity,
                          int num_threads);

class ResultWriter;

/// Every file the sources read, then the identity files, in reading order (for /meta/input_files).
std::vector<std::string> input_files_of(const SourcesReport& report);

/// Writes /sources (what each source gave) and /identity (components, ids per customer, dropped
/// ids); see docs/hdf5-schema.md.
void write_sources_results(ResultWriter& writer, const SourcesReport& report);

/// Readable block for the run summary: events per source, customers stitched from how many ids.
std::string format_sources_summary(const SourcesReport& report);

/// Warnings for the run: shared ids dropped by the guard; identity files none of whose ids is in a source.
std::vector<std::string> sources_warnings(const SourcesReport& report, const IdentityOptions& options);

}  // namespace jm
