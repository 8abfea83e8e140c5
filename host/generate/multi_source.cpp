// jm::split_into_sources: turns a generated events CSV into the files of four systems that know the
// same customers under different ids, plus the identity file and the true identity map.
//
// Every customer gets 1-3 browser cookies, an app device, an email hash and a CRM id. Web events
// (channels web, social, paid_search) are keyed by the cookie of the day, app events by the device,
// email events by the email hash, store events by the CRM id. Checkout and purchase events are
// logged in: a web one carries the email hash, an app one the CRM id. Every link a customer needs
// that no event carries goes into the identity file (the CRM's email-to-customer table always does),
// so stitching can recover each customer exactly. With `shared_ids`, some logged-out events carry a
// placeholder ("unknown" email, CRM id "0") that links hundreds of unrelated ids.
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <date/tz.h>
#include <fmt/format.h>

#include "host/core/splitmix64.hpp"
#include "host/generate/pending_file.hpp"
#include "journeymap/common.hpp"
#include "journeymap/generate.hpp"
#include "journeymap/ingest.hpp"
#include "journeymap/timestamp.hpp"

namespace jm {
namespace {

enum SourceIndex { kWeb, kApp, kEmail, kCrm, kSourceCount };
constexpr const char* kCrmTimeZone = "Europe/Berlin";
constexpr double kPlaceholderShare = 0.08;  // logged-out events that carry a placeholder id

struct CustomerIds {
  std::vector<std::string> cookies;
  std::string device, email, crm;
  std::vector<uint8_t> cookie_linked;  // some event carried cookie -> email
  bool device_linked = false;          // some event carried device -> CRM id
  bool cookie_used[3] = {false, false, false};
  bool device_used = false;
};

std::string hex_id(uint64_t seed, uint64_t customer, uint64_t salt, int digits) {
  const uint64_t bits = splitmix64_mix(seed ^ splitmix64_mix(customer * 0x9E3779B97F4A7C15ull + salt));
  return fmt::format("{:016x}", bits).substr(0, static_cast<size_t>(digits));
}

CustomerIds make_ids(uint64_t seed, int32_t customer) {
  CustomerIds ids;
  const auto c = static_cast<uint64_t>(customer);
  const int n_cookies = 1 + static_cast<int>(splitmix64_mix(seed + c * 7 + 1) % 3);
  for (int k = 0; k < n_cookies; ++k) ids.cookies.push_back("ck-" + hex_id(seed, c, 10 + k, 12));
  ids.cookie_linked.assign(ids.cookies.size(), 0);
  ids.device = "dv-" + hex_id(seed, c, 20, 12);
  ids.email = hex_id(seed, c, 30, 16);
  ids.crm = fmt::format("CRM{:07d}", customer + 1);
  return ids;
}


std::string local_time_text(const date::time_zone* zone, int64_t utc_ms) {
  const date::sys_time<std::chrono::milliseconds> instant{std::chrono::milliseconds(utc_ms)};
  const auto local = zone->to_local(instant);
  const int64_t local_ms = local.time_since_epoch().count();
  std::string text = format_iso8601(local_ms);
  text.pop_back();  // no "Z": a local time
  return text;
}

std::string offset_time_text(int64_t utc_ms, int offset_hours) {
  std::string text = format_iso8601(utc_ms + int64_t{offset_hours} * 3600000);
  text.pop_back();
  return text + fmt::format("{:+03d}:00", offset_hours);
}

// A TOML basic string of `text` (paths may hold quotes or backslashes).
std::string toml_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

MultiSourceSummary split_into_sources(const std::string& events_csv, const std::string& folder, uint64_t seed,
                                      bool shared_ids) {
  CsvOptions options;
  const IngestResult read = read_events_csv(events_csv, options);
  const EventTable& events = read.events;
  std::filesystem::create_directories(folder);
  const auto path = [&](const char* name) { return (std::filesystem::path(folder) / name).string(); };

  MultiSourceSummary summary;
  summary.folder = folder;
  const char* const file_names[kSourceCount] = {"web.csv", "app.csv", "email.csv", "crm.csv"};
  std::vector<std::unique_ptr<PendingFile>> files;
  for (const char* name : file_names) files.push_back(std::make_unique<PendingFile>(path(name)));
  files[kWeb]->write("cookie_id,ts,page,channel,revenue,purchase,email_sha\n");
  files[kApp]->write("device_id,event_time_ms,screen,amount,converted,crm_id\n");
  files[kEmail]->write("email_hash,sent_at,event,value,conversion\n");
  files[kCrm]->write("crm_id,local_time,interaction,amount,purchase\n");

  std::vector<CustomerIds> ids;
  ids.reserve(static_cast<size_t>(events.customers.size()));
  for (int32_t c = 0; c < events.customers.size(); ++c) ids.push_back(make_ids(seed, c));
  const date::time_zone* berlin = date::locate_zone(kCrmTimeZone);
  const int32_t checkout = events.touchpoints.find("checkout"), purchase = events.touchpoints.find("purchase");
  std::string line;
  for (size_t i = 0; i < events.size(); ++i) {
    const int32_t customer = static_cast<int32_t>(events.customer[i]);
    CustomerIds& who = ids[static_cast<size_t>(customer)];
    const std::string& channel = events.channels.name(events.channel[i]);
    const std::string& touchpoint = events.touchpoints.name(events.touchpoint[i]);
    const int64_t time = events.timestamp_ms[i];
    const bool logged_in = events.touchpoint[i] == checkout || events.touchpoint[i] == purchase;
    const std::string value = fmt::format("{:.2f}", events.value[i]);
    const char* converted = events.is_conversion[i] ? "1" : "0";
    // A placeholder on a logged-out event, chosen by a hash of the event so reruns agree.
    const bool placeholder = shared_ids && !logged_in &&
                             splitmix64_mix(seed ^ (static_cast<uint64_t>(i) * 0xD1B54A32D192ED03ull)) %
                                     1000 < static_cast<uint64_t>(kPlaceholderShare * 1000);
    SourceIndex source = kWeb;
    if (channel == "app") source = kApp;
    else if (channel == "email") source = kEmail;
    else if (channel == "store") source = kCrm;
    switch (source) {
      case kWeb: {
        const auto day = static_cast<uint64_t>(time / 86400000);
        const size_t k = splitmix64_mix(seed ^ (static_cast<uint64_t>(customer) << 20) ^ day) % who.cookies.size();
        who.cookie_used[k] = true;
        if (logged_in) who.cookie_linked[k] = 1;
        line = fmt::format("{},{},{},{},{},{},{}\n", who.cookies[k], format_iso8601(time), touchpoint, channel, value,
                           converted, logged_in ? who.email : placeholder ? "unknown" : "");
        break;
      }
      case kApp:
        who.device_used = true;
        if (logged_in) who.device_linked = true;
        line = fmt::format("{},{},{},{},{},{}\n", who.device, time, touchpoint, value, converted,
                           logged_in ? who.crm : placeholder ? "0" : "");
        break;
      case kEmail:
        line = fmt::format("{},{},{},{},{}\n", who.email, offset_time_text(time, 2), touchpoint, value, converted);
        break;
      default:
        line = fmt::format("{},{},{},{},{}\n", who.crm, local_time_text(berlin, time), touchpoint, value, converted);
    }
    files[source]->write(line);
    ++summary.events[source];
  }

  // The identity file: the CRM's email table, and every link of a used id that no event carried.
  PendingFile identity(path("identity.csv")), truth(path("ids.truth.csv"));
  identity.write("kind_a,id_a,kind_b,id_b\n");
  truth.write("kind,id,customer_id\n");
  for (int32_t c = 0; c < events.customers.size(); ++c) {
    const CustomerIds& who = ids[static_cast<size_t>(c)];
    const std::string& name = events.customers.name(c);
    identity.write(fmt::format("email,{},crm,{}\n", who.email, who.crm));
    ++summary.identity_pairs;
    for (size_t k = 0; k < who.cookies.size(); ++k) {
      if (!who.cookie_used[k]) continue;
      truth.write(fmt::format("cookie,{},{}\n", who.cookies[k], name));
      if (who.cookie_linked[k]) continue;
      identity.write(fmt::format("cookie,{},email,{}\n", who.cookies[k], who.email));
      ++summary.identity_pairs;
    }
    if (who.device_used) {
      truth.write(fmt::format("device,{},{}\n", who.device, name));
      if (!who.device_linked) {
        identity.write(fmt::format("device,{},crm,{}\n", who.device, who.crm));
        ++summary.identity_pairs;
      }
    }
    truth.write(fmt::format("email,{},{}\ncrm,{},{}\n", who.email, name, who.crm, name));
  }

  PendingFile config(path("sources.toml"));
  config.write(fmt::format(
      "# The generated sources of {} (journeymap generate --sources); run with\n"
      "#   journeymap run --config {}\n"
      "[journeys]\nsession_gap_seconds = {}\n\n"
      "[[source]]\nname = \"web\"\npath = {}\nid_kind = \"cookie\"\ntimestamp_format = \"iso8601\"\n"
      "[source.columns]\ncustomer = \"cookie_id\"\ntimestamp = \"ts\"\ntouchpoint = \"page\"\nchannel = \"channel\"\n"
      "value = \"revenue\"\nconversion = \"purchase\"\n[source.linked_ids]\nemail = \"email_sha\"\n\n"
      "[[source]]\nname = \"app\"\npath = {}\nid_kind = \"device\"\nchannel = \"app\"\ntimestamp_format = \"epoch_ms\"\n"
      "[source.columns]\ncustomer = \"device_id\"\ntimestamp = \"event_time_ms\"\ntouchpoint = \"screen\"\n"
      "value = \"amount\"\nconversion = \"converted\"\n[source.linked_ids]\ncrm = \"crm_id\"\n\n"
      "[[source]]\nname = \"email\"\npath = {}\nid_kind = \"email\"\nchannel = \"email\"\n"
      "[source.columns]\ncustomer = \"email_hash\"\ntimestamp = \"sent_at\"\ntouchpoint = \"event\"\n\n"
      "[[source]]\nname = \"crm\"\npath = {}\nid_kind = \"crm\"\nchannel = \"store\"\ntime_zone = \"{}\"\n"
      "[source.columns]\ncustomer = \"crm_id\"\ntimestamp = \"local_time\"\ntouchpoint = \"interaction\"\n"
      "value = \"amount\"\nconversion = \"purchase\"\n\n"
      "[identity]\nfiles = [{}]\n",
      events_csv, path("sources.toml"), kGeneratedJourneyGapSeconds, toml_string(path("web.csv")),
      toml_string(path("app.csv")), toml_string(path("email.csv")), toml_string(path("crm.csv")), kCrmTimeZone,
      toml_string(path("identity.csv"))));
  for (PendingFile* file : {files[0].get(), files[1].get(), files[2].get(), files[3].get(), &identity, &truth, &config}) {
    file->close();
    file->commit();
  }
  summary.config_path = path("sources.toml");
  return summary;
}

}  // namespace jm
