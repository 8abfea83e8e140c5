// Generated datasets for the anomaly suites: events -> journeys, joined to the truth CSV's labels.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "journeymap/generate.hpp"
#include "journeymap/ingest.hpp"
#include "journeymap/journeys.hpp"

namespace jm::testing {

struct GeneratedJourneys {
  std::string csv;
  jm::GeneratorSummary summary;
  jm::JourneySet journeys;
  std::vector<std::string> anomaly;  ///< [n_journeys] planted anomaly kind, "" for normal journeys
};

/// Generates `options`, rebuilds the journeys exactly (session gap of the generator's contract) and
/// joins every journey to its truth row by (customer, order of the journey within the customer).
inline GeneratedJourneys generate_journeys(const std::filesystem::path& dir, jm::GeneratorOptions options) {
  GeneratedJourneys data;
  options.num_threads = 2;
  data.csv = (dir / "events.csv").string();
  data.summary = jm::generate_dataset(options, data.csv);
  jm::CsvOptions csv;
  csv.num_threads = 2;
  const jm::IngestResult ingest = jm::read_events_csv(data.csv, csv);
  jm::Context ctx;
  ctx.num_threads = 2;
  jm::JourneyOptions journey_options;
  journey_options.session_gap_seconds = jm::kGeneratedJourneyGapSeconds;
  data.journeys = jm::build_journeys(ctx, ingest.events, journey_options);

  std::ifstream truth(data.summary.truth_csv_path);
  std::string line;
  std::getline(truth, line);
  std::vector<std::string> header;
  {
    std::stringstream fields(line);
    for (std::string field; std::getline(fields, field, ',');) header.push_back(field);
  }
  const auto column = [&](const std::string& name) {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return static_cast<int>(i);
    ADD_FAILURE() << "truth CSV has no column " << name;
    return 0;
  };
  const int customer_col = column("customer_id"), number_col = column("journey_number"), anomaly_col = column("anomaly");
  std::map<std::pair<std::string, int>, std::string> anomaly_of;
  while (std::getline(truth, line)) {
    std::vector<std::string> fields;
    std::stringstream row(line);
    for (std::string field; std::getline(row, field, ',');) fields.push_back(field);
    // The anomaly column is the last one; an empty last field is dropped by getline.
    const std::string kind = fields.size() > static_cast<size_t>(anomaly_col) ? fields[anomaly_col] : std::string();
    anomaly_of[{fields[customer_col], std::stoi(fields[number_col])}] = kind;
  }
  const jm::JourneySet& js = data.journeys;
  for (int64_t j = 0, number = 0; j < js.size(); ++j) {
    number = (j > 0 && js.customer[j] == js.customer[j - 1]) ? number + 1 : 0;
    const auto found = anomaly_of.find({js.customers.name(js.customer[j]), static_cast<int>(number)});
    EXPECT_NE(found, anomaly_of.end()) << "journey " << j << " has no truth row";
    data.anomaly.push_back(found == anomaly_of.end() ? std::string() : found->second);
  }
  EXPECT_EQ(static_cast<int64_t>(anomaly_of.size()), js.size()) << "journeys were not rebuilt one to one";
  return data;
}

}  // namespace jm::testing
