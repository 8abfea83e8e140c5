// Synthetic omnichannel e-commerce journeys with planted, documented structure: the embedded
// default dataset and the ground truth that the analysis stages are tested against.
//
//   jm::GeneratorOptions options;  options.journeys = 100000;  options.seed = 7;
//   jm::GeneratorSummary summary = jm::generate_dataset(options, "data/events.csv");
//   // writes data/events.csv, data/events.truth.json and data/events.truth.csv
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace jm {

struct GeneratorOptions {
  int64_t journeys = 100000;  ///< exact number of journeys written
  uint64_t seed = 42;         ///< same seed -> byte-identical files, whatever num_threads is
  int num_threads = 0;        ///< 0 = all hardware threads
  std::string start_date = "2026-01-05";  ///< first day of the data (UTC)
  int days = 90;                          ///< length of the observed period
  int spike_day = 60;           ///< 0-based day with a checkout-abandonment spike; -1 for none
  double anomaly_fraction = 0.002;  ///< share of journeys that are planted anomalies
  /// Plants an A/B test from this 0-based day on (-1: none). Every customer is assigned A or B, half
  /// each; journeys that start on or after the day carry the variant in an extra `variant` column;
  /// B's checkouts turn into purchases `experiment_lift` more often (absolute, by segment:
  /// researcher, impulse, comparison, churner). Journeys before the day are the pre-period.
  int experiment_day = -1;
  std::array<double, 4> experiment_lift = {0.10, 0.0, 0.05, 0.0};
  /// Plants logged checkout offers for bandits and off-policy evaluation: at every checkout of a
  /// normal journey an exploring policy shows one of none, discount, free_shipping with a known
  /// probability by device; each offer changes the purchase probability by segment. The checkout
  /// event carries `offer` and `offer_propensity` columns; the truth CSV has each journey's purchase
  /// probability under every offer (docs/generator.md, "Checkout offers").
  bool checkout_offers = false;
  /// Plants drift from this 0-based day on (-1: none): journeys that start on or after it are made on
  /// the app four times as often as before (each segment's web share divided by four), the shift
  /// `journeymap monitor` should report against a model trained on earlier data.
  int drift_day = -1;
  /// Calendar plants for the metric alerts (docs/generator.md, "Calendar"). Journeys start more
  /// often on weekdays than at weekends (kWeekdayStartWeight, Monday first).
  bool weekly_pattern = false;
  /// A campaign from this 0-based day on (-1: none) for `campaign_days` days: journeys start
  /// `campaign_lift` times more often (0.5: +50%). `X.covariates.csv` beside the events lists every
  /// day with `campaign` 1 or 0.
  int campaign_day = -1;
  int campaign_days = 7;
  double campaign_lift = 0.5;
  /// An outage from this 0-based day on (-1: none) for `outage_days` days: no journey starts.
  int outage_day = -1;
  int outage_days = 3;
};

/// Relative journey starts by weekday, Monday first, with GeneratorOptions::weekly_pattern.
inline constexpr std::array<double, 7> kWeekdayStartWeight = {1.15, 1.1, 1.05, 1.05, 1.0, 0.45, 0.35};

/// Session gap (seconds) that recovers the generated journeys exactly: inside a journey no gap is
/// longer than 12 hours, and a customer's next journey starts at least 3 days after the last one.
constexpr double kGeneratedJourneyGapSeconds = 2 * 86400.0;

struct GeneratorSummary {
  int64_t customers = 0;
  int64_t journeys = 0;
  int64_t events = 0;
  int64_t conversions = 0;
  int64_t anomalies = 0;
  std::string csv_path;
  std::string truth_json_path;  ///< planted structure: segments, motifs, anomalies, spike day
  std::string truth_csv_path;   ///< one row per journey: its segment, motif and anomaly labels
  std::string covariates_path;  ///< with a campaign: date,campaign per day (empty otherwise)
};

/// Paths of the ground-truth files written beside `csv_path` (`X.csv` -> `X.truth.json`, `X.truth.csv`).
std::string truth_json_path_for(const std::string& csv_path);
std::string truth_csv_path_for(const std::string& csv_path);
/// Path of the campaign covariates file written beside `csv_path` (`X.csv` -> `X.covariates.csv`).
std::string covariates_path_for(const std::string& csv_path);

/// Writes the events CSV (columns customer_id,timestamp,touchpoint,channel,value,conversion) and the
/// ground truth. Files are written to temporary names and renamed at the end.
GeneratorSummary generate_dataset(const GeneratorOptions& options, const std::string& csv_path);

/// What split_into_sources wrote.
struct MultiSourceSummary {
  std::string folder;
  std::string config_path;        ///< sources.toml: the [[source]] tables and [identity] for `run --config`
  int64_t events[4] = {0, 0, 0, 0};  ///< events of web.csv, app.csv, email.csv, crm.csv
  int64_t identity_pairs = 0;     ///< lines of identity.csv
};

/// Splits a generated events CSV into the files of four systems that know each customer under
/// different ids (docs/generator.md, "Several sources"): web.csv (cookies; logged-in events carry the
/// email hash), app.csv (devices; logged-in events carry the CRM id), email.csv (email hashes, times
/// with an offset), crm.csv (CRM ids, local times of Europe/Berlin), identity.csv (the links no
/// event carries), ids.truth.csv (every id with its true customer) and sources.toml. With
/// `shared_ids`, 8% of logged-out web and app events carry a placeholder id ("unknown", "0").
MultiSourceSummary split_into_sources(const std::string& events_csv, const std::string& folder, uint64_t seed,
                                      bool shared_ids);

}  // namespace jm
